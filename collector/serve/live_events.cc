// Live events of `fpshim serve` (serve/live_events.h).
#include "serve/live_events.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/say.h"
#include "model/findings.h"
#include "model/hashing.h"
#include "report/syslog.h"
#include "rules/suppressions.h"
#include "serve/builds_live.h"

namespace fpshim {

namespace {

std::string_view view(const wire::Bytes& b) { return {b.data, b.size}; }

constexpr size_t kMaxStrings = 4096;
constexpr size_t kMaxAncestry = 256;

}  // namespace

LiveEvents::LiveEvents(const ReportOutputs& outputs, size_t cap) : outputs_(outputs), cap_(cap) {
  syslog_ = outputs_.syslog.has_value();
  host_ = this_host();
  const Credentials who = own_credentials();
  inspect_ = [who](const std::string& path) { return inspect_executable(path, who); };
}

LiveEvents::~LiveEvents() {
  if (own_fd_ && fd_ >= 0) close(fd_);
}

bool LiveEvents::open(std::string& error) {
  if (!outputs_.events) return true;
  if (*outputs_.events == "-") {
    fd_ = STDOUT_FILENO;
    return true;
  }
  fd_ = ::open(outputs_.events->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error = fmt::format("cannot open the events file {}: {}", *outputs_.events, strerror(errno));
    return false;
  }
  own_fd_ = true;
  return true;
}

void LiveEvents::set_rules(std::shared_ptr<const Rules> rules) {
  rules_ = std::move(rules);
  matches_ = std::make_unique<MatchCache>(*rules_);
}

void LiveEvents::write(const Json& event) {
  if (fd_ >= 0) {
    // One write per line, appended: a log shipper tailing the file never sees half a line.
    const std::string line = event_line(event) + "\n";
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        say("fpshim serve: cannot write an event to {}: {}\n", *outputs_.events, strerror(errno));
        break;
      }
      done += size_t(n);
    }
  }
  if (syslog_) {
    SyslogSent sent = send_syslog({event}, *outputs_.syslog);
    if (sent.dropped && syslog_dropped_++ == 0) say("fpshim serve: syslog: {}\n", sent.error);
  }
}

void LiveEvents::on_filed(uint32_t uid, const LiveBuild& b, const wire::Header& h, std::string_view bytes,
                          bool replaying) {
  if (!active() || !rules_) return;
  const wire::Kind kind = wire::Kind(h.kind);
  if (kind != wire::Kind::hello && kind != wire::Kind::access) return;
  wire::Header header;
  static thread_local std::vector<wire::Bytes> strings(kMaxStrings);
  const int n = wire::decode(bytes.data(), bytes.size(), &header, strings.data(), kMaxStrings);
  if (n < 0) return;
  const std::span<const wire::Bytes> got(strings.data(), size_t(n));
  BuildState& s = builds_[{uid, b.id}];
  if (kind == wire::Kind::hello) {
    if (n < 2) return;
    on_hello(s, h, got);
    // The records that waited for this hello.
    const ProcessKey pk{h.pid, h.proc_nonce};
    std::vector<Waiting> ready;
    std::erase_if(s.waiting, [&](Waiting& w) {
      if (ProcessKey{w.h.pid, w.h.proc_nonce} != pk) return false;
      ready.push_back(std::move(w));
      return true;
    });
    for (const Waiting& w : ready) on_access(b.id, s, w.h, w.path, w.spelled, replaying);
    return;
  }
  if (n < 2) return;
  const std::string path(view(got[0])), spelled(view(got[1]));
  if (!s.procs.contains(ProcessKey{h.pid, h.proc_nonce}) && !replaying) {
    // Does it fire anything at all? Only then is it worth waiting for its hello.
    fired_.clear();
    fired_entries(*rules_, matches_->entries(path, hash_bytes(path)), h.op, path, h.pid, fired_);
    if (fired_.empty()) return;
    if (s.waiting.size() < kMaxWaiting) {
      s.waiting.push_back({h, path, spelled, now_ns(CLOCK_MONOTONIC)});
      return;
    }
  }
  on_access(b.id, s, h, path, spelled, replaying);
}

void LiveEvents::on_hello(BuildState& s, const wire::Header& h, std::span<const wire::Bytes> strings) {
  const ProcessKey pk{h.pid, h.proc_nonce};
  auto [it, fresh] = s.procs.try_emplace(pk);
  if (!fresh) return;  // as the model: the first hello of an image counts
  Proc& p = it->second;
  p.ppid = h.ppid;
  p.ref.pid = h.pid;
  p.ref.known = true;
  p.ref.cwd = view(strings[1]);
  for (const wire::Bytes& arg : strings.subspan(2)) p.ref.argv.emplace_back(view(arg));
  p.ref.exe = exe_of_hello(h, view(strings[0]), p.ref.cwd, inspect_).exe;
  s.newest[h.pid] = pk;
}

std::vector<ProcessRef> LiveEvents::ancestry(const BuildState& s, const Proc& p) const {
  std::vector<ProcessRef> out;
  int32_t ppid = p.ppid;
  std::unordered_set<int32_t> seen{p.ref.pid};
  while (out.size() < kMaxAncestry && seen.insert(ppid).second) {
    auto n = s.newest.find(ppid);
    if (n == s.newest.end()) break;
    const Proc& parent = s.procs.at(n->second);
    out.push_back(parent.ref);
    ppid = parent.ppid;
  }
  return out;
}

void LiveEvents::on_access(const std::string& build_id, BuildState& s, const wire::Header& h, const std::string& path,
                           const std::string& spelled, bool replaying) {
  fired_.clear();
  fired_entries(*rules_, matches_->entries(path, hash_bytes(path)), h.op, path, h.pid, fired_);
  if (fired_.empty()) return;
  const std::vector<EntryRef> fired = fired_;
  Proc unknown;  // its hello never came: the pid alone
  unknown.ref.pid = h.pid;
  const auto known = s.procs.find(ProcessKey{h.pid, h.proc_nonce});
  const Proc& p = known != s.procs.end() ? known->second : unknown;
  std::vector<ProcessRef> chain;
  bool chained = false;
  for (EntryRef ref : fired) {
    const Recipe& recipe = rules_->recipes[ref.recipe];
    // A weak access is evidence only with others of its process or build, which is known when the
    // build's report is made: the report says whether it counted; no alert is raised for it alone.
    if (recipe.match[ref.entry].strength == Strength::weak) continue;
    std::optional<std::string_view> arg1;
    if (p.ref.argv.size() > 1) arg1 = p.ref.argv[1];
    if (excluded(recipe, p.ref.exe, arg1, path) || excluded(recipe.match[ref.entry].exclude, p.ref.exe, arg1, path))
      continue;
    // An exec judged by its arguments: the exec record that carries them comes later, through the
    // process log; the build's report settles it.
    if (recipe.match[ref.entry].args) continue;
    if (recipe.match[ref.entry].proc_pid == ProcPid::not_self_or_descendant)
      if (const std::optional<int32_t> target = proc_pid_of(path); target && descends_from(s, *target, h.pid)) continue;
    std::string key = fmt::format("{}:{}:{}", h.pid, h.proc_nonce, recipe.name);
    key.push_back('\0');
    key += path;
    if (s.keys.contains(key)) continue;
    if (s.keys.size() >= cap_) {
      s.counts.past_cap++;
      continue;
    }
    s.keys.insert(std::move(key));
    if (replaying) continue;
    if (!chained) chain = known != s.procs.end() ? ancestry(s, p) : std::vector<ProcessRef>{}, chained = true;
    LiveAccess a;
    a.recipe = &recipe;
    a.process = p.ref;
    a.ancestry = chain;
    a.path = path;
    a.spelled = spelled;
    a.op = h.op;
    a.result = h.result;
    a.count = h.count;
    a.time_ns = h.time_ns;
    a.build_id = build_id;
    a.source_root = outputs_.source_root.value_or("");
    a.suppressions = outputs_.suppressions.get();
    write(live_access_event(a, host_));
    s.counts.written++;
  }
}

bool LiveEvents::descends_from(const BuildState& s, int32_t pid, int32_t ancestor) const {
  for (size_t hops = 0; hops <= s.procs.size(); hops++) {  // bounded: ppids may loop after pid reuse
    const auto newest = s.newest.find(pid);
    if (newest == s.newest.end()) return false;
    const auto proc = s.procs.find(newest->second);
    if (proc == s.procs.end()) return false;
    pid = proc->second.ppid;
    if (pid == ancestor) return true;
  }
  return false;
}

bool LiveEvents::poll(uint64_t now_mono, uint64_t wait_ns) {
  bool still = false;
  for (auto& [ref, s] : builds_) {
    if (s.waiting.empty()) continue;
    std::vector<Waiting> due;
    std::erase_if(s.waiting, [&](Waiting& w) {
      if (now_mono - w.since_mono < wait_ns) return false;
      due.push_back(std::move(w));
      return true;
    });
    for (const Waiting& w : due) on_access(ref.second, s, w.h, w.path, w.spelled, false);
    still |= !s.waiting.empty();
  }
  return still;
}

void LiveEvents::on_report(uint32_t uid, const LiveBuild& b, const Summary& summary) {
  if (!active()) return;
  auto it = builds_.find({uid, b.id});
  if (it != builds_.end()) {
    BuildState& s = it->second;
    std::vector<Waiting> due = std::move(s.waiting);
    s.waiting.clear();
    for (const Waiting& w : due) on_access(b.id, s, w.h, w.path, w.spelled, false);
  }
  const Counts c = counts(uid, b.id);
  Findings findings = find(summary, {outputs_.source_root.value_or(""), outputs_.suppressions.get(), ""});
  Json event = summary_event(findings, c.written, host_);
  event["fpshim"]["build"]["id"] = b.id;
  event["fpshim"]["live"] = {{"events", c.written}, {"past_cap", c.past_cap}, {"cap", cap_}};
  if (c.past_cap)
    event["message"] = event["message"].get<std::string>() +
                       fmt::format("; {} accesses past the cap of {} live events were counted, not written", c.past_cap,
                                   cap_);
  write(event);
}

void LiveEvents::forget(uint32_t uid, const std::string& build_id) { builds_.erase({uid, build_id}); }

LiveEvents::Counts LiveEvents::counts(uint32_t uid, const std::string& build_id) const {
  auto it = builds_.find({uid, build_id});
  return it != builds_.end() ? it->second.counts : Counts{};
}

}  // namespace fpshim
