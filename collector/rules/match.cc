#include "rules/match.h"

#include <algorithm>

#include <fnmatch.h>

#include <string>

#include "fpshim/wire.h"

namespace fpshim {

namespace {

// fnmatch and regexec want NUL-terminated strings; reuse one buffer instead of allocating.
const char* c_string(std::string_view s) {
  thread_local std::string buffer;
  buffer.assign(s);
  return buffer.c_str();
}

}  // namespace

// The part of a filter pattern before its first wildcard: every match starts with it.
static std::string_view literal_head(std::string_view pattern) {
  return pattern.substr(0, wire::find_wildcard(pattern.data(), pattern.size()));
}

static bool under(std::string_view path, std::string_view dir) {
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

bool path_matches(const MatchEntry& e, std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return false;
  if (std::any_of(e.not_under.begin(), e.not_under.end(), [&](const std::string& dir) { return under(path, dir); }))
    return false;
  if (e.anchored)
    return std::any_of(e.alternatives.begin(), e.alternatives.end(),
                       [&](const MatchEntry& home) { return path_matches(home, path); });
  switch (e.kind) {
    case MatchKind::path: return path == e.text;
    case MatchKind::subtree: return under(path, e.text);
    case MatchKind::basename: {
      size_t slash = path.rfind('/');
      return path.substr(slash == std::string_view::npos ? 0 : slash + 1) == e.text;
    }
    case MatchKind::glob:
      return path.starts_with(literal_head(e.prefix)) && fnmatch(e.text.c_str(), c_string(path), FNM_PATHNAME) == 0;
    case MatchKind::regex:
      return path.starts_with(literal_head(e.prefix)) && e.regex && e.regex->matches(c_string(path));
  }
  return false;
}

const Exclusion* exclusion_for(const std::vector<Exclusion>& exclusions, std::string_view exe,
                               std::optional<std::string_view> arg1, std::optional<std::string_view> path) {
  if (exe.empty() || exe.find('\0') != std::string_view::npos) return nullptr;
  for (const Exclusion& x : exclusions) {
    if (x.arg1 && (!arg1 || *arg1 != *x.arg1)) continue;
    if (!x.paths.empty()) {
      if (!path || path->find('\0') != std::string_view::npos) continue;
      const std::string p(*path);
      if (std::none_of(x.paths.begin(), x.paths.end(), [&p](const std::string& pattern) {
            return fnmatch(pattern.c_str(), p.c_str(), FNM_PATHNAME) == 0;
          }))
        continue;
    }
    switch (x.kind) {
      case ExcludeKind::exe:
        if (exe == x.text) return &x;
        break;
      case ExcludeKind::exe_glob:
        if (fnmatch(x.text.c_str(), c_string(exe), FNM_PATHNAME) == 0) return &x;
        break;
      case ExcludeKind::exe_regex:
        if (x.regex && x.regex->matches(c_string(exe))) return &x;
        break;
    }
  }
  return nullptr;
}

std::optional<int32_t> proc_pid_of(std::string_view path) {
  if (!path.starts_with("/proc/")) return std::nullopt;
  std::string_view rest = path.substr(6);
  const std::string_view digits = rest.substr(0, rest.find('/'));
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  int32_t pid = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    pid = pid * 10 + (c - '0');
  }
  return pid;
}

bool pid_counts(const MatchEntry& entry, std::string_view path, int32_t reader_pid) {
  if (entry.proc_pid == ProcPid::any) return true;
  const std::optional<int32_t> pid = proc_pid_of(path);
  return !pid || *pid != reader_pid;
}

void match_path(const Rules& rules, std::string_view path, std::vector<EntryRef>& out) {
  for (uint32_t r = 0; r < rules.recipes.size(); r++) {
    const Recipe& recipe = rules.recipes[r];
    if (!recipe.enabled) continue;
    for (uint32_t e = 0; e < recipe.match.size(); e++)
      if (path_matches(recipe.match[e], path)) out.push_back({r, e});
  }
}

void fired_entries(const Rules& rules, const std::vector<EntryRef>& matched, uint32_t op, std::string_view path,
                   int32_t reader_pid, std::vector<EntryRef>& out) {
  const size_t first = out.size();
  auto entry_of = [&rules](EntryRef ref) -> const MatchEntry& { return rules.recipes[ref.recipe].match[ref.entry]; };
  // Per recipe, its first entry that lets the access count; a strong one before a weak one.
  for (EntryRef ref : matched) {
    const MatchEntry& entry = entry_of(ref);
    if (!(entry.operations & op) || !pid_counts(entry, path, reader_pid)) continue;
    auto same = std::find_if(out.begin() + first, out.end(), [&](EntryRef f) { return f.recipe == ref.recipe; });
    if (same == out.end()) out.push_back(ref);
    else if (entry_of(*same).strength == Strength::weak && entry.strength == Strength::strong) *same = ref;
  }
  // One access, one recipe, unless it is evidence for both: a recipe is dropped when another one
  // it fired is more important (or as important and earlier in the rules), its entry at least as
  // strong, and counts every operation of the access that this one counts.
  auto dominates = [&](EntryRef a, EntryRef b) {
    const Recipe& ra = rules.recipes[a.recipe];
    const Recipe& rb = rules.recipes[b.recipe];
    if (ra.importance < rb.importance || (ra.importance == rb.importance && a.recipe > b.recipe)) return false;
    if (entry_of(a).strength == Strength::weak && entry_of(b).strength == Strength::strong) return false;
    const uint32_t ops_b = entry_of(b).operations & op;
    return (entry_of(a).operations & ops_b) == ops_b;
  };
  std::vector<EntryRef> fired(out.begin() + first, out.end());
  out.resize(first);
  for (EntryRef b : fired)
    if (std::none_of(fired.begin(), fired.end(), [&](EntryRef a) { return a.recipe != b.recipe && dominates(a, b); }))
      out.push_back(b);
}

const std::vector<EntryRef>& MatchCache::entries(std::string_view path, uint64_t hash) {
  if (path.size() > kMaxCachedLength) {
    uncached_.clear();
    match_path(rules_, path, uncached_);
    return uncached_;
  }
  if (slots_.empty()) slots_.resize(kSlots);
  Slot& slot = slots_[hash & (kSlots - 1)];
  if (slot.used && slot.hash == hash && slot.path == path) return slot.entries;
  slot.used = true;
  slot.hash = hash;
  slot.path.assign(path);
  slot.entries.clear();
  match_path(rules_, path, slot.entries);
  return slot.entries;
}

}  // namespace fpshim
