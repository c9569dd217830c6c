// The rules: which paths count as fingerprinting, loaded and validated from rules.json.
//
// rules.json schema (version 1). Every object is closed: an unknown field is an error.
//
//   {"schema": 1, "recipes": [RECIPE, ...]}
//
//   RECIPE
//     name         required  string, [a-z0-9_]+, unique among recipes
//     enabled      optional  bool, default true; a disabled recipe neither matches nor widens the filter
//     title        required  string, one line for humans
//     description  required  string
//     importance   required  "low" | "medium" | "high" | "critical"
//     mitre        required  {"tactic": {"id": S, "name": S}, "technique": TECHNIQUE}, where TECHNIQUE
//                            is {"id": S, "name": S} or a non-empty array of them (the first is the
//                            recipe's main technique; the others are more specific ones it also fits)
//     guidance     required  {"ci": S, "staging": S, "production": S}
//     operations   optional  non-empty array of "read" | "write" | "list" | "stat" | "exec" |
//                            "link" | "connect"; default all seven. An access fires the recipe only if it
//                            did one of them.
//     match        required  non-empty array of MATCH
//     exclude      optional  array of EXCLUDE
//     weak         optional  {"sources": N (1..1000), "within": "process" | "build"}, default
//                            {"sources": 3, "within": "process"}: when the recipe's weak entries fire it.
//                            A strong access fires the recipe on its own; weak accesses fire it once one
//                            process (or the whole build) reached N distinct weak paths, or reached a
//                            strong one too. Weak accesses below that are no finding: they are counted.
//
//   MATCH: exactly one of
//     path      an absolute path, matched exactly (normalised: "//", "." and ".." folded)
//     subtree   an absolute directory (not "/"): the directory itself and everything below it
//     basename  a single name (no '/'): the last component of the path, anywhere
//     glob      an absolute pattern, fnmatch(3) with FNM_PATHNAME on the whole path
//     regex     a POSIX extended regex matched against the whole path (a leading '^' and trailing
//               '$' are implied and may be written); no '|' outside a group
//   and optionally
//     operations  non-empty array as above; must be a subset of the recipe's and narrows them
//     proc_pid    "not_self" | "not_self_or_descendant": for a pattern under /proc/<pid>/ (its
//                 filter prefix begins "/proc/*/"), the access counts only if that pid is not the
//                 reader's own (and not one of the reader's descendants in the process tree)
//     exclude     array of EXCLUDE that apply to accesses through this entry only
//     not_under   non-empty array of directories, each absolute or "./" (the working directory, or
//                 one below it): the entry matches only paths outside all of them. A "./" one
//                 where there is no working directory makes the entry match nothing
//     args_regex  for an entry whose operations are exec only: a POSIX extended regex that must
//                 match the whole of the program's arguments (argv[1] onwards, each preceded by one
//                 space: " -d @/etc/passwd https://x"); the exec counts only if it matches
//     strength    "strong" (default) | "weak": what one access through this entry says on its own
//     note        string, shown in reports
//   A path, subtree, glob or regex that begins with "~/" (after the regex's optional '^') names a
//   path in any home directory: /root, /home/<one component>, and the build's own home (the
//   `home` given to load_rules: $HOME of `fpshim run`, else the uid's home from the password
//   database). It matches, and widens the pre-filter, as one alternative per home. A path, subtree
//   or glob that begins with "./" names a path in the build's working directory (the `workdir`
//   given to load_rules: where `fpshim run` or `fpshim report` runs); without one it matches nothing.
//   A glob or regex must begin with a literal absolute path of at least one character after the
//   leading '/' (the shim's pre-filter is built from it). Paths are matched as the shim resolves
//   them: lexically, symlinks not followed, /proc/self and /proc/thread-self rewritten to
//   /proc/<pid> and /proc/<pid>/task/<tid>; a path, subtree or pattern under /proc/self can never
//   match and is refused.
//
//   EXCLUDE: exactly one of
//     exe        an absolute path: the process's executable (/proc/self/exe), exactly
//     exe_glob   fnmatch(3) with FNM_PATHNAME on the executable's path
//     exe_regex  a POSIX extended regex matched against the executable's whole path
//   and
//     reason     required string, why accesses by this executable are not findings
//     arg1       optional string: the process's first argument (argv[1]) must also be exactly
//                this: the script an interpreter such as node runs, or a subcommand
//     paths      optional non-empty array of absolute fnmatch(3) patterns (FNM_PATHNAME): the
//                access's path must also match one, so an exception is as narrow as the behaviour
//                (this executable reading these files); an access folded past a recipe's limits
//                has no path and is never excluded by such an entry
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/pattern.h"

namespace fpshim {

enum class Importance { low, medium, high, critical };
enum class MatchKind { path, subtree, basename, glob, regex };
enum class ExcludeKind { exe, exe_glob, exe_regex };
enum class ProcPid { any, not_self, not_self_or_descendant };
enum class Strength { strong, weak };
enum class Within { process, build };

inline constexpr uint32_t kAllOperations = 0x7f;  // wire::Op bits read|write|list|stat|exec|link|connect

std::string_view importance_name(Importance);
std::string_view match_kind_name(MatchKind);
std::string_view exclude_kind_name(ExcludeKind);
std::string_view strength_name(Strength);
std::string_view within_name(Within);
// "read,stat" style names of wire::Op bits, in bit order.
std::vector<std::string_view> operation_names(uint32_t ops);

struct Exclusion {
  ExcludeKind kind;
  std::string text;
  std::string reason;
  std::shared_ptr<const Regex> regex;
  std::optional<std::string> arg1;  // none: any arguments
  std::vector<std::string> paths;   // none: any path
};

struct MatchEntry {
  MatchKind kind;
  std::string text;     // the path, directory, name or pattern as written (paths normalised)
  std::string prefix;   // filter pattern every matching path starts with (absolute kinds; see pattern.h)
  uint32_t operations;  // already narrowed by the recipe's
  std::string note;
  std::shared_ptr<const Regex> regex;
  ProcPid proc_pid = ProcPid::any;
  std::vector<Exclusion> exclude;
  Strength strength = Strength::strong;
  // A "~/" or "./" entry (anchored): one absolute alternative per home directory, or the working
  // directory, each with its own prefix; the entry matches a path if one of them does (none: never).
  bool anchored = false;
  std::vector<MatchEntry> alternatives;
  std::vector<std::string> not_under;  // absolute directories, normalised: the entry matches outside them
  std::shared_ptr<const Regex> args;   // args_regex, compiled: an exec counts if its arguments match
  std::string args_text;               // args_regex as written
};

struct MitreRef {
  std::string id;
  std::string name;
};

struct Guidance {
  std::string ci;
  std::string staging;
  std::string production;
};

struct Recipe {
  std::string name;
  bool enabled = true;
  std::string title;
  std::string description;
  Importance importance = Importance::low;
  MitreRef tactic;
  MitreRef technique;                // the main one: techniques.front()
  std::vector<MitreRef> techniques;  // every technique the recipe fits, the main one first
  Guidance guidance;
  uint32_t operations = kAllOperations;
  std::vector<MatchEntry> match;
  std::vector<Exclusion> exclude;
  // When weak accesses fire the recipe: `weak_sources` distinct weak paths in one process or build.
  uint32_t weak_sources = 3;
  Within weak_within = Within::process;

  bool has_weak_entries() const;
};

struct Rules {
  std::string source;  // the file they came from
  std::vector<Recipe> recipes;
};

struct RulesError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  std::string str() const;  // "FILE:LINE:COLUMN: message"
};

struct LoadedRules {
  Rules rules;
  std::vector<RulesError> errors;  // in source order; the rules are unusable unless this is empty

  bool ok() const { return errors.empty(); }
};

// The home directories "~/" stands for: /root, /home/* and `home` (absolute, not "/") unless it
// is one of those.
std::vector<std::string> home_directories(std::string_view home);

LoadedRules parse_rules(std::string_view text, std::string_view file_name, std::string_view home = {},
                        std::string_view workdir = {});
LoadedRules load_rules(const std::string& path, std::string_view home = {}, std::string_view workdir = {});

}  // namespace fpshim
