// serve's live events (serve/live_events.h): one event per (build, process, path, recipe), the
// recipe's exclusions, the cap per build, records that wait for their process's hello.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "collector_records.h"
#include "collector_testing.h"
#include "serve/builds_live.h"
#include "serve/live_events.h"

using namespace fpshim;
using namespace fpshim::test;
using json = fpshim::Json;

namespace {

const std::string kRules = rules_json(recipe_json("machine", R"(
    "match": [{"path": "/proc/ioports"}, {"subtree": "/sys/class/dmi"}],
    "exclude": [{"exe": "/usr/bin/lspci", "reason": "by design"}])"));

struct Fixture {
  std::string file;
  ReportOutputs outputs;
  std::unique_ptr<LiveEvents> live;
  Sequencer seq;

  explicit Fixture(size_t cap) {
    char tmpl[] = "/tmp/fpshim-live-XXXXXX";
    const int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    file = tmpl;
    outputs.events = file;
    live = std::make_unique<LiveEvents>(outputs, cap);
    std::string error;
    REQUIRE(live->open(error));
    live->set_rules(std::make_shared<const Rules>(load_rules(kRules.c_str())));
  }
  ~Fixture() { unlink(file.c_str()); }

  void feed(const LiveBuild& b, const RecordSpec& spec) {
    const std::string bytes = encode(seq.next(spec));
    wire::Header h;
    memcpy(&h, bytes.data(), sizeof h);
    live->on_filed(0, b, h, bytes, false);
  }

  std::vector<json> lines() const {
    std::ifstream in(file);
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
};

LiveBuild build(const std::string& id) {
  LiveBuild b;
  b.id = id;
  return b;
}

}  // namespace

TEST_CASE("live events: once per (process, path, recipe), exclusions, and the cap per build") {
  Fixture f(2);
  const LiveBuild b = build("00000000000000b1");
  f.feed(b, hello(100, 1, 1000, "/bin/sh", {"sh", "-c", "x"}));
  f.feed(b, hello(101, 100, 1100, "/usr/bin/cat", {"cat", "/proc/ioports"}));
  f.feed(b, access(101, 1100, "/proc/ioports"));
  f.feed(b, access(101, 1100, "/proc/ioports", wire::op_stat));  // same key: no second event
  f.feed(b, access(101, 1100, "/etc/passwd"));                   // no recipe
  f.feed(b, hello(102, 100, 1200, "/usr/bin/lspci", {"lspci"}));
  f.feed(b, access(102, 1200, "/proc/ioports"));  // excluded executable
  std::vector<json> ev = f.lines();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["rule"]["id"] == "machine");
  CHECK(ev[0]["file"]["path"] == "/proc/ioports");
  CHECK(ev[0]["event"]["action"] == "read");
  CHECK(ev[0]["process"]["pid"] == 101);
  CHECK(ev[0]["process"]["name"] == "cat");
  CHECK(ev[0]["process"]["parent"]["pid"] == 100);
  CHECK(ev[0]["process"]["parent"]["args"] == json::array({"sh", "-c", "x"}));
  CHECK(ev[0]["fpshim"]["build"]["id"] == "00000000000000b1");
  CHECK(ev[0]["fpshim"]["ancestry"].size() == 1);

  f.feed(b, access(100, 1000, "/proc/ioports"));           // another process: its own event
  f.feed(b, access(101, 1100, "/sys/class/dmi/id/uuid"));  // past the cap of 2: counted
  f.feed(b, access(101, 1100, "/sys/class/dmi/id/uuid"));
  CHECK(f.lines().size() == 2);
  CHECK(f.live->counts(0, b.id).written == 2);
  CHECK(f.live->counts(0, b.id).past_cap == 2);

  // Another build has its own keys.
  const LiveBuild other = build("00000000000000b2");
  f.feed(other, hello(101, 100, 1100, "/usr/bin/cat", {"cat", "/proc/ioports"}));
  f.feed(other, access(101, 1100, "/proc/ioports"));
  CHECK(f.lines().size() == 3);
  f.live->forget(0, b.id);
  CHECK(f.live->counts(0, b.id).written == 0);
}

TEST_CASE("live events: a record waits for its process's hello, else goes with the pid alone") {
  Fixture f(100);
  const LiveBuild b = build("00000000000000b3");
  f.feed(b, hello(100, 1, 1000, "/bin/sh", {"sh"}));
  f.feed(b, access(101, 1100, "/proc/ioports"));  // before cat's hello
  CHECK(f.lines().empty());
  CHECK(f.live->poll(now_ns(CLOCK_MONOTONIC), 60'000'000'000ull));  // still waiting
  f.feed(b, hello(101, 100, 1100, "/usr/bin/cat", {"cat", "/proc/ioports"}));
  std::vector<json> ev = f.lines();
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["process"]["name"] == "cat");
  CHECK(ev[0]["process"]["parent"]["pid"] == 100);

  f.feed(b, access(102, 1200, "/proc/ioports"));  // its hello never comes
  CHECK(f.lines().size() == 1);
  CHECK_FALSE(f.live->poll(now_ns(CLOCK_MONOTONIC) + 1, 0));
  ev = f.lines();
  REQUIRE(ev.size() == 2);
  CHECK(ev[1]["process"] == json({{"pid", 102}}));
}

TEST_CASE("live events: proc_pid spares the reader itself and its descendants, not its parent") {
  Fixture f(100);
  f.live->set_rules(std::make_shared<const Rules>(load_rules(
      rules_json(
          recipe_json("mem", R"("match": [{"regex": "^/proc/[0-9]+/environ$", "proc_pid": "not_self_or_descendant"}])"))
          .c_str())));
  const LiveBuild b = build("00000000000000b3");
  f.feed(b, hello(100, 1, 1000, "/bin/sh", {"sh"}));
  f.feed(b, hello(101, 100, 1100, "/usr/bin/python3", {"python3"}));
  f.feed(b, hello(102, 101, 1200, "/usr/bin/sleep", {"sleep", "9"}));
  f.feed(b, access(101, 1100, "/proc/101/environ"));  // itself
  f.feed(b, access(100, 1000, "/proc/102/environ"));  // its grandchild
  f.feed(b, access(101, 1100, "/proc/100/environ"));  // its parent
  const std::vector<json> lines = f.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["file"]["path"] == "/proc/100/environ");
  CHECK(lines[0]["process"]["pid"] == 101);
}
