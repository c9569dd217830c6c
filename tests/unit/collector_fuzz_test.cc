#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "model/aggregate.h"
#include "collector_records.h"
#include "collector_testing.h"
#include "ingest/ingest.h"
#include "ingest/record_file.h"
#include "report/report_json.h"
#include "report/report_text.h"
#include "rules/rules.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

const std::string kRules = rules_json(
    recipe_json("machine", R"("match": [{"subtree": "/proc"}, {"regex": "^/sys/class/net/[^/]+/address$"}])"));

// A plausible record of any kind, from a handful of pids, with small seqs (so that duplicates,
// gaps, exec pairings and hellos for earlier records all happen).
std::string plausible(std::mt19937& rng) {
  auto pick = [&](uint32_t n) { return uint32_t(rng() % n); };
  int32_t pid = int32_t(100 + pick(8));
  uint64_t nonce = 1000 + pick(4) * 100;
  RecordSpec s;
  switch (pick(5)) {
    case 0: s = hello(pid, int32_t(100 + pick(8)), nonce, pick(2) ? "/usr/bin/cat" : "/bin/sh", {"cat", "x"}); break;
    case 1:
      s = access(pid, nonce, pick(2) ? "/proc/ioports" : "/sys/class/net/eth0/address", 1u << pick(5), int32_t(pick(3)),
                 pick(4));
      break;
    case 2: s = bye(pid, nonce, int32_t(pick(3)) - 1); break;
    case 3:
      s = exec(pid, nonce, nonce + pick(300), pick(2) ? "/usr/bin/cat" : "rel", {"cat", "x"},
               pick(3) ? 0 : 100 + pick(8), int32_t(pick(2)), pick(64));
      break;
    default:
      s.kind = wire::Kind::lost;
      s.pid = pid;
      s.nonce = nonce;
      s.count = pick(10);
      break;
  }
  s.seq = pick(12);
  return encode(s);
}

}  // namespace

TEST_CASE("random bytes and damaged records never crash the decode and aggregate path") {
  LoadedRules loaded = parse_rules(kRules, "rules.json");
  REQUIRE(loaded.ok());
  Stats stats;
  Aggregate aggregate(loaded.rules, stats, [](const std::string&) { return Inspection{}; });
  aggregate.set_root(100, 1, 900, "/bin/sh", {"sh"});
  Ingest ingest(kBuild, stats);
  std::mt19937 rng(20240501);
  uint64_t delivered = 0;
  std::string spool_file;

  for (int round = 0; round < 30000; round++) {
    std::string bytes;
    switch (rng() % 4) {
      case 0: {  // noise, sometimes with a valid magic and version in front
        bytes.resize(rng() % 400);
        for (char& c : bytes) c = char(rng());
        if (bytes.size() >= sizeof(wire::Header) && rng() % 2) {
          wire::Header h{};
          h.magic = wire::kMagic;
          h.version = wire::kVersion;
          h.kind = uint16_t(rng() % 7);
          h.size = rng() % 2 ? uint32_t(bytes.size()) : uint32_t(rng());
          h.nstrings = rng() % 6;
          h.build_id = kBuild;
          memcpy(bytes.data(), &h, sizeof h);
        }
        break;
      }
      case 1: {  // a plausible record with a few bytes flipped
        bytes = plausible(rng);
        for (int flips = 1 + int(rng() % 3); flips > 0; flips--) bytes[rng() % bytes.size()] ^= char(1 + rng() % 255);
        break;
      }
      case 2:  // a plausible record cut short or padded
        bytes = plausible(rng);
        if (rng() % 2) bytes.resize(rng() % bytes.size());
        else bytes += std::string(1 + rng() % 8, '\0');
        break;
      default: bytes = plausible(rng);
    }
    ingest.deliver(bytes.data(), bytes.size(), rng() % 4 ? 0 : int32_t(rng() % 200), rng() % 5 == 0, aggregate);
    delivered++;
    if (round % 7 == 0) spool_file += bytes;
  }
  CHECK(stats.records + stats.duplicates + stats.malformed + stats.refused == delivered);
  CHECK(stats.records > 1000);
  CHECK(stats.malformed > 1000);

  // The same garbage as a spool file or journal: framing errors stop the read, never crash it.
  FILE* f = tmpfile();
  REQUIRE(f);
  fwrite(spool_file.data(), 1, spool_file.size(), f);
  fflush(f);
  uint64_t offset = 0, seen = 0;
  read_records(fileno(f), offset, [&](std::span<RecordBytes> records) {
    for (RecordBytes& r : records) {
      ingest.deliver(r.data, r.size, 0, true, aggregate);
      seen++;
    }
  });
  fclose(f);
  CHECK(offset <= spool_file.size());

  Summary s;
  aggregate.summarize(s);
  CHECK_NOTHROW((void)report_json(s).dump(2, ' ', false, Json::error_handler_t::replace));
  FILE* text = fopen("/dev/null", "w");
  CHECK_NOTHROW(write_text_report(s, text));
  fclose(text);
  const size_t processes = s.processes.size();
  aggregate.summarize(s);  // summarizing twice gives the same tree
  CHECK(s.processes.size() == processes);
  CHECK(s.processes.size() == s.coverage.monitored + s.coverage.unmonitored.size());
}
