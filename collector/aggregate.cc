#include "aggregate.h"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace fpshim {

namespace {

std::string_view view(const wire::Bytes& b) { return {b.data, b.size}; }

template <typename T>
void insert_sorted(std::vector<T>& v, const T& x) {
  auto it = std::lower_bound(v.begin(), v.end(), x);
  if (it == v.end() || *it != x) v.insert(it, x);
}

}  // namespace

Process& Aggregate::process_for(const wire::Header& h) {
  ProcessKey key{h.pid, h.proc_nonce};
  auto [it, fresh] = processes_.try_emplace(key);
  Process& p = it->second;
  if (fresh) {
    p.pid = h.pid;
    p.ppid = h.ppid;
    p.nonce = h.proc_nonce;
    p.start_ns = h.proc_nonce;
    images_[h.pid].push_back(key);
  }
  return p;
}

void Aggregate::on_record(const wire::Header& h, std::span<const wire::Bytes> strings) {
  Process& p = process_for(h);
  switch (wire::Kind(h.kind)) {
    case wire::Kind::hello:
      on_hello(p, h, strings);
      break;
    case wire::Kind::access:
      on_access(p, h, view(strings[0]), view(strings[1]));
      break;
    case wire::Kind::bye:
      p.said_bye = true;
      p.end_ns = h.time_ns;
      p.exit_status = h.result;
      break;
    case wire::Kind::lost:
      stats_.lost += h.count;
      break;
  }
}

void Aggregate::on_hello(Process& p, const wire::Header& h, std::span<const wire::Bytes> strings) {
  if (p.said_hello) return;
  p.said_hello = true;
  p.ppid = h.ppid;
  p.exe = view(strings[0]);
  p.cwd = view(strings[1]);
  for (const wire::Bytes& arg : strings.subspan(2)) p.argv.emplace_back(view(arg));
}

const std::vector<EntryRef>& Aggregate::entries_for(std::string_view path) {
  if (auto it = path_cache_.find(path); it != path_cache_.end()) return it->second;
  if (path_cache_.size() >= kMaxCachedPaths) path_cache_.clear();
  std::vector<EntryRef> entries;
  match_path(rules_, path, entries);
  return path_cache_.emplace(std::string(path), std::move(entries)).first->second;
}

void Aggregate::on_access(const Process& p, const wire::Header& h, std::string_view resolved,
                          std::string_view spelled) {
  fired_.clear();
  for (EntryRef ref : entries_for(resolved)) {
    const MatchEntry& entry = rules_.recipes[ref.recipe].match[ref.entry];
    if ((entry.operations & h.op) && std::find(fired_.begin(), fired_.end(), ref.recipe) == fired_.end())
      fired_.push_back(ref.recipe);
  }
  if (fired_.empty()) {
    stats_.unmatched++;
    return;
  }
  uint64_t count = std::max<uint32_t>(h.count, 1);
  for (uint32_t recipe : fired_) {
    StringMap<ByProcess>& paths = hits_[recipe].paths;
    auto path_it = paths.find(resolved);
    if (path_it == paths.end()) path_it = paths.emplace(std::string(resolved), ByProcess{}).first;
    Tally& t = path_it->second[ProcessKey{p.pid, p.nonce}];
    t.count += count;
    t.records++;
    t.operations |= h.op;
    t.first_ns = std::min(t.first_ns, h.time_ns);
    t.last_ns = std::max(t.last_ns, h.time_ns);
    if (h.result != 0) {
      t.failed += count;
      insert_sorted(t.errors, h.result);
    }
    if (t.spellings.size() < kMaxSpellings &&
        std::find(t.spellings.begin(), t.spellings.end(), spelled) == t.spellings.end())
      t.spellings.emplace_back(spelled);
  }
}

const Process* Aggregate::find(ProcessKey key) const {
  auto it = processes_.find(key);
  return it == processes_.end() ? nullptr : &it->second;
}

ProcessRef Aggregate::ref(const Process& p) const { return ProcessRef{p.pid, p.said_hello, p.exe, p.argv}; }

// The newest process with the parent's pid that started no later than `p` (pids are reused and
// exec keeps the pid, so several processes may share it).
const Process* Aggregate::parent_of(const Process& p) const {
  auto it = images_.find(p.ppid);
  if (it == images_.end()) return nullptr;
  const Process* best = nullptr;
  for (ProcessKey key : it->second) {
    const Process* candidate = find(key);
    if (candidate == &p || candidate->start_ns > p.start_ns) continue;
    if (!best || candidate->start_ns >= best->start_ns) best = candidate;
  }
  return best;
}

// A later process with the same pid exists: this one exec'd (or its pid was reused).
bool Aggregate::superseded(const Process& p) const {
  for (ProcessKey key : images_.at(p.pid))
    if (find(key)->start_ns > p.start_ns) return true;
  return false;
}

std::vector<ProcessRef> Aggregate::ancestry(const Process& p) const {
  std::vector<ProcessRef> chain;
  std::unordered_set<const Process*> seen{&p};
  const Process* cur = &p;
  while (cur->pid != root_pid_) {
    const Process* parent = parent_of(*cur);
    if (!parent || !seen.insert(parent).second) break;
    chain.push_back(ref(*parent));
    cur = parent;
  }
  return chain;
}

RecipeSummary Aggregate::summarize_recipe(uint32_t index, Stats& stats) const {
  const Recipe& recipe = rules_.recipes[index];
  RecipeSummary rs;
  rs.recipe = &recipe;
  rs.first_seen_ns = UINT64_MAX;
  std::unordered_map<ProcessKey, bool, ProcessKeyHash> excluded_cache;
  std::map<std::pair<uint64_t, int32_t>, std::pair<const Process*, std::vector<std::string>>> by_process;

  for (const auto& [path, by_proc] : hits_[index].paths) {
    PathSummary ps;
    ps.path = path;
    ps.first_seen_ns = UINT64_MAX;
    for (const auto& [key, t] : by_proc) {
      const Process& p = *find(key);
      auto [cached, fresh] = excluded_cache.try_emplace(key, false);
      if (fresh) cached->second = excluded(recipe, p.exe);
      if (cached->second) {
        stats.excluded += t.records;
        continue;
      }
      ps.count += t.count;
      ps.failed += t.failed;
      ps.operations |= t.operations;
      ps.count_is_lower_bound |= !p.said_bye;
      ps.first_seen_ns = std::min(ps.first_seen_ns, t.first_ns);
      ps.last_seen_ns = std::max(ps.last_seen_ns, t.last_ns);
      for (int e : t.errors) insert_sorted(ps.errors, e);
      for (const std::string& s : t.spellings)
        if (ps.spellings.size() < kMaxSpellings) insert_sorted(ps.spellings, s);
      by_process[{p.start_ns, p.pid}].first = &p;
      by_process[{p.start_ns, p.pid}].second.push_back(path);
    }
    if (ps.count == 0) continue;
    rs.hits += ps.count;
    rs.first_seen_ns = std::min(rs.first_seen_ns, ps.first_seen_ns);
    rs.last_seen_ns = std::max(rs.last_seen_ns, ps.last_seen_ns);
    rs.paths.push_back(std::move(ps));
  }
  std::sort(rs.paths.begin(), rs.paths.end(),
            [](const PathSummary& a, const PathSummary& b) { return a.path < b.path; });
  for (auto& [order, entry] : by_process) {
    auto& [p, paths] = entry;
    std::sort(paths.begin(), paths.end());
    rs.processes.push_back(ProcessSummary{ref(*p), std::move(paths), ancestry(*p)});
  }
  return rs;
}

void Aggregate::summarize(Summary& out) const {
  out.stats = stats_;
  out.processes_seen = processes_.size();
  out.stats.processes = 0;
  out.stats.processes_without_bye = 0;
  for (const auto& [key, p] : processes_) {
    out.stats.processes += p.said_hello;
    out.stats.processes_without_bye += p.said_hello && !p.said_bye && !superseded(p);
  }
  out.recipes.clear();
  for (uint32_t i = 0; i < hits_.size(); i++) {
    if (hits_[i].paths.empty()) continue;
    RecipeSummary rs = summarize_recipe(i, out.stats);
    if (rs.hits > 0) out.recipes.push_back(std::move(rs));
  }
  std::sort(out.recipes.begin(), out.recipes.end(), [](const RecipeSummary& a, const RecipeSummary& b) {
    if (a.recipe->importance != b.recipe->importance) return a.recipe->importance > b.recipe->importance;
    return a.recipe->name < b.recipe->name;
  });
}

}  // namespace fpshim
