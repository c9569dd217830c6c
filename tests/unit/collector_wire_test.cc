#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "collector_records.h"
#include "fpshim/wire.h"
#include "ingest/ingest.h"
#include "supervise/private_dir.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

int decode(const std::string& bytes, wire::Header& h, std::vector<wire::Bytes>& out) {
  out.resize(wire::kMaxStrings);
  return wire::decode(bytes.data(), bytes.size(), &h, out.data(), uint32_t(out.size()));
}

struct Collected final : RecordSink {
  std::vector<wire::Header> headers;
  std::vector<std::vector<std::string>> strings;
  void on_record(const wire::Header& h, std::span<const wire::Bytes> s) override {
    headers.push_back(h);
    strings.emplace_back();
    for (const wire::Bytes& b : s) strings.back().emplace_back(b.data, b.size);
  }
};

}  // namespace

TEST_CASE("decode a good record") {
  std::string rec = encode(access(100, 7, "/proc/ioports"));
  wire::Header h;
  std::vector<wire::Bytes> strings;
  REQUIRE(decode(rec, h, strings) == 3);
  CHECK(h.kind == uint16_t(wire::Kind::access));
  CHECK(h.pid == 100);
  CHECK(h.proc_nonce == 7);
  CHECK(std::string(strings[0].data, strings[0].size) == "/proc/ioports");
  CHECK(std::string(strings[2].data, strings[2].size) == "openat");
}

TEST_CASE("decode refuses truncated, garbage and oversized records") {
  std::string rec = encode(access(100, 7, "/proc/ioports"));
  wire::Header h;
  std::vector<wire::Bytes> strings;
  CHECK(decode(rec.substr(0, rec.size() - 1), h, strings) == -1);  // size field disagrees
  CHECK(decode(rec.substr(0, 40), h, strings) == -1);              // shorter than a header
  CHECK(decode(std::string(200, 'x'), h, strings) == -1);          // wrong magic

  std::string bad_version = rec;
  bad_version[4] = 9;
  CHECK(decode(bad_version, h, strings) == -1);

  // A string length running past the end, with the header's size kept consistent.
  std::string overrun = rec;
  uint32_t huge = 1000;
  memcpy(overrun.data() + sizeof(wire::Header), &huge, sizeof huge);
  CHECK(decode(overrun, h, strings) == -1);

  // Trailing bytes after the last string.
  RecordSpec spec = access(100, 7, "/x");
  std::string trailing = encode(spec) + "zz";
  uint32_t size = uint32_t(trailing.size());
  memcpy(trailing.data() + 8, &size, sizeof size);
  CHECK(decode(trailing, h, strings) == -1);

  RecordSpec big = access(100, 7, std::string(wire::kMaxRecord, 'a'));
  CHECK(decode(encode(big), h, strings) == -1);

  // More strings than the caller has room for.
  std::vector<wire::Bytes> two(2);
  CHECK(wire::decode(rec.data(), rec.size(), &h, two.data(), 2) == -1);
}

TEST_CASE("deliver counts malformed, refused and late records") {
  Stats stats;
  Ingest ingest(kBuild, stats);
  Collected sink;

  std::string good = encode(access(100, 7, "/proc/ioports"));
  ingest.deliver(good.data(), good.size(), 100, false, sink);
  ingest.deliver(good.data(), good.size(), 101, false, sink);  // pid is not the sender's
  ingest.deliver(good.data(), good.size() - 3, 100, false, sink);

  RecordSpec other = access(100, 7, "/proc/ioports");
  other.build_id = 42;
  std::string foreign = encode(other);
  ingest.deliver(foreign.data(), foreign.size(), 100, false, sink);

  RecordSpec short_access = access(100, 7, "/x");
  short_access.strings.pop_back();
  std::string missing = encode(short_access);
  ingest.deliver(missing.data(), missing.size(), 100, false, sink);

  ingest.deliver(good.data(), good.size(), 0, true, sink);

  CHECK(stats.malformed == 3);
  CHECK(stats.refused == 1);
  REQUIRE(sink.headers.size() == 2);  // records and late ones are counted by the aggregate, after dedup
  CHECK((sink.headers[0].flags & wire::flag_from_spool) == 0);
  CHECK((sink.headers[1].flags & wire::flag_from_spool) != 0);
}

TEST_CASE("socket round trip: credentials, oversized datagrams, spool files") {
  Stats stats;
  Ingest ingest(kBuild, stats);
  PrivateDir private_dir;
  std::string error;
  REQUIRE(private_dir.create(error));
  const int socket_fd = bind_socket(private_dir.socket(), error);
  REQUIRE(socket_fd >= 0);
  ingest.adopt(socket_fd);
  ingest.set_spool_dir(private_dir.spool());
  std::string dir = private_dir.path();
  CHECK(::access(dir.c_str(), F_OK) == 0);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strcpy(addr.sun_path, private_dir.socket().c_str());
  auto send_bytes = [&](const std::string& bytes) {
    return sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  };
  int pid = getpid();
  CHECK(send_bytes(encode(hello(pid, getppid(), 7, "/bin/sh", {"sh"}))) > 0);
  CHECK(send_bytes(encode(access(pid, 7, "/proc/ioports"))) > 0);
  CHECK(send_bytes(encode(access(pid + 1, 7, "/proc/ioports"))) > 0);  // lies about its pid
  CHECK(send_bytes("garbage") > 0);
  std::string oversized = encode(access(pid, 7, std::string(wire::kMaxRecord, 'a')));
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  CHECK(send_bytes(oversized) > 0);
  CHECK(send_bytes(encode(access(pid, 7, "/proc/iomem"))) > 0);  // after it, still whole
  close(fd);

  Collected sink;
  CHECK(ingest.drain(sink) == 6);
  CHECK(sink.headers.size() == 3);
  CHECK(stats.malformed == 3);
  REQUIRE(sink.strings.size() == 3);
  CHECK(sink.strings[2].front() == "/proc/iomem");
  CHECK(sink.strings[0] == std::vector<std::string>{"/bin/sh", "/work", "sh"});

  // A spool file with two records and a torn third.
  {
    std::ofstream spool(private_dir.spool() + "/123-7.spool", std::ios::binary);
    std::string rec = encode(access(123, 7, "/etc/machine-id"));
    spool << encode(hello(123, 1, 7, "/bin/cat", {"cat"})) << rec << rec.substr(0, 50);
  }
  ingest.claim_spool(sink);
  CHECK(sink.headers.size() == 5);
  CHECK(stats.lost == 1);
  CHECK((sink.headers.back().flags & wire::flag_from_spool) != 0);
  CHECK(::access((private_dir.spool() + "/123-7.spool").c_str(), F_OK) != 0);
  CHECK(::access((private_dir.spool() + "/123-7.claimed").c_str(), F_OK) != 0);

  ingest.close();
  private_dir.remove();
  CHECK(::access(dir.c_str(), F_OK) != 0);
}
