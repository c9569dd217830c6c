#include "rules/pattern.h"

#include <cctype>
#include <utility>
#include <vector>

#include "fpshim/wire.h"

namespace fpshim {

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  if (parts.empty()) return "/";
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out;
}

static bool escaped_at(std::string_view s, size_t pos) {
  size_t backslashes = 0;
  while (pos > backslashes && s[pos - backslashes - 1] == '\\') backslashes++;
  return backslashes % 2 == 1;
}

std::string_view strip_anchors(std::string_view regex) {
  if (!regex.empty() && regex.front() == '^') regex.remove_prefix(1);
  if (!regex.empty() && regex.back() == '$' && !escaped_at(regex, regex.size() - 1)) regex.remove_suffix(1);
  return regex;
}

std::optional<Regex> Regex::compile(std::string_view source, std::string& error) {
  std::string anchored = "^(" + std::string(strip_anchors(source)) + ")$";
  Regex r;
  int rc = regcomp(&r.re_, anchored.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char buf[256];
    regerror(rc, &r.re_, buf, sizeof buf);
    error = buf;
    return std::nullopt;
  }
  r.valid_ = true;
  return r;
}

Regex::Regex(Regex&& other) noexcept : re_(other.re_), valid_(std::exchange(other.valid_, false)) {}

Regex& Regex::operator=(Regex&& other) noexcept {
  if (this != &other) {
    if (valid_) regfree(&re_);
    re_ = other.re_;
    valid_ = std::exchange(other.valid_, false);
  }
  return *this;
}

Regex::~Regex() {
  if (valid_) regfree(&re_);
}

bool Regex::matches(const char* s) const { return valid_ && regexec(&re_, s, 0, nullptr, 0) == 0; }

// Skips a bracket expression starting at s[i] == '['; returns the index after its closing ']'.
static size_t skip_bracket(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '^') j++;
  if (j < s.size() && s[j] == ']') j++;  // a leading ']' is a member, not the end
  while (j < s.size() && s[j] != ']') {
    if (s[j] == '[' && j + 1 < s.size() && (s[j + 1] == ':' || s[j + 1] == '.' || s[j + 1] == '=')) {
      char kind = s[j + 1];
      size_t close = s.find(std::string{kind, ']'}, j + 2);
      j = close == std::string_view::npos ? s.size() : close + 2;
    } else {
      j++;
    }
  }
  return j < s.size() ? j + 1 : s.size();
}

bool has_top_level_alternation(std::string_view re) {
  int depth = 0;
  for (size_t i = 0; i < re.size();) {
    char c = re[i];
    if (c == '\\') {
      i += 2;
    } else if (c == '[') {
      i = skip_bracket(re, i);
    } else {
      if (c == '(') depth++;
      else if (c == ')' && depth > 0) depth--;
      else if (c == '|' && depth == 0) return true;
      i++;
    }
  }
  return false;
}

static bool at_component_start(const std::string& out) { return !out.empty() && out.back() == '/'; }

static std::string escape(std::string_view text, std::string_view special) {
  std::string out;
  for (char c : text) {
    if (special.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string glob_escape(std::string_view text) { return escape(text, "*?[]\\"); }
std::string regex_escape(std::string_view text) { return escape(text, ".[]()*+?{}|^$\\"); }

std::string glob_filter_pattern(std::string_view glob) {
  std::string out;
  for (size_t i = 0; i < glob.size(); i++) {
    char c = glob[i];
    if (wire::is_wildcard(glob.data(), glob.size(), i)) {  // kept: the pattern's wildcard
      out += '*';
      continue;
    }
    if (c == '*' || c == '?' || c == '[') break;
    if (c == '\\') {
      if (++i == glob.size()) break;
      c = glob[i];
    }
    out += c;
  }
  return out;
}

// The regex spelling of a filter pattern's wildcard (wire::is_wildcard): if re[i] starts a bracket
// expression that cannot match '/' and is repeated with '+' up to the end of a component, returns
// the index after the '+'.
static std::optional<size_t> bracket_component(std::string_view re, size_t i) {
  size_t end = skip_bracket(re, i);
  if (end >= re.size() || re[end] != '+') return std::nullopt;
  std::string_view members = re.substr(i + 1, end - i - 2);
  bool negated = members.starts_with('^');
  bool has_slash = members.find('/') != std::string_view::npos;
  if (negated != has_slash) return std::nullopt;
  size_t after = end + 1;
  bool component_ends = after == re.size() || re[after] == '/' || re.substr(after) == "$";
  return component_ends ? std::optional<size_t>(after) : std::nullopt;
}

std::string regex_filter_pattern(std::string_view re) {
  static constexpr std::string_view kMeta = ".[]()*+?{}|^$\\";
  if (!re.empty() && re.front() == '^') re.remove_prefix(1);
  std::string out;
  for (size_t i = 0; i < re.size();) {
    char c = re[i];
    if (c == '[' && at_component_start(out)) {
      if (auto after = bracket_component(re, i)) {
        out += '*';
        i = *after;
        continue;
      }
    }
    if (c == '*' || c == '?' || c == '{') {  // the literal before it may be absent
      if (!out.empty()) out.pop_back();
      break;
    }
    if (c == '\\') {
      // "\." and friends are literals; "\w", "\<" and other letter or GNU escapes are not.
      if (i + 1 >= re.size()) break;
      char next = re[i + 1];
      if (std::isalnum(static_cast<unsigned char>(next)) || next == '<' || next == '>' || next == '`' || next == '\'')
        break;
      out += next;
      i += 2;
      continue;
    }
    if (kMeta.find(c) != std::string_view::npos) break;
    out += c;
    i++;
  }
  return out;
}

}  // namespace fpshim
