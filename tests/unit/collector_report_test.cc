#include <doctest/doctest.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/aggregate.h"
#include "collector_testing.h"
#include "base/as_text.h"
#include "report/report_json.h"
#include "report/report_text.h"
#include "rules/rules.h"

using namespace fpshim;
using namespace fpshim::test;
using json = fpshim::Json;

namespace {

const char* kRules = R"({"schema": 1, "recipes": [
  {"name": "machine", "title": "Machine", "description": "d", "importance": "medium",
   "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1082", "name": "SID"}},
   "guidance": {"ci": "Look at the step.", "staging": "s", "production": "p"},
   "match": [{"subtree": "/sys/class/dmi"}, {"path": "/proc/ioports"}],
   "exclude": [{"exe": "/usr/bin/lspci", "reason": "by design"}]},
  {"name": "net", "title": "Net", "description": "d", "importance": "low",
   "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1016", "name": "SNCD"}},
   "guidance": {"ci": "c", "staging": "s", "production": "p"},
   "match": [{"path": "/etc/resolv.conf", "operations": ["read"]}]},
  {"name": "critical_one", "title": "Crit", "description": "d", "importance": "critical",
   "mitre": {"tactic": {"id": "x", "name": "x"}, "technique": {"id": "y", "name": "y"}},
   "guidance": {"ci": "c", "staging": "s", "production": "p"},
   "match": [{"path": "/proc/kcore"}]}
]})";

struct Fixture {
  Rules rules;
  Stats stats;
  Aggregate aggregate;

  Fixture() : rules(load_rules(kRules)), aggregate(rules, stats) {}

  Sequencer seqs;

  void feed(const RecordSpec& spec) { deliver(aggregate, seqs.next(spec)); }

  Summary summary() {
    Summary s;
    s.build.command = {"make", "-j4"};
    s.build.exit_code = 0;
    aggregate.summarize(s);
    return s;
  }
};

const RecipeSummary* find_recipe(const Summary& s, std::string_view name) {
  for (const RecipeSummary& r : s.recipes)
    if (r.recipe->name == name) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("invalid UTF-8 is escaped and kept exactly in a _hex sibling") {
  json obj = json::object();
  put_bytes(obj, "path", "/tmp/ok/é");
  CHECK(obj["path"] == "/tmp/ok/é");
  CHECK_FALSE(obj.contains("path_hex"));

  put_bytes(obj, "path",
            std::string("/tmp/\xff\xfe"
                        "a\xc3",
                        9));
  CHECK(obj["path"] == "/tmp/\\xff\\xfea\\xc3");
  CHECK(obj["path_hex"] == "2f746d702ffffe61c3");
  CHECK_NOTHROW((void)obj.dump());

  put_bytes(obj, "overlong", std::string("\xc0\xaf", 2));
  CHECK(obj["overlong"] == "\\xc0\\xaf");
  put_bytes(obj, "surrogate", std::string("\xed\xa0\x80", 3));
  CHECK(obj["surrogate_hex"] == "eda080");

  put_bytes_array(obj, "argv", {"cat", std::string("\x80", 1)});
  CHECK(obj["argv"] == json::array({"cat", "\\x80"}));
  CHECK(obj["argv_hex"] == json::array({"636174", "80"}));
  CHECK_NOTHROW((void)obj.dump());
}

TEST_CASE("render helpers") {
  CHECK(iso_time(1'700'000'000'123'456'789ull) == "2023-11-14T22:13:20.123Z");
  CHECK(errno_name(ENOENT) == "ENOENT");
  CHECK(signal_name(15) == "SIGTERM");
  CHECK(shell_command({"sh", "-c", "cat /x", "it's"}) == "sh -c 'cat /x' 'it'\\''s'");
  CHECK(shell_command({"a\nb"}) == "'a\\x0ab'");
}

TEST_CASE("aggregation: counts, failures, lower bounds, ancestry, exclusions") {
  Fixture fx;
  fx.aggregate.set_root_pid(100);
  fx.feed(hello(100, 1, 1000, "/usr/bin/make", {"make", "-j4"}));
  fx.feed(hello(101, 100, 1100, "/bin/sh", {"sh", "-c", "cat /sys/class/dmi/id/product_uuid"}));
  fx.feed(hello(102, 101, 1200, "/bin/cat", {"cat", "/sys/class/dmi/id/product_uuid"}));
  fx.feed(access(102, 1200, "/sys/class/dmi/id/product_uuid"));
  RecordSpec repeat = access(102, 1200, "/sys/class/dmi/id/product_uuid", wire::op_read, 0, 3);
  repeat.flags = wire::flag_repeat;
  repeat.time_ns = 5000;
  fx.feed(repeat);
  fx.feed(access(102, 1200, "/sys/class/dmi/id/board_serial", wire::op_read, EACCES, 2));
  fx.feed(access(102, 1200, "/proc/cpuinfo"));                    // only the filter's superset
  fx.feed(access(102, 1200, "/etc/resolv.conf", wire::op_stat));  // operation not watched
  fx.feed(bye(102, 1200));

  // A process that never says bye: its counts are lower bounds.
  fx.feed(hello(103, 100, 1300, "/usr/bin/python3", {"python3", "x.py"}));
  fx.feed(access(103, 1300, "/proc/ioports"));
  fx.feed(access(103, 1300, "/proc/kcore"));
  // An excluded executable.
  fx.feed(hello(104, 100, 1400, "/usr/bin/lspci", {"lspci"}));
  fx.feed(access(104, 1400, "/proc/ioports", wire::op_read, 0, 5));
  fx.feed(bye(104, 1400));
  fx.feed(bye(100, 1000));

  Summary s = fx.summary();
  REQUIRE(s.recipes.size() == 2);
  CHECK(s.recipes[0].recipe->name == "critical_one");  // by importance first
  CHECK(s.recipes[1].recipe->name == "machine");

  const RecipeSummary& m = *find_recipe(s, "machine");
  CHECK(m.hits == 1 + 3 + 2 + 1);
  REQUIRE(m.paths.size() == 3);
  CHECK(m.paths[0].path == "/proc/ioports");
  CHECK(m.paths[0].count == 1);  // lspci's 5 are excluded
  CHECK(m.paths[0].count_is_lower_bound);
  CHECK(m.paths[1].path == "/sys/class/dmi/id/board_serial");
  CHECK(m.paths[1].failed == 2);
  CHECK(m.paths[1].errors == std::vector<int>{EACCES});
  CHECK(m.paths[2].path == "/sys/class/dmi/id/product_uuid");
  CHECK(m.paths[2].count == 4);
  CHECK_FALSE(m.paths[2].count_is_lower_bound);
  CHECK(m.paths[2].failed == 0);
  CHECK(m.paths[2].operations == wire::op_read);
  CHECK(m.paths[2].first_seen_ns == 1210);
  CHECK(m.paths[2].last_seen_ns == 5000);

  REQUIRE(m.processes.size() == 2);
  const ProcessSummary& cat = m.processes[0];
  CHECK(cat.process.pid == 102);
  CHECK(cat.process.exe == "/bin/cat");
  CHECK(cat.paths == std::vector<std::string>{"/sys/class/dmi/id/board_serial", "/sys/class/dmi/id/product_uuid"});
  REQUIRE(cat.ancestry.size() == 2);
  CHECK(cat.ancestry[0].pid == 101);
  CHECK(cat.ancestry[0].argv[0] == "sh");
  CHECK(cat.ancestry[1].pid == 100);
  CHECK(cat.ancestry[1].exe == "/usr/bin/make");

  CHECK(s.stats.unmatched == 2);
  CHECK(s.stats.excluded == 1);
  CHECK(s.stats.processes == 5);
  CHECK(s.stats.processes_without_bye == 1);  // python3; the shell said only hello, so it owes no bye
  CHECK(s.processes_seen == 5);
}

TEST_CASE("ancestry picks the right image of a reused or exec'd pid and stops at the root") {
  Fixture fx;
  fx.aggregate.set_root_pid(50);
  fx.feed(hello(40, 1, 500, "/usr/bin/outer", {"outer"}));  // above the root: never listed
  fx.feed(hello(50, 40, 1000, "/bin/sh", {"sh", "build.sh"}));
  fx.feed(hello(60, 50, 2000, "/bin/sh", {"sh", "-c", "old"}));
  fx.feed(bye(60, 2000));
  fx.feed(hello(60, 50, 3000, "/usr/bin/env", {"env", "new"}));     // pid 60 reused
  fx.feed(hello(60, 50, 3500, "/usr/bin/node", {"node", "x.js"}));  // env exec'd node
  fx.feed(hello(70, 60, 4000, "/bin/cat", {"cat"}));
  fx.feed(access(70, 4000, "/proc/ioports"));
  fx.feed(hello(71, 999, 4100, "/bin/cat", {"cat"}));  // parent unknown (e.g. a static binary)
  fx.feed(access(71, 4100, "/proc/ioports"));
  fx.feed(access(50, 1000, "/proc/ioports"));  // the root itself

  Summary s = fx.summary();
  const RecipeSummary& m = *find_recipe(s, "machine");
  REQUIRE(m.processes.size() == 3);
  CHECK(m.processes[0].process.pid == 50);
  CHECK(m.processes[0].ancestry.empty());
  const ProcessSummary& cat = m.processes[1];
  REQUIRE(cat.ancestry.size() == 2);
  CHECK(cat.ancestry[0].exe == "/usr/bin/node");
  CHECK(cat.ancestry[1].pid == 50);
  CHECK(m.processes[2].ancestry.empty());
  CHECK(m.paths[0].count == 3);
}

TEST_CASE("records before hello and processes without hello") {
  Fixture fx;
  fx.feed(access(80, 800, "/proc/ioports"));  // its hello went to the spool
  Summary s = fx.summary();
  REQUIRE(s.recipes.size() == 1);
  CHECK_FALSE(s.recipes[0].processes[0].process.known);
  json j = report_json(s);
  CHECK(j["recipes"][0]["processes"][0]["exe"].is_null());
  CHECK(s.stats.processes == 0);
  CHECK(s.processes_seen == 1);
}

TEST_CASE("the JSON report has the documented shape") {
  Fixture fx;
  fx.aggregate.set_root_pid(100);
  fx.feed(hello(100, 1, 1000, "/bin/sh", {"sh", "-c", "cat /proc/ioports"}));
  fx.feed(hello(101, 100, 1100, "/bin/cat", {"cat", std::string("/tmp/\xff", 6)}));
  fx.feed(access(101, 1100, "/proc/ioports"));
  fx.feed(bye(101, 1100));
  Summary s = fx.summary();
  s.build.id = 0xabc;
  s.build.signal = 15;
  s.build.exit_code = 143;
  json j = report_json(s);
  CHECK(j["fpshim"]["schema"] == 1);
  CHECK(j["build"]["id"] == "0000000000000abc");
  CHECK(j["build"]["command"] == json::array({"make", "-j4"}));
  CHECK(j["build"]["exit_code"] == 143);
  CHECK(j["build"]["signal"] == 15);
  const json& r = j["recipes"][0];
  CHECK(r["name"] == "machine");
  CHECK(r["importance"] == "medium");
  CHECK(r["technique"]["id"] == "T1082");
  CHECK(r["tactic"]["name"] == "Discovery");
  CHECK(r["hits"] == 1);
  CHECK(r["guidance"]["ci"] == "Look at the step.");
  const json& p = r["paths"][0];
  CHECK(p["path"] == "/proc/ioports");
  CHECK(p["count"] == 1);
  CHECK(p["count_is_lower_bound"] == false);
  CHECK(p["failed"] == 0);
  CHECK(p["errors"] == json::array());
  CHECK(p["operations"] == json::array({"read"}));
  CHECK(p["spellings"] == json::array({"/proc/ioports"}));
  CHECK(p["first_seen"].get<std::string>().ends_with("Z"));
  const json& proc = r["processes"][0];
  CHECK(proc["pid"] == 101);
  CHECK(proc["argv"] == json::array({"cat", "/tmp/\\xff"}));
  CHECK(proc["argv_hex"][1] == "2f746d702fff");
  CHECK(proc["paths"] == json::array({"/proc/ioports"}));
  CHECK(proc["ancestry"][0]["exe"] == "/bin/sh");
  CHECK(j["processes_seen"] == 2);
  for (const char* key : {"records", "lost", "late", "malformed", "refused", "unmatched", "processes"})
    CHECK(j["stats"].contains(key));
  CHECK_NOTHROW((void)j.dump());

  std::string text = text_report(s);
  CHECK(text.find("fpshim: build `make -j4` was killed by SIGTERM (exit 143)") != std::string::npos);
  CHECK(text.find("[medium] machine: Machine") != std::string::npos);
  CHECK(text.find("pid 101: cat '/tmp/\\xff'  <-  sh -c 'cat /proc/ioports'") != std::string::npos);
  CHECK(text.find("in CI: Look at the step.") != std::string::npos);
}

TEST_CASE("the text report says so when nothing fired") {
  Fixture fx;
  fx.feed(hello(100, 1, 1000, "/bin/true", {"true"}));
  Summary s = fx.summary();
  std::string text = text_report(s);
  CHECK(text.find("fpshim: build `make -j4` exited with 0") != std::string::npos);
  CHECK(text.find("fpshim: no fingerprinting detected") != std::string::npos);
}

TEST_CASE("a hello's exe as executed resolves as /proc/self/exe would") {
  auto real = [](const std::string& p) {
    char out[PATH_MAX];
    REQUIRE(realpath(p.c_str(), out) != nullptr);
    return std::string(out);
  };
  char tmpl[] = "/tmp/fpshim-exe-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = real(tmpl);
  std::filesystem::create_symlink(real("/bin/true"), dir + "/link");
  std::ofstream(dir + "/script.sh") << "#!/bin/sh\necho hi\n";
  std::ofstream(dir + "/bare.sh") << "#!/bin/sh";
  std::ofstream(dir + "/plain.txt") << "not a script\n";

  Fixture fx;
  int32_t pid = 200;
  auto exe_of = [&](const std::string& cwd, const std::string& executed) {
    pid++;
    RecordSpec h = hello(pid, 1, 1000 + uint64_t(pid), executed, {"x"});
    h.strings[1] = cwd;
    h.flags = wire::flag_exe_as_executed;
    fx.feed(h);
    return fx.aggregate.tree().find(ProcessKey{pid, 1000 + uint64_t(pid)})->exe;
  };
  CHECK(exe_of("/", dir + "/link") == real("/bin/true"));  // symlinks resolved
  CHECK(exe_of(dir, "link") == real("/bin/true"));         // relative to the cwd
  CHECK(exe_of(dir, "./script.sh") == real("/bin/sh"));    // a script: its interpreter
  CHECK(exe_of(dir, "bare.sh") == real("/bin/sh"));        // no newline after it
  CHECK(exe_of(dir, "plain.txt") == dir + "/plain.txt");
  CHECK(exe_of(dir, "gone") == dir + "/gone");  // no longer there: as joined
  CHECK(exe_of("", "relative") == "relative");
  std::filesystem::remove_all(dir);
}
