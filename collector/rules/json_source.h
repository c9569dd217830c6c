// JSON parsing that remembers where every key and value sits in the source text, so that errors
// found after parsing (a wrong type, an unknown field) can still be reported as FILE:LINE:COLUMN.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace fpshim {

struct LineColumn {
  int line = 1;
  int column = 1;  // in characters (UTF-8 code points), 1-based
};

LineColumn line_column(std::string_view text, size_t offset);

struct JsonProblem {
  size_t offset;
  std::string message;
};

struct SourceJson {
  nlohmann::json value;
  std::vector<JsonProblem> problems;  // duplicate keys, and a syntax error (parsing stops there)
  bool syntax_error = false;

  // Byte offsets by JSON pointer ("" is the root, "/recipes/0/match/3").
  size_t value_offset(const std::string& pointer) const;
  // The offset of the member's key; the value's offset for array elements and the root.
  size_t key_offset(const std::string& pointer) const;

  struct Where {
    size_t key = std::string::npos;
    size_t value = 0;
  };
  std::unordered_map<std::string, Where> where;
};

// How deep arrays and objects may nest; deeper input is a syntax error at its first bracket too many.
inline constexpr size_t kMaxJsonDepth = 64;

SourceJson parse_source_json(std::string_view text);

// Appends a reference token to a JSON pointer, escaping '~' and '/' as RFC 6901 requires.
std::string pointer_append(const std::string& pointer, std::string_view token);
std::string pointer_append(const std::string& pointer, size_t index);

}  // namespace fpshim
