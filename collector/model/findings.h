// What a finding is: one recipe fired by one executable over one group of paths (the rule entry
// they matched). Every output (JSON, text, SARIF, GitHub, GitLab, JUnit, ECS events, HTML, the gate)
// renders these; none of them re-derives which accesses belong together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/summary.h"
#include "rules/suppressions.h"

namespace fpshim {

// A place in the checkout a reviewer can open: a repo-relative path (never empty, never absolute,
// never a URL) and a line (1 when nothing better is known).
struct SourceLocation {
  std::string uri;
  int line = 1;
  std::string why;  // how it was chosen: "named by `sh gen.sh`", "fallback", ...
};

// Why a finding does not count: the suppression entry that matched it.
struct Suppressed {
  size_t entry = 0;  // index in Suppressions::entries
  std::string reason;
};

struct Finding {
  const Recipe* recipe = nullptr;
  const FiredBecause* because = nullptr;         // why its recipe fired (null outside a summary)
  std::string exe;                               // the executable that reached the paths; "" for folded accesses
  const MatchEntry* entry = nullptr;             // the path group: the first entry of the recipe the paths matched
  std::vector<const PathSummary*> paths;         // listed paths of the group this executable reached
  const FoldedSummary* folded = nullptr;         // accesses folded past the recipe's limits (exe "")
  std::vector<const ProcessSummary*> processes;  // the processes of this executable that reached them
  uint64_t count = 0;                            // accesses
  bool count_is_lower_bound = false;
  bool unverified = false;  // some of its records came from files the build can write, not the socket
  uint64_t first_seen_ns = 0;
  uint64_t last_seen_ns = 0;
  std::string fingerprint;  // 16 hex digits of (recipe, exe, entry): stable across runs and machines
  SourceLocation location;
  std::optional<Suppressed> suppressed;

  Importance importance() const { return recipe->importance; }
  // The paths for display: listed ones, else the folded bucket's examples.
  std::vector<std::string> path_names() const;
  // "cat /proc/ioports <- sh gen.sh <- make -j4": the first process and its ancestry.
  std::string chain(size_t max_arg = 80) const;
};

struct FindingOptions {
  std::string source_root;                     // where locations are looked for; default: the build's cwd
  const Suppressions* suppressions = nullptr;  // must outlive the findings
  std::string today;                           // YYYY-MM-DD that expiry is judged on; "" is local_date()
};

// How one suppression entry fared against the findings of a build.
struct SuppressionUse {
  size_t matched = 0;     // findings the entry matches, whether or not an earlier entry suppressed them first
  size_t suppressed = 0;  // findings it is the suppressing entry of (the first unexpired entry that matches)
  bool expired = false;   // past its `expires` day: it suppresses nothing

  bool unused() const { return matched == 0; }
};

struct Findings {
  const Summary* summary = nullptr;
  std::string source_root;
  std::vector<Finding> items;                   // by importance (critical first), recipe, executable, entry
  const Suppressions* suppressions = nullptr;   // null: none were given
  std::vector<SuppressionUse> suppression_use;  // one per entry of *suppressions

  size_t unsuppressed() const;
  // Unsuppressed findings whose recipe's importance is `level` or above: what the gate counts.
  size_t unsuppressed_at_or_above(Importance level) const;
  // The most important unsuppressed finding's importance, if any.
  std::optional<Importance> worst() const;
};

// The findings of a summary, with their locations; `summary` must outlive the result.
Findings find(const Summary& summary, const FindingOptions& options);

// Whether `s` matches `f`, expiry aside. The rule: the recipe's name matches `s.recipe`; the executable
// matches `s.exe` (if given); every path of the finding (the listed ones, and for folded accesses the
// examples kept) matches one of `s.paths` (if given); every process of the finding has a command line
// matching `s.argv` (if given) and a process in its chain (itself or an ancestor) whose command line
// matches `s.ancestry` (if given). A folded finding lists no processes, so an entry with `argv` or
// `ancestry` never matches it. Patterns are fnmatch(3); FNM_PATHNAME for paths and the executable.
bool matches(const Suppression& s, const Finding& f);

// Applies the suppressions to the findings: each finding is suppressed by the first entry in file
// order that matches it and has not expired on `today` (YYYY-MM-DD); fills `suppression_use`.
void suppress(Findings& findings, const Suppressions& suppressions, const std::string& today);

// The suppressing entry of one finding (the first unexpired entry that matches it), as suppress()
// decides it; for a writer that has one finding at a time (serve's live events).
std::optional<Suppressed> suppression_of(const Finding& f, const Suppressions& suppressions, const std::string& today);

// The path group of `path` in `recipe`: its first entry whose pattern matches (operations aside).
const MatchEntry* entry_of(const Recipe& recipe, const std::string& path);

// Where in the checkout at `root` a finding is located, from its first process's chain and the
// build's command and cwd (find() calls it for each finding).
SourceLocation locate(const Finding& f, const std::string& root, const BuildInfo& build);

// A process for humans: its command line (arguments cut at `max_arg`), its exe, or "[pid N]".
std::string describe(const ProcessRef& p, size_t max_arg = 80);

// FNV-1a 64 of the strings, each followed by a NUL: stable wherever and whenever it is computed.
uint64_t stable_hash(std::initializer_list<std::string_view> parts);

}  // namespace fpshim
