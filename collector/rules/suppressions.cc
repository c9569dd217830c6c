// Loading and checking the suppressions file; errors are FILE:LINE:COLUMN as for rules.json.
#include "rules/suppressions.h"

#include <algorithm>
#include <ctime>
#include <initializer_list>

#include <fmt/format.h>

#include "base/as_text.h"
#include "rules/json_checker.h"

namespace fpshim {

using nlohmann::json;

namespace {


// A real calendar date written YYYY-MM-DD.
bool is_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int year = std::stoi(s.substr(0, 4)), month = std::stoi(s.substr(5, 2)), day = std::stoi(s.substr(8, 2));
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap);
}

// Walks the parsed document, reporting every problem with its position.
class Checker : public JsonChecker {
 public:
  using JsonChecker::JsonChecker;

  std::vector<Suppression> top(const json& doc) {
    std::vector<Suppression> out;
    const json* entries = schema_and_list(doc, "the suppressions file", "suppressions");
    if (!entries) return out;
    for (size_t i = 0; i < entries->size(); i++)
      if (auto e = entry((*entries)[i], pointer_append("/suppressions", i))) out.push_back(std::move(*e));
    return out;
  }

 private:
  // A string member of a suppression (optional unless `required`).
  std::optional<std::string> string_field(const json& obj, const std::string& ptr, std::string_view name,
                                          bool required = false) {
    return JsonChecker::string_field(obj, ptr, name, "a suppression", required);
  }

  std::optional<Suppression> entry(const json& v, const std::string& ptr) {
    if (!is(v, json::value_t::object, ptr, "a suppression", "an object")) return std::nullopt;
    size_t errors_before = errors_.size();
    fields(v, ptr, "a suppression", {"recipe", "path", "exe", "argv", "ancestry", "reason", "expires"});
    Suppression s;
    LineColumn where = line_column(text_, src_.value_offset(ptr));
    s.line = where.line;
    s.column = where.column;
    if (auto recipe = string_field(v, ptr, "recipe", true)) {
      s.recipe = *recipe;
      if (s.recipe.empty()) value_error(ptr + "/recipe", "\"recipe\" must not be empty");
    }
    if (auto reason = string_field(v, ptr, "reason", true)) {
      s.reason = *reason;
      if (std::all_of(s.reason.begin(), s.reason.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n'; }))
        value_error(ptr + "/reason", "\"reason\" must say why the finding is accepted, not be empty");
    }
    if (const json* path = field(v, ptr, "path", "a suppression", false)) {
      std::string pp = ptr + "/path";
      if (path->is_string()) {
        s.paths.push_back(path->get<std::string>());
      } else if (path->is_array()) {
        if (path->empty()) value_error(pp, "\"path\" must not be an empty array (leave it out to match any path)");
        for (size_t i = 0; i < path->size(); i++)
          if (is((*path)[i], json::value_t::string, pointer_append(pp, i), "a path pattern", "a string"))
            s.paths.push_back((*path)[i].get<std::string>());
      } else {
        value_error(pp, fmt::format("\"path\" must be a string or an array of strings, not {}", type_phrase(*path)));
      }
      for (size_t i = 0; i < s.paths.size(); i++)
        if (!s.paths[i].starts_with('/'))
          value_error(path->is_array() ? pointer_append(pp, i) : pp,
                      fmt::format("path pattern \"{}\" must be absolute (paths are reported absolute)", s.paths[i]));
    }
    s.exe = string_field(v, ptr, "exe");
    s.argv = string_field(v, ptr, "argv");
    s.ancestry = string_field(v, ptr, "ancestry");
    s.expires = string_field(v, ptr, "expires");
    if (s.expires && !is_date(*s.expires))
      value_error(ptr + "/expires", fmt::format("\"expires\" must be a date YYYY-MM-DD, not \"{}\"", *s.expires));
    if (errors_.size() != errors_before) return std::nullopt;
    return s;
  }
};

// The length of the valid UTF-8 sequence starting at `i`, or 0.
size_t utf8_length(std::string_view s, size_t i) {
  unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  return is_valid_utf8(s.substr(i, n)) ? n : 0;
}

}  // namespace

LoadedSuppressions parse_suppressions(std::string_view text, std::string_view file_name) {
  LoadedSuppressions out;
  out.suppressions.source = std::string(file_name);
  SourceJson src = parse_source_json(text);
  Checker checker(text, file_name, src, out.errors);
  for (const JsonProblem& p : src.problems) checker.error_at(p.offset, p.message);
  if (!src.syntax_error) out.suppressions.entries = checker.top(src.value);
  sort_by_position(out.errors);
  return out;
}

LoadedSuppressions load_suppressions(const std::string& path) {
  RulesError error;
  std::optional<std::string> text = read_input_file(path, "suppressions", error);
  if (text) return parse_suppressions(*text, path);
  LoadedSuppressions out;
  out.suppressions.source = path;
  out.errors.push_back(std::move(error));
  return out;
}

std::string glob_literal(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_length(text, i);
    if (n == 0) {
      out += '?';
      i++;
      continue;
    }
    if (n == 1 && text[i] != '\0' && std::strchr("*?[]\\", text[i])) out += '\\';
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string local_date() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

}  // namespace fpshim
