#include <doctest/doctest.h>

#include <errno.h>
#include <stdio.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "model/aggregate.h"
#include "collector_testing.h"
#include "supervise/control.h"
#include "cli/locate.h"
#include "report/report_json.h"
#include "report/report_text.h"
#include "rules/rules.h"

using namespace fpshim;
using namespace fpshim::test;
using json = fpshim::Json;

namespace {

const std::string kRules = rules_json(recipe_json("machine", R"("match": [{"path": "/proc/ioports"}])"));

Inspection judged(Unmonitored reason, std::string image, std::string detail = "") {
  Inspection i;
  i.readable = true;
  i.reason = reason;
  i.image = std::move(image);
  i.detail = detail.empty() ? std::string(unmonitored_name(reason)) + " detail" : detail;
  if (reason == Unmonitored::none) i.detail.clear();
  return i;
}

// Records in, summary out, with executables judged from a table instead of the disk.
struct Tree {
  Rules rules;
  Stats stats;
  std::map<std::string, Inspection> files{
      {"/bin/sh", judged(Unmonitored::none, "/usr/bin/dash")},
      {"/usr/bin/dash", judged(Unmonitored::none, "/usr/bin/dash")},
      {"/usr/bin/cat", judged(Unmonitored::none, "/usr/bin/cat")},
      {"/work/tool", judged(Unmonitored::static_binary, "/work/tool", "statically linked: LD_PRELOAD cannot see it")},
      {"/work/gotool", judged(Unmonitored::go, "/work/gotool")},
      {"/work/t32", judged(Unmonitored::elf_class, "/work/t32")},
  };
  std::vector<std::string> inspected;
  Aggregate aggregate;
  Sequencer seqs;

  Tree()
      : rules(load_rules(kRules.c_str())), aggregate(rules, stats, [this](const std::string& path) {
          inspected.push_back(path);
          auto it = files.find(path);
          return it == files.end() ? Inspection{} : it->second;
        }) {}


  void feed(const RecordSpec& spec) { deliver(aggregate, seqs.next(spec)); }

  Summary summary() {
    Summary s;
    s.build.command = {"make"};
    aggregate.summarize(s);
    return s;
  }

  // The root: make, pid 100.
  void start_make() {
    aggregate.set_root(100, 99, 900, "/usr/bin/make", {"make"});
    feed(hello(100, 99, 1000, "/usr/bin/make", {"make"}));
  }
};

const ProcessEntry* entry(const Summary& s, int32_t pid, std::string_view exe) {
  for (const ProcessEntry& e : s.processes)
    if (e.process.pid == pid && e.process.exe == exe) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("an exec in place ends the old image and pairs with the new image's hello") {
  Tree t;
  t.start_make();
  t.feed(hello(101, 100, 1100, "/usr/bin/dash", {"sh", "-c", "cat /proc/ioports"}));
  t.feed(exec(101, 1100, 1150, "/usr/bin/cat", {"cat", "/proc/ioports"}));
  t.feed(hello(101, 100, 1200, "/usr/bin/cat", {"cat", "/proc/ioports"}));
  t.feed(access(101, 1200, "/proc/ioports"));
  t.feed(bye(101, 1200, 0));
  t.feed(bye(100, 1000, 0));
  Summary s = t.summary();

  CHECK(s.coverage.unmonitored.empty());
  CHECK(s.coverage.monitored == 3);
  const ProcessEntry* sh = entry(s, 101, "/usr/bin/dash");
  const ProcessEntry* cat = entry(s, 101, "/usr/bin/cat");
  REQUIRE(sh);
  REQUIRE(cat);
  CHECK(sh->ended_ns == 1150);
  CHECK_FALSE(sh->exit_status);
  CHECK(cat->execed_from == "/usr/bin/dash");
  CHECK(cat->exit_status == 0);
  CHECK(s.stats.processes_without_bye == 0);  // the shell was replaced, not lost
  REQUIRE(s.recipes.size() == 1);
  const ProcessSummary& reader = s.recipes[0].processes[0];
  REQUIRE(reader.ancestry.size() == 1);  // the replaced shell is not an ancestor of cat
  CHECK(reader.ancestry[0].exe == "/usr/bin/make");
  CHECK(s.stats.lost == 0);
}

TEST_CASE("a static binary exec'd in place is reported unmonitored with its ancestry") {
  Tree t;
  t.start_make();
  t.feed(hello(101, 100, 1100, "/usr/bin/dash", {"sh", "-c", "./tool"}));
  t.feed(exec(101, 1100, 1150, "/work/tool", {"./tool", "-v"}));
  t.feed(bye(100, 1000, 0));
  Summary s = t.summary();

  REQUIRE(s.coverage.unmonitored.size() == 1);
  const UnmonitoredProcess& u = s.coverage.unmonitored[0];
  CHECK(u.process.pid == 101);
  CHECK(u.process.exe == "/work/tool");
  CHECK(u.reason == Unmonitored::static_binary);
  CHECK(u.detail == "statically linked: LD_PRELOAD cannot see it");
  REQUIRE(u.parent);
  CHECK(u.parent->pid == 100);
  REQUIRE(u.ancestry.size() == 1);
  CHECK(u.ancestry[0].argv == std::vector<std::string>{"make"});
  const ProcessEntry* tool = entry(s, 101, "/work/tool");
  REQUIRE(tool);
  CHECK(tool->execed_from == "/usr/bin/dash");
  CHECK(tool->reason == Unmonitored::static_binary);

  json j = report_json(s);
  const json& ju = j["coverage"]["unmonitored"][0];
  CHECK(ju["reason"] == "static");
  CHECK(ju["exe"] == "/work/tool");
  CHECK(ju["argv"] == json::array({"./tool", "-v"}));
  CHECK(ju["parent"]["pid"] == 100);
  CHECK(ju["ancestry"][0]["exe"] == "/usr/bin/make");
  CHECK(j["coverage"]["monitored"] == 2);
  bool listed = false;
  for (const json& p : j["processes"])
    if (p["exe"] == "/work/tool") {
      listed = true;
      CHECK(p["monitored"] == false);
      CHECK(p["unmonitored_reason"] == "static");
      CHECK(p["execed_from"] == "/usr/bin/dash");
      CHECK(p["ppid"] == 100);
      CHECK(p["ended"].is_null());
      CHECK(p["exit_status"].is_null());
    }
  CHECK(listed);

  std::string text = text_report(s);
  CHECK(text.find("no fingerprinting detected in monitored processes; 1 process ran unmonitored (see Coverage)") !=
        std::string::npos);
  CHECK(text.find("unmonitored: pid 101 ./tool -v (statically linked: LD_PRELOAD cannot see it) <- make") !=
        std::string::npos);
  CHECK(text.find("fpshim: no fingerprinting detected\n") == std::string::npos);
}

TEST_CASE("a failed exec leaves the image running") {
  Tree t;
  t.start_make();
  t.feed(hello(101, 100, 1100, "/usr/bin/dash", {"sh"}));
  t.feed(exec(101, 1100, 1150, "/work/tool", {"tool"}));
  t.feed(exec(101, 1100, 1151, "/work/tool", {"tool"}, 0, ENOENT));
  t.feed(exec(101, 1100, 1160, "/usr/bin/cat", {"cat"}));
  t.feed(exec(101, 1100, 1160, "/usr/bin/dash", {"sh"}, 190));  // another thread spawned meanwhile
  t.feed(hello(190, 101, 1165, "/usr/bin/dash", {"sh"}));
  t.feed(exec(101, 1100, 1161, "/usr/bin/cat", {"cat"}, 0, EACCES));
  t.feed(access(101, 1100, "/proc/ioports"));
  Summary s = t.summary();
  CHECK(s.coverage.unmonitored.empty());
  CHECK(s.processes.size() == 3);
  const ProcessEntry* sh = entry(s, 101, "/usr/bin/dash");
  REQUIRE(sh);
  CHECK(sh->ended_ns == 0);
  CHECK(s.recipes[0].paths[0].count_is_lower_bound);  // no bye, and not replaced
}

TEST_CASE("spawned children pair with their hello in either order; a silent one is no_hello") {
  Tree t;
  t.start_make();
  t.feed(hello(150, 100, 1300, "/usr/bin/dash", {"sh", "-c", "true"}));  // the child's hello came first
  t.feed(exec(100, 1000, 1350, "/bin/sh", {"sh", "-c", "true"}, 150));
  t.feed(exec(100, 1000, 1400, "/usr/bin/cat", {"cat", "x"}, 151));  // never reported
  t.feed(exec(100, 1000, 1500, "/work/t32", {"t32"}, 152, 0, wire::flag_preload_dropped));
  t.feed(exec(100, 1000, 1600, "/usr/bin/cat", {"cat", "y"}, 153, 0, wire::flag_preload_dropped));
  Summary s = t.summary();

  REQUIRE(s.coverage.unmonitored.size() == 3);
  const UnmonitoredProcess& silent = s.coverage.unmonitored[0];
  CHECK(silent.process.pid == 151);
  CHECK(silent.reason == Unmonitored::no_hello);
  CHECK(silent.detail.find("never reported") != std::string::npos);
  REQUIRE(silent.parent);
  CHECK(silent.parent->exe == "/usr/bin/make");
  CHECK(s.coverage.unmonitored[1].reason == Unmonitored::elf_class);
  CHECK(s.coverage.unmonitored[1].detail == "elf_class detail");
  CHECK(s.coverage.unmonitored[2].reason == Unmonitored::elf_class);  // the shim says so, whatever the file
  const ProcessEntry* sh = entry(s, 150, "/usr/bin/dash");
  REQUIRE(sh);
  CHECK(sh->reason == Unmonitored::none);
  CHECK_FALSE(sh->execed_from);
}

TEST_CASE("a reused pid does not pair with an old exec record") {
  Tree t;
  t.start_make();
  t.feed(hello(101, 100, 1100, "/usr/bin/dash", {"sh"}));
  t.feed(exec(101, 1100, 1150, "/usr/bin/cat", {"cat", "x"}));  // cat's environment was scrubbed: no hello
  // Much later the pid comes round again for another cat that does report.
  t.feed(hello(101, 100, 1150 + 60'000'000'000ull, "/usr/bin/cat", {"cat", "x"}));
  Summary s = t.summary();
  REQUIRE(s.coverage.unmonitored.size() == 1);
  CHECK(s.coverage.unmonitored[0].reason == Unmonitored::no_hello);
}

TEST_CASE("scripts pair through their interpreter's argv") {
  Tree t;
  t.files["/work/build.sh"] = judged(Unmonitored::none, "");  // image unknown: match on argv
  t.start_make();
  t.feed(exec(100, 1000, 1100, "/work/build.sh", {"./build.sh", "all"}, 160));
  t.feed(hello(160, 100, 1200, "/usr/bin/dash", {"/bin/sh", "/work/build.sh", "all"}));
  Summary s = t.summary();
  CHECK(s.coverage.unmonitored.empty());
}

TEST_CASE("Go programs are unmonitored even when they say hello, and listed once") {
  Tree t;
  t.start_make();
  t.feed(hello(170, 100, 1100, "/work/gotool", {"gotool"}));  // no exec record (e.g. forked by make)
  t.feed(hello(171, 100, 1200, "/usr/bin/dash", {"sh"}));
  t.feed(exec(171, 1200, 1250, "/work/gotool", {"gotool", "2"}));
  t.feed(hello(171, 100, 1300, "/work/gotool", {"gotool", "2"}));
  Summary s = t.summary();
  REQUIRE(s.coverage.unmonitored.size() == 2);
  CHECK(s.coverage.unmonitored[0].reason == Unmonitored::go);
  CHECK(s.coverage.unmonitored[0].process.pid == 170);
  CHECK(s.coverage.unmonitored[1].reason == Unmonitored::go);
  CHECK(s.coverage.unmonitored[1].process.argv.back() == "2");
  CHECK(s.processes.size() == 4);
}

TEST_CASE("a vfork child's exec record borrows its parent's nonce and seqs") {
  Tree t;
  t.start_make();
  t.feed(access(100, 1000, "/proc/ioports"));  // seq 1
  RecordSpec vforked = exec(101, 1000, 1150, "/usr/bin/cat", {"cat", "x"});
  vforked.ppid = 100;
  vforked.seq = 2;  // from the parent's counter
  t.feed(vforked);
  RecordSpec later = access(100, 1000, "/proc/ioports");
  later.seq = 3;
  t.feed(later);
  t.feed(hello(101, 100, 1200, "/usr/bin/cat", {"cat", "x"}));
  Summary s = t.summary();
  CHECK(s.coverage.unmonitored.empty());
  CHECK(s.stats.lost == 0);
  const ProcessEntry* cat = entry(s, 101, "/usr/bin/cat");
  REQUIRE(cat);
  CHECK(cat->execed_from == "/usr/bin/make");  // the vfork child ran make's image until the exec
  REQUIRE(cat->process.known);
}

TEST_CASE("the root command: its launch pairs with its hello, its exit status goes to its last image") {
  Tree t;
  t.aggregate.set_root(100, 99, 900, "/bin/sh", {"sh", "-c", "exec cat"});
  t.feed(hello(100, 99, 1000, "/usr/bin/dash", {"sh", "-c", "exec cat"}));
  t.feed(exec(100, 1000, 1100, "/usr/bin/cat", {"cat"}));
  t.feed(hello(100, 99, 1200, "/usr/bin/cat", {"cat"}));
  t.aggregate.set_root_exit(130, 5000);
  Summary s = t.summary();
  CHECK(s.coverage.unmonitored.empty());
  const ProcessEntry* cat = entry(s, 100, "/usr/bin/cat");
  REQUIRE(cat);
  CHECK(cat->exit_status == 130);
  CHECK(cat->ended_ns == 5000);
  CHECK_FALSE(entry(s, 100, "/usr/bin/dash")->exit_status);
}

TEST_CASE("a static root command never says hello and is reported") {
  Tree t;
  t.aggregate.set_root(100, 99, 900, "/work/tool", {"./tool"});
  t.aggregate.set_root_exit(0, 2000);
  Summary s = t.summary();
  REQUIRE(s.coverage.unmonitored.size() == 1);
  CHECK(s.coverage.unmonitored[0].reason == Unmonitored::static_binary);
  CHECK_FALSE(s.coverage.unmonitored[0].parent);
  CHECK(s.processes[0].exit_status == 0);
  CHECK(s.processes[0].ppid == 99);
}

TEST_CASE("exec records: env_restored is counted and targets are inspected once, when they arrive") {
  Tree t;
  t.start_make();
  t.feed(exec(100, 1000, 1100, "/usr/bin/cat", {"cat"}, 0, 0, wire::flag_env_restored));
  t.feed(exec(100, 1000, 1101, "/usr/bin/cat", {"cat"}, 0, ENOENT, wire::flag_env_restored));
  RecordSpec relative = exec(100, 1000, 1200, "tool", {"tool"}, 180);
  relative.strings[1] = "tool";
  t.feed(relative);
  Summary s = t.summary();
  CHECK(s.stats.env_restored == 1);
  CHECK(std::count(t.inspected.begin(), t.inspected.end(), "/usr/bin/cat") == 1);
  CHECK(std::count(t.inspected.begin(), t.inspected.end(), "/work/tool") == 1);  // against the cwd
}

TEST_CASE("control messages survive the pipe") {
  ControlMessage root;
  root.root_pid = 42;
  root.started_ns = 7;
  ControlMessage finish;
  finish.type = ControlMessage::Type::finish;
  finish.exit_code = 137;
  finish.signal = 9;
  finish.ended_ns = 9;
  finish.linger_expired = true;
  finish.collector_restarts = 2;
  finish.collector_stopped = 4;
  std::string bytes = encode_message(root) + "garbage\n" + encode_message(finish);
  ControlReader reader;
  std::vector<ControlMessage> got = reader.feed(bytes.substr(0, 5));
  CHECK(got.empty());
  got = reader.feed(bytes.substr(5));
  REQUIRE(got.size() == 2);
  CHECK(got[0].type == ControlMessage::Type::root);
  CHECK(got[0].root_pid == 42);
  CHECK(got[1].type == ControlMessage::Type::finish);
  CHECK(got[1].signal == 9);
  CHECK(got[1].collector_restarts == 2);
  CHECK(got[1].collector_stopped == 4);
  CHECK(got[1].linger_expired);

  ControlMessage clean = finish;
  clean.signal.reset();
  clean.exit_code = 3;
  clean.linger_expired = false;
  got = reader.feed("root 5\nfinish 1 2 - 3 0\nroot 1 2 3\n" + encode_message(clean));
  REQUIRE(got.size() == 1);  // the three hand-made lines miss or add a word
  CHECK_FALSE(got[0].signal.has_value());
  CHECK(got[0].exit_code == 3);
  CHECK_FALSE(got[0].linger_expired);
}

TEST_CASE("find_program looks where posix_spawnp looks") {
  CHECK(find_program("/x/y", "/w") == "/x/y");
  CHECK(find_program("./tool", "/w") == "/w/tool");
  CHECK(find_program("a/./b//c", "/w/") == "/w/a/b/c");
  CHECK(find_program("../tool", "/w") == "/w/../tool");
  std::string sh = find_program("sh", "/");
  CHECK((sh == "/usr/bin/sh" || sh == "/bin/sh" || sh == "/usr/local/bin/sh"));
  CHECK(find_program("no-such-program-fpshim", "/") == "");
}
