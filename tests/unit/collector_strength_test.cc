// Evidence strength: weak and strong match entries, the recipe's weak threshold, why a recipe fired,
// excluded and below-threshold accesses listed, one access for one recipe, and a list of techniques.
#include <doctest/doctest.h>

#include <string>

#include "collector_records.h"
#include "collector_testing.h"
#include "model/aggregate.h"
#include "model/findings.h"
#include "rules/match.h"
#include "rules/rules.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

// Recipe "net": three weak resolver files and a strong routing table; `weak` its threshold.
std::string net_recipe(const std::string& weak, const std::string& exclude = "[]") {
  return recipe_json("net", R"("match": [
      {"path": "/proc/net/route"},
      {"path": "/etc/resolv.conf", "strength": "weak"},
      {"path": "/etc/hosts", "strength": "weak"},
      {"path": "/etc/nsswitch.conf", "strength": "weak"},
      {"path": "/etc/services", "strength": "weak"}],
     "exclude": )" + exclude + weak);
}

struct Run {
  Rules rules;
  Stats stats;
  Aggregate aggregate;
  Sequencer seqs;

  explicit Run(const std::string& recipes)
      : rules(test::load_rules(rules_json(recipes).c_str())), aggregate(rules, stats) {
    aggregate.set_root_pid(100);
    feed(hello(100, 1, 1000, "/bin/sh", {"sh", "-c", "build"}));
  }
  void feed(const RecordSpec& spec) { deliver(aggregate, seqs.next(spec)); }
  // A process `pid` of `exe` that reads `paths`.
  void reads(int32_t pid, const std::string& exe, const std::vector<std::string>& paths) {
    feed(hello(pid, 100, uint64_t(pid) * 10, exe, {exe}));
    for (const std::string& p : paths) feed(access(pid, uint64_t(pid) * 10, p));
    feed(bye(pid, uint64_t(pid) * 10));
  }
  Summary summary() {
    Summary s;
    s.build.command = {"sh", "-c", "build"};
    aggregate.summarize(s);
    return s;
  }
};

LoadedRules parse(const std::string& recipes) { return parse_rules(rules_json(recipes), "rules.json"); }

}  // namespace

TEST_CASE("strength: one weak read stays quiet and is counted below the threshold") {
  Run run(net_recipe(""));
  run.reads(101, "/usr/bin/cat", {"/etc/resolv.conf"});
  Summary s = run.summary();
  CHECK(s.recipes.empty());
  REQUIRE(s.below_threshold.size() == 1);
  CHECK(s.below_threshold[0].recipe->name == "net");
  CHECK(s.below_threshold[0].paths == 1);
  CHECK(s.below_threshold[0].examples == std::vector<std::string>{"/etc/resolv.conf"});
  CHECK(s.stats.below_threshold == 1);
  CHECK(text_report(s).find("below threshold: net: 1 weak access to 1 path by 1 process (/etc/resolv.conf)") !=
        std::string::npos);
}

TEST_CASE("strength: three weak sources in one process fire, and the report says so") {
  Run run(net_recipe(""));
  run.reads(101, "/usr/bin/cat", {"/etc/resolv.conf", "/etc/hosts", "/etc/hosts", "/etc/nsswitch.conf"});
  Summary s = run.summary();
  REQUIRE(s.recipes.size() == 1);
  const RecipeSummary& r = s.recipes[0];
  CHECK(r.paths.size() == 3);
  CHECK(r.because.strong_paths == 0);
  REQUIRE(r.because.weak.size() == 1);
  CHECK(r.because.weak[0].process->pid == 101);
  CHECK(r.because.text == "3 weak sources in one process (pid 101): /etc/hosts, /etc/nsswitch.conf, /etc/resolv.conf");
  CHECK(s.below_threshold.empty());
  CHECK(text_report(s).find("fired on: 3 weak sources in one process (pid 101)") != std::string::npos);
  Findings f = find(s, {});
  REQUIRE(!f.items.empty());
  CHECK(f.items[0].because == &r.because);
}

TEST_CASE("strength: weak sources spread over processes fire only when counted within the build") {
  auto spread = [](Run& run) {
    run.reads(101, "/usr/bin/cat", {"/etc/resolv.conf"});
    run.reads(102, "/usr/bin/cat", {"/etc/hosts"});
    run.reads(103, "/usr/bin/cat", {"/etc/nsswitch.conf"});
  };
  Run per_process(net_recipe(""));
  spread(per_process);
  Summary quiet = per_process.summary();
  CHECK(quiet.recipes.empty());
  REQUIRE(quiet.below_threshold.size() == 1);
  CHECK(quiet.below_threshold[0].paths == 3);
  CHECK(quiet.below_threshold[0].processes == 3);

  Run per_build(net_recipe(R"(, "weak": {"sources": 3, "within": "build"})"));
  spread(per_build);
  Summary fired = per_build.summary();
  REQUIRE(fired.recipes.size() == 1);
  CHECK(fired.recipes[0].because.text.starts_with("3 weak sources in the build: "));
}

TEST_CASE("strength: one strong source fires alone, and its process's weak reads count with it") {
  Run run(net_recipe(R"(, "weak": {"sources": 2, "within": "process"})"));
  run.reads(101, "/usr/sbin/route", {"/proc/net/route", "/etc/services"});
  run.reads(102, "/usr/bin/cat", {"/etc/hosts"});  // alone, below 2
  Summary s = run.summary();
  REQUIRE(s.recipes.size() == 1);
  const RecipeSummary& r = s.recipes[0];
  CHECK(r.because.text == "1 strong source: /proc/net/route");
  REQUIRE(r.paths.size() == 2);
  CHECK(r.paths[0].path == "/etc/services");
  CHECK(r.paths[1].path == "/proc/net/route");
  REQUIRE(s.below_threshold.size() == 1);
  CHECK(s.below_threshold[0].examples == std::vector<std::string>{"/etc/hosts"});
}

TEST_CASE("exclusions with paths: this executable and these paths, listed with their reason") {
  Run run(
      net_recipe(R"(, "weak": {"sources": 1, "within": "process"})",
                 R"([{"exe": "/usr/bin/node", "paths": ["/etc/resolv.conf", "/etc/h*"], "reason": "its resolver"}])"));
  run.reads(101, "/usr/bin/node", {"/etc/resolv.conf", "/etc/hosts"});
  Summary quiet = run.summary();
  CHECK(quiet.recipes.empty());
  REQUIRE(quiet.excluded.size() == 1);
  CHECK(quiet.excluded[0].reason == "its resolver");
  CHECK(quiet.excluded[0].exe == "/usr/bin/node");
  CHECK(quiet.excluded[0].paths == 2);
  CHECK(quiet.stats.excluded == 2);
  CHECK(text_report(quiet).find("excluded: net by /usr/bin/node: 2 accesses (/etc/hosts, /etc/resolv.conf): its "
                                "resolver") != std::string::npos);
  // The same executable reading another watched path is a finding.
  run.reads(102, "/usr/bin/node", {"/etc/services"});
  Summary s = run.summary();
  REQUIRE(s.recipes.size() == 1);
  CHECK(s.recipes[0].paths.size() == 1);
  CHECK(s.recipes[0].paths[0].path == "/etc/services");
}

TEST_CASE("one access, one recipe: listed under the more important recipe unless it is evidence for both") {
  const std::string rules = rules_json(
      recipe_json("machine", R"("match": [{"glob": "/sys/class/net/*/address", "operations": ["read"]}])") + "," +
      R"({"name": "net", "title": "Net", "description": "d", "importance": "low",
          "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1016", "name": "SNCD"}},
          "guidance": {"ci": "c", "staging": "s", "production": "p"},
          "match": [{"regex": "^/sys/class/net/[^/]+/(address|mtu)$", "operations": ["read"]}]},)" +
      R"({"name": "writes", "title": "W", "description": "d", "importance": "low",
          "mitre": {"tactic": {"id": "TA0003", "name": "Persistence"}, "technique": {"id": "T1", "name": "x"}},
          "guidance": {"ci": "c", "staging": "s", "production": "p"}, "operations": ["write"],
          "match": [{"glob": "/sys/class/net/*/address"}]})");
  Rules r = test::load_rules(rules.c_str());
  auto fired = [&r](std::string_view path, uint32_t op) {
    std::vector<EntryRef> matched, out;
    match_path(r, path, matched);
    fired_entries(r, matched, op, path, 1, out);
    std::vector<std::string> names;
    for (EntryRef e : out) names.push_back(r.recipes[e.recipe].name);
    return names;
  };
  using Names = std::vector<std::string>;
  CHECK(fired("/sys/class/net/eth0/address", wire::op_read) == Names{"machine"});
  CHECK(fired("/sys/class/net/eth0/mtu", wire::op_read) == Names{"net"});
  // A read-write open is a read for both read recipes (the more important keeps it) and a write,
  // which only "writes" counts: evidence for both.
  CHECK(fired("/sys/class/net/eth0/address", wire::op_read | wire::op_write) == Names{"machine", "writes"});

  // A weak entry of the more important recipe does not take a strong access from another.
  const std::string weak = rules_json(
      recipe_json("machine", R"("match": [{"glob": "/sys/class/net/*/address", "strength": "weak"}])") + "," +
      R"({"name": "net", "title": "Net", "description": "d", "importance": "low",
          "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1016", "name": "SNCD"}},
          "guidance": {"ci": "c", "staging": "s", "production": "p"},
          "match": [{"regex": "^/sys/class/net/[^/]+/address$"}]})");
  r = test::load_rules(weak.c_str());
  CHECK(fired("/sys/class/net/eth0/address", wire::op_read) == Names{"machine", "net"});
}

TEST_CASE("a recipe prefers its strong entry for an access that a weak one matches first") {
  Rules r = test::load_rules(rules_json(recipe_json("m", R"("match": [
      {"subtree": "/sys/class/net", "strength": "weak"},
      {"glob": "/sys/class/net/*/address"}]
  )"))
                                 .c_str());
  std::vector<EntryRef> matched, out;
  match_path(r, "/sys/class/net/eth0/address", matched);
  fired_entries(r, matched, wire::op_read, "/sys/class/net/eth0/address", 1, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].entry == 1);
}

TEST_CASE("rules: strength, weak and a list of techniques are checked with their place") {
  LoadedRules ok = parse(recipe_json("r", R"("match": [{"path": "/a/b", "strength": "weak"}, {"path": "/a/c"}],
      "weak": {"sources": 2, "within": "build"})"));
  REQUIRE(ok.ok());
  const Recipe& recipe = ok.rules.recipes[0];
  CHECK(recipe.match[0].strength == Strength::weak);
  CHECK(recipe.match[1].strength == Strength::strong);
  CHECK(recipe.weak_sources == 2);
  CHECK(recipe.weak_within == Within::build);
  CHECK(recipe.has_weak_entries());
  CHECK(recipe.techniques.size() == 1);
  CHECK(recipe.technique.id == "T1082");

  LoadedRules defaults = parse(recipe_json("r", R"("match": [{"path": "/a/b"}])"));
  REQUIRE(defaults.ok());
  CHECK(defaults.rules.recipes[0].weak_sources == 3);
  CHECK(defaults.rules.recipes[0].weak_within == Within::process);

  auto first_error = [](const std::string& recipe) {
    LoadedRules l = parse(recipe);
    return l.errors.empty() ? std::string() : l.errors.front().str();
  };
  CHECK(first_error(recipe_json("r", R"("match": [{"path": "/a", "strength": "medium"}])")) ==
        R"(rules.json:4:41: strength must be one of strong, weak, not "medium")");
  CHECK(first_error(recipe_json("r", R"("match": [{"path": "/a"}], "weak": {"sources": 0, "within": "process"})")) ==
        R"(rules.json:4:51: "sources" must be a whole number from 1 to 1000)");
  CHECK(first_error(recipe_json("r", R"("match": [{"path": "/a"}], "weak": {"sources": 2, "within": "job"})")) ==
        R"(rules.json:4:64: "within" must be one of process, build, not "job")");
  CHECK(first_error(recipe_json("r", R"("match": [{"path": "/a"}], "weak": {"sources": 2})")) ==
        R"(rules.json:4:39: "weak" is missing required field "within")");
  CHECK(first_error(recipe_json("r", R"("match": [{"path": "/a"}],
      "exclude": [{"exe": "/bin/x", "paths": ["etc/hosts"], "reason": "r"}])")) ==
        R"(rules.json:5:47: path pattern "etc/hosts" must be absolute)");

  const std::string two = R"({"name": "r", "title": "t", "description": "d", "importance": "low",
   "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"},
             "technique": [{"id": "T1082", "name": "System Information Discovery"},
                           {"id": "T1016", "name": "System Network Configuration Discovery"}]},
   "guidance": {"ci": "c", "staging": "s", "production": "p"}, "match": [{"path": "/a"}]})";
  LoadedRules techniques = parse(two);
  REQUIRE(techniques.ok());
  REQUIRE(techniques.rules.recipes[0].techniques.size() == 2);
  CHECK(techniques.rules.recipes[0].technique.id == "T1082");
  CHECK(techniques.rules.recipes[0].techniques[1].id == "T1016");
  std::string empty = two;
  empty.replace(empty.find("[{\"id\": \"T1082\""), empty.find("]},") - empty.find("[{\"id\": \"T1082\"") + 1, "[]");
  CHECK(first_error(empty).find("\"technique\" must not be an empty array") != std::string::npos);
}
