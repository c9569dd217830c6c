#include "report/report_json.h"

#include "base/version.h"
#include "report/outputs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/as_text.h"
#include "model/completeness.h"

namespace fpshim {

using json = Json;

void put_bytes(json& obj, std::string_view name, std::string_view bytes) {
  std::string key(name);
  if (is_valid_utf8(bytes)) {
    obj[key] = std::string(bytes);
    return;
  }
  obj[key] = escape_invalid_utf8(bytes);
  obj[key + "_hex"] = to_hex(bytes);
}

void put_bytes_array(json& obj, std::string_view name, const std::vector<std::string>& items) {
  std::string key(name);
  json text = json::array(), hex = json::array();
  bool all_valid = true;
  for (const std::string& item : items) {
    bool valid = is_valid_utf8(item);
    all_valid &= valid;
    text.push_back(valid ? item : escape_invalid_utf8(item));
    hex.push_back(to_hex(item));
  }
  obj[key] = std::move(text);
  if (!all_valid) obj[key + "_hex"] = std::move(hex);
}

namespace {

json names(const std::vector<std::string_view>& list) {
  json out = json::array();
  for (std::string_view n : list) out.push_back(std::string(n));
  return out;
}

json process_json(const ProcessRef& p) {
  json out = {{"pid", p.pid}};
  if (p.known) {
    put_bytes(out, "exe", p.exe);
    put_bytes_array(out, "argv", p.argv);
  } else {  // it never said hello
    out["exe"] = nullptr;
    out["argv"] = nullptr;
  }
  return out;
}

json errors_json(const std::vector<int>& errors) {
  json out = json::array();
  for (int e : errors) out.push_back(errno_name(e));
  return out;
}

// "unverified": null, or why its records are not vouched for.
void put_unverified(json& out, bool unverified) { out["unverified"] = unverified ? json(kUnverified) : json(nullptr); }

json path_json(const PathSummary& p) {
  json out = json::object();
  put_bytes(out, "path", p.path);
  out["count"] = p.count;
  out["count_is_lower_bound"] = p.count_is_lower_bound;
  put_unverified(out, p.unverified > 0);
  out["failed"] = p.failed;
  out["errors"] = errors_json(p.errors);
  out["operations"] = names(operation_names(p.operations));
  put_bytes_array(out, "spellings", p.spellings);
  out["first_seen"] = iso_time(p.first_seen_ns);
  out["last_seen"] = iso_time(p.last_seen_ns);
  return out;
}

json folded_json(const FoldedSummary& f) {
  json entry = {{"index", f.entry_index}};
  put_bytes(entry, match_kind_name(f.entry->kind), f.entry->text);
  json out = {{"entry", std::move(entry)}, {"paths", f.paths}, {"paths_exact", f.paths_exact}};
  put_bytes_array(out, "examples", f.examples);
  out["records"] = f.records;
  out["count"] = f.count;
  out["count_is_lower_bound"] = f.count_is_lower_bound;
  put_unverified(out, f.unverified > 0);
  out["failed"] = f.failed;
  out["errors"] = errors_json(f.errors);
  out["operations"] = names(operation_names(f.operations));
  out["processes"] = f.processes;
  out["first_seen"] = iso_time(f.first_seen_ns);
  out["last_seen"] = iso_time(f.last_seen_ns);
  return out;
}

json techniques_json(const Recipe& recipe) {
  json out = json::array();
  for (const MitreRef& t : recipe.techniques) out.push_back({{"id", t.id}, {"name", t.name}});
  return out;
}

// Why the recipe fired: its strong paths, the weak ones of each process (or the build) past its
// threshold, and the sentence the text report prints.
json because_json(const FiredBecause& b) {
  json out = json::object();
  out["text"] = escape_invalid_utf8(b.text);
  out["strong_paths"] = b.strong_paths;
  put_bytes_array(out, "strong", b.strong);
  json weak = json::array();
  for (const FiredBecause::WeakGroup& g : b.weak) {
    json group = {{"process", g.process ? process_json(*g.process) : json(nullptr)}, {"paths", g.paths}};
    put_bytes_array(group, "examples", g.examples);
    weak.push_back(std::move(group));
  }
  out["weak"] = std::move(weak);
  out["weak_groups"] = b.weak_groups;
  out["folded_paths"] = b.folded_paths;
  return out;
}

// Matched accesses that are no finding: excluded with their reason, weak ones below a threshold.
json not_findings_json(const Summary& s) {
  json excluded = json::array();
  for (const ExcludedSummary& x : s.excluded) {
    json e = {{"recipe", x.recipe->name},
              {"reason", x.reason},
              {"paths", x.paths},
              {"count", x.count},
              {"processes", x.processes}};
    put_bytes(e, "exe", x.exe);
    put_bytes_array(e, "examples", x.examples);
    excluded.push_back(std::move(e));
  }
  json below = json::array();
  for (const BelowThreshold& b : s.below_threshold) {
    json e = {{"recipe", b.recipe->name},
              {"paths", b.paths},
              {"count", b.count},
              {"processes", b.processes},
              {"threshold", {{"sources", b.recipe->weak_sources}, {"within", within_name(b.recipe->weak_within)}}}};
    put_bytes_array(e, "examples", b.examples);
    below.push_back(std::move(e));
  }
  return {{"excluded", std::move(excluded)}, {"below_threshold", std::move(below)}};
}

json recipe_json(const RecipeSummary& r) {
  const Recipe& recipe = *r.recipe;
  json out = {
      {"name", recipe.name},
      {"title", recipe.title},
      {"importance", std::string(importance_name(recipe.importance))},
      {"tactic", {{"id", recipe.tactic.id}, {"name", recipe.tactic.name}}},
      {"technique", {{"id", recipe.technique.id}, {"name", recipe.technique.name}}},
      {"techniques", techniques_json(recipe)},
      {"hits", r.hits},
      {"fired_because", because_json(r.because)},
  };
  json paths = json::array();
  for (const PathSummary& p : r.paths) paths.push_back(path_json(p));
  out["paths"] = std::move(paths);
  json folded = json::array();
  for (const FoldedSummary& f : r.folded) folded.push_back(folded_json(f));
  out["folded"] = std::move(folded);
  json processes = json::array();
  for (const ProcessSummary& p : r.processes) {
    json entry = process_json(p.process);
    put_bytes_array(entry, "paths", p.paths);
    json ancestry = json::array();
    for (const ProcessRef& a : p.ancestry) ancestry.push_back(process_json(a));
    entry["ancestry"] = std::move(ancestry);
    processes.push_back(std::move(entry));
  }
  out["processes"] = std::move(processes);
  out["first_seen"] = iso_time(r.first_seen_ns);
  out["last_seen"] = iso_time(r.last_seen_ns);
  out["guidance"] = {{"ci", recipe.guidance.ci},
                     {"staging", recipe.guidance.staging},
                     {"production", recipe.guidance.production}};
  return out;
}

json time_or_null(uint64_t ns) { return ns == 0 ? json(nullptr) : json(iso_time(ns)); }

json reason_or_null(Unmonitored reason) {
  return reason == Unmonitored::none ? json(nullptr) : json(std::string(unmonitored_name(reason)));
}

json processes_json(const std::vector<ProcessEntry>& processes) {
  json out = json::array();
  for (size_t i = 0; i < processes.size() && i < kMaxListedProcesses; i++) {
    const ProcessEntry& e = processes[i];
    json entry = process_json(e.process);
    entry["ppid"] = e.ppid;
    entry["started"] = time_or_null(e.started_ns);
    entry["ended"] = time_or_null(e.ended_ns);
    entry["exit_status"] = e.exit_status ? json(*e.exit_status) : json(nullptr);
    entry["monitored"] = e.reason == Unmonitored::none;
    entry["unmonitored_reason"] = reason_or_null(e.reason);
    if (e.execed_from) put_bytes(entry, "execed_from", *e.execed_from);
    else entry["execed_from"] = nullptr;
    out.push_back(std::move(entry));
  }
  return out;
}

json coverage_json(const Coverage& c) {
  json unmonitored = json::array();
  for (size_t i = 0; i < c.unmonitored.size() && i < kMaxListedUnmonitored; i++) {
    const UnmonitoredProcess& u = c.unmonitored[i];
    json entry = process_json(u.process);
    entry["reason"] = reason_or_null(u.reason);
    entry["detail"] = u.detail;
    entry["parent"] = u.parent ? process_json(*u.parent) : json(nullptr);
    json ancestry = json::array();
    for (const ProcessRef& a : u.ancestry) ancestry.push_back(process_json(a));
    entry["ancestry"] = std::move(ancestry);
    unmonitored.push_back(std::move(entry));
  }
  const size_t unlisted = c.unmonitored.size() - unmonitored.size();
  return {{"monitored", c.monitored}, {"unmonitored", std::move(unmonitored)}, {"unmonitored_unlisted", unlisted}};
}

// The builds of a spool that several builds share (`fpshim report`): each with its root command.
json builds_json(const std::vector<BuildPart>& parts) {
  json out = json::array();
  for (const BuildPart& p : parts) {
    json b = {{"id", p.id}, {"root", process_json(p.root)}};
    put_bytes(b, "cwd", p.cwd);
    b["started"] = iso_time(p.started_ns);
    b["finished"] = p.ended_ns ? json(iso_time(p.ended_ns)) : json(nullptr);
    b["last_seen"] = iso_time(p.last_seen_ns);
    b["exit_code"] = p.exit_status ? json(*p.exit_status) : json(nullptr);
    b["processes"] = p.processes;
    b["unmonitored"] = p.unmonitored;
    json fired = json::array();
    for (const BuildPart::Fired& f : p.recipes)
      fired.push_back(
          {{"name", f.recipe->name}, {"importance", importance_name(f.recipe->importance)}, {"paths", f.paths}});
    b["recipes"] = std::move(fired);
    out.push_back(std::move(b));
  }
  return out;
}

json finding_json(const Finding& f, const Findings& all) {
  json out = {{"fingerprint", f.fingerprint},
              {"recipe", f.recipe->name},
              {"importance", std::string(importance_name(f.importance()))}};
  put_bytes(out, "exe", f.exe);
  if (f.entry) {
    json entry = {{"index", size_t(f.entry - f.recipe->match.data())}};
    put_bytes(entry, match_kind_name(f.entry->kind), f.entry->text);
    out["entry"] = std::move(entry);
  } else {
    out["entry"] = nullptr;
  }
  put_bytes_array(out, "paths", f.path_names());
  out["folded"] = f.folded != nullptr;
  out["count"] = f.count;
  out["count_is_lower_bound"] = f.count_is_lower_bound;
  put_unverified(out, f.unverified);
  json pids = json::array();
  for (const ProcessSummary* p : f.processes) pids.push_back(p->process.pid);
  out["processes"] = std::move(pids);
  put_bytes(out, "chain", f.chain());
  out["location"] = {{"uri", f.location.uri}, {"line", f.location.line}, {"why", f.location.why}};
  if (f.suppressed) {
    const Suppression& s = all.suppressions->entries[f.suppressed->entry];
    out["suppressed"] = {{"reason", f.suppressed->reason}, {"entry", f.suppressed->entry}, {"line", s.line}};
  } else {
    out["suppressed"] = nullptr;
  }
  return out;
}

json suppressions_json(const Findings& f) {
  json entries = json::array();
  if (!f.suppressions) return {{"file", nullptr}, {"entries", std::move(entries)}};
  for (size_t i = 0; i < f.suppressions->entries.size(); i++) {
    const Suppression& s = f.suppressions->entries[i];
    const SuppressionUse& use = f.suppression_use[i];
    json entry = {{"index", i}, {"line", s.line}, {"recipe", s.recipe}};
    entry["path"] = s.paths.empty() ? json(nullptr) : json(s.paths);
    entry["exe"] = s.exe ? json(*s.exe) : json(nullptr);
    entry["argv"] = s.argv ? json(*s.argv) : json(nullptr);
    entry["ancestry"] = s.ancestry ? json(*s.ancestry) : json(nullptr);
    entry["reason"] = s.reason;
    entry["expires"] = s.expires ? json(*s.expires) : json(nullptr);
    entry["matched"] = use.matched;
    entry["suppressed"] = use.suppressed;
    entry["expired"] = use.expired;
    entry["unused"] = use.unused();
    entries.push_back(std::move(entry));
  }
  return {{"file", f.suppressions->source}, {"entries", std::move(entries)}};
}

}  // namespace

json report_json(const Summary& s) { return report_json(find(s, {})); }

json report_json(const Findings& findings) {
  const Summary& s = *findings.summary;
  const BuildInfo& b = s.build;
  json build = {{"id", fmt::format("{:016x}", b.id)}};
  put_bytes_array(build, "command", b.command);
  put_bytes(build, "cwd", b.cwd);
  build["started"] = iso_time(b.started_ns);
  build["finished"] = iso_time(b.finished_ns);
  build["exit_code"] = b.exit_code;
  build["signal"] = b.signal ? json(*b.signal) : json(nullptr);
  build["linger_expired"] = b.linger_expired;
  json still_running = json::array();
  for (const ProcessRef& p : b.still_running) still_running.push_back(process_json(p));
  build["still_running"] = std::move(still_running);

  json recipes = json::array();
  for (const RecipeSummary& r : s.recipes) recipes.push_back(recipe_json(r));
  // The names of the fired recipes grouped by importance, most important first (as `recipes`).
  json by_importance = json::array();
  for (const RecipeSummary& r : s.recipes) {
    const std::string importance(importance_name(r.recipe->importance));
    if (by_importance.empty() || by_importance.back()["importance"] != importance)
      by_importance.push_back({{"importance", importance}, {"recipes", json::array()}});
    by_importance.back()["recipes"].push_back(r.recipe->name);
  }

  json items = json::array();
  for (const Finding& f : findings.items) items.push_back(finding_json(f, findings));

  json tampering = json::array();
  for (const Tampering& t : s.tampering) tampering.push_back({{"what", t.what}, {"seen", iso_time(t.seen_ns)}});

  // Whether the report is the whole story (model/completeness.h), before anything else it says.
  json incomplete = json::array();
  for (const Gap& g : gaps_of(s))
    incomplete.push_back({{"reason", gap_name(g.kind)}, {"count", g.count}, {"detail", g.text}});

  const Stats& st = s.stats;
  return {
      {"fpshim", {{"version", FPSHIM_VERSION}, {"schema", 1}}},
      {"complete", incomplete.empty()},
      {"incomplete", std::move(incomplete)},
      {"build", std::move(build)},
      {"builds", builds_json(s.builds)},
      {"tampering", std::move(tampering)},
      {"recipes", std::move(recipes)},
      {"by_importance", std::move(by_importance)},
      {"not_findings", not_findings_json(s)},
      {"coverage", coverage_json(s.coverage)},
      {"processes", processes_json(s.processes)},
      {"processes_unlisted", s.processes.size() - std::min(s.processes.size(), kMaxListedProcesses)},
      {"processes_seen", s.processes_seen},
      {"stats",
       {{"records", st.records},
        {"lost", st.lost},
        {"late", st.late},
        {"malformed", st.malformed},
        {"refused", st.refused},
        {"unmatched", st.unmatched},
        {"excluded", st.excluded},
        {"below_threshold", st.below_threshold},
        {"processes", st.processes},
        {"processes_without_bye", st.processes_without_bye},
        {"duplicates", st.duplicates},
        {"conflicting", st.conflicting},
        {"forged_spool", st.forged_spool},
        {"unverified", st.unverified},
        {"collector_stopped", st.collector_stopped},
        {"journal_error", st.journal_errno != 0 ? json(errno_name(int(st.journal_errno))) : json(nullptr)},
        {"spool_error", st.spool_errno != 0 ? json(errno_name(int(st.spool_errno))) : json(nullptr)},
        {"env_restored", st.env_restored},
        {"collector_restarts", st.collector_restarts},
        {"collector_peak_rss_kb", st.collector_peak_rss_kb},
        {"folded_paths", st.folded_paths},
        {"folded_records", st.folded_records},
        {"capped", st.capped},
        {"unjournaled", st.unjournaled},
        {"processes_folded", st.processes_folded}}},
      {"findings", std::move(items)},
      {"suppressions", suppressions_json(findings)},
  };
}

std::string render_json_report(const Findings& findings) {
  // Every string is valid UTF-8 by construction; `replace` only guards against a slip.
  return report_json(findings).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace fpshim
