// Builds wire records the way the shim does, for the collector's unit tests.
#pragma once

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fpshim/wire.h"

namespace fpshim::test {

inline constexpr uint64_t kBuild = 0x1234abcd5678ef00;

struct RecordSpec {
  wire::Kind kind = wire::Kind::access;
  int32_t pid = 100;
  int32_t ppid = 1;
  uint64_t nonce = 1000;
  uint64_t time_ns = 2000;
  uint32_t op = wire::op_read;
  int32_t result = 0;
  uint32_t count = 1;
  uint32_t flags = 0;
  uint64_t build_id = kBuild;
  std::optional<uint64_t> seq;  // unset: 0 on the wire (Sequencer gives the next one)
  std::vector<std::string> strings;
};

// Numbers records per process as the shim does: hello 0, then 1, 2, ...
class Sequencer {
 public:
  RecordSpec next(RecordSpec s) {
    if (s.seq) return s;
    uint64_t& last = last_[{s.pid, s.nonce}];
    s.seq = s.kind == wire::Kind::hello ? 0 : ++last;
    return s;
  }

 private:
  std::map<std::pair<int32_t, uint64_t>, uint64_t> last_;
};

inline std::string encode(const RecordSpec& s) {
  wire::Header h{};
  h.magic = wire::kMagic;
  h.version = wire::kVersion;
  h.kind = uint16_t(s.kind);
  h.nstrings = uint32_t(s.strings.size());
  h.build_id = s.build_id;
  h.time_ns = s.time_ns;
  h.proc_nonce = s.nonce;
  h.pid = s.pid;
  h.ppid = s.ppid;
  h.tid = s.pid;
  h.op = s.op;
  h.result = s.result;
  h.count = s.count;
  h.flags = s.flags;
  h.seq = s.seq.value_or(0);
  std::string body;
  for (const std::string& str : s.strings) {
    uint32_t len = uint32_t(str.size());
    body.append(reinterpret_cast<const char*>(&len), sizeof len);
    body += str;
  }
  h.size = uint32_t(sizeof h + body.size());
  return std::string(reinterpret_cast<const char*>(&h), sizeof h) + body;
}

inline RecordSpec hello(int32_t pid, int32_t ppid, uint64_t nonce, std::string exe, std::vector<std::string> argv) {
  RecordSpec s;
  s.kind = wire::Kind::hello;
  s.pid = pid;
  s.ppid = ppid;
  s.nonce = nonce;
  s.time_ns = nonce;
  s.strings = {std::move(exe), "/work"};
  for (std::string& a : argv) s.strings.push_back(std::move(a));
  return s;
}

inline RecordSpec access(int32_t pid, uint64_t nonce, std::string path, uint32_t op = wire::op_read, int32_t result = 0,
                         uint32_t count = 1) {
  RecordSpec s;
  s.pid = pid;
  s.nonce = nonce;
  s.time_ns = nonce + 10;
  s.op = op;
  s.result = result;
  s.count = count;
  s.strings = {path, path, "openat"};
  return s;
}

inline RecordSpec bye(int32_t pid, uint64_t nonce, int32_t status = 0) {
  RecordSpec s;
  s.kind = wire::Kind::bye;
  s.pid = pid;
  s.nonce = nonce;
  s.time_ns = nonce + 100;
  s.result = status;
  return s;
}

// An exec record: `child` 0 for an exec in place, else the spawned child's pid; `result` the errno
// of a failed exec.
inline RecordSpec exec(int32_t pid, uint64_t nonce, uint64_t time_ns, std::string target, std::vector<std::string> argv,
                       uint32_t child = 0, int32_t result = 0, uint32_t flags = 0) {
  RecordSpec s;
  s.kind = wire::Kind::exec;
  s.pid = pid;
  s.nonce = nonce;
  s.time_ns = time_ns;
  s.op = wire::op_exec;
  s.count = child;
  s.result = result;
  s.flags = flags;
  s.strings = {target, target};
  for (std::string& a : argv) s.strings.push_back(std::move(a));
  return s;
}

}  // namespace fpshim::test
