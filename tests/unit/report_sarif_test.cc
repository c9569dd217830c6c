// The SARIF writer: rules and results as GitHub code scanning reads them, suppressed results, the cut
// to GitHub's limits, URIs; and the line locate() picks when a script names the paths by a glob.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "collector_testing.h"
#include "model/findings.h"
#include "report/report_json.h"
#include "report/sarif.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

const char* kRules = R"({"schema": 1, "recipes": [
  {"name": "os_network_fingerprint", "title": "Network", "description": "Reads the network setup.",
   "importance": "low",
   "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1016", "name": "SNCD"}},
   "guidance": {"ci": "look in ci", "staging": "look in staging", "production": "look in production"},
   "match": [{"subtree": "/sys/class/net"}]},
  {"name": "secrets", "title": "Secrets", "description": "Reads keys.", "importance": "critical",
   "mitre": {"tactic": {"id": "TA0006", "name": "Credential Access"}, "technique": {"id": "T1552.001", "name": "CiF"}},
   "guidance": {"ci": "c", "staging": "s", "production": "p"},
   "match": [{"path": "/etc/shadow"}]}
]})";

// A checkout whose script names /etc/hosts, then reads the MACs through a glob.
struct Checkout {
  std::filesystem::path root;

  Checkout() {
    char tmpl[] = "/tmp/fpshim-sarif-XXXXXX";
    root = mkdtemp(tmpl);
    std::filesystem::create_directories(root / "my scripts");
    std::ofstream(root / "my scripts/gen.sh") << "#!/bin/sh\necho start\ncat /etc/hosts\n"
                                                 "macs=$(cat /sys/class/net/*/address)\ncat /etc/shadow\n";
  }
  ~Checkout() { std::filesystem::remove_all(root); }
};

struct Built {
  Rules rules = load_rules(kRules);
  Summary summary;

  explicit Built(const std::string& cwd) {
    ProcessRef make = proc(10, {"make"}, "/usr/bin/make");
    ProcessRef sh = proc(11, {"sh", "my scripts/gen.sh"}, "/bin/sh");
    summary.build.command = {"make"};
    summary.build.cwd = cwd;
    summary.build.id = 0x1234;
    RecipeSummary net;
    net.recipe = &rules.recipes[0];
    net.paths = {PathSummary{.path = "/sys/class/net/eth0/address", .count = 2},
                 PathSummary{.path = "/sys/class/net/lo/address", .count = 1}};
    net.processes = {
        ProcessSummary{proc(12, {"cat", "/sys/class/net/eth0/address", "/sys/class/net/lo/address"}, "/bin/cat"),
                       {"/sys/class/net/eth0/address", "/sys/class/net/lo/address"},
                       {sh, make}}};
    RecipeSummary secrets;
    secrets.recipe = &rules.recipes[1];
    secrets.paths = {PathSummary{.path = "/etc/shadow", .count = 1}};
    secrets.processes = {ProcessSummary{proc(13, {"cat", "/etc/shadow"}, "/bin/cat"), {"/etc/shadow"}, {sh, make}}};
    summary.recipes = {secrets, net};
  }
};

}  // namespace

TEST_CASE("a script that reads paths through a shell glob is located at the glob's line") {
  Checkout checkout;
  Built b(checkout.root);
  Findings f = find(b.summary, {});
  REQUIRE(f.items.size() == 2);
  // Not line 3, the first line that runs cat: line 4, whose glob matches the paths read.
  CHECK(f.items[1].location.uri == "my scripts/gen.sh");
  CHECK(f.items[1].location.line == 4);
  CHECK(f.items[0].location.line == 5);  // the path written out
}

TEST_CASE("SARIF: one rule per recipe that fired, one result per finding, located under %SRCROOT%") {
  Checkout checkout;
  Built b(checkout.root);
  Findings f = find(b.summary, {});
  f.items[1].suppressed = Suppressed{0, "the MAC is the build cache key"};
  Json log = Json::parse(render_sarif(f));
  CHECK(log["version"] == "2.1.0");
  const Json& run = log["runs"][0];
  CHECK(run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == file_uri_of_directory(checkout.root.string()));
  CHECK(run["automationDetails"]["id"] == "fpshim/0000000000001234");
  const Json& rules = run["tool"]["driver"]["rules"];
  REQUIRE(rules.size() == 2);
  CHECK(rules[0]["id"] == "secrets");
  CHECK(rules[0]["name"] == "Secrets");
  CHECK(rules[0]["defaultConfiguration"]["level"] == "error");
  CHECK(rules[0]["properties"]["security-severity"] == "9.5");
  CHECK(rules[0]["helpUri"] == "https://attack.mitre.org/techniques/T1552/001/");
  CHECK(rules[1]["name"] == "OsNetworkFingerprint");
  CHECK(rules[1]["defaultConfiguration"]["level"] == "note");
  CHECK(rules[1]["properties"]["security-severity"] == "3.0");
  CHECK(rules[1]["properties"]["tags"] == Json::array({"security", "T1016", "TA0007", "external/mitre-attack/T1016"}));
  CHECK(rules[1]["help"]["text"].get<std::string>().find("In staging: look in staging") != std::string::npos);
  CHECK(rules[1]["help"]["markdown"].get<std::string>().find("- **In CI:** look in ci") != std::string::npos);

  const Json& results = run["results"];
  REQUIRE(results.size() == 2);
  const Json& net = results[1];
  CHECK(net["ruleId"] == "os_network_fingerprint");
  CHECK(net["ruleIndex"] == 1);
  CHECK(net["level"] == "note");
  const Json& where = net["locations"][0]["physicalLocation"];
  CHECK(where["artifactLocation"]["uri"] == "my%20scripts/gen.sh");
  CHECK(where["artifactLocation"]["uriBaseId"] == "%SRCROOT%");
  CHECK(where["region"]["startLine"] == 4);
  CHECK(net["partialFingerprints"]["primaryLocationLineHash"] == f.items[1].fingerprint + ":1");
  CHECK(net["message"]["text"] ==
        "Network: `cat` reached /sys/class/net/eth0/address and /sys/class/net/lo/address (3 accesses). Process "
        "chain: cat /sys/class/net/eth0/address /sys/class/net/lo/address <- sh 'my scripts/gen.sh' <- make. "
        "Located in my scripts/gen.sh, named by `sh 'my scripts/gen.sh'`.");
  CHECK(net["suppressions"][0]["kind"] == "external");
  CHECK(net["suppressions"][0]["justification"] == "the MAC is the build cache key");
  CHECK(net["properties"]["pid"] == 12);
  CHECK(net["properties"]["ancestry"][0]["command"] == "sh 'my scripts/gen.sh'");
  CHECK(net["properties"]["counts"]["accesses"] == 3);
  CHECK_FALSE(results[0].contains("suppressions"));
}

TEST_CASE("SARIF keeps GitHub's limits: the most important open findings, the rest counted as dropped") {
  Rules rules = load_rules(kRules);
  Summary summary;
  summary.build.cwd = "/src";
  std::vector<PathSummary> paths(30'000);
  Findings f;
  f.summary = &summary;
  f.source_root = "/src";
  for (size_t i = 0; i < paths.size(); i++) {
    paths[i].path = "/sys/class/net/x" + std::to_string(i) + "/address";
    Finding item;
    item.recipe = &rules.recipes[i < 10 ? 1 : 0];
    item.paths = {&paths[i]};
    item.fingerprint = std::to_string(i);
    item.location = {"Makefile", 1, "fallback"};
    if (i == 0) item.suppressed = Suppressed{0, "known"};
    f.items.push_back(item);
  }
  Json log = Json::parse(render_sarif(f));
  const Json& run = log["runs"][0];
  REQUIRE(run["results"].size() == 25'000);
  CHECK(run["properties"]["results_dropped"] == 5'000);
  CHECK(run["results"][0]["properties"]["fingerprint"] == "1");  // open before suppressed
  CHECK(run["results"][8]["ruleId"] == "secrets");
  CHECK(run["results"][9]["ruleId"] == "os_network_fingerprint");

  SarifOptions small;
  small.max_gzipped_bytes = 100'000;
  Json cut = Json::parse(render_sarif(f, small));
  size_t kept = cut["runs"][0]["results"].size();
  CHECK(kept > 10);
  CHECK(gzipped_size(render_sarif(f, small)) <= 100'000);
  CHECK(cut["runs"][0]["properties"]["results_dropped"] == 30'000 - kept);
}

TEST_CASE("SARIF URIs: percent-encoded relative paths, a file URI for the source root") {
  CHECK(percent_encode_path("my scripts/gen#1.sh") == "my%20scripts/gen%231.sh");
  CHECK(percent_encode_path("caf\xc3\xa9") == "caf%C3%A9");
  CHECK(file_uri_of_directory("/home/a b") == "file:///home/a%20b/");
  CHECK(file_uri_of_directory("/") == "file:///");
}
