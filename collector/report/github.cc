// GitHub Actions outputs: the markdown step summary and the workflow commands for annotations.
#include "report/github.h"


#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/as_text.h"
#include "model/completeness.h"
#include "report/outputs.h"
#include "report/phrases.h"

namespace fpshim {

namespace {

constexpr size_t kMaxPathsShown = 20;        // per finding in the summary
constexpr size_t kMaxPathsAnnotated = 5;     // per annotation
constexpr size_t kMaxChain = 8;              // processes of a chain shown, the build's command last
constexpr size_t kMaxText = 300;             // bytes of one path or command shown
constexpr size_t kTruncationReserve = 1024;  // for the line saying what was left out
constexpr size_t kFileMargin = 1024;         // below GitHub's limit, for its own accounting

// Valid UTF-8 without control characters (each written as "\xNN"), cut at `max` bytes with "...".
std::string printable(std::string_view s, size_t max = kMaxText) {
  std::string valid = escape_invalid_utf8(s);
  std::string out;
  for (unsigned char c : valid) {
    if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += char(c);
  }
  if (out.size() > max) {
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) cut--;  // not inside a character
    out = out.substr(0, cut) + "...";
  }
  return out;
}

// A markdown code span that shows `s` as it is, whatever backticks it holds.
std::string code(std::string_view s, size_t max = kMaxText) {
  std::string text = printable(s, max);
  size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(longest + 1, '`');
  bool pad = text.empty() || text.front() == '`' || text.back() == '`' || text.front() == ' ';
  return pad ? fence + " " + text + " " + fence : fence + text + fence;
}

std::string_view badge(Importance i) {
  switch (i) {
    case Importance::critical: return "🔴";
    case Importance::high: return "🟠";
    case Importance::medium: return "🟡";
    case Importance::low: return "🔵";
  }
  return "";
}

// The first process and its ancestry, at most kMaxChain of them (the build's command always last).
std::vector<std::string> chain_of(const Finding& f, size_t max_arg) {
  std::vector<std::string> out;
  if (f.processes.empty()) return out;
  const ProcessSummary& first = *f.processes.front();
  std::vector<const ProcessRef*> all = {&first.process};
  for (const ProcessRef& a : first.ancestry) all.push_back(&a);
  for (size_t i = 0; i < all.size(); i++) {
    if (all.size() > kMaxChain && i == kMaxChain - 1) {
      out.push_back(fmt::format("... {} more ...", all.size() - kMaxChain));
      i = all.size() - 1;
    }
    out.push_back(describe(*all[i], max_arg));
  }
  return out;
}

std::string exe_label(const Finding& f) { return f.exe.empty() ? "accesses folded past the recipe's limits" : f.exe; }

std::string finding_block(const Finding& f) {
  std::string out = fmt::format("#### {}{}\n\n", f.exe.empty() ? exe_label(f) : code(f.exe),
                                f.processes.size() > 1 ? fmt::format(" ({} processes)", f.processes.size()) : "");
  std::vector<std::string> names = f.path_names();
  std::string paths;
  for (size_t i = 0; i < names.size() && i < kMaxPathsShown; i++) paths += (i ? ", " : "") + code(names[i]);
  uint64_t more = names.size() > kMaxPathsShown ? names.size() - kMaxPathsShown : 0;
  if (f.folded) more += f.folded->paths > f.folded->examples.size() ? f.folded->paths - f.folded->examples.size() : 0;
  if (more) paths += fmt::format(" and {}{} more", f.folded && !f.folded->paths_exact ? "about " : "", more);
  out += fmt::format("- **Paths** ({}{}): {}\n", plural(f.count, "access", "accesses"),
                     f.count_is_lower_bound ? "+" : "", paths);
  std::vector<std::string> chain = chain_of(f, 80);
  if (!chain.empty()) {
    std::string text;
    for (const std::string& p : chain) text += (text.empty() ? "" : " ← ") + (p.starts_with("... ") ? p : code(p));
    out += "- **Process chain:** " + text + "\n";
  }
  out += fmt::format("- **Location:** {} line {} ({})\n\n", code(f.location.uri), f.location.line,
                     printable(f.location.why));
  return out;
}

std::string recipe_block(const Recipe& r, const FiredBecause* because, size_t findings) {
  std::string fired_on = because && !because->text.empty() ? "**Fired on:** " + printable(because->text, 2000) + "\n\n"
                                                           : "";
  return fmt::format("### {} {} · `{}`: {}\n\n{} ({} {}), {}. {}\n\n{}**In CI:** {}\n\n", badge(r.importance),
                     importance_name(r.importance), r.name, printable(r.title), techniques_text(r), r.tactic.id,
                     r.tactic.name, plural(findings, "finding", "findings"), printable(r.description, 2000), fired_on,
                     printable(r.guidance.ci, 2000));
}

std::string header(const Findings& f) {
  const Summary& s = *f.summary;
  size_t suppressed = f.items.size() - f.unsuppressed();
  const std::vector<Gap> gaps = gaps_of(s);
  std::string out = fmt::format("## fpshim: {}\n\n", f.unsuppressed()   ? "fingerprinting detected"
                                                     : !f.items.empty() ? "only suppressed findings"
                                                     : gaps.empty()     ? "no fingerprinting detected"
                                                     : gaps[0].kind == Gap::Kind::unmonitored && gaps.size() == 1
                                                         ? "no fingerprinting detected in monitored processes"
                                                         : "no recipe fired, but the report is incomplete");
  if (!gaps.empty()) out += fmt::format("**Incomplete report:** {}.\n\n", printable(why_incomplete(gaps), 2000));
  out += fmt::format("The build {} {}. ", code(shell_command(s.build.command, 80)), outcome(s.build));
  if (!f.items.empty())
    out += fmt::format("**{} fired: {}**{}. ", plural(s.recipes.size(), "recipe", "recipes"),
                       plural(f.unsuppressed(), "finding", "findings"),
                       suppressed ? fmt::format(" ({} suppressed)", suppressed) : "");
  if (!s.coverage.unmonitored.empty())
    out += fmt::format("**{} ran unmonitored** (see Coverage gaps). ",
                       plural(s.coverage.unmonitored.size(), "process", "processes"));
  while (out.back() == ' ') out.pop_back();
  out += "\n\n";
  if (s.recipes.empty()) return out;
  out += "| Importance | Recipe | Findings | Suppressed | Accesses |\n|---|---|---:|---:|---:|\n";
  for (const RecipeSummary& r : s.recipes) {
    size_t count = 0, quiet = 0;
    uint64_t accesses = 0;
    for (const Finding& x : f.items)
      if (x.recipe == r.recipe) {
        count++;
        quiet += x.suppressed.has_value();
        accesses += x.count;
      }
    out += fmt::format("| {} {} | `{}` {} | {} | {} | {} |\n", badge(r.recipe->importance),
                       importance_name(r.recipe->importance), r.recipe->name, printable(r.recipe->title), count - quiet,
                       quiet, accesses);
  }
  return out + "\n";
}

std::string unmonitored_line(const UnmonitoredProcess& u) {
  std::string line = fmt::format("- pid {} {} ({})", u.process.pid, code(describe(u.process, 80)), printable(u.detail));
  for (size_t i = 0; i < u.ancestry.size() && i < kMaxChain; i++) line += " ← " + code(describe(u.ancestry[i], 80));
  if (u.ancestry.size() > kMaxChain) line += fmt::format(" ← ... {} more", u.ancestry.size() - kMaxChain);
  return line + "\n";
}

std::string stats_block(const Summary& s) {
  const Stats& st = s.stats;
  return fmt::format(
      "### Stats\n\n| records | processes | without bye | lost | late | malformed | refused | unmatched |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} | {} | {} |\n\n",
      st.records, st.processes, st.processes_without_bye, st.lost, st.late, st.malformed, st.refused, st.unmatched);
}

}  // namespace

bool github_enabled(std::optional<bool> option) {
  if (option) return *option;
  const char* actions = getenv("GITHUB_ACTIONS");
  return actions && std::string_view(actions) == "true";
}

std::string github_escape(std::string_view text, bool property) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '%': out += "%25"; break;
      case '\r': out += "%0D"; break;
      case '\n': out += "%0A"; break;
      case ':': out += property ? "%3A" : ":"; break;
      case ',': out += property ? "%2C" : ","; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_github_summary(const Findings& findings, size_t budget) {
  const Summary& s = *findings.summary;
  // Blocks in the order they are shown; the fixed head and tail always go in, the middle as it fits.
  struct Block {
    std::string text;
    size_t findings = 0;  // findings it shows
    size_t gaps = 0;      // unmonitored processes it shows
  };
  std::vector<Block> middle;
  const Recipe* current = nullptr;
  for (const Finding& f : findings.items) {
    if (f.suppressed) continue;
    std::string text;
    if (f.recipe != current) {
      current = f.recipe;
      size_t n = 0;
      for (const Finding& x : findings.items) n += x.recipe == current && !x.suppressed;
      text = recipe_block(*current, f.because, n);
    }
    middle.push_back({text + finding_block(f), 1, 0});
  }
  bool first = true;
  for (const Finding& f : findings.items) {
    if (!f.suppressed) continue;
    std::string text = first ? "### Suppressed findings\n\nAccepted by the suppressions file; they do not count.\n\n"
                             : "";
    first = false;
    middle.push_back({text + fmt::format("- `{}` {} on {}: suppressed ({})\n", f.recipe->name,
                                         f.exe.empty() ? exe_label(f) : code(f.exe),
                                         code(f.path_names().empty() ? "" : f.path_names().front()),
                                         printable(f.suppressed->reason)),
                      1, 0});
  }
  if (!first) middle.back().text += "\n";
  if (!s.excluded.empty() || !s.below_threshold.empty())
    middle.push_back(
        {"### Not findings\n\nMatched by a recipe, but excluded by the rules (with their reason) or "
         "weak evidence below a recipe's threshold:\n\n",
         0, 0});
  for (const ExcludedSummary& x : s.excluded)
    middle.push_back({fmt::format("- `{}` excluded for {}: {} ({}): {}\n", x.recipe->name, code(x.exe),
                                  plural(x.count, "access", "accesses"),
                                  code(x.examples.empty() ? "" : x.examples.front()), printable(x.reason)),
                      0, 0});
  for (const BelowThreshold& b : s.below_threshold)
    middle.push_back({fmt::format("- `{}` below its threshold ({} distinct weak sources in one {}): {} to {} ({})\n",
                                  b.recipe->name, b.recipe->weak_sources, within_name(b.recipe->weak_within),
                                  plural(b.count, "weak access", "weak accesses"), plural(b.paths, "path", "paths"),
                                  code(b.examples.empty() ? "" : b.examples.front())),
                      0, 0});
  if (!s.excluded.empty() || !s.below_threshold.empty()) middle.back().text += "\n";
  const Coverage& c = s.coverage;
  if (!c.unmonitored.empty()) {
    middle.push_back({fmt::format("### Coverage gaps\n\n{} monitored; {} ran unmonitored (LD_PRELOAD could not see "
                                  "them, so what they read is not reported):\n\n",
                                  plural(c.monitored, "process", "processes"), c.unmonitored.size()),
                      0, 0});
    for (const UnmonitoredProcess& u : c.unmonitored) middle.push_back({unmonitored_line(u), 0, 1});
    middle.back().text += "\n";
  }
  std::string head = header(findings);
  std::string tail = stats_block(s) + fmt::format(
                                          "<sub>fpshim; every path and process is in the JSON report "
                                          "(`--report`). Source root: {}</sub>\n",
                                          code(findings.source_root));
  if (head.size() + tail.size() + kTruncationReserve > budget) {
    std::string line = "fpshim: the step summary was full; see the JSON report\n";
    return line.size() <= budget ? line : "";
  }
  std::string out = head;
  size_t room = budget - head.size() - tail.size() - kTruncationReserve;
  size_t i = 0;
  for (; i < middle.size() && middle[i].text.size() <= room; i++) {
    out += middle[i].text;
    room -= middle[i].text.size();
  }
  if (i < middle.size()) {
    size_t left_findings = 0, left_gaps = 0, left_bytes = 0;
    for (size_t j = i; j < middle.size(); j++) {
      left_findings += middle[j].findings;
      left_gaps += middle[j].gaps;
      left_bytes += middle[j].text.size();
    }
    out += fmt::format(
        "\n> **Truncated:** {} and {} ({} bytes) were left out to keep this summary under GitHub's "
        "1 MiB limit; the JSON report has them all.\n\n",
        plural(left_findings, "finding", "findings"), plural(left_gaps, "unmonitored process", "unmonitored processes"),
        left_bytes);
  }
  return out + tail;
}

bool append_github_summary(const Findings& findings, std::string& error) {
  const char* path = getenv("GITHUB_STEP_SUMMARY");
  if (!path || !*path) {
    error = "GITHUB_STEP_SUMMARY is not set: no step summary written";
    return false;
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    error = fmt::format("cannot write the step summary {}: {}", path, strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  // Earlier steps' summaries are separate files; an earlier write in this step shares the limit.
  size_t used = size_t(st.st_size) + kFileMargin;
  std::string text = used < kGithubSummaryLimit ? render_github_summary(findings, kGithubSummaryLimit - used) : "";
  if (text.empty()) {
    close(fd);
    error = fmt::format("the step summary {} is already {} bytes: nothing added", path, st.st_size);
    return false;
  }
  if (st.st_size > 0) text = "\n" + text;
  const bool written = write_all(fd, text);
  int saved = errno;
  if (close(fd) != 0 || !written) {
    error = fmt::format("cannot write the step summary {}: {}", path, strerror(saved));
    return false;
  }
  return true;
}

std::string render_github_annotations(const Findings& findings) {
  std::string out;
  size_t errors = 0, warnings = 0, left = 0;
  for (const Finding& f : findings.items) {
    if (f.suppressed) continue;
    const bool error = f.importance() >= Importance::high;
    size_t& count = error ? errors : warnings;
    if (count == kGithubAnnotationsPerKind) {
      left++;
      continue;
    }
    count++;
    std::vector<std::string> names = f.path_names();
    std::string paths;
    for (size_t i = 0; i < names.size() && i < kMaxPathsAnnotated; i++) paths += (i ? ", " : "") + printable(names[i]);
    if (names.size() > kMaxPathsAnnotated) paths += fmt::format(" and {} more", names.size() - kMaxPathsAnnotated);
    std::string chain;
    for (const std::string& p : chain_of(f, 80)) chain += (chain.empty() ? "" : " <- ") + printable(p);
    std::string message = fmt::format("{}: {} read {}", printable(f.recipe->title),
                                      f.exe.empty() ? exe_label(f) : printable(f.exe), paths);
    if (!chain.empty()) message += "\nprocess chain: " + chain;
    message += "\n" + printable(f.recipe->guidance.ci, 1000);
    std::string title = fmt::format("fpshim: {} ({})", f.recipe->name, importance_name(f.importance()));
    out += fmt::format("::{} file={},line={},title={}::{}\n", error ? "error" : "warning",
                       github_escape(printable(f.location.uri, std::string::npos), true), f.location.line,
                       github_escape(title, true), github_escape(message, false));
  }
  if (left > 0)
    out += fmt::format(
        "::notice title={}::{} more {} not annotated (GitHub shows at most {} errors and {} warnings "
        "per step); see the step summary\n",
        github_escape("fpshim", true), left, left == 1 ? "finding" : "findings", kGithubAnnotationsPerKind,
        kGithubAnnotationsPerKind);
  return out;
}

}  // namespace fpshim
