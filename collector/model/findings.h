// What a finding is: one recipe fired by one executable over one group of paths (the rule entry
// they matched). Every output (JSON, text, SARIF, GitHub, GitLab, JUnit, ECS events, HTML, the gate)
// renders these; none of them re-derives which accesses belong together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/summary.h"

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
  std::string exe;                 // the executable that reached the paths; "" for folded accesses
  const MatchEntry* entry = nullptr;  // the path group: the first entry of the recipe the paths matched
  std::vector<const PathSummary*> paths;           // listed paths of the group this executable reached
  const FoldedSummary* folded = nullptr;           // accesses folded past the recipe's limits (exe "")
  std::vector<const ProcessSummary*> processes;    // the processes of this executable that reached them
  uint64_t count = 0;                              // accesses
  bool count_is_lower_bound = false;
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
  std::string source_root;  // where locations are looked for; default: the build's cwd
};

struct Findings {
  const Summary* summary = nullptr;
  std::string source_root;
  std::vector<Finding> items;  // by importance (critical first), recipe, executable, entry

  size_t unsuppressed() const;
  // The most important unsuppressed finding's importance, if any.
  std::optional<Importance> worst() const;
};

// The findings of a summary, with their locations; `summary` must outlive the result.
Findings find(const Summary& summary, const FindingOptions& options);

// A process for humans: its command line (arguments cut at `max_arg`), its exe, or "[pid N]".
std::string describe(const ProcessRef& p, size_t max_arg = 80);

// FNV-1a 64 of the strings, each followed by a NUL: stable wherever and whenever it is computed.
uint64_t stable_hash(std::initializer_list<std::string_view> parts);

}  // namespace fpshim
