// Matching a reported access against the rules.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "rules.h"

namespace fpshim {

struct EntryRef {
  uint32_t recipe;  // index into Rules::recipes
  uint32_t entry;   // index into Recipe::match

  bool operator==(const EntryRef&) const = default;
};

// Does the entry's path pattern match? Ignores operations and exclusions.
bool path_matches(const MatchEntry& entry, std::string_view path);

// Is an access by this executable excluded from the recipe?
bool excluded(const Recipe& recipe, std::string_view exe);

// The entries of enabled recipes whose path pattern matches, in rule order (appended to `out`).
void match_path(const Rules& rules, std::string_view path, std::vector<EntryRef>& out);

// The entries that fire for an access: the path matches, the entry's operations include one of
// `ops` (wire::Op bits), and the recipe does not exclude `exe`.
std::vector<EntryRef> match(const Rules& rules, std::string_view path, uint32_t ops, std::string_view exe);

}  // namespace fpshim
