// The CI writers (GitHub summary and annotations, GitLab Code Quality, JUnit) on findings made by hand:
// a suppressed finding is shown as such or left out, every text is escaped for its format.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "collector_testing.h"
#include "model/aggregate.h"
#include "model/findings.h"
#include "report/github.h"
#include "report/gitlab_codequality.h"
#include "report/junit.h"
#include "rules/rules.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

const char* kCiRules = R"({"schema": 1, "recipes": [
  {"name": "machine", "title": "Machine", "description": "d", "importance": "medium",
   "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1082", "name": "SID"}},
   "guidance": {"ci": "Look at the step.", "staging": "s", "production": "p"},
   "match": [{"subtree": "/sys/class/dmi"}, {"path": "/proc/ioports"}]},
  {"name": "kcore", "title": "Crit", "description": "d", "importance": "critical",
   "mitre": {"tactic": {"id": "x", "name": "x"}, "technique": {"id": "y", "name": "y"}},
   "guidance": {"ci": "c", "staging": "s", "production": "p"},
   "match": [{"subtree": "/proc/kcore"}]}
]})";

struct CiFixture {
  Rules rules;
  Stats stats;
  Aggregate aggregate;
  Sequencer seqs;
  Summary summary;

  CiFixture() : rules(load_rules(kCiRules)), aggregate(rules, stats) {
    aggregate.set_root_pid(100);
    feed(hello(100, 1, 1000, "/usr/bin/make", {"make", "-j4"}));
    feed(hello(101, 100, 1100, "/bin/cat", {"cat", "/sys/class/dmi/id/product_uuid"}));
    feed(access(101, 1100, "/sys/class/dmi/id/product_uuid"));
    feed(bye(101, 1100));
    // A path with a newline, invalid UTF-8, XML and markdown specials, and a non-character.
    feed(hello(102, 100, 1200, "/usr/bin/py<&>", {"py", "x.py"}));
    feed(access(102, 1200, std::string("/proc/kcore/a\nb\xff<&>\"'`|%,:\x01\xef\xbf\xbe")));
    feed(bye(102, 1200));
    feed(bye(100, 1000));
    summary.build.command = {"make", "-j4"};
    aggregate.summarize(summary);
  }
  void feed(const RecordSpec& spec) { deliver(aggregate, seqs.next(spec)); }
};

size_t count(const std::string& text, std::string_view part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) n++;
  return n;
}

}  // namespace

TEST_CASE("CI writers: suppressed findings, severities, escaping") {
  CiFixture fx;
  Findings findings = find(fx.summary, {.source_root = "/nonexistent-root"});
  REQUIRE(findings.items.size() == 2);
  REQUIRE(findings.items[0].recipe->name == "kcore");  // critical first
  findings.items[1].suppressed = Suppressed{0, "known benign <reader>"};

  SUBCASE("GitHub annotations: only unsuppressed ones, critical is an error, properties escaped") {
    std::string a = render_github_annotations(findings);
    CHECK(count(a, "\n") == 1);
    CHECK(
        a.starts_with("::error file=fpshim-build,line=1,title=fpshim%3A kcore (critical)::Crit: /usr/bin/py<&> read "));
    CHECK(a.find("a\\x0ab\\xff<&>\"'`|%25,:\\x01") != std::string::npos);
    CHECK(a.find("%0Aprocess chain: py x.py <- make -j4%0A") != std::string::npos);
    CHECK(github_escape("a%b\r\nc:d,e", true) == "a%25b%0D%0Ac%3Ad%2Ce");
    CHECK(github_escape("a%b\r\nc:d,e", false) == "a%25b%0D%0Ac:d,e");
  }
  SUBCASE("GitHub summary: the suppressed finding is listed as suppressed with its reason") {
    std::string md = render_github_summary(findings);
    CHECK(md.find("## fpshim: fingerprinting detected") == 0);
    CHECK(md.find("**2 recipes fired: 1 finding** (1 suppressed)") != std::string::npos);
    CHECK(md.find("### Suppressed findings") != std::string::npos);
    CHECK(md.find("- `machine` `/bin/cat` on `/sys/class/dmi/id/product_uuid`: suppressed (known benign <reader>)") !=
          std::string::npos);
    CHECK(md.find("#### `/usr/bin/py<&>`") != std::string::npos);
    CHECK(md.find("``/proc/kcore/a\\x0ab\\xff<&>\"'`|%,:\\x01") != std::string::npos);  // a backtick inside: ``
    CHECK(render_github_summary(findings, 100).size() <= 100);
  }
  SUBCASE("GitLab Code Quality: suppressed findings left out, severity from importance") {
    auto issues = nlohmann::json::parse(render_gitlab_codequality(findings));
    REQUIRE(issues.size() == 1);
    CHECK(issues[0]["severity"] == "blocker");
    CHECK(issues[0]["check_name"] == "fpshim/kcore");
    CHECK(issues[0]["location"]["path"] == "fpshim-build");
    CHECK(issues[0]["location"]["lines"]["begin"] == 1);
    CHECK(issues[0]["fingerprint"] == findings.items[0].fingerprint);
  }
  SUBCASE("JUnit: a failure and a skipped test case, nothing an XML parser would refuse") {
    std::string xml = render_junit(findings);
    CHECK(xml.find("<testsuites name=\"fpshim\" tests=\"2\" failures=\"1\" skipped=\"1\"") != std::string::npos);
    CHECK(count(xml, "<failure ") == 1);
    CHECK(xml.find("<skipped message=\"suppressed: known benign &lt;reader&gt;\"/>") != std::string::npos);
    CHECK(xml.find('\x01') == std::string::npos);
    CHECK(xml.find("\xef\xbf\xbe") == std::string::npos);
    CHECK(xml.find("a&#10;b\\xff&lt;&amp;&gt;&quot;&apos;`|%,:\\x01\\u{FFFE}") != std::string::npos);
  }
}

TEST_CASE("xml_escape") {
  CHECK(xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&apos;");
  CHECK(xml_escape(std::string("\t\r\n\x1f\x7f", 5)) == "&#9;&#13;&#10;\\x1f\\x7f");
  CHECK(xml_escape("\xc3\xa9\xff") == "\xc3\xa9\\xff");
  CHECK(xml_escape("\xef\xbf\xbf") == "\\u{FFFF}");
}
