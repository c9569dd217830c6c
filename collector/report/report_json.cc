#include "report/report_json.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "report/as_text.h"

#ifndef FPSHIM_VERSION
#define FPSHIM_VERSION "unknown"
#endif

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

json path_json(const PathSummary& p) {
  json out = json::object();
  put_bytes(out, "path", p.path);
  out["count"] = p.count;
  out["count_is_lower_bound"] = p.count_is_lower_bound;
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
  out["failed"] = f.failed;
  out["errors"] = errors_json(f.errors);
  out["operations"] = names(operation_names(f.operations));
  out["processes"] = f.processes;
  out["first_seen"] = iso_time(f.first_seen_ns);
  out["last_seen"] = iso_time(f.last_seen_ns);
  return out;
}

json recipe_json(const RecipeSummary& r) {
  const Recipe& recipe = *r.recipe;
  json out = {
      {"name", recipe.name},
      {"title", recipe.title},
      {"importance", std::string(importance_name(recipe.importance))},
      {"tactic", {{"id", recipe.tactic.id}, {"name", recipe.tactic.name}}},
      {"technique", {{"id", recipe.technique.id}, {"name", recipe.technique.name}}},
      {"hits", r.hits},
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
  for (const ProcessEntry& e : processes) {
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
  for (const UnmonitoredProcess& u : c.unmonitored) {
    json entry = process_json(u.process);
    entry["reason"] = reason_or_null(u.reason);
    entry["detail"] = u.detail;
    entry["parent"] = u.parent ? process_json(*u.parent) : json(nullptr);
    json ancestry = json::array();
    for (const ProcessRef& a : u.ancestry) ancestry.push_back(process_json(a));
    entry["ancestry"] = std::move(ancestry);
    unmonitored.push_back(std::move(entry));
  }
  return {{"monitored", c.monitored}, {"unmonitored", std::move(unmonitored)}};
}

}  // namespace

json report_json(const Summary& s) {
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

  const Stats& st = s.stats;
  return {
      {"fpshim", {{"version", FPSHIM_VERSION}, {"schema", 1}}},
      {"build", std::move(build)},
      {"recipes", std::move(recipes)},
      {"coverage", coverage_json(s.coverage)},
      {"processes", processes_json(s.processes)},
      {"processes_seen", s.processes_seen},
      {"stats",
       {{"records", st.records},
        {"lost", st.lost},
        {"late", st.late},
        {"malformed", st.malformed},
        {"refused", st.refused},
        {"unmatched", st.unmatched},
        {"excluded", st.excluded},
        {"processes", st.processes},
        {"processes_without_bye", st.processes_without_bye},
        {"duplicates", st.duplicates},
        {"env_restored", st.env_restored},
        {"collector_restarts", st.collector_restarts},
        {"collector_peak_rss_kb", st.collector_peak_rss_kb},
        {"folded_paths", st.folded_paths},
        {"folded_records", st.folded_records}}},
  };
}

bool write_json_report(const Summary& summary, const std::string& path, std::string& error) {
  // Every string is valid UTF-8 by construction; `replace` only guards against a slip.
  std::string text = report_json(summary).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("cannot write {}: {}", tmp, strerror(errno));
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  bool ok = done == text.size() && fsync(fd) == 0;
  int saved = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp.c_str(), path.c_str()) == 0) return true;
  error = fmt::format("cannot write {}: {}", path, strerror(ok ? errno : saved));
  unlink(tmp.c_str());
  return false;
}

}  // namespace fpshim
