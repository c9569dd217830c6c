// JUnit XML from the findings.
#include "report/junit.h"

#include "report/phrases.h"

#include <fmt/format.h>

#include "base/as_text.h"
#include "model/completeness.h"

namespace fpshim {

namespace {

constexpr size_t kMaxPaths = 50;  // named in one failure text

std::string attr(std::string_view name, std::string_view value) {
  return fmt::format(" {}=\"{}\"", name, xml_escape(value));
}

std::string seconds(uint64_t from_ns, uint64_t to_ns) {
  return to_ns > from_ns ? fmt::format("{:.3f}", double(to_ns - from_ns) / 1e9) : "0";
}

std::string test_name(const Finding& f) {
  std::vector<std::string> names = f.path_names();
  std::string who = f.exe.empty() ? "folded accesses" : f.exe;
  if (names.empty()) return who;
  return fmt::format("{} read {}{}", who, names.front(),
                     names.size() > 1 ? fmt::format(" and {} more", names.size() - 1) : "");
}

std::string failure_text(const Finding& f) {
  const Recipe& r = *f.recipe;
  std::string out = fmt::format("[{}] {}: {}\n{} ({} {})\n\n", importance_name(r.importance), r.name, r.title,
                                techniques_text(r), r.tactic.id, r.tactic.name);
  if (f.because && !f.because->text.empty()) out += fmt::format("fired on: {}\n", f.because->text);
  out += fmt::format("executable: {}\n", f.exe.empty() ? "(accesses folded past the recipe's limits)" : f.exe);
  out += fmt::format("process chain: {}\n", f.chain());
  out += fmt::format("location: {}:{} ({})\n", f.location.uri, f.location.line, f.location.why);
  out += fmt::format("paths ({}{} {}):\n", f.count, f.count_is_lower_bound ? "+" : "",
                     f.count == 1 ? "access" : "accesses");
  std::vector<std::string> names = f.path_names();
  for (size_t i = 0; i < names.size() && i < kMaxPaths; i++) out += "  " + names[i] + "\n";
  if (names.size() > kMaxPaths)
    out += fmt::format("  ... and {} more (see the JSON report)\n", names.size() - kMaxPaths);
  if (f.folded && f.folded->paths > f.folded->examples.size())
    out += fmt::format("  ... {}{} paths folded in all\n", f.folded->paths_exact ? "" : "about ", f.folded->paths);
  out += fmt::format("\nfingerprint: {}\nin CI: {}\n", f.fingerprint, r.guidance.ci);
  return out;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string valid = escape_invalid_utf8(text);
  std::string out;
  for (size_t i = 0; i < valid.size(); i++) {
    unsigned char c = valid[i];
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else if (c == 0xef && i + 2 < valid.size() && uint8_t(valid[i + 1]) == 0xbf &&
                   (uint8_t(valid[i + 2]) == 0xbe || uint8_t(valid[i + 2]) == 0xbf)) {
          out += uint8_t(valid[i + 2]) == 0xbe ? "\\u{FFFE}" : "\\u{FFFF}";  // not XML characters
          i += 2;
        } else {
          out += char(c);
        }
    }
  }
  return out;
}

std::string render_junit(const Findings& findings) {
  const Summary& s = *findings.summary;
  const std::string timestamp = iso_time(s.build.started_ns);
  const std::string time = seconds(s.build.started_ns, s.build.finished_ns);
  // An incomplete report (anything but unmonitored processes: see Coverage) is a failed case of its own.
  const std::vector<Gap> gaps = gaps_of(s);
  const bool unseen_only = gaps.size() == 1 && gaps[0].kind == Gap::Kind::unmonitored;
  const bool incomplete = !gaps.empty() && !unseen_only;
  size_t failures = findings.unsuppressed() + incomplete, skipped = findings.items.size() - findings.unsuppressed();
  size_t tests = (findings.items.empty() ? 1 : findings.items.size()) + incomplete;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites{}{}{}{}{}>\n", attr("name", "fpshim"), attr("tests", std::to_string(tests)),
                     attr("failures", std::to_string(failures)), attr("skipped", std::to_string(skipped)),
                     attr("time", time));
  const std::string command = shell_command(s.build.command, 200);
  if (incomplete) {
    out += fmt::format("  <testsuite{}{}{}{}{}{}>\n", attr("name", "fpshim: completeness"), attr("tests", "1"),
                       attr("failures", "1"), attr("skipped", "0"), attr("timestamp", timestamp), attr("time", time));
    out += fmt::format("    <testcase{}{}{}>\n      <failure{}{}>{}</failure>\n    </testcase>\n",
                       attr("classname", "fpshim"), attr("name", "the report of " + command + " is complete"),
                       attr("time", time), attr("message", "incomplete report: " + why_incomplete(gaps)),
                       attr("type", "incomplete"), xml_escape(why_incomplete(gaps)));
    out += "  </testsuite>\n";
  }
  if (findings.items.empty()) {
    const std::string verdict = gaps.empty()  ? "no fingerprinting detected in "
                                : unseen_only ? "no fingerprinting detected in the monitored processes of "
                                              : "no recipe fired in what fpshim saw of ";
    out += fmt::format("  <testsuite{}{}{}{}{}{}>\n", attr("name", "fpshim"), attr("tests", "1"), attr("failures", "0"),
                       attr("skipped", "0"), attr("timestamp", timestamp), attr("time", time));
    out += fmt::format("    <testcase{}{}{}/>\n", attr("classname", "fpshim"), attr("name", verdict + command),
                       attr("time", time));
    return out + "  </testsuite>\n</testsuites>\n";
  }
  // One suite per recipe; the findings are already grouped by recipe (sorted by importance, recipe).
  for (size_t i = 0; i < findings.items.size();) {
    const Recipe* recipe = findings.items[i].recipe;
    size_t end = i, fails = 0;
    for (; end < findings.items.size() && findings.items[end].recipe == recipe; end++)
      fails += !findings.items[end].suppressed;
    out += fmt::format("  <testsuite{}{}{}{}{}{}{}>\n", attr("name", "fpshim: " + recipe->name),
                       attr("tests", std::to_string(end - i)), attr("failures", std::to_string(fails)),
                       attr("skipped", std::to_string(end - i - fails)), attr("errors", "0"),
                       attr("timestamp", timestamp), attr("time", time));
    out += fmt::format("    <properties><property{}{}/><property{}{}/></properties>\n", attr("name", "build"),
                       attr("value", command), attr("name", "importance"),
                       attr("value", importance_name(recipe->importance)));
    for (; i < end; i++) {
      const Finding& f = findings.items[i];
      out += fmt::format("    <testcase{}{}{}{}{}>\n", attr("classname", "fpshim." + recipe->name),
                         attr("name", test_name(f)), attr("file", f.location.uri),
                         attr("line", std::to_string(f.location.line)), attr("time", "0"));
      if (f.suppressed) {
        out += fmt::format("      <skipped{}/>\n", attr("message", "suppressed: " + f.suppressed->reason));
      } else {
        out += fmt::format("      <failure{}{}>{}</failure>\n",
                           attr("message", fmt::format("{}: {}", recipe->title, test_name(f))),
                           attr("type", importance_name(recipe->importance)), xml_escape(failure_text(f)));
      }
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  return out + "</testsuites>\n";
}

}  // namespace fpshim
