// The process tree: images from their records, exec records paired with hellos, and its limit.
#include "model/process_tree.h"

#include <algorithm>

#include <fmt/format.h>

namespace fpshim {

namespace {

// Set in the nonce of a process known only from an exec record (real nonces are times in ns, far below).
constexpr uint64_t kUnreported = uint64_t(1) << 63;
// A started program says hello within this time of the exec record, or it is not the one.
constexpr uint64_t kPairingWindow = 30'000'000'000;

// A script's interpreter runs with argv [interpreter, (option), script, args...].
bool runs_script(const ExecEvent& e, const Process& c) {
  size_t args = e.argv.empty() ? 0 : e.argv.size() - 1;
  if (c.argv.size() < args + 2) return false;
  const std::string& script = c.argv[c.argv.size() - args - 1];
  return (script == e.named || script == e.target) &&
         std::equal(e.argv.begin() + ptrdiff_t(e.argv.size() - args), e.argv.end(), c.argv.end() - ptrdiff_t(args));
}

bool started_by(const ExecEvent& e, const Process& c) {
  if (!e.inspection.image.empty() && c.exe == e.inspection.image) return true;
  return c.argv == e.argv || runs_script(e, c);
}

}  // namespace

Process ProcessTree::stand_in() {
  Process p;
  p.exe = fmt::format("(processes beyond the limit of {} in the process tree)", kMaxProcesses);
  p.said_hello = true;  // its records are counted as they come
  p.said_bye = true;
  return p;
}

Process* ProcessTree::process_for(const wire::Header& h) {
  ProcessKey key{h.pid, h.proc_nonce & ~kUnreported};
  if (auto known = processes_.find(key); known != processes_.end()) return &known->second;
  if (processes_.size() >= kMaxProcesses) return nullptr;
  auto [it, fresh] = processes_.try_emplace(key);
  Process& p = it->second;
  if (fresh) {
    p.pid = h.pid;
    p.ppid = h.ppid;
    p.nonce = key.nonce;
    p.build_id = h.build_id;
    p.start_ns = key.nonce;
    images_[h.pid].push_back(key);
  }
  return &p;
}

const Process* ProcessTree::find(ProcessKey key) const {
  auto it = processes_.find(key);
  return it == processes_.end() ? nullptr : &it->second;
}

void ProcessTree::set_root(int32_t pid, int32_t ppid, ExecEvent launch) {
  root_pid_ = pid;
  root_ppid_ = ppid;
  launch.child_pid = pid;
  root_launch_ = std::move(launch);
}

void ProcessTree::set_root_exit(int status, uint64_t end_ns) { root_exit_ = {status, end_ns}; }

void ProcessTree::forget_resolution() {
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = it->second;
    if (p.from_exec_record) {
      std::vector<ProcessKey>& keys = images_[it->first.pid];
      keys.erase(std::remove(keys.begin(), keys.end(), it->first), keys.end());
      it = processes_.erase(it);
      continue;
    }
    p.replaced = false;
    p.execed_from = nullptr;
    p.reason = Unmonitored::none;
    p.detail.clear();
    p.ended_ns = p.said_bye ? p.bye_ns : 0;
    p.exit_status = p.said_bye ? p.bye_status : -1;
    ++it;
  }
  replacement_.clear();
  folded_launches_ = 0;
}

// A vfork child runs on its parent's memory, so the shim reports from it with the parent's nonce
// and seq counter (usually just the exec record) and it never says hello.
void ProcessTree::mark_vfork_children() {
  vfork_owner_.clear();
  std::unordered_map<uint64_t, const Process*> by_nonce;
  for (const auto& [key, p] : processes_)
    if (p.said_hello) by_nonce.emplace(p.nonce, &p);
  for (auto& [key, p] : processes_) {
    if (p.said_hello || p.from_exec_record) continue;
    auto owner = by_nonce.find(p.nonce);
    p.vfork_child = owner != by_nonce.end() && owner->second->pid != p.pid;
    if (!p.vfork_child) continue;
    vfork_owner_[&p] = owner->second;
    p.exe = owner->second->exe;
    p.cwd = owner->second->cwd;
    p.argv = owner->second->argv;
  }
}

std::vector<ProcessTree::Launch> ProcessTree::launches() {
  std::vector<Launch> out;
  for (auto& [key, p] : processes_) {
    for (size_t i = 0; i < p.execs.size(); i++) {
      const ExecEvent& e = p.execs[i];
      if (e.result != 0) continue;  // the report of a failed exec
      if (e.child_pid > 0) {        // spawned
        out.push_back(Launch{&p, &e, e.child_pid, p.pid, false});
        continue;
      }
      // The next exec-in-place record tells whether this one failed (another thread's spawn
      // records may come in between).
      auto next = std::find_if(p.execs.begin() + ptrdiff_t(i) + 1, p.execs.end(),
                               [](const ExecEvent& x) { return x.child_pid <= 0; });
      if (next != p.execs.end() && next->result != 0) continue;
      p.replaced = true;
      if (!p.said_bye) p.ended_ns = e.time_ns;
      out.push_back(Launch{&p, &e, p.pid, p.ppid, true});
    }
  }
  if (root_launch_) out.push_back(Launch{nullptr, &*root_launch_, root_pid_, root_ppid_, false});
  std::sort(out.begin(), out.end(), [](const Launch& a, const Launch& b) {
    return std::pair(a.event->time_ns, a.pid) < std::pair(b.event->time_ns, b.pid);
  });
  return out;
}

// The image that said hello for a launch: same pid, running the target, closest in time. An
// exec'd image starts after the exec record; a spawned child may start before the parent's record.
Process* ProcessTree::reported_image(const Launch& l, const std::unordered_set<const Process*>& claimed) {
  auto it = images_.find(l.pid);
  if (it == images_.end()) return nullptr;
  const uint64_t t = l.event->time_ns;
  Process* best = nullptr;
  uint64_t best_distance = UINT64_MAX;
  for (ProcessKey key : it->second) {
    Process& c = processes_.at(key);
    if (!c.said_hello || &c == l.parent || claimed.contains(&c)) continue;
    if (l.parent && c.start_ns <= l.parent->start_ns) continue;
    if (l.in_place && c.start_ns < t) continue;
    uint64_t distance = c.start_ns > t ? c.start_ns - t : t - c.start_ns;
    if (distance > kPairingWindow || distance >= best_distance || !started_by(*l.event, c)) continue;
    best = &c;
    best_distance = distance;
  }
  return best;
}

Process* ProcessTree::add_unreported(const Launch& l) {
  if (processes_.size() >= kMaxProcesses) {
    folded_launches_++;
    return nullptr;
  }
  const ExecEvent& e = *l.event;
  ProcessKey key{l.pid, e.time_ns | kUnreported};
  while (processes_.contains(key)) key.nonce++;
  Process& v = processes_[key];
  images_[l.pid].push_back(key);
  v.pid = l.pid;
  v.ppid = l.ppid;
  v.nonce = key.nonce;
  v.start_ns = e.time_ns;
  v.exe = e.target;
  v.argv = e.argv;
  if (l.parent) v.cwd = l.parent->cwd;
  v.from_exec_record = true;
  v.execed_from = l.in_place ? l.parent : nullptr;
  v.reason = (e.flags & wire::flag_preload_dropped) ? Unmonitored::elf_class : e.inspection.reason;
  if (v.reason == Unmonitored::none) v.reason = e.inspection.gone ? Unmonitored::not_inspected : Unmonitored::no_hello;
  v.detail = v.reason == e.inspection.reason ? e.inspection.detail : unmonitored_detail(v.reason);
  return &v;
}

void ProcessTree::apply_root_exit(Process* last) {
  if (!last || !root_exit_) return;
  for (auto next = replacement_.find(last); next != replacement_.end(); next = replacement_.find(last))
    last = next->second;
  last->exit_status = root_exit_->first;
  if (last->ended_ns == 0) last->ended_ns = root_exit_->second;
}

void ProcessTree::resolve() {
  forget_resolution();
  mark_vfork_children();
  std::unordered_set<const Process*> claimed;
  Process* root_image = nullptr;
  for (const Launch& l : launches()) {
    Process* started = reported_image(l, claimed);
    if (started) {
      claimed.insert(started);
      if (l.in_place) started->execed_from = l.parent;
      if (l.event->inspection.reason == Unmonitored::go) started->go = true;
    } else {
      started = add_unreported(l);
      if (!started) continue;
    }
    if (l.in_place) replacement_[l.parent] = started;
    if (!l.parent) root_image = started;
  }
  for (auto& [key, p] : processes_) {
    if (p.from_exec_record) continue;
    if (p.go) {
      p.reason = Unmonitored::go;
      p.detail = "a Go program: the Go runtime makes its own system calls, which LD_PRELOAD cannot see";
    } else if (p.uninspected) {
      p.reason = Unmonitored::not_inspected;
      p.detail = unmonitored_detail(p.reason);
    }
  }
  apply_root_exit(root_image);
}

const Process* ProcessTree::parent_of(const Process& p) const {
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

std::vector<const Process*> ProcessTree::ancestry(const Process& p) const {
  std::vector<const Process*> chain;
  std::unordered_set<const Process*> seen{&p};
  const Process* cur = &p;
  while (cur->pid != root_pid_) {
    const Process* parent = parent_of(*cur);
    if (!parent || !seen.insert(parent).second) break;
    chain.push_back(parent);
    cur = parent;
  }
  return chain;
}

bool ProcessTree::descends_from(int32_t pid, const Process& ancestor) const {
  const auto images = images_.find(pid);
  if (images == images_.end()) return false;
  for (const ProcessKey& key : images->second) {
    const auto found = processes_.find(key);
    if (found == processes_.end()) continue;
    for (const Process* a : ancestry(found->second))
      if (a->pid == ancestor.pid) return true;
  }
  return false;
}

uint64_t ProcessTree::lost_records() const {
  struct Extra {
    uint64_t count = 0;
    uint64_t highest = 0;
    uint64_t reported = 0;
  };
  std::unordered_map<const Process*, Extra> borrowed;  // the seqs vfork children took from their parent
  for (const auto& [child, owner] : vfork_owner_) {
    Extra& x = borrowed[owner];
    x.count += child->seqs.count();
    x.highest = std::max({x.highest, child->seqs.highest(), child->torn_seq.value_or(0)});
    x.reported += child->reported_lost;
  }
  uint64_t lost = 0;
  for (const auto& [key, p] : processes_) {
    if (p.from_exec_record || vfork_owner_.contains(&p)) continue;
    uint64_t count = p.seqs.count(), highest = p.seqs.highest(), reported = p.reported_lost;
    bool any = count > 0 || p.torn_seq;
    if (p.torn_seq) highest = std::max(highest, *p.torn_seq);
    if (auto x = borrowed.find(&p); x != borrowed.end()) {
      count += x->second.count;
      highest = std::max(highest, x->second.highest);
      reported += x->second.reported;
      any = true;
    }
    uint64_t gaps = any && highest + 1 > count ? highest + 1 - count : 0;
    lost += std::max(gaps, reported);
  }
  return lost;
}

std::vector<const Process*> ProcessTree::in_start_order() const {
  std::vector<const Process*> out;
  out.reserve(processes_.size());
  for (const auto& [key, p] : processes_) out.push_back(&p);
  std::sort(out.begin(), out.end(), [](const Process* a, const Process* b) {
    return std::tie(a->start_ns, a->pid, a->nonce) < std::tie(b->start_ns, b->pid, b->nonce);
  });
  return out;
}

}  // namespace fpshim
