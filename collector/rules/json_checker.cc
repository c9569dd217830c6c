// The checks the JSON input loaders share, and reading an input file within its bounds.
#include "rules/json_checker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>

#include <fmt/format.h>

namespace fpshim {

void JsonChecker::error_at(size_t offset, std::string message) {
  LineColumn lc = line_column(text_, offset);
  errors_.push_back({std::string(file_), lc.line, lc.column, std::move(message)});
}

void JsonChecker::value_error(const std::string& ptr, std::string message) {
  error_at(src_.value_offset(ptr), std::move(message));
}

const JsonChecker::json* JsonChecker::schema_and_list(const json& doc, std::string_view document,
                                                      std::string_view list) {
  if (!is(doc, json::value_t::object, "", document, "an object")) return nullptr;
  fields(doc, "", "the top level", {"schema", list});
  if (const json* schema = field(doc, "", "schema", "the top level")) {
    if (!schema->is_number_integer() || schema->get<int64_t>() != 1)
      value_error("/schema", fmt::format("unsupported schema {} (this fpshim reads schema 1)", schema->dump()));
  }
  const std::string ptr = "/" + std::string(list);
  const json* items = field(doc, "", list, "the top level");
  if (!items || !is(*items, json::value_t::array, ptr, fmt::format("\"{}\"", list), "an array")) return nullptr;
  return items;
}

bool JsonChecker::is(const json& v, json::value_t type, const std::string& ptr, std::string_view what,
                     std::string_view article_type) {
  bool ok = v.type() == type || (type == json::value_t::number_integer && v.is_number_integer());
  if (!ok) value_error(ptr, fmt::format("{} must be {}, not {}", what, article_type, type_phrase(v)));
  return ok;
}

std::string JsonChecker::type_phrase(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return "a number";
  }
}

void JsonChecker::fields(const json& obj, const std::string& ptr, std::string_view what,
                         const std::vector<std::string_view>& allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    error_at(src_.key_offset(pointer_append(ptr, it.key())),
             fmt::format("unknown field \"{}\" in {} (expected one of {})", it.key(), what, join_names(allowed)));
  }
}

const JsonChecker::json* JsonChecker::field(const json& obj, const std::string& ptr, std::string_view name,
                                            std::string_view what, bool required) {
  auto it = obj.find(name);
  if (it != obj.end()) return &*it;
  if (required) value_error(ptr, fmt::format("{} is missing required field \"{}\"", what, name));
  return nullptr;
}

std::optional<std::string> JsonChecker::string_field(const json& obj, const std::string& ptr, std::string_view name,
                                                     std::string_view what, bool required) {
  const json* v = field(obj, ptr, name, what, required);
  if (!v) return std::nullopt;
  if (!is(*v, json::value_t::string, pointer_append(ptr, name), fmt::format("\"{}\"", name), "a string"))
    return std::nullopt;
  return v->get<std::string>();
}

void sort_by_position(std::vector<RulesError>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const RulesError& a, const RulesError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
}

std::optional<std::string> read_input_file(const std::string& path, std::string_view what, RulesError& error,
                                           size_t max_bytes) {
  // O_NONBLOCK: a FIFO given as the file must not hang the open; it is refused below.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  std::string problem;
  if (fd < 0 || fstat(fd, &st) != 0) problem = std::strerror(errno);
  else if (S_ISDIR(st.st_mode)) problem = "it is a directory";
  else if (!S_ISREG(st.st_mode)) problem = "it is not a regular file";
  else if (size_t(st.st_size) > max_bytes)
    problem = fmt::format("it has {} bytes, more than the limit of {} MiB", st.st_size, max_bytes >> 20);
  std::string text;
  if (problem.empty()) {
    // Read no more than the limit allows even if the file grows meanwhile.
    text.resize(size_t(st.st_size) + 1);
    size_t got = 0;
    for (ssize_t n; got < text.size() && (n = read(fd, text.data() + got, text.size() - got)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem = std::strerror(errno);
        break;
      }
      got += size_t(n);
      if (got == text.size() && got <= max_bytes) text.resize(std::min(max_bytes + 1, text.size() * 2));
    }
    if (got > max_bytes) problem = fmt::format("it has more than the limit of {} MiB", max_bytes >> 20);
    text.resize(got);
  }
  if (fd >= 0) close(fd);
  if (!problem.empty()) {
    error = {path, 0, 0, fmt::format("cannot read the {} file: {}", what, problem)};
    return std::nullopt;
  }
  return text;
}

}  // namespace fpshim
