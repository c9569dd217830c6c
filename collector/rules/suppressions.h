// Suppressions: findings a team has judged and accepted, each with its reason, loaded and validated
// from a JSON file (`--suppress FILE`, default .fpshim-suppressions.json in the source root). They
// are applied to the findings by model/findings.h; here they are only read and checked.
//
// Schema (version 1). Every object is closed: an unknown field is an error.
//
//   {"schema": 1, "suppressions": [ENTRY, ...]}
//
//   ENTRY
//     recipe    required  string: the recipe's name, or an fnmatch(3) pattern over recipe names
//     reason    required  non-empty string: why the finding is accepted (shown in every report)
//     path      optional  string or non-empty array of strings: fnmatch(3) patterns with FNM_PATHNAME;
//                         every path of the finding must match one of them. Absent: any paths.
//     exe       optional  string: fnmatch(3) pattern with FNM_PATHNAME over the executable that
//                         reached the paths ("" for accesses folded past a recipe's limits). Absent: any.
//     argv      optional  string: fnmatch(3) pattern (no FNM_PATHNAME: '*' crosses '/') over the
//                         command line of each process of the finding (its arguments joined by
//                         single spaces); every process must match
//     ancestry  optional  string: a pattern as for argv; each process of the finding must have at
//                         least one process in its chain (itself, its parent, ... up to the build's
//                         command) whose command line matches
//     expires   optional  "YYYY-MM-DD": the last day the entry suppresses; after it the entry is
//                         reported as expired and suppresses nothing
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace fpshim {

struct Suppression {
  std::string recipe;
  std::vector<std::string> paths;  // patterns; empty: any paths
  std::optional<std::string> exe;
  std::optional<std::string> argv;
  std::optional<std::string> ancestry;
  std::string reason;
  std::optional<std::string> expires;  // YYYY-MM-DD
  int line = 0;                        // where the entry begins in the file
  int column = 0;

  // Whether the entry has expired on `today` (YYYY-MM-DD): it is valid through its `expires` day.
  bool expired(std::string_view today) const { return expires && *expires < today; }
};

struct Suppressions {
  std::string source;  // the file they came from
  std::vector<Suppression> entries;
};

struct LoadedSuppressions {
  Suppressions suppressions;
  std::vector<RulesError> errors;  // FILE:LINE:COLUMN, in source order; unusable unless empty

  bool ok() const { return errors.empty(); }
};

LoadedSuppressions parse_suppressions(std::string_view text, std::string_view file_name);
LoadedSuppressions load_suppressions(const std::string& path);

// The default file's name, looked for in the source root.
inline constexpr std::string_view kDefaultSuppressionsFile = ".fpshim-suppressions.json";

// A pattern that fnmatch(3) matches against exactly `text`: the metacharacters * ? [ ] \ escaped,
// and each byte that is not valid UTF-8 written as '?' (the file is JSON, so it cannot hold them).
std::string glob_literal(std::string_view text);

// Today's date in local time, YYYY-MM-DD.
std::string local_date();

}  // namespace fpshim
