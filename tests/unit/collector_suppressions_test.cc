// Suppressions: the file's errors as FILE:LINE:COLUMN, the matching rule (recipe, executable, every
// path, argv, ancestry), expiry, unused entries, how the JSON and text reports show them, and the
// baseline written from a report that suppresses exactly its findings.
#include <doctest/doctest.h>

#include <fnmatch.h>

#include <string>
#include <vector>

#include "cli/baseline.h"
#include "collector_testing.h"
#include "model/findings.h"
#include "report/report_json.h"
#include "rules/suppressions.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

const std::string kRules = rules_json(
    recipe_json("machine", R"("match": [{"subtree": "/sys/class/dmi"}, {"path": "/proc/ioports"}])") + ", " +
    R"({"name": "net_ids", "title": "Net", "description": "d", "importance": "low",
   "mitre": {"tactic": {"id": "x", "name": "x"}, "technique": {"id": "y", "name": "y"}},
   "guidance": {"ci": "c", "staging": "s", "production": "p"},
   "match": [{"glob": "/sys/class/net/*/address"}]})");

// machine: cat over /proc/ioports, cat over two DMI files, and folded DMI accesses; net_ids: cat
// over two MACs. All under `sh scripts/gen.sh` under `make -j4`.
struct Built {
  Rules rules = load_rules(kRules.c_str());
  Summary summary;

  Built() {
    ProcessRef make = proc(10, {"make", "-j4"}, "/usr/bin/make");
    ProcessRef sh = proc(11, {"sh", "scripts/gen.sh"}, "/bin/sh");
    summary.build.command = {"make", "-j4"};
    summary.build.cwd = "/nonexistent";
    RecipeSummary m;
    m.recipe = &rules.recipes[0];
    m.paths = {PathSummary{.path = "/proc/ioports", .count = 2},
               PathSummary{.path = "/sys/class/dmi/id/product_uuid", .count = 1},
               PathSummary{.path = "/sys/class/dmi/id/board_serial", .count = 1}};
    m.processes = {ProcessSummary{proc(12, {"cat", "/proc/ioports"}, "/bin/cat"), {"/proc/ioports"}, {sh, make}},
                   ProcessSummary{proc(13, {"cat", "x"}, "/bin/cat"),
                                  {"/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/board_serial"},
                                  {sh, make}}};
    FoldedSummary folded;
    folded.entry = &rules.recipes[0].match[0];
    folded.paths = 1000;
    folded.examples = {"/sys/class/dmi/id/a", "/sys/class/dmi/id/b"};
    folded.count = 1000;
    m.folded = {folded};
    RecipeSummary n;
    n.recipe = &rules.recipes[1];
    n.paths = {PathSummary{.path = "/sys/class/net/eth0/address", .count = 1},
               PathSummary{.path = "/sys/class/net/lo/address", .count = 1}};
    n.processes = {
        ProcessSummary{proc(14, {"cat", "/sys/class/net/eth0/address", "/sys/class/net/lo/address"}, "/bin/cat"),
                       {"/sys/class/net/eth0/address", "/sys/class/net/lo/address"},
                       {sh, make}}};
    summary.recipes = {m, n};
  }

  Findings findings() const { return find(summary, {}); }
};

// The finding of `recipe` whose paths include `path`.
const Finding& finding(const Findings& f, std::string_view recipe, std::string_view path) {
  for (const Finding& item : f.items) {
    if (item.recipe->name != recipe) continue;
    for (const std::string& p : item.path_names())
      if (p == path) return item;
  }
  FAIL("no finding of " << recipe << " over " << path);
  return f.items.front();
}

Suppressions parse_ok(std::string_view text) {
  LoadedSuppressions loaded = parse_suppressions(text, "s.json");
  for (const RulesError& e : loaded.errors) MESSAGE(e.str());
  REQUIRE(loaded.ok());
  return std::move(loaded.suppressions);
}

std::vector<std::string> errors_of(std::string_view text) {
  std::vector<std::string> out;
  for (const RulesError& e : parse_suppressions(text, "s.json").errors) out.push_back(e.str());
  for (const std::string& e : out) MESSAGE(e);
  return out;
}

Suppression entry(std::string recipe) {
  Suppression s;
  s.recipe = std::move(recipe);
  s.reason = "r";
  return s;
}

}  // namespace

TEST_CASE("a suppressions file loads with every field and where each entry begins") {
  Suppressions s = parse_ok(R"({"schema": 1, "suppressions": [
  {"recipe": "machine", "path": "/proc/ioports", "exe": "/bin/*", "reason": "banner", "expires": "2030-02-28"},
    {"recipe": "net_*", "path": ["/sys/class/net/*/address"], "argv": "cat *", "ancestry": "sh scripts/*",
     "reason": "MAC for the license check"}
]})");
  REQUIRE(s.entries.size() == 2);
  CHECK(s.source == "s.json");
  CHECK(s.entries[0].line == 2);
  CHECK(s.entries[0].column == 3);
  CHECK(s.entries[0].paths == std::vector<std::string>{"/proc/ioports"});
  CHECK(s.entries[0].exe == "/bin/*");
  CHECK(s.entries[0].expires == "2030-02-28");
  CHECK_FALSE(s.entries[0].argv);
  CHECK(s.entries[1].line == 3);
  CHECK(s.entries[1].column == 5);
  CHECK(s.entries[1].argv == "cat *");
  CHECK(s.entries[1].ancestry == "sh scripts/*");
  CHECK(s.entries[1].reason == "MAC for the license check");
  CHECK_FALSE(s.entries[1].expires);
}

TEST_CASE("errors in the suppressions file are FILE:LINE:COLUMN, in source order") {
  CHECK(errors_of("{\"schema\": 1, \"suppressions\": [\n  {\"recipe\": \"machine\"},\n  {\"recipe\": \"x\", "
                  "\"reason\": \"ok\", \"colour\": 1}\n]}") ==
        std::vector<std::string>{"s.json:2:3: a suppression is missing required field \"reason\"",
                                 "s.json:3:35: unknown field \"colour\" in a suppression (expected one of recipe, "
                                 "path, exe, argv, ancestry, reason, expires)"});
  CHECK(errors_of("{\"schema\": 1, \"suppressions\": [{\"recipe\": \"m\", \"reason\": \"  \",\n"
                  " \"expires\": \"2023-02-29\", \"path\": \"proc/ioports\", \"exe\": 7}]}") ==
        std::vector<std::string>{
            "s.json:1:58: \"reason\" must say why the finding is accepted, not be empty",
            "s.json:2:13: \"expires\" must be a date YYYY-MM-DD, not \"2023-02-29\"",
            "s.json:2:35: path pattern \"proc/ioports\" must be absolute (paths are reported absolute)",
            "s.json:2:58: \"exe\" must be a string, not a number"});
  CHECK(errors_of("{\"schema\": 1, \"suppressions\": [{\"recipe\": \"m\", \"reason\": \"r\", \"path\": []}]}") ==
        std::vector<std::string>{"s.json:1:71: \"path\" must not be an empty array (leave it out to match any path)"});
  CHECK(errors_of("{\"schema\": 2, \"suppressions\": {}}") ==
        std::vector<std::string>{"s.json:1:12: unsupported schema 2 (this fpshim reads schema 1)",
                                 "s.json:1:31: \"suppressions\" must be an array, not an object"});
  // A syntax error and a duplicate key, where they are.
  CHECK(errors_of("{\"schema\": 1,\n \"suppressions\": [\n  {\"recipe\": \"m\" \"reason\": \"r\"}]}") ==
        std::vector<std::string>{"s.json:3:18: syntax error while parsing object - unexpected string "
                                 "literal; expected '}'"});
  CHECK(errors_of("{\"schema\": 1, \"suppressions\": [], \"schema\": 1}") ==
        std::vector<std::string>{"s.json:1:35: duplicate key \"schema\""});
  LoadedSuppressions missing = load_suppressions("/nonexistent/s.json");
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].str() == "/nonexistent/s.json: cannot read the suppressions file: No such file or directory");
}

TEST_CASE("an entry matches by recipe, executable, every path, argv and ancestry") {
  Built b;
  Findings f = b.findings();
  REQUIRE(f.items.size() == 4);  // machine: ioports, dmi by cat, dmi folded; net_ids: macs
  const Finding& ioports = finding(f, "machine", "/proc/ioports");
  const Finding& dmi = finding(f, "machine", "/sys/class/dmi/id/product_uuid");
  const Finding& folded = finding(f, "machine", "/sys/class/dmi/id/a");
  const Finding& macs = finding(f, "net_ids", "/sys/class/net/lo/address");
  REQUIRE(folded.folded);

  Suppression s = entry("machine");
  CHECK(matches(s, ioports));
  CHECK(matches(s, folded));
  CHECK_FALSE(matches(s, macs));
  s.recipe = "*";
  CHECK(matches(s, macs));

  // The executable: fnmatch with FNM_PATHNAME, as exe_glob in rules.json ('*' stops at '/').
  s.exe = "/bin/*";
  CHECK(matches(s, ioports));
  CHECK_FALSE(matches(s, folded));  // folded accesses have no executable ("")
  s.exe = "*/cat";
  CHECK_FALSE(matches(s, ioports));
  s.exe = "/*/cat";
  CHECK(matches(s, ioports));

  // Every path must match one of the patterns.
  s = entry("machine");
  s.paths = {"/sys/class/dmi/id/product_uuid"};
  CHECK_FALSE(matches(s, dmi));  // board_serial is not covered
  s.paths.push_back("/sys/class/dmi/id/board_*");
  CHECK(matches(s, dmi));
  s.paths = {"/sys/class/dmi/*"};
  CHECK_FALSE(matches(s, dmi));  // FNM_PATHNAME: '*' does not cross '/'
  s.paths = {"/sys/class/dmi/*/*"};
  CHECK(matches(s, dmi));
  CHECK(matches(s, folded));  // by the examples it kept
  CHECK_FALSE(matches(s, ioports));

  // argv: every process of the finding; '*' crosses '/'.
  s = entry("*");
  s.argv = "cat */ioports";
  CHECK(matches(s, ioports));
  CHECK_FALSE(matches(s, dmi));
  s.argv = "cat *";
  CHECK(matches(s, macs));
  CHECK_FALSE(matches(s, folded));  // no processes listed: an argv entry cannot be checked

  // ancestry: some process of each chain, the reader itself included.
  s = entry("*");
  s.ancestry = "sh scripts/gen.sh";
  CHECK(matches(s, ioports));
  CHECK(matches(s, macs));
  CHECK_FALSE(matches(s, folded));
  s.ancestry = "make *";
  CHECK(matches(s, dmi));
  s.ancestry = "cat x";  // the reader's own command line
  CHECK(matches(s, dmi));
  CHECK_FALSE(matches(s, ioports));
  s.ancestry = "./configure*";
  CHECK_FALSE(matches(s, ioports));
}

TEST_CASE("the first unexpired matching entry suppresses; expired ones are counted but do not; unused ones are told") {
  Built b;
  Suppressions file = parse_ok(R"({"schema": 1, "suppressions": [
    {"recipe": "machine", "path": "/proc/ioports", "reason": "old", "expires": "2024-05-31"},
    {"recipe": "machine", "path": "/proc/*", "reason": "ports banner", "expires": "2024-06-01"},
    {"recipe": "*", "path": "/proc/ioports", "reason": "shadowed"},
    {"recipe": "machine", "exe": "/opt/*", "reason": "gone"}
  ]})");
  Findings f = find(b.summary, {"", &file, "2024-06-01"});
  const Finding& ioports = finding(f, "machine", "/proc/ioports");
  REQUIRE(ioports.suppressed);
  CHECK(ioports.suppressed->entry == 1);  // valid through its expires day
  CHECK(ioports.suppressed->reason == "ports banner");
  CHECK(f.unsuppressed() == 3);
  CHECK(f.unsuppressed_at_or_above(Importance::medium) == 2);
  CHECK(f.unsuppressed_at_or_above(Importance::low) == 3);
  CHECK(f.unsuppressed_at_or_above(Importance::high) == 0);
  REQUIRE(f.suppression_use.size() == 4);
  CHECK(f.suppression_use[0].expired);
  CHECK(f.suppression_use[0].matched == 1);
  CHECK(f.suppression_use[0].suppressed == 0);
  CHECK_FALSE(f.suppression_use[1].expired);
  CHECK(f.suppression_use[1].suppressed == 1);
  CHECK(f.suppression_use[2].matched == 1);  // it matches, but entry 1 came first
  CHECK(f.suppression_use[2].suppressed == 0);
  CHECK_FALSE(f.suppression_use[2].unused());
  CHECK(f.suppression_use[3].unused());

  // A day later entry 1 has expired too: the finding falls to entry 2.
  Findings later = find(b.summary, {"", &file, "2024-06-02"});
  CHECK(later.suppression_use[1].expired);
  REQUIRE(finding(later, "machine", "/proc/ioports").suppressed);
  CHECK(finding(later, "machine", "/proc/ioports").suppressed->reason == "shadowed");

  // The JSON report: every finding, suppressed ones with their reason and entry, and the entries.
  Json j = report_json(f);
  REQUIRE(j["findings"].size() == 4);
  bool seen = false;
  for (const Json& item : j["findings"]) {
    if (item["paths"] == Json::array({"/proc/ioports"})) {
      seen = true;
      CHECK(item["suppressed"] == Json({{"reason", "ports banner"}, {"entry", 1}, {"line", 3}}));
      CHECK(item["recipe"] == "machine");
      CHECK(item["importance"] == "medium");
      CHECK(item["exe"] == "/bin/cat");
      CHECK(item["entry"] == Json({{"index", 1}, {"path", "/proc/ioports"}}));
      CHECK(item["processes"] == Json::array({12}));
      CHECK(item["location"]["uri"] == "fpshim-build");
    } else {
      CHECK(item["suppressed"].is_null());
    }
  }
  CHECK(seen);
  const Json& entries = j["suppressions"]["entries"];
  CHECK(j["suppressions"]["file"] == "s.json");
  REQUIRE(entries.size() == 4);
  CHECK(entries[0]["expired"] == true);
  CHECK(entries[0]["matched"] == 1);
  CHECK(entries[1]["suppressed"] == 1);
  CHECK(entries[3]["unused"] == true);
  CHECK(entries[3]["exe"] == "/opt/*");
  // Every field of the summary is still there.
  CHECK(j.contains("recipes"));
  CHECK(j.contains("stats"));

  // The text report: the suppressed finding with its reason, the expired and the unused entry.
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  write_text_report(f, out);
  fclose(out);
  std::string text(buf, len);
  free(buf);
  CHECK(text.find("fpshim: 1 finding(s) suppressed:\n"
                  "  suppressed: [medium] machine by /bin/cat (/proc/ioports): ports banner (s.json:3)\n") !=
        std::string::npos);
  CHECK(text.find("fpshim: suppression s.json:2 expired on 2024-05-31 and suppresses nothing (1 matching "
                  "finding(s)): old\n") != std::string::npos);
  CHECK(text.find("fpshim: suppression s.json:5 is unused: it matched no finding of this build (recipe machine): "
                  "gone\n") != std::string::npos);
  CHECK(text.find("fpshim: FINGERPRINTING DETECTED: 2 recipe(s) fired, most important [") != std::string::npos);
}

TEST_CASE("without suppressions the JSON says so and nothing is suppressed") {
  Built b;
  Findings f = b.findings();
  CHECK(f.unsuppressed() == f.items.size());
  CHECK(f.suppression_use.empty());
  Json j = report_json(f);
  CHECK(j["suppressions"] == Json({{"file", nullptr}, {"entries", Json::array()}}));
  CHECK(j["findings"].size() == f.items.size());
}

TEST_CASE("glob_literal matches exactly its text") {
  const std::string odd = "/tmp/a*b?[c]\\d";
  CHECK(glob_literal(odd) == "/tmp/a\\*b\\?\\[c\\]\\\\d");
  CHECK(fnmatch(glob_literal(odd).c_str(), odd.c_str(), FNM_PATHNAME) == 0);
  CHECK(fnmatch(glob_literal(odd).c_str(), "/tmp/aXb?[c]\\d", FNM_PATHNAME) != 0);
  // Bytes that are not UTF-8 cannot be written in JSON: each becomes '?'.
  const std::string bad(
      "/tmp/\xff\xfe"
      "é",
      9);
  CHECK(glob_literal(bad) == "/tmp/??é");
  CHECK(fnmatch(glob_literal(bad).c_str(), bad.c_str(), FNM_PATHNAME) == 0);
}

TEST_CASE("a baseline of a report suppresses exactly the findings it held unsuppressed") {
  Built b;
  // One finding already suppressed in the report: the baseline leaves it to its own entry.
  Suppressions file = parse_ok(R"({"schema": 1, "suppressions": [{"recipe": "net_ids", "reason": "known"}]})");
  Findings before = find(b.summary, {"", &file, "2024-01-01"});
  REQUIRE(before.unsuppressed() == 3);
  nlohmann::json report = nlohmann::json::parse(report_json(before).dump());
  std::string error;
  std::string text = baseline_suppressions(report, "r.json", "2024-01-02", error);
  REQUIRE(error.empty());
  Suppressions baseline = parse_ok(text);
  REQUIRE(baseline.entries.size() == 3);
  for (const Suppression& s : baseline.entries) CHECK(s.reason == "baseline of r.json on 2024-01-02: review");
  CHECK(baseline.entries[0].recipe == "machine");
  Findings after = find(b.summary, {"", &baseline, "2024-01-03"});
  CHECK(after.unsuppressed() == 1);  // net_ids, which the report held suppressed
  CHECK_FALSE(finding(after, "net_ids", "/sys/class/net/lo/address").suppressed);
  for (const SuppressionUse& use : after.suppression_use) CHECK(use.suppressed == 1);

  // A finding outside the baseline (a new path of the same executable) is not suppressed by it.
  b.summary.recipes[0].paths.push_back(PathSummary{.path = "/sys/class/dmi/id/chassis_serial", .count = 1});
  b.summary.recipes[0].processes[1].paths.push_back("/sys/class/dmi/id/chassis_serial");
  Findings grown = find(b.summary, {"", &baseline, "2024-01-03"});
  CHECK_FALSE(finding(grown, "machine", "/sys/class/dmi/id/chassis_serial").suppressed);

  CHECK(baseline_suppressions(nlohmann::json::object(), "x.json", "2024-01-02", error).empty());
  CHECK(error == "x.json has no \"findings\" array (is it a JSON report of this fpshim?)");
}
