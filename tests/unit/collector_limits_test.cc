// The collector's memory limits: paths beyond a recipe's limit are folded into counts per rule entry,
// and the reports say exactly what was folded.
#include <doctest/doctest.h>

#include <errno.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "model/aggregate.h"
#include "collector_testing.h"
#include "model/hashing.h"
#include "rules/match.h"
#include "model/recipe_hits.h"
#include "report/report_json.h"
#include "report/report_text.h"
#include "rules/rules.h"

using namespace fpshim;
using namespace fpshim::test;
using json = fpshim::Json;

namespace {

const std::string kRules = rules_json(recipe_json("machine", R"(
    "match": [{"path": "/proc/ioports"}, {"subtree": "/sys/class/dmi"}, {"glob": "/sys/class/net/*/address"}],
    "exclude": [{"exe": "/usr/bin/lspci", "reason": "by design"}])"));

constexpr size_t kLimit = RecipeHits::kMaxPaths;

struct Fixture {
  Rules rules;
  Stats stats;
  Aggregate aggregate;
  Sequencer seqs;

  Fixture() : rules(load_rules(kRules.c_str())), aggregate(rules, stats) {}

  void feed(const RecordSpec& spec) { deliver(aggregate, seqs.next(spec)); }

  // `count` distinct DMI paths, numbered from `first`, read once each by the process.
  void read_dmi(int32_t pid, uint64_t nonce, size_t first, size_t count, int32_t result = 0) {
    for (size_t i = first; i < first + count; i++)
      feed(access(pid, nonce, "/sys/class/dmi/id/p" + std::to_string(i), wire::op_read, result));
  }

  Summary summary() {
    Summary s;
    s.build.command = {"make"};
    aggregate.summarize(s);
    return s;
  }
};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("below the path limit nothing is folded and the report keeps its shape") {
  Fixture fx;
  fx.feed(hello(100, 1, 1000, "/bin/cat", {"cat"}));
  fx.read_dmi(100, 1000, 0, kLimit);
  fx.feed(bye(100, 1000));
  Summary s = fx.summary();
  REQUIRE(s.recipes.size() == 1);
  const RecipeSummary& r = s.recipes[0];
  CHECK(r.paths.size() == kLimit);
  CHECK(r.folded.empty());
  CHECK(r.hits == kLimit);
  CHECK(r.processes[0].paths.size() == kLimit);
  CHECK(s.stats.folded_paths == 0);
  CHECK(s.stats.folded_records == 0);
  json j = report_json(s);
  CHECK(j["recipes"][0]["folded"] == json::array());
  CHECK(j["stats"]["folded_paths"] == 0);
  CHECK(j["stats"]["folded_records"] == 0);
  CHECK_FALSE(contains(text_report(s), "folded"));
}

TEST_CASE("paths beyond the limit are folded per rule entry with exact counts") {
  Fixture fx;
  fx.feed(hello(100, 1, 1000, "/bin/find", {"find", "/sys"}));
  fx.feed(hello(200, 1, 2000, "/bin/cat", {"cat"}));
  fx.read_dmi(100, 1000, 0, kLimit);                                        // fills the limit
  fx.read_dmi(100, 1000, kLimit, 1000);                                     // folded: 1000 new paths
  fx.read_dmi(200, 2000, kLimit + 500, 700, ENOENT);                        // 500 of them again, 200 more, all failing
  fx.feed(access(200, 2000, "/sys/class/dmi/id/p7", wire::op_read, 0, 3));  // a listed path still counts
  fx.feed(access(200, 2000, "/sys/class/net/eth0/address"));                // another entry's first new path
  fx.feed(bye(100, 1000));
  fx.feed(bye(200, 2000));

  Summary s = fx.summary();
  REQUIRE(s.recipes.size() == 1);
  const RecipeSummary& r = s.recipes[0];
  CHECK(r.paths.size() == kLimit);
  CHECK(r.hits == kLimit + 1000 + 700 + 3 + 1);
  REQUIRE(r.folded.size() == 2);

  const FoldedSummary& dmi = r.folded[0];
  CHECK(dmi.entry_index == 1);
  CHECK(dmi.entry->text == "/sys/class/dmi");
  CHECK(dmi.paths == 1200);
  CHECK(dmi.paths_exact);
  CHECK(dmi.records == 1700);
  CHECK(dmi.count == 1700);
  CHECK_FALSE(dmi.count_is_lower_bound);
  CHECK(dmi.failed == 700);
  CHECK(dmi.errors == std::vector<int>{ENOENT});
  CHECK(dmi.operations == wire::op_read);
  CHECK(dmi.processes == 2);
  CHECK(dmi.examples.size() == RecipeHits::kFoldedExamples);
  CHECK(std::is_sorted(dmi.examples.begin(), dmi.examples.end()));
  CHECK(dmi.examples[0].starts_with("/sys/class/dmi/id/p"));

  const FoldedSummary& net = r.folded[1];
  CHECK(net.entry_index == 2);
  CHECK(net.paths == 1);
  CHECK(net.examples == std::vector<std::string>{"/sys/class/net/eth0/address"});

  const PathSummary& p7 = *std::find_if(r.paths.begin(), r.paths.end(),
                                        [](const PathSummary& p) { return p.path == "/sys/class/dmi/id/p7"; });
  CHECK(p7.count == 4);
  CHECK_FALSE(p7.count_is_lower_bound);

  REQUIRE(r.processes.size() == 2);
  CHECK(r.processes[0].paths.size() == kLimit);
  CHECK(r.processes[1].process.pid == 200);
  CHECK(r.processes[1].paths == std::vector<std::string>{"/sys/class/dmi/id/p7"});  // listed paths only

  CHECK(s.stats.folded_paths == 1201);
  CHECK(s.stats.folded_records == 1701);

  json j = report_json(s);
  const json& f = j["recipes"][0]["folded"][0];
  CHECK(f["entry"] == json{{"index", 1}, {"subtree", "/sys/class/dmi"}});
  CHECK(f["paths"] == 1200);
  CHECK(f["paths_exact"] == true);
  CHECK(f["records"] == 1700);
  CHECK(f["count"] == 1700);
  CHECK(f["failed"] == 700);
  CHECK(f["errors"] == json::array({"ENOENT"}));
  CHECK(f["operations"] == json::array({"read"}));
  CHECK(f["processes"] == 2);
  CHECK(f["examples"].size() == RecipeHits::kFoldedExamples);
  CHECK(j["recipes"][0]["folded"][1]["entry"] == json{{"index", 2}, {"glob", "/sys/class/net/*/address"}});
  CHECK(j["stats"]["folded_paths"] == 1201);
  CHECK(j["stats"]["folded_records"] == 1701);

  std::string text = text_report(s);
  CHECK(contains(
      text, "    ... and 1200 more paths folded (entry subtree /sys/class/dmi): 1700 accesses, 700 failed: ENOENT\n"));
  CHECK(contains(text, "    ... and 1 more path folded (entry glob /sys/class/net/*/address): 1 access\n"));
  CHECK(contains(text,
                 "fpshim: 1701 record(s) were folded into counts per rule entry (a recipe lists at most 4096 paths"));
}

TEST_CASE("folded counts leave out excluded executables and mark processes without bye") {
  Fixture fx;
  fx.feed(hello(100, 1, 1000, "/bin/find", {"find", "/sys"}));
  fx.read_dmi(100, 1000, 0, kLimit + 10);
  fx.feed(hello(300, 1, 3000, "/usr/bin/lspci", {"lspci"}));
  fx.read_dmi(300, 3000, kLimit + 10, 5);
  Summary s = fx.summary();
  const RecipeSummary& r = s.recipes[0];
  REQUIRE(r.folded.size() == 1);
  CHECK(r.folded[0].count == 10);
  CHECK(r.folded[0].processes == 1);
  CHECK(r.folded[0].count_is_lower_bound);  // pid 100 said no bye
  CHECK(s.stats.excluded == 5);
  CHECK(s.stats.folded_records == 10);
  REQUIRE(r.processes.size() == 1);
  CHECK(r.processes[0].process.pid == 100);
}

TEST_CASE("a process that reached only folded paths is listed among the recipe's processes") {
  Fixture fx;
  fx.read_dmi(100, 1000, 0, kLimit);
  fx.feed(hello(400, 1, 4000, "/bin/cat", {"cat"}));
  fx.read_dmi(400, 4000, kLimit, 1);
  Summary s = fx.summary();
  const RecipeSummary& r = s.recipes[0];
  REQUIRE(r.processes.size() == 2);
  CHECK(r.processes[1].process.pid == 400);
  CHECK(r.processes[1].paths.empty());
  CHECK(r.folded[0].paths == 1);
}

TEST_CASE("beyond the exact limit the number of distinct folded paths is an estimate") {
  Fixture fx;
  const size_t folded = RecipeHits::kMaxExactFolded + 30'000;
  fx.read_dmi(100, 1000, 0, kLimit + folded);
  fx.read_dmi(100, 1000, kLimit, 1000);  // seen already
  Summary s = fx.summary();
  const FoldedSummary& f = s.recipes[0].folded.at(0);
  CHECK_FALSE(f.paths_exact);
  CHECK(f.records == folded + 1000);
  CHECK(double(f.paths) == doctest::Approx(double(folded)).epsilon(0.05));
  CHECK(f.paths <= f.records);
  CHECK(contains(text_report(s), "... and about "));
}

TEST_CASE("past the limit of path-process pairs a listed path's count is a lower bound") {
  Fixture fx;
  const int32_t processes = int32_t(RecipeHits::kMaxTallies) + 2;
  for (int32_t pid = 1; pid <= processes; pid++) {
    fx.feed(access(pid, 10, "/proc/ioports"));
    fx.feed(bye(pid, 10));
  }
  Summary s = fx.summary();
  const RecipeSummary& r = s.recipes[0];
  REQUIRE(r.paths.size() == 1);
  CHECK(r.paths[0].count == RecipeHits::kMaxTallies);
  CHECK(r.paths[0].count_is_lower_bound);
  REQUIRE(r.folded.size() == 1);
  CHECK(r.folded[0].paths == 0);
  CHECK(r.folded[0].count == 2);
  CHECK(r.folded[0].processes == 2);
  CHECK(r.hits == uint64_t(processes));
  CHECK(r.processes.size() == size_t(processes));
  CHECK(contains(text_report(s), "    ... and 2 accesses by more processes folded (entry path /proc/ioports)\n"));
}

TEST_CASE("the match cache answers for the path asked, whatever shares its slot") {
  const Rules rules = load_rules(kRules.c_str());
  MatchCache cache(rules);
  CHECK(cache.entries("/proc/ioports", 7) == std::vector<EntryRef>{{0, 0}});
  CHECK(cache.entries("/sys/class/dmi/id/x", 7) == std::vector<EntryRef>{{0, 1}});
  CHECK(cache.entries("/etc/hosts", 7).empty());
  CHECK(cache.entries("/proc/ioports", 7) == std::vector<EntryRef>{{0, 0}});
  std::string long_path = "/sys/class/dmi/" + std::string(1000, 'x');
  CHECK(cache.entries(long_path, hash_bytes(long_path)) == std::vector<EntryRef>{{0, 1}});
}

TEST_CASE("hash tables: indexes with caller-checked keys, a bounded set, a distinct estimate") {
  HashIndex index;
  std::vector<std::string> items;
  for (int i = 0; i < 1000; i++) {
    items.push_back("item" + std::to_string(i));
    index.insert(uint64_t(i % 10), uint32_t(i));  // many share a hash
  }
  for (int i = 0; i < 1000; i += 37)
    CHECK(index.find(uint64_t(i % 10), [&](uint32_t k) { return items[k] == items[size_t(i)]; }) == uint32_t(i));
  CHECK(index.find(3, [](uint32_t) { return false; }) == HashIndex::kNone);

  BoundedHashSet set(3);
  CHECK(set.insert(0) == BoundedHashSet::Insert::fresh);
  CHECK(set.insert(0) == BoundedHashSet::Insert::present);
  CHECK(set.insert(5) == BoundedHashSet::Insert::fresh);
  CHECK(set.insert(9) == BoundedHashSet::Insert::fresh);
  CHECK(set.insert(11) == BoundedHashSet::Insert::full);
  CHECK(set.insert(5) == BoundedHashSet::Insert::present);

  DistinctEstimate estimate;
  CHECK(estimate.estimate() == 0);
  for (uint64_t i = 0; i < 1'000'000; i++) estimate.add(mix64(i % 500'000));
  CHECK(double(estimate.estimate()) == doctest::Approx(500'000.0).epsilon(0.05));
  DistinctEstimate few;
  for (uint64_t i = 0; i < 100; i++) few.add(mix64(i));
  CHECK(double(few.estimate()) == doctest::Approx(100.0).epsilon(0.05));
}
