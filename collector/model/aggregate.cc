#include "model/aggregate.h"

#include "base/clock.h"
#include "inspect/running_image.h"
#include "model/hashing.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace fpshim {

namespace {

std::string_view view(const wire::Bytes& b) { return {b.data, b.size}; }

template <typename T>
void insert_sorted(std::vector<T>& v, const T& x) {
  auto it = std::lower_bound(v.begin(), v.end(), x);
  if (it == v.end() || *it != x) v.insert(it, x);
}

// A random key, so that a build cannot make two records' content hashes collide on purpose.
uint64_t random_key() {
  uint64_t key = 0;
  if (getrandom(&key, sizeof key, 0) != ssize_t(sizeof key)) key = mix64(now_ns() ^ uint64_t(getpid()));
  return key;
}

}  // namespace

uint32_t content_hash(uint64_t key, const wire::Header& h, std::span<const wire::Bytes> strings) {
  // Each 8 bytes mixed into a state that starts at the key; the collector's own flags left out (a
  // record read back from a spool file is the record that was spooled).
  uint64_t state = key;
  auto add = [&state](const char* data, size_t n) {
    for (size_t at = 0; at < n; at += 8) {
      uint64_t word = 0;
      memcpy(&word, data + at, std::min<size_t>(8, n - at));
      state = mix64(state ^ word);
    }
    state = mix64(state ^ n);
  };
  wire::Header header = h;
  header.flags &= ~uint32_t(wire::flag_from_spool | wire::flag_unverified);
  add(reinterpret_cast<const char*>(&header), sizeof header);
  for (const wire::Bytes& b : strings) add(b.data, b.size);
  return uint32_t(state ^ (state >> 32));
}

HelloExe exe_of_hello(const wire::Header& h, std::string_view named, const std::string& cwd, const Inspector& inspect) {
  // The name the kernel executed (AT_EXECFN) becomes what runs, as /proc/self/exe would say: joined
  // to the cwd, then the inspection's image (symlinks resolved, a script's interpreter).
  HelloExe out;
  const bool as_executed = h.flags & wire::flag_exe_as_executed;
  std::string exe(named);
  if (as_executed && !exe.starts_with('/') && !cwd.empty()) exe = cwd + "/" + exe;
  if (exe.starts_with('/')) {
    out.inspection = inspect(exe);
    out.go = out.inspection.reason == Unmonitored::go;
    if (as_executed && !out.inspection.image.empty()) exe = out.inspection.image;
  }
  out.exe = std::move(exe);
  return out;
}

ImageCheck running_image_check() {
  return [who = own_credentials()](int32_t pid, uint64_t nonce, std::string_view named, const Inspection& by_path) {
    return inspect_running_image(pid, nonce, named, by_path, who);
  };
}

Aggregate::Aggregate(const Rules& rules, Stats& stats, Inspector inspector, ImageCheck check)
    : rules_(rules), stats_(stats), inspect_(std::move(inspector)), check_(std::move(check)), matches_(rules),
      content_key_(random_key()) {
  hits_.reserve(rules.recipes.size());
  for (const Recipe& recipe : rules.recipes) hits_.emplace_back(recipe);
  if (!inspect_) {
    Credentials who = own_credentials();
    inspect_ = [who](const std::string& path) { return inspect_executable(path, who); };
  }
}

void Aggregate::on_record(const wire::Header& h, std::span<const wire::Bytes> strings) {
  Process* in_tree = tree_.process_for(h);
  if (!in_tree) {  // beyond the process tree's limit: counted, and its accesses still count
    stats_.records++;
    if (h.flags & wire::flag_unverified) stats_.unverified++;
    if (wire::Kind(h.kind) == wire::Kind::hello) tree_.fold_hello();
    if (wire::Kind(h.kind) == wire::Kind::access)
      on_access(tree_.beyond_limit(), h, view(strings[0]), view(strings[1]));
    return;
  }
  Process& p = *in_tree;
  switch (p.seqs.insert(h.seq, content_hash(content_key_, h, strings))) {
    case SeqSet::Seen::fresh: break;
    case SeqSet::Seen::duplicate: stats_.duplicates++; return;
    case SeqSet::Seen::conflicting: stats_.conflicting++; break;  // forged: counted as well as the first
  }
  stats_.records++;
  if (h.flags & wire::flag_from_spool) stats_.late++;
  if (h.flags & wire::flag_unverified) stats_.unverified++;
  switch (wire::Kind(h.kind)) {
    case wire::Kind::hello: on_hello(p, h, strings); break;
    case wire::Kind::access: on_access(p, h, view(strings[0]), view(strings[1])); break;
    case wire::Kind::bye:
      p.said_bye = true;
      p.bye_ns = h.time_ns;
      p.bye_status = h.result;
      break;
    case wire::Kind::lost:
      p.reported_lost += h.count;
      if (h.result > 0 && stats_.spool_errno == 0) stats_.spool_errno = uint64_t(h.result);
      break;
    case wire::Kind::exec: on_exec(p, h, strings); break;
  }
}

void Aggregate::on_torn(const wire::Header& h) {
  if (Process* p = tree_.process_for(h)) p->torn_seq = std::max(p->torn_seq.value_or(0), h.seq);
}

void Aggregate::on_hello(Process& p, const wire::Header& h, std::span<const wire::Bytes> strings) {
  if (p.said_hello) return;
  p.said_hello = true;
  p.ppid = h.ppid;
  p.cwd = view(strings[1]);
  for (const wire::Bytes& arg : strings.subspan(2)) p.argv.emplace_back(view(arg));
  HelloExe seen = exe_of_hello(h, view(strings[0]), p.cwd, inspect_);
  p.go = seen.go;
  p.exe = std::move(seen.exe);
  // Judge what the process runs, not what its path holds now: the file may have been deleted or
  // replaced since the exec. Gone and not to be looked at in /proc either: not known.
  if (!check_) return;
  if (std::optional<Inspection> running = check_(h.pid, h.proc_nonce, view(strings[0]), seen.inspection))
    p.go = running->reason == Unmonitored::go;
  else if (seen.inspection.gone) p.uninspected = true;
}

void Aggregate::on_exec(Process& p, const wire::Header& h, std::span<const wire::Bytes> strings) {
  if (!tree_.room_for_exec()) return;
  ExecEvent e;
  e.seq = h.seq;
  e.time_ns = h.time_ns;
  e.child_pid = int32_t(h.count);
  e.result = h.result;
  e.flags = h.flags;
  e.named = view(strings[0]);
  e.target = strings[1].size > 0 ? view(strings[1]) : e.named;
  for (const wire::Bytes& arg : strings.subspan(2)) e.argv.emplace_back(view(arg));
  if (h.result == 0) {
    if (h.flags & wire::flag_env_restored) stats_.env_restored++;
    std::string path = e.target;
    if (!path.starts_with('/') && !p.cwd.empty()) path = p.cwd + "/" + path;
    if (path.starts_with('/')) e.inspection = inspect_(path);
  }
  auto at = std::upper_bound(p.execs.begin(), p.execs.end(), e.seq,
                             [](uint64_t seq, const ExecEvent& x) { return seq < x.seq; });
  p.execs.insert(at, std::move(e));
}

void Aggregate::set_root(int32_t pid, int32_t ppid, uint64_t started_ns, const std::string& path,
                         const std::vector<std::string>& command) {
  ExecEvent launch;
  launch.time_ns = started_ns;
  launch.named = command.empty() ? path : command[0];
  launch.target = path;
  launch.argv = command;
  if (path.starts_with('/')) launch.inspection = inspect_(path);
  tree_.set_root(pid, ppid, std::move(launch));
}

void Aggregate::on_access(const Process& p, const wire::Header& h, std::string_view resolved,
                          std::string_view spelled) {
  const uint64_t hash = hash_bytes(resolved);
  fired_.clear();
  fired_entries(rules_, matches_.entries(resolved, hash), h.op, resolved, h.pid, fired_);
  if (fired_.empty()) {
    stats_.unmatched++;
    return;
  }
  for (EntryRef ref : fired_) hits_[ref.recipe].add(p, h, resolved, spelled, hash, ref.entry);
}

ProcessRef Aggregate::ref(const Process& p) const { return ProcessRef{p.pid, p.known(), p.exe, p.argv, p.cwd}; }

std::vector<ProcessRef> Aggregate::ancestry_refs(const Process& p) const {
  std::vector<ProcessRef> out;
  for (const Process* a : tree_.ancestry(p)) out.push_back(ref(*a));
  return out;
}

namespace {

void widen_seen(uint64_t& first_ns, uint64_t& last_ns, const RecipeHits::Tally& t) {
  first_ns = std::min(first_ns, t.first_ns);
  last_ns = std::max(last_ns, t.last_ns);
}

}  // namespace

// What the parts of one recipe's summary share: which processes the recipe excludes (and why),
// which processes reached it (by start), each with the indexes of the listed paths it reached, and
// the weak evidence of each process and of the build.
struct Aggregate::RecipeScan {
  const Recipe& recipe;
  const RecipeHits& hits;
  const ProcessTree& tree;
  Stats& stats;
  std::map<std::pair<uint64_t, int32_t>, std::pair<const Process*, std::vector<uint32_t>>> by_process = {};
  // Some entry has exclusions of its own or a proc_pid condition on descendants: an access counts
  // only if an entry it matches lets it.
  const bool entry_conditions = std::any_of(recipe.match.begin(), recipe.match.end(), [](const MatchEntry& e) {
    return !e.exclude.empty() || e.proc_pid == ProcPid::not_self_or_descendant || e.args;
  });
  // Excluded accesses by (reason, exe): what the report lists as excluded.
  struct Excluded {
    std::set<std::string_view> paths;
    uint64_t count = 0;
    std::set<const Process*> processes;
  };
  std::map<std::pair<std::string_view, std::string_view>, Excluded> excluded = {};
  // The weak evidence: per process (and for the build) whether it reached a strong path, and its
  // distinct weak paths.
  struct Evidence {
    bool strong = false;
    std::vector<uint32_t> weak;  // path indexes
  };
  std::map<const Process*, Evidence> evidence = {};
  Evidence build = {};
  std::set<uint32_t> build_weak = {};

  static constexpr std::string_view kDescendant = "the /proc entry is of the reader's own descendant";
  static constexpr std::string_view kArgs = "its arguments do not match the entry's args_regex";

  static std::optional<std::string_view> known(std::string_view path) {
    if (path.empty()) return std::nullopt;
    return path;
  }
  static std::optional<std::string_view> arg1_of(const Process& p) {
    if (p.argv.size() < 2) return std::nullopt;
    return p.argv[1];
  }

  // Did `p` run (or try to run) `path` with arguments the entry's args_regex matches? Every exec of
  // that path by `p` counts in its tally once one did.
  static bool ran_with_args(const MatchEntry& e, const Process& p, std::string_view path) {
    return std::any_of(p.execs.begin(), p.execs.end(), [&](const ExecEvent& x) {
      auto names = [&](const std::string& name) {
        return !name.empty() && normalize_path(name.starts_with('/') ? name : p.cwd + "/" + name) == path;
      };
      if (!names(x.target) && !names(x.named)) return false;
      std::string args;
      for (size_t i = 1; i < x.argv.size(); i++) (args += ' ') += x.argv[i];
      return args.find('\0') == std::string::npos && e.args->matches(args.c_str());
    });
  }

  // Why the entry does not let `p`'s access to `path` count, or nothing if it does. (An empty
  // path: a folded one, unknown.)
  std::optional<std::string_view> entry_excludes(const MatchEntry& e, const Process& p, std::string_view path) const {
    if (const Exclusion* x = exclusion_for(e.exclude, p.exe, arg1_of(p), known(path))) return x->reason;
    if (e.args && !path.empty() && !ran_with_args(e, p, path)) return kArgs;
    if (e.proc_pid != ProcPid::not_self_or_descendant || path.empty()) return std::nullopt;
    const std::optional<int32_t> target = proc_pid_of(path);
    if (target && tree.descends_from(*target, p)) return kDescendant;
    return std::nullopt;
  }

  // False for a tally of an excluded executable (or of accesses no entry lets count), whose
  // records go to stats.excluded and the excluded list instead. `entry`: the bucket's, for a
  // folded tally.
  bool included(const Process& p, const RecipeHits::Tally& t, std::string_view path,
                const MatchEntry* entry = nullptr) {
    std::optional<std::string_view> why;
    if (const Exclusion* x = exclusion_for(recipe.exclude, p.exe, arg1_of(p), known(path))) why = x->reason;
    if (!why && entry_conditions) {
      if (entry) why = entry_excludes(*entry, p, {});
      else {
        // It counts if some entry it matches lets it; else the first entry's reason is why not.
        std::optional<std::string_view> first;
        for (const MatchEntry& e : recipe.match) {
          if (!(e.operations & t.operations) || !path_matches(e, path)) continue;
          std::optional<std::string_view> no = entry_excludes(e, p, path);
          if (!no) {
            first.reset();
            break;
          }
          if (!first) first = no;
        }
        why = first;
      }
    }
    if (!why) return true;
    stats.excluded += t.records;
    Excluded& x = excluded[{*why, p.exe}];
    if (!path.empty()) x.paths.insert(path);
    x.count += t.count;
    x.processes.insert(&p);
    return false;
  }
  // The entry of `p` among the processes that reached the recipe.
  std::pair<const Process*, std::vector<uint32_t>>& reached_by(const Process& p) {
    auto& entry = by_process[{p.start_ns, p.pid}];
    entry.first = &p;
    return entry;
  }
  // Does a weak access of `p` count: did its process (or the build) reach a strong path or the
  // recipe's number of distinct weak ones?
  bool weak_counts(const Process& p) const {
    if (recipe.weak_within == Within::build) return build.strong || build_weak.size() >= recipe.weak_sources;
    auto it = evidence.find(&p);
    return it != evidence.end() && (it->second.strong || it->second.weak.size() >= recipe.weak_sources);
  }
};

RecipeSummary Aggregate::summarize_recipe(uint32_t index, Summary& out) const {
  RecipeScan scan{rules_.recipes[index], hits_[index], tree_, out.stats};
  RecipeSummary rs;
  rs.recipe = &scan.recipe;
  rs.first_seen_ns = UINT64_MAX;
  summarize_paths(scan, rs, out);
  summarize_folded(scan, rs);
  summarize_reaching_processes(scan, rs);
  summarize_excluded(scan, out);
  return rs;
}

namespace {

template <typename Paths>
void take_examples(const Paths& paths, size_t max, std::vector<std::string>& out) {
  for (const auto& p : paths) {
    if (out.size() >= max) break;
    out.emplace_back(p);
  }
  std::sort(out.begin(), out.end());
}

std::string list_paths(const std::vector<std::string>& examples, uint64_t all) {
  std::string out;
  for (const std::string& p : examples) (out += out.empty() ? "" : ", ") += p;
  if (all > examples.size()) out += fmt::format(" and {} more", all - examples.size());
  return out;
}

}  // namespace

// Which tallies count (not excluded; strong, or weak of a process or build past the threshold), the
// listed paths from those, and why the recipe fired.
void Aggregate::summarize_paths(RecipeScan& scan, RecipeSummary& rs, Summary& out) const {
  const RecipeHits& hits = scan.hits;
  const std::vector<RecipeHits::PathTally>& tallies = hits.tallies();
  std::vector<char> counts(tallies.size());
  for (size_t i = 0; i < tallies.size(); i++) {
    const RecipeHits::PathTally& pt = tallies[i];
    counts[i] = scan.included(*pt.process, pt.tally, hits.paths()[pt.path].path);
    if (!counts[i]) continue;
    RecipeScan::Evidence& ev = scan.evidence[pt.process];
    if (pt.tally.strong) ev.strong = scan.build.strong = true;
    else ev.weak.push_back(pt.path), scan.build_weak.insert(pt.path);
  }
  // Weak accesses below the threshold: counted and shown as such, not findings.
  BelowThreshold below{&scan.recipe, 0, {}, 0, 0};
  std::set<uint32_t> below_paths;
  std::set<const Process*> below_processes;
  for (size_t i = 0; i < tallies.size(); i++) {
    const RecipeHits::PathTally& pt = tallies[i];
    if (!counts[i] || pt.tally.strong || scan.weak_counts(*pt.process)) continue;
    counts[i] = false;
    out.stats.below_threshold += pt.tally.records;
    below.count += pt.tally.count;
    below_paths.insert(pt.path);
    below_processes.insert(pt.process);
  }
  if (below.count > 0) {
    below.paths = below_paths.size();
    below.processes = below_processes.size();
    std::set<std::string_view> names;
    for (uint32_t i : below_paths) names.insert(hits.paths()[i].path);
    take_examples(names, BelowThreshold::kMaxExamples, below.examples);
    out.below_threshold.push_back(std::move(below));
  }

  std::vector<PathSummary> paths(hits.paths().size());
  std::vector<uint32_t> spellings(hits.paths().size());
  std::set<std::string_view> strong;
  for (PathSummary& ps : paths) ps.first_seen_ns = UINT64_MAX;
  for (size_t i = 0; i < tallies.size(); i++) {
    if (!counts[i]) continue;
    const RecipeHits::PathTally& pt = tallies[i];
    const Process& p = *pt.process;
    const RecipeHits::Tally& t = pt.tally;
    PathSummary& ps = paths[pt.path];
    ps.count += t.count;
    ps.failed += t.failed;
    ps.operations |= t.operations;
    ps.unverified += t.unverified;
    ps.count_is_lower_bound |= !p.counts_exact();
    widen_seen(ps.first_seen_ns, ps.last_seen_ns, t);
    for (int e : t.errors) insert_sorted(ps.errors, e);
    spellings[pt.path] |= t.spellings;
    scan.reached_by(p).second.push_back(pt.path);
    if (t.strong) strong.insert(hits.paths()[pt.path].path);
  }
  for (uint32_t i = 0; i < paths.size(); i++) {
    PathSummary& ps = paths[i];
    if (ps.count == 0) continue;
    const RecipeHits::KeptPath& kept = hits.paths()[i];
    ps.path = kept.path;
    ps.count_is_lower_bound |= kept.partly_folded;
    for (size_t k = 0; k < kept.spellings.size(); k++)
      if (spellings[i] & (1u << k)) ps.spellings.push_back(kept.spellings[k]);
    std::sort(ps.spellings.begin(), ps.spellings.end());
    rs.hits += ps.count;
    rs.first_seen_ns = std::min(rs.first_seen_ns, ps.first_seen_ns);
    rs.last_seen_ns = std::max(rs.last_seen_ns, ps.last_seen_ns);
    rs.paths.push_back(std::move(ps));
  }
  std::sort(rs.paths.begin(), rs.paths.end(),
            [](const PathSummary& a, const PathSummary& b) { return a.path < b.path; });
  explain(scan, strong, rs);
}

// FiredBecause: the strong paths, then the weak groups that reached the threshold on their own.
void Aggregate::explain(const RecipeScan& scan, const std::set<std::string_view>& strong, RecipeSummary& rs) const {
  FiredBecause& why = rs.because;
  why.strong_paths = strong.size();
  take_examples(strong, FiredBecause::kMaxListed, why.strong);
  auto weak_group = [&](const Process* p, const std::vector<uint32_t>& indexes) {
    why.weak_groups++;
    if (why.weak.size() >= FiredBecause::kMaxListed) return;
    std::set<std::string_view> names;
    for (uint32_t i : indexes) names.insert(scan.hits.paths()[i].path);
    FiredBecause::WeakGroup g;
    if (p) g.process = ref(*p);
    g.paths = names.size();
    take_examples(names, FiredBecause::kMaxListed, g.examples);
    why.weak.push_back(std::move(g));
  };
  const uint32_t n = scan.recipe.weak_sources;
  if (scan.recipe.weak_within == Within::build) {
    if (!scan.build.strong && scan.build_weak.size() >= n)
      weak_group(nullptr, std::vector<uint32_t>(scan.build_weak.begin(), scan.build_weak.end()));
  } else {
    std::vector<std::pair<const Process*, const std::vector<uint32_t>*>> past;  // by start, as processes are listed
    for (const auto& [p, ev] : scan.evidence)
      if (!ev.strong && ev.weak.size() >= n) past.emplace_back(p, &ev.weak);
    std::sort(past.begin(), past.end(), [](const auto& a, const auto& b) {
      return std::pair(a.first->start_ns, a.first->pid) < std::pair(b.first->start_ns, b.first->pid);
    });
    for (const auto& [p, weak] : past) weak_group(p, *weak);
  }
  std::vector<std::string> parts;
  if (why.strong_paths > 0)
    parts.push_back(fmt::format("{} strong source{}: {}", why.strong_paths, why.strong_paths == 1 ? "" : "s",
                                list_paths(why.strong, why.strong_paths)));
  for (const FiredBecause::WeakGroup& g : why.weak)
    parts.push_back(fmt::format("{} weak sources in {}: {}", g.paths,
                                g.process ? fmt::format("one process (pid {})", g.process->pid) : "the build",
                                list_paths(g.examples, g.paths)));
  if (why.weak_groups > why.weak.size())
    parts.push_back(fmt::format("{} more processes past the threshold", why.weak_groups - why.weak.size()));
  for (const std::string& part : parts) (why.text += why.text.empty() ? "" : "; ") += part;
}

void Aggregate::summarize_excluded(const RecipeScan& scan, Summary& out) const {
  for (const auto& [key, x] : scan.excluded) {
    if (out.excluded.size() >= kMaxExcludedListed) break;
    ExcludedSummary e{&scan.recipe, std::string(key.first), std::string(key.second), x.paths.size(), {},
                      x.count,      x.processes.size()};
    take_examples(x.paths, ExcludedSummary::kMaxExamples, e.examples);
    out.excluded.push_back(std::move(e));
  }
}

void Aggregate::summarize_folded(RecipeScan& scan, RecipeSummary& rs) const {
  for (const RecipeHits::Bucket& b : scan.hits.buckets()) {
    FoldedSummary fs;
    fs.entry = &scan.recipe.match[b.entry];
    fs.entry_index = b.entry;
    fs.first_seen_ns = UINT64_MAX;
    for (const auto& [process, t] : b.by_process) {
      if (!scan.included(*process, t, {}, fs.entry)) continue;
      fs.records += t.records;
      fs.count += t.count;
      fs.failed += t.failed;
      fs.operations |= t.operations;
      fs.unverified += t.unverified;
      fs.count_is_lower_bound |= !process->counts_exact();
      fs.processes++;
      widen_seen(fs.first_seen_ns, fs.last_seen_ns, t);
      for (int e : t.errors) insert_sorted(fs.errors, e);
      scan.reached_by(*process);
    }
    if (fs.count == 0) continue;
    fs.paths = b.paths();
    fs.paths_exact = b.paths_exact;
    fs.examples = b.examples;
    std::sort(fs.examples.begin(), fs.examples.end());
    rs.hits += fs.count;
    rs.first_seen_ns = std::min(rs.first_seen_ns, fs.first_seen_ns);
    rs.last_seen_ns = std::max(rs.last_seen_ns, fs.last_seen_ns);
    scan.stats.folded_paths += fs.paths;
    scan.stats.folded_records += fs.records;
    rs.because.folded_paths += fs.paths;
    rs.folded.push_back(std::move(fs));
  }
  std::sort(rs.folded.begin(), rs.folded.end(),
            [](const FoldedSummary& a, const FoldedSummary& b) { return a.entry_index < b.entry_index; });
  if (rs.because.folded_paths > 0)
    rs.because.text += fmt::format(
        "{}{} paths past the recipe's limit of {} listed ones (counted without the weak "
        "threshold)",
        rs.because.text.empty() ? "" : "; ", rs.because.folded_paths, RecipeHits::kMaxPaths);
}

void Aggregate::summarize_reaching_processes(const RecipeScan& scan, RecipeSummary& rs) const {
  for (const auto& [order, entry] : scan.by_process) {
    const auto& [p, path_indexes] = entry;
    std::vector<std::string> reached;
    for (uint32_t i : path_indexes) reached.push_back(scan.hits.paths()[i].path);
    std::sort(reached.begin(), reached.end());
    rs.processes.push_back(ProcessSummary{ref(*p), std::move(reached), ancestry_refs(*p)});
  }
}

void Aggregate::summarize_processes(Summary& out) const {
  out.processes.clear();
  out.coverage = Coverage{};
  out.processes_seen = 0;
  for (const Process* p : tree_.in_start_order()) {
    out.processes_seen += !p->from_exec_record;
    out.stats.processes += p->said_hello;
    out.stats.processes_without_bye += p->said_hello && !p->counts_exact();
    ProcessEntry e;
    e.process = ref(*p);
    e.ppid = p->ppid;
    e.started_ns = p->start_ns;
    e.ended_ns = p->ended_ns;
    if (p->exit_status >= 0) e.exit_status = p->exit_status;
    e.reason = p->reason;
    if (p->execed_from) e.execed_from = p->execed_from->exe;
    out.processes.push_back(std::move(e));
    if (p->monitored()) {
      out.coverage.monitored++;
      continue;
    }
    // The ancestry of the first ones only: a forged flood of exec records would otherwise copy the
    // forger's chain into every entry.
    const bool with_ancestry = out.coverage.unmonitored.size() < kMaxUnmonitoredAncestries;
    UnmonitoredProcess u{ref(*p), p->reason, p->detail, std::nullopt,
                         with_ancestry ? ancestry_refs(*p) : std::vector<ProcessRef>{}};
    if (const Process* parent = tree_.parent_of(*p)) u.parent = ref(*parent);
    out.coverage.unmonitored.push_back(std::move(u));
  }
}

void Aggregate::summarize(Summary& out) {
  tree_.resolve();
  out.stats = stats_;
  out.stats.lost += tree_.lost_records();
  out.stats.processes_folded = tree_.folded();
  out.stats.processes = 0;
  out.stats.processes_without_bye = 0;
  summarize_processes(out);
  out.recipes.clear();
  out.excluded.clear();
  out.below_threshold.clear();
  for (uint32_t i = 0; i < hits_.size(); i++) {
    if (hits_[i].empty()) continue;
    RecipeSummary rs = summarize_recipe(i, out);
    if (rs.hits > 0) out.recipes.push_back(std::move(rs));
  }
  auto by_recipe = [](const Recipe* a, const Recipe* b) {
    if (a->importance != b->importance) return a->importance > b->importance;
    return a->name < b->name;
  };
  std::sort(out.recipes.begin(), out.recipes.end(),
            [&](const RecipeSummary& a, const RecipeSummary& b) { return by_recipe(a.recipe, b.recipe); });
  std::stable_sort(out.excluded.begin(), out.excluded.end(),
                   [&](const ExcludedSummary& a, const ExcludedSummary& b) { return by_recipe(a.recipe, b.recipe); });
  std::stable_sort(out.below_threshold.begin(), out.below_threshold.end(),
                   [&](const BelowThreshold& a, const BelowThreshold& b) { return by_recipe(a.recipe, b.recipe); });
}

}  // namespace fpshim
