// SARIF 2.1.0 as GitHub code scanning takes it (see docs/outputs/sarif.md): one rule per recipe that
// fired, one result per finding with a repo-relative location under %SRCROOT% and a stable
// primaryLocationLineHash, suppressed findings as suppressed results. GitHub rejects a whole upload
// over its limits, so the results are cut to the most important ones within them, and the run says
// how many were dropped.
#include "report/sarif.h"

#include "report/phrases.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include <fmt/format.h>
#include <zlib.h>

#include "base/as_text.h"
#include "base/version.h"
#include "report/report_json.h"

namespace fpshim {

namespace {

using json = Json;

constexpr std::string_view kSchema = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr std::string_view kSrcRoot = "%SRCROOT%";
constexpr size_t kMaxDescription = 1024;   // GitHub: short and full descriptions
constexpr size_t kMaxMessagePaths = 3;     // paths named in a message
constexpr size_t kMaxListed = 100;         // paths, pids and arguments listed in a result's properties
constexpr size_t kMaxArg = 200;            // bytes of one argument in the properties
constexpr size_t kMaxNotifications = 100;  // coverage gaps reported one by one

// `text` cut to at most `max` bytes on a UTF-8 boundary, "..." marking the cut.
std::string cut(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t end = max - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) end--;
  return std::string(text.substr(0, end)) + "...";
}

// error for what must stop a build, warning for what needs a look, note for the rest.
std::string_view level_of(Importance i) {
  switch (i) {
    case Importance::critical:
    case Importance::high: return "error";
    case Importance::medium: return "warning";
    case Importance::low: return "note";
  }
  return "note";
}

// GitHub's bands: 9.0+ critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
std::string_view security_severity_of(Importance i) {
  switch (i) {
    case Importance::critical: return "9.5";
    case Importance::high: return "8.0";
    case Importance::medium: return "5.5";
    case Importance::low: return "3.0";
  }
  return "3.0";
}

// "machine_fingerprint" → "MachineFingerprint": SARIF's rule names are identifiers in Pascal case.
std::string pascal_case(std::string_view name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_' || c == '-') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// The ATT&CK page of a technique id ("T1082", "T1552.001"), "" for anything else.
std::string mitre_uri(std::string_view id) {
  if (id.size() < 2 || id[0] != 'T' ||
      !std::all_of(id.begin() + 1, id.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
    return "";
  std::string path(id);
  std::replace(path.begin(), path.end(), '.', '/');
  return fmt::format("https://attack.mitre.org/techniques/{}/", path);
}

json rule_of(const Recipe& r) {
  const std::string mitre = fmt::format("MITRE ATT&CK: {} (tactic {} {})", techniques_text(r), r.tactic.id,
                                        r.tactic.name);
  std::string text = fmt::format(
      "{}\n\n{}\n\nImportance: {}. {}\n\nWhat to do\nIn CI: {}\nIn staging: {}\n"
      "In production: {}\n",
      r.title, r.description, importance_name(r.importance), mitre, r.guidance.ci, r.guidance.staging,
      r.guidance.production);
  std::string markdown = fmt::format(
      "# {}\n\n{}\n\n**Importance:** {}. **MITRE ATT&CK:** {} (tactic {} {}).\n\n## What to do\n\n"
      "- **In CI:** {}\n- **In staging:** {}\n- **In production:** {}\n",
      r.title, r.description, importance_name(r.importance), techniques_text(r), r.tactic.id, r.tactic.name,
      r.guidance.ci, r.guidance.staging, r.guidance.production);
  json tags = json::array({"security"});
  for (const MitreRef& t : r.techniques)
    if (!t.id.empty()) tags.push_back(t.id);
  if (!r.tactic.id.empty()) tags.push_back(r.tactic.id);
  for (const MitreRef& t : r.techniques) tags.push_back("external/mitre-attack/" + t.id);
  json rule = {
      {"id", r.name},
      {"name", pascal_case(r.name)},
      {"shortDescription", {{"text", cut(r.title, kMaxDescription)}}},
      {"fullDescription", {{"text", cut(r.description.empty() ? r.title : r.description, kMaxDescription)}}},
      {"help", {{"text", std::move(text)}, {"markdown", std::move(markdown)}}},
  };
  if (std::string uri = mitre_uri(r.technique.id); !uri.empty()) rule["helpUri"] = uri;
  rule["defaultConfiguration"] = {{"level", level_of(r.importance)}};
  rule["properties"] = {
      {"tags", std::move(tags)},
      {"security-severity", security_severity_of(r.importance)},
      {"precision", "high"},
      {"problem.severity", level_of(r.importance) == "note" ? "recommendation" : level_of(r.importance)},
      {"importance", importance_name(r.importance)}};
  return rule;
}

std::string utf8(std::string_view bytes) {
  return is_valid_utf8(bytes) ? std::string(bytes) : escape_invalid_utf8(bytes);
}

std::string basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// "Machine fingerprinting: cat read /etc/machine-id, /proc/ioports and 3 more paths (12 accesses).
// Process chain: ...". The first sentence is what GitHub shows where space is short.
std::string message_of(const Finding& f) {
  std::vector<std::string> paths = f.path_names();
  std::string listed;
  for (size_t i = 0; i < paths.size() && i < kMaxMessagePaths; i++) {
    if (i > 0) listed += i + 1 == paths.size() ? " and " : ", ";
    listed += utf8(paths[i]);
  }
  uint64_t more = paths.size() > kMaxMessagePaths ? paths.size() - kMaxMessagePaths : 0;
  if (f.folded && f.folded->paths > kMaxMessagePaths)
    more = std::max<uint64_t>(more, f.folded->paths - kMaxMessagePaths);
  if (more) listed += fmt::format(" and {} more path{}", more, more == 1 ? "" : "s");
  std::string who = f.exe.empty() ? "the build" : "`" + utf8(basename_of(f.exe)) + "`";
  std::string accesses = fmt::format("{}{} access{}", f.count_is_lower_bound ? "at least " : "", f.count,
                                     f.count == 1 ? "" : "es");
  std::string text = fmt::format("{}: {} reached {} ({}).", f.recipe->title, who, listed, accesses);
  if (!f.processes.empty()) text += fmt::format(" Process chain: {}.", utf8(f.chain(60)));
  else if (f.folded) text += " Folded past the recipe's limits: the processes are not listed one by one.";
  if (f.location.why.starts_with("named by"))
    text += fmt::format(" Located in {}, {}.", f.location.uri, f.location.why);
  if (f.because && !f.because->text.empty()) text += fmt::format(" The recipe fired on {}.", utf8(f.because->text));
  return text;
}

json argv_of(const ProcessRef& p) {
  json out = json::array();
  for (size_t i = 0; i < p.argv.size() && i < kMaxListed; i++) out.push_back(cut(utf8(p.argv[i]), kMaxArg));
  return out;
}

json properties_of(const Finding& f) {
  json props = json::object();
  if (!f.processes.empty()) {
    const ProcessSummary& first = *f.processes.front();
    props["pid"] = first.process.pid;
    props["exe"] = utf8(first.process.exe);
    props["argv"] = argv_of(first.process);
    json ancestry = json::array();
    for (const ProcessRef& a : first.ancestry)
      ancestry.push_back({{"pid", a.pid}, {"command", a.known ? shell_command(a.argv, kMaxArg) : describe(a)}});
    props["ancestry"] = std::move(ancestry);
    json pids = json::array();
    for (size_t i = 0; i < f.processes.size() && i < kMaxListed; i++) pids.push_back(f.processes[i]->process.pid);
    props["pids"] = std::move(pids);
  } else {
    props["exe"] = nullptr;
  }
  std::vector<std::string> names = f.path_names();
  json paths = json::array();
  for (size_t i = 0; i < names.size() && i < kMaxListed; i++) paths.push_back(utf8(names[i]));
  props["paths"] = std::move(paths);
  if (f.entry) props["entry"] = {{std::string(match_kind_name(f.entry->kind)), utf8(f.entry->text)}};
  props["counts"] = {{"accesses", f.count},
                     {"accesses_is_lower_bound", f.count_is_lower_bound},
                     {"paths", f.folded ? f.folded->paths : uint64_t(f.paths.size())},
                     {"processes", f.folded ? f.folded->processes : uint64_t(f.processes.size())}};
  props["folded"] = f.folded != nullptr;
  if (f.first_seen_ns) props["first_seen"] = iso_time(f.first_seen_ns);
  if (f.last_seen_ns) props["last_seen"] = iso_time(f.last_seen_ns);
  props["location"] = f.location.why;
  props["fingerprint"] = f.fingerprint;
  return props;
}

json result_of(const Finding& f, size_t rule_index) {
  // locate() never leaves uri empty; a result without a usable location makes GitHub reject the
  // whole upload, so an empty one here still gets the documented fallback.
  std::string uri = f.location.uri.empty() ? "fpshim-build" : f.location.uri;
  json result = {
      {"ruleId", f.recipe->name},
      {"ruleIndex", rule_index},
      {"level", level_of(f.importance())},
      {"message", {{"text", message_of(f)}}},
      {"locations", json::array({{{"physicalLocation",
                                   {{"artifactLocation", {{"uri", percent_encode_path(uri)}, {"uriBaseId", kSrcRoot}}},
                                    {"region", {{"startLine", std::max(1, f.location.line)}}}}}}})},
      {"partialFingerprints", {{"primaryLocationLineHash", f.fingerprint + ":1"}}},
  };
  if (f.suppressed)
    result["suppressions"] = json::array(
        {{{"kind", "external"}, {"status", "accepted"}, {"justification", f.suppressed->reason}}});
  result["properties"] = properties_of(f);
  return result;
}

json invocation_of(const Findings& findings) {
  const BuildInfo& b = findings.summary->build;
  json inv = {{"executionSuccessful", b.exit_code != -1}};
  json arguments = json::array();
  for (const std::string& a : b.command) arguments.push_back(utf8(a));
  inv["commandLine"] = shell_command(b.command, 1000);
  inv["arguments"] = std::move(arguments);
  if (b.exit_code != -1) inv["exitCode"] = b.exit_code;
  if (b.signal) {
    inv["exitSignalNumber"] = *b.signal;
    inv["exitSignalName"] = signal_name(*b.signal);
  }
  if (b.started_ns) inv["startTimeUtc"] = iso_time(b.started_ns);
  if (b.finished_ns && b.finished_ns >= b.started_ns) inv["endTimeUtc"] = iso_time(b.finished_ns);
  if (b.cwd.starts_with('/')) inv["workingDirectory"] = {{"uri", file_uri_of_directory(b.cwd)}};
  // Coverage gaps: processes the shim could not see into (static binaries, ...).
  json notes = json::array();
  const auto& unmonitored = findings.summary->coverage.unmonitored;
  for (size_t i = 0; i < unmonitored.size() && i < kMaxNotifications; i++) {
    const UnmonitoredProcess& u = unmonitored[i];
    std::string text = fmt::format("Not monitored ({}): {}{}.", unmonitored_name(u.reason), describe(u.process),
                                   u.detail.empty() ? "" : ": " + u.detail);
    notes.push_back({{"level", "warning"}, {"message", {{"text", std::move(text)}}}});
  }
  if (unmonitored.size() > kMaxNotifications)
    notes.push_back(
        {{"level", "warning"},
         {"message",
          {{"text", fmt::format("{} more processes were not monitored.", unmonitored.size() - kMaxNotifications)}}}});
  if (!notes.empty()) inv["toolExecutionNotifications"] = std::move(notes);
  return inv;
}

}  // namespace

std::string percent_encode_path(std::string_view path) {
  std::string out;
  for (unsigned char c : path) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                c == '_' || c == '~' || c == '/';
    out += keep ? std::string(1, char(c)) : fmt::format("%{:02X}", c);
  }
  return out;
}

std::string file_uri_of_directory(std::string_view absolute) {
  std::string uri = "file://" + percent_encode_path(absolute);
  if (!uri.ends_with('/')) uri += '/';
  return uri;
}

namespace {
std::string render_log(const Findings& findings, const json& rules, const std::vector<json>& results, size_t kept,
                       const SarifOptions& options);
}  // namespace

std::string render_sarif(const Findings& findings) { return render_sarif(findings, SarifOptions{}); }

std::string render_sarif(const Findings& findings, const SarifOptions& options) {
  // The rules: every recipe with a finding, in the findings' order (most important first).
  json rules = json::array();
  std::map<const Recipe*, size_t> rule_index;
  for (const Finding& f : findings.items)
    if (rule_index.try_emplace(f.recipe, rule_index.size()).second) rules.push_back(rule_of(*f.recipe));

  // The results, most important first (the findings' order), up to the limits; unsuppressed ones
  // first so that a cut never drops an open finding for a suppressed one.
  std::vector<const Finding*> order;
  for (const Finding& f : findings.items) order.push_back(&f);
  std::stable_partition(order.begin(), order.end(), [](const Finding* f) { return !f->suppressed; });
  std::vector<json> results;
  std::vector<size_t> ends;  // compact bytes of results[0..i]
  size_t bytes = 0;
  for (const Finding* f : order) {
    if (results.size() >= options.max_results) break;
    json result = result_of(*f, rule_index.at(f->recipe));
    size_t size = result.dump(-1, ' ', false, json::error_handler_t::replace).size();
    if (bytes + size > options.max_result_bytes) break;
    results.push_back(std::move(result));
    ends.push_back(bytes += size);
  }
  // Over the gzipped limit (a build with huge command lines, say): keep a shorter prefix, in
  // proportion to how far over it was, until it fits.
  size_t kept = results.size();
  std::string text = render_log(findings, rules, results, kept, options);
  for (size_t gz = gzipped_size(text); gz > options.max_gzipped_bytes && kept > 0; gz = gzipped_size(text)) {
    size_t target = size_t(double(ends[kept - 1]) * 0.95 * double(options.max_gzipped_bytes) / double(gz));
    size_t fit = size_t(std::upper_bound(ends.begin(), ends.begin() + kept, target) - ends.begin());
    kept = std::min(fit, kept - 1);
    text = render_log(findings, rules, results, kept, options);
  }
  return text;
}

namespace {

std::string render_log(const Findings& findings, const json& rules, const std::vector<json>& results, size_t kept,
                       const SarifOptions& options) {
  const size_t dropped = findings.items.size() - kept;
  const Summary& s = *findings.summary;
  json driver = {{"name", "fpshim"},
                 {"fullName", "fpshim build fingerprinting monitor"},
                 {"version", FPSHIM_VERSION},
                 {"semanticVersion", FPSHIM_VERSION},
                 {"rules", rules}};
  json run = {
      {"tool", {{"driver", std::move(driver)}}},
      {"automationDetails", {{"id", fmt::format("fpshim/{:016x}", s.build.id)}}},
      {"originalUriBaseIds",
       {{kSrcRoot,
         {{"uri", file_uri_of_directory(findings.source_root.starts_with('/') ? findings.source_root : "/")},
          {"description", {{"text", "The checkout the findings are located in (--source-root)."}}}}}}},
      {"invocations", json::array({invocation_of(findings)})},
      {"columnKind", "utf16CodeUnits"},
  };
  json listed = json::array();
  for (size_t i = 0; i < kept; i++) listed.push_back(results[i]);
  run["results"] = std::move(listed);
  run["properties"] = {{"findings", findings.items.size()},  {"results", kept},
                       {"results_dropped", dropped},         {"build_id", fmt::format("{:016x}", s.build.id)},
                       {"processes_seen", s.processes_seen}, {"records_lost", s.stats.lost}};
  if (dropped)
    run["properties"]["results_dropped_why"] = fmt::format(
        "GitHub rejects a run over {} results or a file over 10 MB gzipped: the {} least important findings "
        "are left out here and are in the JSON report.",
        options.max_results, dropped);
  json log = {{"$schema", kSchema}, {"version", "2.1.0"}, {"runs", json::array({std::move(run)})}};
  return log.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

size_t gzipped_size(std::string_view text) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return SIZE_MAX;
  unsigned char out[1 << 16];
  size_t total = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  int status = Z_OK;
  size_t left = text.size();
  do {
    if (z.avail_in == 0 && left > 0) {
      z.avail_in = uInt(std::min<size_t>(left, 1u << 30));
      left -= z.avail_in;
    }
    z.next_out = out;
    z.avail_out = sizeof out;
    status = deflate(&z, left == 0 ? Z_FINISH : Z_NO_FLUSH);
    total += sizeof out - z.avail_out;
  } while (status == Z_OK || status == Z_BUF_ERROR);
  deflateEnd(&z);
  return status == Z_STREAM_END ? total : SIZE_MAX;
}

}  // namespace fpshim
