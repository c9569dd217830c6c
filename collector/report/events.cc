// ECS events from the findings: field choices are documented in docs/outputs/events.md.
#include "report/events.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "base/as_text.h"
#include "base/users.h"
#include "base/version.h"

namespace fpshim {

namespace {

using json = Json;

constexpr size_t kNoCut = size_t(-1);
constexpr size_t kMaxUnmonitoredListed = 20;  // the summary lists this many unmonitored processes

std::string basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string dirname_of(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return "";
  return std::string(slash == 0 ? "/" : path.substr(0, slash));
}

// ECS log.level and event.severity (0-100, as Elastic's detection rules number them) of an importance.
std::string_view level_of(Importance i) {
  switch (i) {
    case Importance::low: return "info";
    case Importance::medium: return "warning";
    case Importance::high: return "error";
    case Importance::critical: return "critical";
  }
  return "warning";
}

int severity_of(Importance i) {
  switch (i) {
    case Importance::low: return 21;
    case Importance::medium: return 47;
    case Importance::high: return 73;
    case Importance::critical: return 99;
  }
  return 47;
}

// https://attack.mitre.org/techniques/T1552/001/ for T1552.001.
std::string mitre_url(std::string_view kind, std::string id) {
  std::replace(id.begin(), id.end(), '.', '/');
  return fmt::format("https://attack.mitre.org/{}/{}/", kind, id);
}

// process.* fields (also process.parent.*): what is known of it.
json process_fields(const ProcessRef& p) {
  json out = {{"pid", p.pid}};
  if (!p.known) return out;  // it never said hello: only its pid is known
  put_bytes(out, "executable", p.exe);
  put_bytes(out, "name", basename_of(p.exe));
  put_bytes_array(out, "args", p.argv);
  out["args_count"] = p.argv.size();
  out["command_line"] = shell_command(p.argv, kNoCut);
  return out;
}

json errors_json(const std::vector<int>& errors) {
  json out = json::array();
  for (int e : errors) out.push_back(errno_name(e));
  return out;
}

std::string joined(const std::vector<std::string_view>& names, std::string_view sep) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += sep;
    out += n;
  }
  return out;
}

// "success" if every access succeeded, "failure" if none did, "success" when some did (the file
// was reached); `fpshim.access.failed` tells the rest.
std::string_view outcome_of(uint64_t count, uint64_t failed) {
  if (failed == 0) return "success";
  return failed >= count ? "failure" : "success";
}

// The fields every event of a build has.
json common(std::string_view timestamp, std::string_view dataset, const EventHost& host) {
  json out = {{"@timestamp", timestamp}, {"ecs", {{"version", kEcsVersion}}}, {"log", nullptr}, {"message", ""}};
  out["event"] = {{"module", "fpshim"}, {"dataset", dataset}};
  json h = {{"name", host.name}};
  if (!host.id.empty()) h["id"] = host.id;
  h["os"] = {{"type", "linux"}, {"kernel", host.kernel}};
  if (!host.arch.empty()) h["architecture"] = host.arch;
  out["host"] = std::move(h);
  out["user"] = {{"id", host.user_id}};
  if (!host.user_name.empty()) out["user"]["name"] = host.user_name;
  return out;
}

// rule.*, threat.* and fpshim.finding of a finding's recipe.
void put_rule(json& out, const Finding& f) {
  const Recipe& r = *f.recipe;
  out["rule"] = {{"id", r.name},
                 {"name", r.title},
                 {"ruleset", "fpshim"},
                 {"description", r.description},
                 {"reference", mitre_url("techniques", r.technique.id)}};
  out["threat"] = {
      {"framework", "MITRE ATT&CK"},
      {"tactic", {{"id", r.tactic.id}, {"name", r.tactic.name}, {"reference", mitre_url("tactics", r.tactic.id)}}},
      {"technique",
       {{"id", r.technique.id}, {"name", r.technique.name}, {"reference", mitre_url("techniques", r.technique.id)}}}};
  if (r.techniques.size() > 1) {  // ECS fields hold arrays: every technique, the main one first
    json ids = json::array(), names = json::array(), references = json::array();
    for (const MitreRef& t : r.techniques)
      ids.push_back(t.id), names.push_back(t.name), references.push_back(mitre_url("techniques", t.id));
    out["threat"]["technique"] = {{"id", ids}, {"name", names}, {"reference", references}};
  }
}

json finding_fields(const Finding& f) {
  json out = {{"fingerprint", f.fingerprint}, {"importance", std::string(importance_name(f.importance()))}};
  if (f.because && !f.because->text.empty()) out["fired_because"] = escape_invalid_utf8(f.because->text);
  if (f.entry) put_bytes(out, "entry", f.entry->text);
  out["location"] = {{"uri", f.location.uri}, {"line", f.location.line}};
  return out;
}

void put_suppression(json& fp, const Finding& f) {
  fp["suppressed"] = bool(f.suppressed);
  if (f.suppressed) fp["suppression"] = {{"reason", f.suppressed->reason}};
}

std::string read_machine_id() {
  std::ifstream in("/etc/machine-id");
  std::string id;
  std::getline(in, id);
  return id;
}

// The `event` fields of an alert, after those common() set (an access, or accesses folded past a recipe's limits).
json alert_fields(const Finding& f, const std::string& ops, std::string_view outcome, uint64_t id, uint64_t first_ns,
                  uint64_t last_ns) {
  json event = json::object();
  event["kind"] = "alert";
  event["category"] = {"file"};
  event["type"] = {"access"};
  event["action"] = ops.empty() ? "access" : ops;
  event["outcome"] = outcome;
  event["severity"] = severity_of(f.importance());
  event["risk_score"] = severity_of(f.importance());
  event["id"] = fmt::format("{:016x}", id);
  event["start"] = iso_time(first_ns);
  event["end"] = iso_time(last_ns);
  return event;
}

}  // namespace

EventHost this_host() {
  EventHost host;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) == 0) host.name = name;
  host.id = read_machine_id();
  utsname u;
  if (uname(&u) == 0) {
    host.kernel = u.release;
    host.arch = u.machine;
  }
  uid_t uid = getuid();
  host.user_id = std::to_string(uid);
  if (const std::optional<User> user = user_by_uid(uid)) host.user_name = user->name;
  return host;
}

Json access_event(const AccessEvent& a, const EventHost& host) {
  const Finding& f = *a.finding;
  const PathSummary& p = *a.path;
  const ProcessRef& proc = *a.process;
  const std::string ops = joined(operation_names(p.operations), ",");
  json out = common(iso_time(p.first_seen_ns), "fpshim.access", host);

  std::string chain = describe(proc, 80);
  for (const ProcessRef& anc : *a.ancestry) chain += " <- " + describe(anc, 80);
  out["message"] = fmt::format("{}: {} {} {} ({})", f.recipe->title,
                               proc.known ? basename_of(proc.exe) : describe(proc), ops.empty() ? "accessed" : ops,
                               escape_invalid_utf8(p.path), escape_invalid_utf8(chain));
  out["log"] = {{"level", level_of(f.importance())}};

  out["event"].update(alert_fields(f, ops, outcome_of(p.count, p.failed),
                                   stable_hash({a.build_id, f.fingerprint, std::to_string(proc.pid), p.path}),
                                   p.first_seen_ns, p.last_seen_ns));

  json process = process_fields(proc);
  if (!a.ancestry->empty()) process["parent"] = process_fields(a.ancestry->front());
  out["process"] = std::move(process);

  json file = json::object();
  put_bytes(file, "path", p.path);
  put_bytes(file, "name", basename_of(p.path));
  put_bytes(file, "directory", dirname_of(p.path));
  out["file"] = std::move(file);

  put_rule(out, f);

  json ancestry = json::array();
  for (const ProcessRef& anc : *a.ancestry) ancestry.push_back(process_fields(anc));
  json access = {{"count", p.count},
                 {"count_is_lower_bound", p.count_is_lower_bound},
                 {"failed", p.failed},
                 {"errors", errors_json(p.errors)}};
  json ops_list = json::array();
  for (std::string_view op : operation_names(p.operations)) ops_list.push_back(std::string(op));
  access["operations"] = std::move(ops_list);
  put_bytes_array(access, "spellings", p.spellings);
  json fp = {{"build", {{"id", a.build_id}}},
             {"finding", finding_fields(f)},
             {"access", std::move(access)},
             {"ancestry", std::move(ancestry)}};
  put_suppression(fp, f);
  out["fpshim"] = std::move(fp);
  return out;
}

Json live_access_event(const LiveAccess& a, const EventHost& host) {
  const Recipe& recipe = *a.recipe;
  PathSummary path;
  path.path = a.path;
  path.count = std::max<uint64_t>(a.count, 1);
  path.count_is_lower_bound = true;  // the first record of the path; more may follow
  path.failed = a.result != 0 ? path.count : 0;
  if (a.result != 0) path.errors.push_back(a.result);
  path.operations = a.op;
  if (!a.spelled.empty()) path.spellings.push_back(a.spelled);
  path.first_seen_ns = path.last_seen_ns = a.time_ns;
  ProcessSummary process{a.process, {a.path}, a.ancestry};

  Finding f;
  f.recipe = &recipe;
  f.exe = a.process.exe;
  f.entry = entry_of(recipe, a.path);
  f.paths = {&path};
  f.processes = {&process};
  f.count = path.count;
  f.count_is_lower_bound = true;
  f.first_seen_ns = f.last_seen_ns = a.time_ns;
  f.fingerprint = fmt::format("{:016x}", stable_hash({recipe.name, f.exe, f.entry ? f.entry->text : ""}));
  // Live alerts are raised for strong accesses only (serve/live_events): each is why on its own.
  FiredBecause because;
  because.strong_paths = 1;
  because.strong = {a.path};
  because.text = "1 strong source: " + a.path;
  f.because = &because;
  // The build as far as the chain tells: its topmost known process stands for the build's command.
  BuildInfo build;
  const ProcessRef* top = a.process.known ? &a.process : nullptr;
  for (const ProcessRef& anc : a.ancestry)
    if (anc.known) top = &anc;
  if (top) build.command = top->argv, build.cwd = top->cwd;
  std::string root = a.source_root.empty() ? build.cwd : a.source_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  f.location = locate(f, root, build);
  if (a.suppressions) f.suppressed = suppression_of(f, *a.suppressions, a.today.empty() ? local_date() : a.today);
  return access_event(AccessEvent{&f, &a.process, &a.ancestry, &path, a.build_id}, host);
}

Json folded_event(const Finding& f, const std::string& build_id, const EventHost& host) {
  const FoldedSummary& fs = *f.folded;
  const std::string ops = joined(operation_names(fs.operations), ",");
  json out = common(iso_time(fs.first_seen_ns), "fpshim.folded", host);
  out["message"] = fmt::format("{}: {}{} more paths {} by {} processes, not listed one by one (limit reached)",
                               f.recipe->title, fs.paths_exact ? "" : "about ", fs.paths,
                               ops.empty() ? "accessed" : ops, fs.processes);
  out["log"] = {{"level", level_of(f.importance())}};
  out["event"].update(alert_fields(f, ops, outcome_of(fs.count, fs.failed),
                                   stable_hash({build_id, f.fingerprint, "folded"}), fs.first_seen_ns,
                                   fs.last_seen_ns));
  put_rule(out, f);
  json folded = {{"paths", fs.paths}, {"paths_exact", fs.paths_exact}};
  put_bytes_array(folded, "examples", fs.examples);
  folded["records"] = fs.records;
  folded["count"] = fs.count;
  folded["count_is_lower_bound"] = fs.count_is_lower_bound;
  folded["failed"] = fs.failed;
  folded["errors"] = errors_json(fs.errors);
  folded["processes"] = fs.processes;
  json fp = {{"build", {{"id", build_id}}}, {"finding", finding_fields(f)}, {"folded", std::move(folded)}};
  put_suppression(fp, f);
  out["fpshim"] = std::move(fp);
  return out;
}

Json summary_event(const Findings& findings, size_t access_events, const EventHost& host) {
  const Summary& s = *findings.summary;
  const BuildInfo& b = s.build;
  const std::string build_id = fmt::format("{:016x}", b.id);
  json out = common(iso_time(b.finished_ns), "fpshim.build", host);

  const size_t suppressed = findings.items.size() - findings.unsuppressed();
  std::string status = b.signal ? "died of " + signal_name(*b.signal) : fmt::format("exited {}", b.exit_code);
  out["message"] = fmt::format(
      "build `{}` {}: {} findings ({} suppressed) from {} recipes; {} processes monitored, {} not",
      shell_command(b.command, 80), status, findings.items.size(), suppressed, s.recipes.size(), s.coverage.monitored,
      s.coverage.unmonitored.size());
  auto worst = findings.worst();
  out["log"] = {{"level", worst ? level_of(*worst) : "info"}};
  json& event = out["event"];
  event["kind"] = "event";
  event["category"] = {"process"};
  event["type"] = {"end"};
  event["action"] = "build-finished";
  event["outcome"] = b.exit_code == 0 && !b.signal ? "success" : "failure";
  event["id"] = fmt::format("{:016x}", stable_hash({build_id, "summary"}));
  event["start"] = iso_time(b.started_ns);
  event["end"] = iso_time(b.finished_ns);
  if (b.finished_ns > b.started_ns) event["duration"] = b.finished_ns - b.started_ns;

  json process = json::object();
  put_bytes_array(process, "args", b.command);
  process["args_count"] = b.command.size();
  process["command_line"] = shell_command(b.command, kNoCut);
  put_bytes(process, "working_directory", b.cwd);
  process["exit_code"] = b.exit_code;
  out["process"] = std::move(process);

  // Counts of findings: all, suppressed, by importance, by recipe.
  json by_importance = json::object();
  for (Importance i : {Importance::critical, Importance::high, Importance::medium, Importance::low}) {
    size_t n = size_t(std::count_if(findings.items.begin(), findings.items.end(),
                                    [&](const Finding& f) { return f.importance() == i && !f.suppressed; }));
    by_importance[std::string(importance_name(i))] = n;
  }
  json recipes = json::array();
  for (const RecipeSummary& r : s.recipes) {
    size_t n = size_t(std::count_if(findings.items.begin(), findings.items.end(),
                                    [&](const Finding& f) { return f.recipe == r.recipe; }));
    recipes.push_back({{"id", r.recipe->name},
                       {"importance", std::string(importance_name(r.recipe->importance))},
                       {"hits", r.hits},
                       {"paths", r.paths.size()},
                       {"processes", r.processes.size()},
                       {"findings", n}});
  }
  json counts = {{"total", findings.items.size()},
                 {"unsuppressed", findings.unsuppressed()},
                 {"suppressed", suppressed},
                 {"by_importance", std::move(by_importance)},
                 {"worst", worst ? json(std::string(importance_name(*worst))) : json(nullptr)}};

  // Coverage: counts by reason and the first few unmonitored processes (the JSON report has them all).
  std::map<std::string, size_t> by_reason;
  json listed = json::array();
  for (const UnmonitoredProcess& u : s.coverage.unmonitored) {
    by_reason[std::string(unmonitored_name(u.reason))]++;
    if (listed.size() >= kMaxUnmonitoredListed) continue;
    json entry = process_fields(u.process);
    entry["reason"] = std::string(unmonitored_name(u.reason));
    entry["detail"] = u.detail;
    listed.push_back(std::move(entry));
  }
  json coverage = {{"monitored", s.coverage.monitored},
                   {"unmonitored", s.coverage.unmonitored.size()},
                   {"unmonitored_by_reason", by_reason},
                   {"unmonitored_processes", std::move(listed)}};

  json build = {{"id", build_id}, {"exit_code", b.exit_code}};
  build["signal"] = b.signal ? json(signal_name(*b.signal)) : json(nullptr);
  build["linger_expired"] = b.linger_expired;
  build["still_running"] = b.still_running.size();
  // Whether the report is complete, as the JSON report says it (model/completeness.h).
  json whole = report_json(s);
  out["fpshim"] = {{"version", FPSHIM_VERSION},
                   {"complete", whole["complete"]},
                   {"incomplete", std::move(whole["incomplete"])},
                   {"build", std::move(build)},
                   {"findings", std::move(counts)},
                   {"recipes", std::move(recipes)},
                   {"events", access_events},
                   {"processes_seen", s.processes_seen},
                   {"coverage", std::move(coverage)},
                   {"stats", std::move(whole["stats"])}};
  return out;
}

std::vector<Json> all_events(const Findings& findings, const EventHost& host) {
  const std::string build_id = fmt::format("{:016x}", findings.summary->build.id);
  std::vector<std::tuple<uint64_t, size_t, Json>> timed;
  for (const Finding& f : findings.items) {
    if (f.folded) {
      timed.emplace_back(f.folded->first_seen_ns, timed.size(), folded_event(f, build_id, host));
      continue;
    }
    for (const ProcessSummary* ps : f.processes) {
      for (const std::string& name : ps->paths) {
        // The process's paths of this finding's group (it may have reached other groups' paths too).
        auto it = std::find_if(f.paths.begin(), f.paths.end(), [&](const PathSummary* p) { return p->path == name; });
        if (it == f.paths.end()) continue;
        AccessEvent a{&f, &ps->process, &ps->ancestry, *it, build_id};
        timed.emplace_back((*it)->first_seen_ns, timed.size(), access_event(a, host));
      }
    }
  }
  std::sort(timed.begin(), timed.end(), [](const auto& x, const auto& y) {
    return std::tie(std::get<0>(x), std::get<1>(x)) < std::tie(std::get<0>(y), std::get<1>(y));
  });
  std::vector<Json> out;
  out.reserve(timed.size() + 1);
  for (auto& t : timed) out.push_back(std::move(std::get<2>(t)));
  out.push_back(summary_event(findings, timed.size(), host));
  return out;
}

std::string event_line(const Json& event) { return event.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string render_events(const Findings& findings) {
  std::string out;
  for (const Json& event : all_events(findings, this_host())) out += event_line(event) + "\n";
  return out;
}

}  // namespace fpshim
