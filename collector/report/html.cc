// The HTML report: one self-contained page rendered from the findings (model/findings.h). Every
// string from the build goes through html_escape; every list is capped, and says how much it left
// out, so that a build of 100,000 processes still gives a page a browser opens.
#include "report/html.h"


#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "base/as_text.h"
#include "model/completeness.h"
#include "model/recipe_hits.h"
#include "report/html_tree.h"
#include "report/phrases.h"

namespace fpshim {

namespace {

constexpr size_t kMaxFindings = 200;  // findings rendered in full
constexpr size_t kMaxPathsPerFinding = 40;
constexpr size_t kMaxChainsPerFinding = 5;  // processes of a finding shown with their ancestry
constexpr size_t kMaxUnmonitored = 100;
constexpr size_t kMaxArg = 120;  // characters of one argument

// The page's style: readable without it, laid out with it; no external resource of any kind.
constexpr std::string_view kStyle = R"(
:root{--fg:#1d2430;--muted:#5b6472;--line:#d6dae1;--bg:#fff;--soft:#f5f6f8;--crit:#8b1020;--high:#c2410c;
--med:#a16207;--low:#3f6212;--ok:#166534;--hit:#fff1e6;--unmon:#eef2ff}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
code,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.92em}
code,li,dd,td,p,summary,h1,h2,h3,h4{overflow-wrap:anywhere;word-break:break-word}
h1{font-size:1.6rem;margin:.2rem 0 .4rem}h2{font-size:1.25rem;margin:1.8rem 0 .6rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}h4{font-size:1rem;margin:.2rem 0 .5rem}
.verdict{border-left:.4rem solid var(--ok);background:var(--soft);padding:.8rem 1rem;border-radius:.3rem}
.verdict.detected{border-color:var(--crit)}.verdict.gaps,.verdict.accepted{border-color:var(--med)}
.verdict p{margin:.25rem 0}.verdict ul{margin:.3rem 0;padding-left:1.2rem}
nav{margin:.8rem 0;color:var(--muted)}nav a{color:inherit;margin-right:.8rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:.7rem;color:#fff;font-size:.8rem;font-weight:600;
text-transform:uppercase;letter-spacing:.03em;vertical-align:.1em}
.critical{background:var(--crit)}.high{background:var(--high)}.medium{background:var(--med)}.low{background:var(--low)}
details.recipe{border:1px solid var(--line);border-radius:.4rem;margin:.6rem 0;padding:.4rem .8rem}
details.recipe>summary{cursor:pointer;font-weight:600;padding:.2rem 0}
.muted,.why{color:var(--muted)}
dl{display:grid;grid-template-columns:minmax(6rem,max-content) 1fr;gap:.2rem .8rem;margin:.4rem 0}
dt{font-weight:600;color:var(--muted)}dd{margin:0;min-width:0}
@media (max-width:40rem){dl{grid-template-columns:1fr}dd{margin-bottom:.4rem}body{padding:.6rem}}
.finding{border-top:1px dashed var(--line);padding:.6rem 0}
.finding.suppressed{opacity:.75}.finding.suppressed h4{text-decoration:line-through}
.supp{background:var(--soft);border-left:.25rem solid var(--muted);padding:.2rem .6rem;margin:.3rem 0}
ul.paths,ol.chain{margin:0;padding-left:1.2rem}
ul.glance{padding-left:0;list-style:none}ul.glance li{margin:.25rem 0}ul.glance li.suppressed{opacity:.7}
ol.chain li::marker{color:var(--muted)}
.tree,.tree ul{list-style:none;margin:0;padding-left:0}
.tree ul{padding-left:1.1rem;border-left:1px solid var(--line);margin-left:.35rem}
.tree ul.flat{padding-left:0;margin-left:0;border-left:1px dotted var(--muted)}
.tree li{margin:.15rem 0;min-width:0}
.node{display:inline;padding:0 .2rem;border-radius:.2rem}
.hit>.node{background:var(--hit);outline:1px solid var(--high)}
.unmon>.node{background:var(--unmon);outline:1px dashed #4338ca}
.pid{color:var(--muted);font-variant-numeric:tabular-nums}
.mark{font-weight:700;color:var(--high)}.unmon .mark{color:#4338ca}
ul.touched{margin:.1rem 0 .2rem 1.2rem;padding-left:.8rem;list-style:"\2192  ";color:var(--high)}
ul.touched code{color:var(--fg)}
.legend span{margin-right:1rem}
table{border-collapse:collapse;width:100%;max-width:40rem}
td{border-bottom:1px solid var(--line);padding:.2rem .4rem}td.n{text-align:right;font-variant-numeric:tabular-nums}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
@media print{body{max-width:none;font-size:10.5pt;padding:0}nav{display:none}
details.recipe,.finding,.tree li{break-inside:avoid}
details>summary{list-style:none}
.verdict{border:1px solid #000;border-left-width:.4rem}
.badge{color:#000;border:1px solid #000;background:none}
.hit>.node,.unmon>.node{background:none}}
)";

std::string h(std::string_view text) { return html_escape(text); }

std::string ops_text(uint32_t ops) {
  std::vector<std::string> names;
  for (std::string_view op : operation_names(ops)) names.emplace_back(op);
  return join(names, ", ");
}

std::string errors_text(uint64_t failed, const std::vector<int>& errnos) {
  if (failed == 0) return "";
  std::vector<std::string> names;
  for (int e : errnos) names.push_back(errno_name(e));
  return fmt::format(", {} failed ({})", failed, join(names, ", "));
}

std::string count_text(uint64_t count, bool lower_bound, std::string_view one, std::string_view many) {
  return fmt::format("{}{} {}", count, lower_bound ? "+" : "", count == 1 && !lower_bound ? one : many);
}

// The verdict first, as the text report says it, then everything that makes it less than certain.
void write_headline(const Findings& fs, std::string& out) {
  const Summary& s = *fs.summary;
  const size_t unmonitored = s.coverage.unmonitored.size();
  const size_t suppressed = fs.items.size() - fs.unsuppressed();
  std::string cls, title, detail;
  const std::vector<Gap> gaps = gaps_of(s);
  const bool unseen_only = gaps.size() == 1 && gaps[0].kind == Gap::Kind::unmonitored;
  if (s.recipes.empty() && gaps.empty()) {
    cls = "clean", title = "No fingerprinting detected";
    detail = "No recipe fired, and every process of the build was monitored.";
  } else if (s.recipes.empty() && !unseen_only) {
    cls = "gaps", title = "Incomplete report: no recipe fired in what fpshim saw";
    detail = h(why_incomplete(gaps)) + ".";
  } else if (s.recipes.empty()) {
    cls = "gaps", title = "No fingerprinting detected in monitored processes";
    detail = fmt::format(
        "But {} ran unmonitored: what they read is not known (see <a href=\"#coverage\">Coverage</a>).",
        plural(unmonitored, "process", "processes"));
  } else {
    cls = fs.unsuppressed() == 0 && !fs.items.empty() ? "accepted" : "detected";
    title = cls == "detected" ? "Fingerprinting detected" : "Fingerprinting detected; every finding is suppressed";
    detail = fmt::format("{} fired: {}{}.", plural(s.recipes.size(), "recipe", "recipes"),
                         plural(fs.items.size(), "finding", "findings"),
                         suppressed ? fmt::format(", {} of them suppressed", suppressed) : "");
  }
  out += fmt::format("<header class=\"verdict {}\" id=\"verdict\"><h1>{}</h1><p>{}</p>\n", cls, title, detail);
  out += fmt::format("<p>Build <code>{}</code> {}.</p>\n", h(shell_command(s.build.command, 80)), h(outcome(s.build)));

  std::vector<std::string> notes;
  if (!s.recipes.empty() && !gaps.empty() && !unseen_only)
    notes.push_back("Incomplete report: " + h(why_incomplete(gaps)) + ".");
  if (!s.recipes.empty() && unmonitored > 0)
    notes.push_back(
        fmt::format("{} ran unmonitored; what they read is not known (see <a href=\"#coverage\">Coverage</a>).",
                    plural(unmonitored, "process", "processes")));
  if (s.build.linger_expired)
    notes.push_back(fmt::format("fpshim stopped waiting; {} of the build still running then.",
                                plural(s.build.still_running.size(), "process was", "processes were")));
  const Stats& st = s.stats;
  if (st.lost > 0)
    notes.push_back(
        fmt::format("{} lost; some accesses may be missing.", plural(st.lost, "record was", "records were")));
  if (st.collector_restarts > 0)
    notes.push_back(fmt::format("The collector died and was restarted {}; {} came late from the spool.",
                                plural(st.collector_restarts, "time", "times"), plural(st.late, "record", "records")));
  bool lower_bounds = false;
  for (const RecipeSummary& r : s.recipes) {
    for (const PathSummary& p : r.paths) lower_bounds |= p.count_is_lower_bound;
    for (const FoldedSummary& f : r.folded) lower_bounds |= f.count_is_lower_bound;
  }
  if (lower_bounds)
    notes.push_back(fmt::format("Counts marked + are lower bounds (a process did not say bye{}).",
                                st.folded_records > 0 ? ", or part of the count was folded" : ""));
  if (st.folded_records > 0)
    notes.push_back(fmt::format("{} folded into counts per rule entry (a recipe lists at most {} paths one by one).",
                                plural(st.folded_records, "record was", "records were"), RecipeHits::kMaxPaths));
  if (!notes.empty()) {
    out += "<ul class=\"notes\">";
    for (const std::string& n : notes) out += "<li>" + n + "</li>";
    out += "</ul>\n";
  }
  out += "</header>\n";
}

// One line per finding, the most important first, each a link to the finding in full.
void write_glance(const Findings& fs, std::string& out) {
  if (fs.items.empty()) return;
  out += "<section id=\"glance\"><h2>Findings at a glance</h2>\n<ul class=\"glance\">\n";
  for (size_t i = 0; i < fs.items.size() && i < kMaxFindings; i++) {
    const Finding& f = fs.items[i];
    const std::vector<std::string> paths = f.path_names();
    std::string_view level = importance_name(f.importance());
    out += fmt::format(
        "<li{}><span class=\"badge {}\">{}</span> <a href=\"#f-{}\">{}</a>: {} reached <code>{}</code>{}",
        f.suppressed ? " class=\"suppressed\"" : "", level, level, h(f.fingerprint), h(f.recipe->name),
        f.exe.empty() ? std::string("folded accesses") : "<code>" + h(f.exe) + "</code>",
        paths.empty() ? std::string() : h(paths.front()),
        paths.size() > 1 ? fmt::format(" and {} more", paths.size() - 1) : std::string());
    out += fmt::format(" <span class=\"muted\">at <code>{}:{}</code>{}</span></li>\n", h(f.location.uri),
                       f.location.line, f.suppressed ? " (suppressed)" : "");
  }
  if (fs.items.size() > kMaxFindings)
    out += fmt::format("<li class=\"muted\">... and {} more (see the JSON report)</li>\n",
                       fs.items.size() - kMaxFindings);
  out += "</ul>\n</section>\n";
}

void write_finding(const Finding& f, std::string& out) {
  out += fmt::format("<article class=\"finding{}\" id=\"f-{}\">\n", f.suppressed ? " suppressed" : "",
                     h(f.fingerprint));
  std::string who = f.exe.empty() ? std::string("accesses folded past the recipe's limits") : h(f.exe);
  out += fmt::format("<h4>{}{}</h4>\n", f.exe.empty() ? who : "<code>" + who + "</code>",
                     f.suppressed ? " <span class=\"muted\">(suppressed)</span>" : "");
  if (f.suppressed) out += fmt::format("<p class=\"supp\">Suppressed: {}</p>\n", h(f.suppressed->reason));
  out += "<dl>\n";
  out += fmt::format("<dt>Where to look</dt><dd><code>{}:{}</code> <span class=\"why\">{}</span></dd>\n",
                     h(f.location.uri), f.location.line, h(f.location.why));
  if (f.entry) {
    out += fmt::format("<dt>Rule entry</dt><dd>{} <code>{}</code>{}</dd>\n", match_kind_name(f.entry->kind),
                       h(f.entry->text),
                       f.entry->note.empty() ? "" : " <span class=\"muted\">" + h(f.entry->note) + "</span>");
  }
  out += fmt::format("<dt>Accesses</dt><dd>{}", count_text(f.count, f.count_is_lower_bound, "access", "accesses"));
  if (f.first_seen_ns)
    out += fmt::format(" <span class=\"muted\">{} to {}</span>", iso_time(f.first_seen_ns), iso_time(f.last_seen_ns));
  out += "</dd>\n<dt>Paths</dt><dd><ul class=\"paths\">\n";
  for (size_t i = 0; i < f.paths.size() && i < kMaxPathsPerFinding; i++) {
    const PathSummary& p = *f.paths[i];
    out += fmt::format("<li><code>{}</code> <span class=\"muted\">{}, {}{}</span></li>\n", h(p.path),
                       ops_text(p.operations), count_text(p.count, p.count_is_lower_bound, "time", "times"),
                       errors_text(p.failed, p.errors));
  }
  if (f.paths.size() > kMaxPathsPerFinding)
    out += fmt::format("<li class=\"muted\">... and {} more (see the JSON report)</li>\n",
                       f.paths.size() - kMaxPathsPerFinding);
  if (f.folded) {
    const FoldedSummary& fo = *f.folded;
    out += fmt::format(
        "<li>{} folded: {}{}",
        fo.paths > 0
            ? fmt::format("{}{} {}", fo.paths_exact ? "" : "about ", fo.paths, fo.paths == 1 ? "path" : "paths")
            : std::string("accesses by more processes"),
        count_text(fo.count, fo.count_is_lower_bound, "access", "accesses"), errors_text(fo.failed, fo.errors));
    if (!fo.examples.empty()) {
      out += "; for example";
      for (size_t i = 0; i < fo.examples.size() && i < kMaxPathsPerFinding; i++)
        out += fmt::format(" <code>{}</code>", h(fo.examples[i]));
    }
    out += "</li>\n";
  }
  out += "</ul></dd>\n";
  if (!f.processes.empty()) {
    out += "<dt>Process chain</dt><dd>";
    for (size_t i = 0; i < f.processes.size() && i < kMaxChainsPerFinding; i++) {
      const ProcessSummary& ps = *f.processes[i];
      out += "<ol class=\"chain\">";
      out += "<li>" + process_html(ps.process) + "</li>";
      for (const ProcessRef& a : ps.ancestry) out += "<li>started by " + process_html(a) + "</li>";
      out += "</ol>\n";
    }
    if (f.processes.size() > kMaxChainsPerFinding)
      out += fmt::format("<p class=\"muted\">... and {} more of this executable (see the process tree)</p>",
                         plural(f.processes.size() - kMaxChainsPerFinding, "process", "processes"));
    out += "</dd>\n";
  }
  out += fmt::format("<dt>Fingerprint</dt><dd><code>{}</code></dd>\n</dl>\n</article>\n", h(f.fingerprint));
}

void write_recipes(const Findings& fs, std::string& out) {
  const Summary& s = *fs.summary;
  out += "<section id=\"recipes\"><h2>Recipes that fired</h2>\n";
  if (s.recipes.empty()) out += "<p>None.</p>\n";
  size_t shown = 0;
  std::optional<Importance> level;
  for (const RecipeSummary& r : s.recipes) {
    const Recipe& recipe = *r.recipe;
    if (level != recipe.importance) {
      level = recipe.importance;
      out += fmt::format("<h3>{} importance</h3>\n", importance_name(recipe.importance));
    }
    size_t total = 0, suppressed = 0;
    for (const Finding& f : fs.items)
      if (f.recipe == &recipe) total++, suppressed += f.suppressed ? 1 : 0;
    out += fmt::format(
        "<details class=\"recipe\" open id=\"r-{}\"><summary><span class=\"badge {}\">{}</span> {}: {} "
        "<span class=\"muted\">({}, {}{})</span></summary>\n",
        h(recipe.name), importance_name(recipe.importance), importance_name(recipe.importance), h(recipe.name),
        h(recipe.title), plural(r.hits, "hit", "hits"), plural(total, "finding", "findings"),
        suppressed ? fmt::format(", {} suppressed", suppressed) : "");
    out += fmt::format("<p>{}</p>\n", h(recipe.description));
    out += fmt::format("<dl><dt>Fired on</dt><dd>{}</dd>\n", h(r.because.text));
    out += fmt::format("<dt>MITRE ATT&amp;CK</dt><dd>{} (tactic {} {})</dd>\n", h(techniques_text(recipe)),
                       h(recipe.tactic.id), h(recipe.tactic.name));
    out += fmt::format(
        "<dt>In CI</dt><dd>{}</dd><dt>In staging</dt><dd>{}</dd><dt>In production</dt><dd>{}</dd></dl>\n",
        h(recipe.guidance.ci), h(recipe.guidance.staging), h(recipe.guidance.production));
    size_t left = 0;
    for (const Finding& f : fs.items) {
      if (f.recipe != &recipe) continue;
      if (shown < kMaxFindings) write_finding(f, out), shown++;
      else left++;
    }
    if (left)
      out += fmt::format("<p class=\"muted\">... and {} more (see the JSON report)</p>\n",
                         plural(left, "finding", "findings"));
    out += "</details>\n";
  }
  out += "</section>\n";
}

// Matched accesses that are no finding: excluded with their reason, weak ones below a threshold.
void write_not_findings(const Summary& s, std::string& out) {
  if (s.excluded.empty() && s.below_threshold.empty()) return;
  out +=
      "<section id=\"not-findings\"><h2>Not findings</h2>\n<p>Matched by a recipe, but excluded by the rules or "
      "weak evidence below a recipe's threshold.</p>\n<ul>\n";
  for (const ExcludedSummary& x : s.excluded)
    out += fmt::format("<li>excluded: {} by <code>{}</code>, {} ({}): {}</li>\n", h(x.recipe->name), h(x.exe),
                       plural(x.count, "access", "accesses"), h(join(x.examples, ", ")), h(x.reason));
  for (const BelowThreshold& b : s.below_threshold)
    out += fmt::format("<li>below threshold: {}, {} to {} ({}): under {} distinct weak sources in one {}</li>\n",
                       h(b.recipe->name), plural(b.count, "weak access", "weak accesses"),
                       plural(b.paths, "path", "paths"), h(join(b.examples, ", ")), b.recipe->weak_sources,
                       within_name(b.recipe->weak_within));
  out += "</ul>\n</section>\n";
}

void write_coverage(const Coverage& c, std::string& out) {
  out += "<section id=\"coverage\"><h2>Coverage</h2>\n";
  out += fmt::format("<p>{} monitored, {} unmonitored.</p>\n", plural(c.monitored, "process", "processes"),
                     c.unmonitored.size());
  if (c.unmonitored.empty()) {
    out += "<p>Every process of the build ran with the shim: no coverage gaps.</p>\n</section>\n";
    return;
  }
  out += "<p>These processes ran without the shim seeing their file accesses; what they read is not known.</p>\n<ul>\n";
  for (size_t i = 0; i < c.unmonitored.size() && i < kMaxUnmonitored; i++) {
    const UnmonitoredProcess& u = c.unmonitored[i];
    out += fmt::format("<li>{}: <strong>{}</strong>", process_html(u.process), h(u.detail));
    if (!u.ancestry.empty()) {
      out += "<ol class=\"chain\">";
      for (const ProcessRef& a : u.ancestry) out += "<li>started by " + process_html(a) + "</li>";
      out += "</ol>";
    }
    out += "</li>\n";
  }
  if (c.unmonitored.size() > kMaxUnmonitored)
    out += fmt::format("<li class=\"muted\">... and {} more (see the JSON report)</li>\n",
                       c.unmonitored.size() - kMaxUnmonitored);
  out += "</ul>\n</section>\n";
}

void write_stats(const Summary& s, std::string& out) {
  const Stats& st = s.stats;
  const std::pair<std::string_view, uint64_t> rows[] = {
      {"records accepted", st.records},
      {"records lost", st.lost},
      {"records late (from the spool)", st.late},
      {"records malformed", st.malformed},
      {"records refused (another user or build)", st.refused},
      {"records no recipe matched", st.unmatched},
      {"records excluded by executable", st.excluded},
      {"weak records below a recipe's threshold", st.below_threshold},
      {"records seen twice", st.duplicates},
      {"records that claimed another's seq (forged)", st.conflicting},
      {"records folded", st.folded_records},
      {"paths folded", st.folded_paths},
      {"processes that said hello", st.processes},
      {"processes without bye", st.processes_without_bye},
      {"processes seen", s.processes_seen},
      {"environments repaired at exec", st.env_restored},
      {"collector restarts", st.collector_restarts},
      {"collector peak RSS (KiB)", st.collector_peak_rss_kb},
  };
  out += "<section id=\"stats\"><h2>Stats</h2>\n<table>\n";
  for (const auto& [name, value] : rows)
    out += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td></tr>\n", name, value);
  out += "</table>\n</section>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : escape_invalid_utf8(text)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
          out += fmt::format("\\x{:02x}", int(c));
        else out += c;
    }
  }
  return out;
}

std::string process_html(const ProcessRef& p) {
  std::string out = fmt::format("<span class=\"pid\">pid {}</span> <code>{}</code>", p.pid,
                                html_escape(describe(p, kMaxArg)));
  if (p.known && !p.argv.empty() && !p.exe.empty())
    out += fmt::format(" <span class=\"muted\">({})</span>", html_escape(p.exe));
  return out;
}

std::string render_html(const Findings& findings) {
  const Summary& s = *findings.summary;
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  // Nothing may be fetched: no script, image, font or frame; only the style below.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += fmt::format("<title>fpshim: {}</title>\n", h(shell_command(s.build.command, 60)));
  out += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  write_headline(findings, out);
  out +=
      "<nav><a href=\"#glance\">Findings</a><a href=\"#recipes\">Recipes</a><a href=\"#tree\">Process tree</a><a "
      "href=\"#coverage\">Coverage</a>"
      "<a href=\"#stats\">Stats</a></nav>\n";
  write_glance(findings, out);
  write_recipes(findings, out);
  write_process_tree(s, out);
  write_not_findings(s, out);
  write_coverage(s.coverage, out);
  write_stats(s, out);
  out += fmt::format(
      "<footer>fpshim {} · build <code>{:016x}</code> in <code>{}</code>{} · findings located in <code>{}</code>"
      "</footer>\n</body>\n</html>\n",
      FPSHIM_VERSION, s.build.id, h(s.build.cwd),
      s.build.started_ns
          ? fmt::format(" · started {} · finished {}", iso_time(s.build.started_ns), iso_time(s.build.finished_ns))
          : std::string(),
      h(findings.source_root));
  return out;
}

}  // namespace fpshim
