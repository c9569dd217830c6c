// The HTML report: every string from the build escaped, the tree drawn from the process images, and
// the page bounded whatever the build did.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/as_text.h"
#include "collector_testing.h"
#include "model/aggregate.h"
#include "model/findings.h"
#include "report/html.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

const char* kRules = R"({"schema": 1, "recipes": [
  {"name": "machine", "title": "Machine <id>", "description": "Reads the machine's identity & more.",
   "importance": "high",
   "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1082", "name": "SID"}},
   "guidance": {"ci": "Look at the <step>.", "staging": "s", "production": "p"},
   "match": [{"subtree": "/sys/class/dmi"}, {"subtree": "/tmp/watched"}, {"path": "/proc/ioports"}]}
]})";

size_t count_of(const std::string& text, std::string_view part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) n++;
  return n;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("html_escape: markup, quotes, invalid UTF-8 and control characters") {
  CHECK(html_escape("<script>alert('x' & \"y\")</script>") ==
        "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;");
  CHECK(html_escape(std::string("/tmp/\xff\xfe"
                                "a\xc3",
                                9)) == "/tmp/\\xff\\xfea\\xc3");
  CHECK(html_escape("é\tline\nnext\x01\x7f") == "é\tline\nnext\\x01\\x7f");
}

TEST_CASE("the HTML report escapes paths and command lines and marks the process that read them") {
  Rules rules = load_rules(kRules);
  Stats stats;
  Aggregate aggregate(rules, stats);
  Sequencer seqs;
  auto feed = [&](const RecordSpec& spec) { deliver(aggregate, seqs.next(spec)); };
  const std::string evil = std::string("/tmp/watched/<script>alert(1)</script>") + '\xff';
  aggregate.set_root_pid(100);
  feed(hello(100, 1, 1000, "/usr/bin/make", {"make", "-j4"}));
  feed(hello(101, 100, 1100, "/bin/sh", {"sh", "gen.sh", "<b>bold</b>"}));
  feed(hello(102, 101, 1200, "/bin/cat", {"cat", evil}));
  feed(access(102, 1200, evil));
  feed(access(102, 1200, "/proc/ioports"));
  feed(bye(102, 1200));
  feed(hello(103, 100, 1300, "/usr/bin/cc", {"cc", "-c", "x.c"}));
  feed(bye(103, 1300));
  feed(bye(101, 1100));
  feed(bye(100, 1000));
  Summary s;
  s.build.command = {"make", "-j4"};
  s.build.cwd = "/nonexistent/<src>";
  aggregate.summarize(s);
  Findings findings = find(s, {});
  REQUIRE(findings.items.size() == 2);  // one per rule entry: /tmp/watched and /proc/ioports
  findings.items[1].suppressed = Suppressed{0, "known <benign> reader"};

  const std::string html = render_html(findings);
  // Nothing the build wrote becomes markup: the only <script> is escaped text, as is the bold.
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "<b>"));
  CHECK(contains(html, "/tmp/watched/&lt;script&gt;alert(1)&lt;/script&gt;\\xff"));
  CHECK(contains(html, "&lt;b&gt;bold&lt;/b&gt;"));
  CHECK(contains(html, "Machine &lt;id&gt;"));
  CHECK(contains(html, "Look at the &lt;step&gt;."));
  CHECK(contains(html, "/nonexistent/&lt;src&gt;"));
  CHECK(is_valid_utf8(html));
  // No network: the policy forbids every fetch, and nothing names a URL.
  CHECK(contains(html, "content=\"default-src 'none'; style-src 'unsafe-inline'\""));
  CHECK_FALSE(contains(html, "http:"));
  CHECK_FALSE(contains(html, "https:"));
  CHECK_FALSE(contains(html, "url("));

  CHECK(contains(html, "<h1>Fingerprinting detected</h1>"));
  CHECK(contains(html, "1 recipe fired: 2 findings, 1 of them suppressed."));
  CHECK(contains(html, "Suppressed: known &lt;benign&gt; reader"));
  CHECK(count_of(html, "<article class=\"finding suppressed\"") == 1);
  CHECK(count_of(html, "<article class=\"finding\"") == 1);
  // The tree: make above sh above cat; cat marked with what it read, cc not.
  const size_t make = html.find("<code>make -j4</code>"), sh = html.find("<code>sh gen.sh"),
               cat = html.find("<li class=\"hit\"><span class=\"node\">"), cc = html.find("<code>cc -c x.c</code>");
  REQUIRE(make != std::string::npos);
  REQUIRE(cat != std::string::npos);
  CHECK(make < sh);
  CHECK(sh < cat);
  CHECK(cat < cc);
  CHECK(count_of(html, "<li class=\"hit\">") == 1);
  CHECK(contains(html.substr(cat, 2000), "<li><code>/proc/ioports</code> <span class=\"muted\">machine</span></li>"));
  CHECK(contains(html, "No recipe fired") == false);
}

TEST_CASE("the HTML report of 100,000 processes and paths stays small and says what it left out") {
  Rules rules = load_rules(kRules);
  const Recipe& recipe = rules.recipes[0];
  Summary s;
  s.build.command = {"make"};
  s.build.cwd = "/nonexistent";
  constexpr int kProcesses = 100'000;
  // Half the processes a chain 50,000 deep (each the parent of the next), half siblings under the root.
  for (int i = 0; i < kProcesses; i++) {
    ProcessEntry e;
    e.process = {i + 10, true, "/bin/sh", {"sh", "-c", "step " + std::to_string(i)}};
    e.ppid = i == 0 ? 1 : i < kProcesses / 2 ? i + 9 : 10;
    e.exit_status = 0;
    s.processes.push_back(e);
  }
  s.coverage.monitored = kProcesses;
  RecipeSummary r;
  r.recipe = &recipe;
  r.hits = kProcesses;
  for (int i = 0; i < kProcesses; i++) {
    PathSummary p;
    p.path = "/sys/class/dmi/id/p" + std::to_string(i);
    p.count = 1;
    p.operations = 1;
    r.paths.push_back(p);
  }
  for (int i = 0; i < kProcesses; i += 2) {  // every other process read one path
    ProcessSummary ps;
    ps.process = s.processes[size_t(i)].process;
    ps.paths = {r.paths[size_t(i)].path};
    r.processes.push_back(ps);
  }
  s.recipes.push_back(std::move(r));
  for (int i = 0; i < 5000; i++)
    s.coverage.unmonitored.push_back(
        {{i + 10, true, "/bin/static", {"static"}}, Unmonitored::static_binary, "static", {}, {}});

  Findings findings = find(s, {});
  const std::string html = render_html(findings);
  CHECK(html.size() < 2'000'000);
  CHECK(contains(html, "... and 49960 more (see the JSON report)"));  // the 50,000 paths of the one finding
  CHECK(contains(html, "... and 4900 more (see the JSON report)"));   // unmonitored
  CHECK(contains(html, "100000 process images of the build"));
  CHECK(contains(html, "left out (see the JSON report)"));
  const size_t drawn = count_of(html, "<span class=\"node\">");
  CHECK(drawn >= 600);
  CHECK(drawn <= 1200);
  CHECK(contains(html, "not drawn</li>"));
  // The deep chain nests without indenting off the page.
  CHECK(contains(html, "<ul class=\"flat\">"));
  CHECK(count_of(html, "<ul") == count_of(html, "</ul>"));
  CHECK(count_of(html, "<li") == count_of(html, "</li>"));
}
