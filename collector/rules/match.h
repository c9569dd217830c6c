// Matching a reported access against the rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace fpshim {

struct EntryRef {
  uint32_t recipe;  // index into Rules::recipes
  uint32_t entry;   // index into Recipe::match

  bool operator==(const EntryRef&) const = default;
};

// Does the entry's path pattern match? Ignores operations and exclusions.
bool path_matches(const MatchEntry& entry, std::string_view path);

// The first of the exclusions (a recipe's, or an entry's) that excludes an access by this
// executable to `path`, or null. `arg1` is the process's argv[1] (none if it has no arguments),
// which an exclusion's arg1 must equal; an exclusion with `paths` needs a path that matches one
// (none: a folded access, whose path is not known, is not excluded by it).
const Exclusion* exclusion_for(const std::vector<Exclusion>& exclusions, std::string_view exe,
                               std::optional<std::string_view> arg1 = std::nullopt,
                               std::optional<std::string_view> path = std::nullopt);
inline bool excluded(const std::vector<Exclusion>& exclusions, std::string_view exe,
                     std::optional<std::string_view> arg1 = std::nullopt,
                     std::optional<std::string_view> path = std::nullopt) {
  return exclusion_for(exclusions, exe, arg1, path) != nullptr;
}
inline bool excluded(const Recipe& recipe, std::string_view exe, std::optional<std::string_view> arg1 = std::nullopt,
                     std::optional<std::string_view> path = std::nullopt) {
  return excluded(recipe.exclude, exe, arg1, path);
}

// The pid a path under /proc names ("/proc/42/mem": 42), if it names one.
std::optional<int32_t> proc_pid_of(std::string_view path);

// Does an entry with a proc_pid condition let an access by `reader_pid` to `path` count? The
// descendant half of not_self_or_descendant needs the process tree: the model settles it.
bool pid_counts(const MatchEntry& entry, std::string_view path, int32_t reader_pid);

// The entries of enabled recipes whose path pattern matches, in rule order (appended to `out`).
void match_path(const Rules& rules, std::string_view path, std::vector<EntryRef>& out);

// The recipes an access with operations `op` (wire::Op bits) by `reader_pid` fires, from `matched`
// (match_path's entries for `path`): per recipe the first matching entry whose operations include
// `op` and whose proc_pid condition lets the reader count (pid_counts), a strong entry before a weak
// one, in rule order (appended to `out`). An access is evidence for one recipe only, unless it is
// evidence for both: a recipe is left out when another that the access fires is more important (or
// as important and earlier), through an entry at least as strong, counting every operation of the
// access that the left-out recipe counts (a MAC read belongs to machine_fingerprint alone; an
// O_RDWR open of a file that one recipe watches for reads and another for writes fires both). Exclusions by executable
// are the caller's (excluded()): the model applies them when it summarizes, a live writer when it knows the process.
void fired_entries(const Rules& rules, const std::vector<EntryRef>& matched, uint32_t op, std::string_view path,
                   int32_t reader_pid, std::vector<EntryRef>& out);

// The entries of recently seen paths (match_path is a walk over every entry, some of them regexes).
// Direct-mapped: a path takes the one slot its hash names, so a stream of distinct paths costs
// no more memory than a few repeated ones.
class MatchCache {
 public:
  explicit MatchCache(const Rules& rules) : rules_(rules) {}

  // match_path(rules, path) for a path whose hash_bytes() is `hash`; valid until the next call.
  const std::vector<EntryRef>& entries(std::string_view path, uint64_t hash);

 private:
  static constexpr size_t kSlots = 1 << 13;
  static constexpr size_t kMaxCachedLength = 512;  // longer paths are matched every time

  struct Slot {
    uint64_t hash = 0;
    bool used = false;
    std::string path;
    std::vector<EntryRef> entries;
  };

  const Rules& rules_;
  std::vector<Slot> slots_;
  std::vector<EntryRef> uncached_;
};

}  // namespace fpshim
