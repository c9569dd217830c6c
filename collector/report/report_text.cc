#include "report/report_text.h"

#include <fmt/format.h>

#include "base/as_text.h"
#include "ingest/journal.h"
#include "model/completeness.h"
#include "model/findings.h"
#include "model/process_tree.h"
#include "model/recipe_hits.h"
#include "report/phrases.h"

namespace fpshim {

namespace {

// The JSON report has everything; the summary stays readable.
constexpr size_t kMaxPaths = 30;
constexpr size_t kMaxProcesses = 20;

std::string errors_text(uint64_t failed, const std::vector<int>& errnos) {
  if (failed == 0) return "";
  std::vector<std::string> errors;
  for (int e : errnos) errors.push_back(errno_name(e));
  return fmt::format(", {} failed: {}", failed, join(errors, ", "));
}

// "    /sys/class/dmi/id/product_uuid  [read] 4 times, 1 failed: ENOENT"
void write_path(const PathSummary& p, std::FILE* out) {
  std::vector<std::string> ops;
  for (std::string_view op : operation_names(p.operations)) ops.emplace_back(op);
  std::string line = fmt::format("    {}  [{}] {}{} {}", escape_invalid_utf8(p.path), join(ops, ","), p.count,
                                 p.count_is_lower_bound ? "+" : "",
                                 p.count == 1 && !p.count_is_lower_bound ? "time" : "times");
  fmt::print(out, "{}{}{}\n", line, errors_text(p.failed, p.errors),
             p.unverified ? fmt::format(" ({})", kUnverified) : "");
}

// "    ... and 995904 more paths folded (entry subtree /sys/class/dmi): 995904 accesses"
void write_folded(const FoldedSummary& f, std::FILE* out) {
  std::string entry = fmt::format("entry {} {}", match_kind_name(f.entry->kind), f.entry->text);
  std::string accesses = fmt::format("{}{} {}", f.count, f.count_is_lower_bound ? "+" : "",
                                     f.count == 1 && !f.count_is_lower_bound ? "access" : "accesses");
  std::string line = f.paths > 0
                         ? fmt::format("    ... and {}{} more {} folded ({}): {}", f.paths_exact ? "" : "about ",
                                       f.paths, f.paths == 1 ? "path" : "paths", entry, accesses)
                         : fmt::format("    ... and {} by more processes folded ({})", accesses, entry);
  fmt::print(out, "{}{}{}\n", line, errors_text(f.failed, f.errors),
             f.unverified ? fmt::format(" ({})", kUnverified) : "");
}

void write_recipe(const RecipeSummary& r, std::FILE* out) {
  const Recipe& recipe = *r.recipe;
  fmt::print(out, "\n[{}] {}: {}\n", importance_name(recipe.importance), recipe.name, recipe.title);
  fmt::print(out, "  {} ({} {}), {} {}\n", techniques_text(recipe), recipe.tactic.id, recipe.tactic.name, r.hits,
             r.hits == 1 ? "hit" : "hits");
  if (!r.because.text.empty()) fmt::print(out, "  fired on: {}\n", escape_invalid_utf8(r.because.text));
  fmt::print(out, "  paths:\n");
  for (size_t i = 0; i < r.paths.size() && i < kMaxPaths; i++) write_path(r.paths[i], out);
  if (r.paths.size() > kMaxPaths)
    fmt::print(out, "    ... and {} more (see the JSON report)\n", r.paths.size() - kMaxPaths);
  for (const FoldedSummary& f : r.folded) write_folded(f, out);
  fmt::print(out, "  processes:\n");
  for (size_t i = 0; i < r.processes.size() && i < kMaxProcesses; i++) {
    const ProcessSummary& p = r.processes[i];
    std::string chain = describe(p.process);
    for (const ProcessRef& a : p.ancestry) chain += "  <-  " + describe(a);
    fmt::print(out, "    pid {}: {}\n", p.process.pid, chain);
  }
  if (r.processes.size() > kMaxProcesses)
    fmt::print(out, "    ... and {} more (see the JSON report)\n", r.processes.size() - kMaxProcesses);
  fmt::print(out, "  in CI: {}\n", recipe.guidance.ci);
}

// What was matched and is no finding: excluded accesses with their reason, weak ones below the
// recipe's threshold. Listed, so that nothing is dropped in silence.
void write_not_findings(const Summary& s, std::FILE* out) {
  if (s.excluded.empty() && s.below_threshold.empty()) return;
  fmt::print(out, "Not findings (matched, but excluded or below a recipe's threshold):\n");
  for (const ExcludedSummary& x : s.excluded)
    fmt::print(out, "  excluded: {} by {}: {} {} ({}{}): {}\n", x.recipe->name, escape_invalid_utf8(x.exe), x.count,
               x.count == 1 ? "access" : "accesses", escape_invalid_utf8(join(x.examples, ", ")),
               x.paths > x.examples.size() ? fmt::format(" and {} more", x.paths - x.examples.size()) : "", x.reason);
  for (const BelowThreshold& b : s.below_threshold)
    fmt::print(out,
               "  below threshold: {}: {} weak {} to {} {} by {} {} ({}{}), under {} distinct weak sources in "
               "one {} and no strong one\n",
               b.recipe->name, b.count, b.count == 1 ? "access" : "accesses", b.paths, b.paths == 1 ? "path" : "paths",
               b.processes, b.processes == 1 ? "process" : "processes", escape_invalid_utf8(join(b.examples, ", ")),
               b.paths > b.examples.size() ? fmt::format(" and {} more", b.paths - b.examples.size()) : "",
               b.recipe->weak_sources, within_name(b.recipe->weak_within));
  fmt::print(out, "\n");
}

// "  unmonitored: pid 123 ./tool (statically linked: LD_PRELOAD cannot see it) <- sh -c ... <- make"
void write_coverage(const Coverage& c, std::FILE* out) {
  fmt::print(out, "Coverage: {} {} monitored, {} unmonitored\n", c.monitored,
             c.monitored == 1 ? "process" : "processes", c.unmonitored.size());
  for (size_t i = 0; i < c.unmonitored.size() && i < kMaxProcesses; i++) {
    const UnmonitoredProcess& u = c.unmonitored[i];
    std::string line = fmt::format("  unmonitored: pid {} {} ({})", u.process.pid, describe(u.process), u.detail);
    for (const ProcessRef& a : u.ancestry) line += " <- " + describe(a);
    fmt::print(out, "{}\n", line);
  }
  if (c.unmonitored.size() > kMaxProcesses)
    fmt::print(out, "  ... and {} more (see the JSON report)\n", c.unmonitored.size() - kMaxProcesses);
  fmt::print(out, "\n");
}

// "  build 25493-17...: `sh -c './fp.sh'` in /src, 12:00:01 to 12:00:03, exit 0, 7 processes: machine_fingerprint (2
// paths)"
void write_builds(const std::vector<BuildPart>& parts, std::FILE* out) {
  fmt::print(out, "fpshim: {} builds in the spool\n", parts.size());
  for (const BuildPart& p : parts) {
    std::vector<std::string> fired;
    for (const BuildPart::Fired& f : p.recipes)
      fired.push_back(fmt::format("{} ({} {})", f.recipe->name, f.paths, f.paths == 1 ? "path" : "paths"));
    std::string end = p.ended_ns ? iso_time(p.ended_ns) : iso_time(p.last_seen_ns) + " (last seen)";
    std::string status = p.exit_status ? fmt::format(", exit {}", *p.exit_status) : "";
    fmt::print(out, "  build {}: `{}` in {}, {} to {}{}, {} {}{}: {}\n", p.id, describe(p.root),
               escape_invalid_utf8(p.cwd), iso_time(p.started_ns), end, status, p.processes,
               p.processes == 1 ? "process" : "processes",
               p.unmonitored ? fmt::format(" ({} unmonitored)", p.unmonitored) : "",
               fired.empty() ? "nothing fired" : join(fired, ", "));
  }
}

}  // namespace

void write_text_report(const Summary& s, std::FILE* out) {
  const std::vector<Gap> gaps = gaps_of(s);
  if (!gaps.empty()) fmt::print(out, "fpshim: INCOMPLETE REPORT: {}\n", why_incomplete(gaps));
  if (s.builds.empty())
    fmt::print(out, "fpshim: build `{}` {}\n", shell_command(s.build.command, 80), outcome(s.build));
  else write_builds(s.builds, out);
  if (s.build.linger_expired) {
    fmt::print(out, "fpshim: stopped waiting; {} process(es) of the build still running:\n",
               s.build.still_running.size());
    for (const ProcessRef& p : s.build.still_running) fmt::print(out, "  pid {}: {}\n", p.pid, describe(p));
  }
  const size_t unmonitored = s.coverage.unmonitored.size();
  const bool only_unmonitored = gaps.size() == 1 && gaps[0].kind == Gap::Kind::unmonitored;
  if (s.recipes.empty() && gaps.empty()) {
    fmt::print(out, "fpshim: no fingerprinting detected\n");
  } else if (s.recipes.empty() && only_unmonitored) {
    fmt::print(out, "fpshim: no fingerprinting detected in monitored processes; {} {} ran unmonitored (see Coverage)\n",
               unmonitored, unmonitored == 1 ? "process" : "processes");
  } else if (s.recipes.empty()) {
    fmt::print(out, "fpshim: no recipe fired in what fpshim saw, but the report is incomplete (first line)\n");
  } else {
    // The recipes come most important first (model/aggregate): the headline names the first, and
    // each importance is a group of its own, so a critical finding is never buried under low ones.
    const Recipe& top = *s.recipes.front().recipe;
    fmt::print(out, "fpshim: FINGERPRINTING DETECTED: {} recipe(s) fired, most important [{}] {}: {}\n",
               s.recipes.size(), importance_name(top.importance), top.name, top.title);
    if (unmonitored > 0)
      fmt::print(out, "fpshim: and {} {} ran unmonitored (see Coverage)\n", unmonitored,
                 unmonitored == 1 ? "process" : "processes");
    for (size_t i = 0; i < s.recipes.size(); i++) {
      const Importance importance = s.recipes[i].recipe->importance;
      if (i == 0 || s.recipes[i - 1].recipe->importance != importance) {
        size_t n = 0;
        for (const RecipeSummary& r : s.recipes) n += r.recipe->importance == importance;
        fmt::print(out, "\n== {}: {} recipe(s) ==\n", importance_name(importance), n);
      }
      write_recipe(s.recipes[i], out);
    }
    fmt::print(out, "\n");
  }
  write_not_findings(s, out);
  if (unmonitored > 0) {
    if (s.recipes.empty() && s.excluded.empty() && s.below_threshold.empty()) fmt::print(out, "\n");
    write_coverage(s.coverage, out);
  }
  const Stats& st = s.stats;
  fmt::print(out,
             "fpshim: {} records from {} processes ({} without bye), {} lost, {} late, {} malformed, "
             "{} refused, {} unmatched, {} conflicting, {} unverified\n",
             st.records, st.processes, st.processes_without_bye, st.lost, st.late, st.malformed, st.refused,
             st.unmatched, st.conflicting, st.unverified);
  bool lower_bounds = false;
  for (const RecipeSummary& r : s.recipes) {
    for (const PathSummary& p : r.paths) lower_bounds |= p.count_is_lower_bound;
    for (const FoldedSummary& f : r.folded) lower_bounds |= f.count_is_lower_bound;
  }
  if (lower_bounds)
    fmt::print(out, "fpshim: counts marked + are lower bounds (a process did not say bye{})\n",
               st.folded_records > 0 ? ", or part of the count was folded" : "");
  if (st.folded_records > 0)
    fmt::print(
        out,
        "fpshim: {} record(s) were folded into counts per rule entry (a recipe lists at most {} paths one by one)\n",
        st.folded_records, RecipeHits::kMaxPaths);
  if (st.lost > 0) fmt::print(out, "fpshim: {} record(s) were lost; some accesses may be missing\n", st.lost);
  if (st.capped > 0)
    fmt::print(out, "fpshim: {} record(s) were dropped at a cap of fpshim serve; some accesses may be missing\n",
               st.capped);
  if (st.collector_restarts > 0)
    fmt::print(out, "fpshim: the collector died and was restarted {} time(s); {} record(s) came late from the spool\n",
               st.collector_restarts, st.late);
  if (st.processes_folded > 0)
    fmt::print(out,
               "fpshim: the process tree is incomplete: {} process(es) beyond its limit of {} were counted, not "
               "listed; their accesses count as those of one stand-in process\n",
               st.processes_folded, ProcessTree::kMaxProcesses);
  if (st.unjournaled > 0)
    fmt::print(out,
               "fpshim: the journal was full (at {} MiB): {} record(s) were not journaled for a restarted collector\n",
               kMaxJournalBytes >> 20, st.unjournaled);
  for (const Tampering& t : s.tampering)
    fmt::print(out, "fpshim: TAMPERING: {} (seen {}); records may be missing\n", t.what, iso_time(t.seen_ns));
  std::fflush(out);
}

void write_text_report(const Findings& findings, std::FILE* out) {
  write_text_report(*findings.summary, out);
  if (!findings.suppressions) return;
  const Suppressions& file = *findings.suppressions;
  auto where = [&file](size_t entry) { return fmt::format("{}:{}", file.source, file.entries[entry].line); };
  const size_t suppressed = findings.items.size() - findings.unsuppressed();
  if (suppressed > 0) fmt::print(out, "fpshim: {} finding(s) suppressed:\n", suppressed);
  for (const Finding& f : findings.items) {
    if (!f.suppressed) continue;
    std::vector<std::string> paths = f.path_names();
    std::string shown = paths.empty() ? "" : escape_invalid_utf8(paths.front());
    if (paths.size() > 1) shown += fmt::format(" and {} more", paths.size() - 1);
    fmt::print(out, "  suppressed: [{}] {} by {} ({}): {} ({})\n", importance_name(f.importance()), f.recipe->name,
               f.exe.empty() ? "folded processes" : escape_invalid_utf8(f.exe), shown, f.suppressed->reason,
               where(f.suppressed->entry));
  }
  for (size_t i = 0; i < file.entries.size(); i++) {
    const Suppression& s = file.entries[i];
    const SuppressionUse& use = findings.suppression_use[i];
    if (use.expired)
      fmt::print(out, "fpshim: suppression {} expired on {} and suppresses nothing ({} matching finding(s)): {}\n",
                 where(i), *s.expires, use.matched, s.reason);
    else if (use.unused())
      fmt::print(out, "fpshim: suppression {} is unused: it matched no finding of this build (recipe {}): {}\n",
                 where(i), s.recipe, s.reason);
  }
  std::fflush(out);
}

}  // namespace fpshim
