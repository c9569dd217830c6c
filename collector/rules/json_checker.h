// Checking a JSON input file against its schema, every problem reported as FILE:LINE:COLUMN: what the
// rules and the suppressions loaders share (each derives its own walk of the document from it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rules/json_source.h"
#include "rules/rules.h"

namespace fpshim {

// "a, b, c".
template <typename Names>
std::string join_names(const Names& names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

class JsonChecker {
 public:
  using json = nlohmann::json;

  JsonChecker(std::string_view text, std::string_view file, const SourceJson& src, std::vector<RulesError>& errors)
      : text_(text), file_(file), src_(src), errors_(errors) {}

  void error_at(size_t offset, std::string message);
  // At the value `ptr` (a JSON pointer) names.
  void value_error(const std::string& ptr, std::string message);

  // The document's top level: an object of "schema": 1 and `list` (an array), which it returns.
  const json* schema_and_list(const json& doc, std::string_view document, std::string_view list);

 protected:
  // True if `v` is of `type`; else says "WHAT must be ARTICLE_TYPE, not ...".
  bool is(const json& v, json::value_t type, const std::string& ptr, std::string_view what,
          std::string_view article_type);
  static std::string type_phrase(const json& v);
  // Every member of `obj` must be one of `allowed`.
  void fields(const json& obj, const std::string& ptr, std::string_view what,
              const std::vector<std::string_view>& allowed);
  const json* field(const json& obj, const std::string& ptr, std::string_view name, std::string_view what,
                    bool required = true);
  std::optional<std::string> string_field(const json& obj, const std::string& ptr, std::string_view name,
                                          std::string_view what, bool required = true);

  std::string_view text_;
  std::string_view file_;
  const SourceJson& src_;
  std::vector<RulesError>& errors_;
};

// The errors in the order of their positions in the file.
void sort_by_position(std::vector<RulesError>& errors);

// The most bytes an input file (rules, suppressions, a report given to `baseline`) may have.
inline constexpr size_t kMaxInputFileBytes = size_t(16) << 20;

// The whole file; nullopt with `error` set ("cannot read the WHAT file: ...") if it cannot be read, is
// not a regular file (a directory, /dev/zero, a FIFO) or has more than `max_bytes`.
std::optional<std::string> read_input_file(const std::string& path, std::string_view what, RulesError& error,
                                           size_t max_bytes = kMaxInputFileBytes);

}  // namespace fpshim
