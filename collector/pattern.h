// Path patterns: lexical path normalisation, POSIX regexes, and the literal prefixes of globs and
// regexes that the shim's pre-filter is compiled from.
#pragma once

#include <regex.h>

#include <optional>
#include <string>
#include <string_view>

namespace fpshim {

// Folds repeated slashes, "." and ".." of an absolute path, drops a trailing slash ("/a//b/../c/" ->
// "/a/c"). The shim resolves paths the same way before it reports them.
std::string normalize_path(std::string_view path);

// A compiled POSIX extended regex that must match the whole subject.
class Regex {
 public:
  // Strips one leading '^' and one trailing unescaped '$', then compiles "^(" body ")$".
  // On failure returns nullopt and sets `error` to regerror's text.
  static std::optional<Regex> compile(std::string_view source, std::string& error);

  Regex(Regex&& other) noexcept;
  Regex& operator=(Regex&& other) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex();

  bool matches(const char* nul_terminated) const;

 private:
  Regex() = default;
  regex_t re_{};
  bool valid_ = false;
};

// The regex without one leading '^' and one trailing unescaped '$'.
std::string_view strip_anchors(std::string_view regex);

// True if the regex has an alternation '|' outside any group or bracket expression.
bool has_top_level_alternation(std::string_view regex);

// The text every path matching the glob starts with: up to the first '*', '?' or '[', backslash
// escapes resolved.
std::string glob_literal_prefix(std::string_view glob);

// The text every path matching the regex starts with: the leading literal characters after an
// optional '^', up to the first metacharacter; "\." style escapes of punctuation count as literals;
// a literal that a '*', '?' or '{' quantifies is dropped.
std::string regex_literal_prefix(std::string_view regex);

}  // namespace fpshim
