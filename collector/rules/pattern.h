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

// `text` as a glob or a regex that matches exactly it (metacharacters escaped with a backslash).
std::string glob_escape(std::string_view text);
std::string regex_escape(std::string_view text);

// Filter patterns: what every matching path starts with, as the shim's pre-filter understands it
// (wire.h): literal text in which a component that is exactly "*" stands for any one component.

// A glob's leading text up to its first wildcard, with a whole-component '*' kept as a wildcard;
// backslash escapes resolved.
std::string glob_filter_pattern(std::string_view glob);

// A regex's leading literal characters after an optional '^', up to the first metacharacter;
// "\." style escapes of punctuation count as literals; a literal that '*', '?' or '{' quantifies is
// dropped; a whole component written as a one-or-more bracket expression that cannot match '/'
// (`[0-9]+`, `[^/]+`) becomes a '*' component.
std::string regex_filter_pattern(std::string_view regex);

}  // namespace fpshim
