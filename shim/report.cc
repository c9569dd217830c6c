#include "report.h"

#include <atomic>
#include <string.h>
#include <time.h>

#include "config.h"
#include "cwd.h"
#include "fpshim/wire.h"
#include "sys.h"
#include "transport.h"

namespace fpshim::report {

namespace {

constinit std::atomic<uint64_t> g_seq{0};
constinit std::atomic<uint64_t> g_nonce{0};
constinit std::atomic<bool> g_bye_sent{false};
constinit RepeatTable g_repeats;
// Built only in the constructor and in a fork child, which run one at a time per process.
constinit char g_hello[wire::kMaxRecord];

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

// pid, ppid and tid are asked afresh: a vfork child shares our memory but not our pid.
wire::Header header(wire::Kind kind, uint64_t seq) {
  wire::Header h = {};
  h.magic = wire::kMagic;
  h.version = wire::kVersion;
  h.kind = uint16_t(kind);
  h.size = sizeof h;
  h.build_id = g_config.build_id;
  h.time_ns = now_ns();
  h.proc_nonce = g_nonce.load(std::memory_order_relaxed);
  h.seq = seq;
  h.pid = sys::getpid();
  h.ppid = sys::getppid();
  h.tid = sys::gettid();
  return h;
}

uint64_t next_seq() { return g_seq.fetch_add(1, std::memory_order_relaxed) + 1; }

transport::Outcome send_header_only(wire::Kind kind, uint32_t count, int32_t result) {
  wire::Header h = header(kind, next_seq());
  h.count = count;
  h.result = result;
  const iovec iov = {&h, sizeof h};
  return transport::send_once(&iov, 1);
}

void send_lost() {
  const uint32_t lost = transport::take_lost();
  if (lost != 0 && send_header_only(wire::Kind::lost, lost, 0) != transport::Outcome::sent)
    transport::add_lost(lost);
}

void send_access(const AccessText& a, SendDecision d) {
  wire::Header h = header(wire::Kind::access, next_seq());
  uint32_t spelled_len = a.spelled_len;
  const uint32_t fn_len = uint32_t(strlen(a.fn));
  const uint32_t fixed = uint32_t(sizeof h) + 3 * uint32_t(sizeof(uint32_t)) + a.resolved_len + fn_len;
  if (fixed + spelled_len > wire::kMaxRecord) spelled_len = wire::kMaxRecord - fixed;
  h.op = a.op;
  h.open_flags = a.open_flags;
  h.result = a.result;
  h.count = d.count;
  h.nstrings = 3;
  h.size = fixed + spelled_len;
  h.flags = (d.repeat ? wire::flag_repeat : 0) | (a.spelled_cut || spelled_len < a.spelled_len ? wire::flag_truncated : 0);
  uint32_t lens[3] = {a.resolved_len, spelled_len, fn_len};
  const iovec iov[7] = {{&h, sizeof h},
                        {&lens[0], sizeof lens[0]}, {const_cast<char*>(a.resolved), a.resolved_len},
                        {&lens[1], sizeof lens[1]}, {const_cast<char*>(a.spelled), spelled_len},
                        {&lens[2], sizeof lens[2]}, {const_cast<char*>(a.fn), fn_len}};
  if (transport::send(iov, 7) == transport::Outcome::sent) send_lost();
}

// Appends strings to a record in g_hello, cutting the one that does not fit and dropping the rest.
struct HelloWriter {
  size_t used = sizeof(wire::Header);
  uint32_t nstrings = 0;
  bool truncated = false;

  // Room for the next string's bytes, which the caller writes at data() before commit().
  size_t room() const { return used + sizeof(uint32_t) < sizeof g_hello ? sizeof g_hello - used - sizeof(uint32_t) : 0; }
  char* data() { return g_hello + used + sizeof(uint32_t); }
  void commit(size_t len) {
    if (truncated) return;
    if (used + sizeof(uint32_t) > sizeof g_hello) {
      truncated = true;
      return;
    }
    if (len > room()) {
      len = room();
      truncated = true;
    }
    const uint32_t len32 = uint32_t(len);
    memcpy(g_hello + used, &len32, sizeof len32);
    used += sizeof len32 + len;
    nstrings++;
  }
  void add(const char* s, size_t len) {
    if (truncated) return;
    memcpy(data(), s, len < room() ? len : room());
    commit(len);
  }
};

}  // namespace

void start() {
  const int pid = sys::getpid();
  const uint64_t nonce = now_ns();
  g_nonce.store(nonce, std::memory_order_relaxed);
  g_seq.store(0, std::memory_order_relaxed);
  transport::set_identity(pid, nonce);
}

void hello(int argc, char* const* argv) {
  HelloWriter w;
  const long exe = sys::readlink("/proc/self/exe", w.data(), w.room());
  w.commit(exe > 0 ? size_t(exe) : 0);
  const long cwd = read_cwd(w.data(), w.room());
  w.commit(cwd > 0 ? size_t(cwd) : 0);
  for (int i = 0; i < argc && argv != nullptr && argv[i] != nullptr; i++) w.add(argv[i], strlen(argv[i]));
  wire::Header h = header(wire::Kind::hello, 0);
  h.size = uint32_t(w.used);
  h.nstrings = w.nstrings;
  h.flags = w.truncated ? wire::flag_truncated : 0;
  memcpy(g_hello, &h, sizeof h);
  const iovec iov = {g_hello, w.used};
  transport::send_transient(&iov, 1);
}

void access(const AccessText& a) {
  if (g_bye_sent.load(std::memory_order_relaxed)) {
    send_access(a, SendDecision{1, false});
    return;
  }
  const SendDecision d = g_repeats.note(a);
  if (d.count != 0) send_access(a, d);
}

void bye() {
  g_bye_sent.store(true, std::memory_order_relaxed);
  g_repeats.flush(send_access);
  send_lost();
  send_header_only(wire::Kind::bye, 0, -1);
}

void after_fork(int argc, char* const* argv) {
  g_repeats.reset();
  g_bye_sent.store(false, std::memory_order_relaxed);
  start();
  hello(argc, argv);
}

}  // namespace fpshim::report
