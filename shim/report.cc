#include "report.h"

#include <atomic>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include "config.h"
#include "cwd.h"
#include "fpshim/wire.h"
#include "self.h"
#include "sys.h"
#include "transport.h"

namespace fpshim::report {

namespace {

constinit std::atomic<uint64_t> g_seq{0};
constinit std::atomic<uint64_t> g_nonce{0};
constinit std::atomic<int> g_ppid{0};  // at start: the parent that started or forked us
constinit std::atomic<bool> g_bye_sent{false};
constinit RepeatTable g_repeats;
// Built only in the constructor and in a fork child, which run one at a time per process.
constinit char g_hello[wire::kMaxRecord];
// argv for a vfork child's hello: the parent's, which it runs until it execs.
constinit int g_argc = 0;
constinit char* const* g_argv = nullptr;

// The identity of the vfork child running on this thread's memory, if any (report.h).
struct Borrowed {
  int pid;
  uint64_t nonce;
  uint64_t seq;
};
constinit thread_local Borrowed t_borrowed __attribute__((tls_model("initial-exec"))) = {};

// Exec records, and a vfork child's hello, are built on the stack: this much at most (a longer
// argv is cut, with flag_truncated).
constexpr size_t kStackRecord = 16 * 1024;
constexpr size_t kStackHello = 8 * 1024;

struct Sender {
  int pid;
  uint64_t nonce;
  bool borrowed;
};

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

uint64_t next_seq(const Sender& s) {
  if (s.borrowed) return t_borrowed.seq++;
  return g_seq.fetch_add(1, std::memory_order_relaxed) + 1;
}

wire::Header header(wire::Kind kind, const Sender& s, uint64_t seq) {
  wire::Header h = {};
  h.magic = wire::kMagic;
  h.version = wire::kVersion;
  h.kind = uint16_t(kind);
  h.size = sizeof h;
  h.build_id = g_config.build_id;
  h.time_ns = now_ns();
  h.proc_nonce = s.nonce;
  h.seq = seq;
  h.pid = s.pid;
  h.ppid = s.borrowed ? sys::getppid() : g_ppid.load(std::memory_order_relaxed);
  h.tid = s.borrowed ? sys::gettid() : own_tid();
  return h;
}

// Accesses on the socket; the records of the process tree (exec, bye, lost) to the process log.
transport::Outcome deliver(const Sender& s, const iovec* iov, int n, bool of_tree) {
  if (of_tree) return transport::log(iov, n);
  if (s.borrowed) return transport::send_borrowed(iov, n, s.pid, s.nonce);
  return transport::send(iov, n);
}

transport::Outcome send_header_only(const Sender& s, wire::Kind kind, uint32_t count, int32_t result) {
  wire::Header h = header(kind, s, next_seq(s));
  h.count = count;
  h.result = result;
  const iovec iov = {&h, sizeof h};
  return deliver(s, &iov, 1, true);
}

void send_lost(const Sender& s) {
  const uint32_t lost = transport::take_lost();
  if (lost != 0 && send_header_only(s, wire::Kind::lost, lost, transport::spool_error()) != transport::Outcome::sent)
    transport::add_lost(lost);
}

void send_access(const Sender& s, const AccessText& a, SendDecision d) {
  wire::Header h = header(wire::Kind::access, s, next_seq(s));
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
  h.flags = (d.repeat ? uint32_t{wire::flag_repeat} : 0u) |
            (a.spelled_cut || spelled_len < a.spelled_len ? uint32_t{wire::flag_truncated} : 0u);
  uint32_t lens[3] = {a.resolved_len, spelled_len, fn_len};
  const iovec iov[7] = {{&h, sizeof h},
                        {&lens[0], sizeof lens[0]},
                        {const_cast<char*>(a.resolved), a.resolved_len},
                        {&lens[1], sizeof lens[1]},
                        {const_cast<char*>(a.spelled), spelled_len},
                        {&lens[2], sizeof lens[2]},
                        {const_cast<char*>(a.fn), fn_len}};
  if (deliver(s, iov, 7, false) == transport::Outcome::sent && !s.borrowed) send_lost(s);
}

void flush_pending(const Sender& s) {
  // A key is pending only after its first record was sent (a seq taken): a process that sent
  // nothing, most of a build's, does not walk the table (512 slots, two pages of it).
  if (g_seq.load(std::memory_order_relaxed) != 0)
    g_repeats.flush([&s](const AccessText& a, SendDecision d) { send_access(s, a, d); });
  send_lost(s);
}

// Appends strings to a record in `buf`, cutting the one that does not fit and dropping the rest.
struct RecordWriter {
  char* buf;
  size_t cap;
  size_t used = sizeof(wire::Header);
  uint32_t nstrings = 0;
  bool truncated = false;

  // Room for the next string's bytes, which the caller writes at data() before commit().
  size_t room() const { return used + sizeof(uint32_t) < cap ? cap - used - sizeof(uint32_t) : 0; }
  char* data() { return buf + used + sizeof(uint32_t); }
  void commit(size_t len) {
    if (truncated) return;
    if (used + sizeof(uint32_t) > cap) {
      truncated = true;
      return;
    }
    if (len > room()) {
      len = room();
      truncated = true;
    }
    const uint32_t len32 = uint32_t(len);
    memcpy(buf + used, &len32, sizeof len32);
    used += sizeof len32 + len;
    nstrings++;
  }
  void add(const char* s, size_t len) {
    if (truncated) return;
    memcpy(data(), s, len < room() ? len : room());
    commit(len);
  }
  void add_argv(char* const* argv, int argc = -1) {
    for (int i = 0; argv != nullptr && argv[i] != nullptr && (argc < 0 || i < argc); i++) add(argv[i], strlen(argv[i]));
  }
  // Puts `h`, completed with the size and the strings, in front; returns the record.
  iovec finish(wire::Header h) {
    h.size = uint32_t(used);
    h.nstrings = nstrings;
    h.flags |= truncated ? uint32_t{wire::flag_truncated} : 0u;
    memcpy(buf, &h, sizeof h);
    return iovec{buf, used};
  }
};

// The exe: the name the kernel executed (AT_EXECFN), which costs no system call, where reading
// /proc/self/exe costs a procfs lookup in every new process; the collector resolves it (symlinks, a
// relative name against the cwd, a script's interpreter). A descriptor's name (fexecve) says
// nothing once the descriptor is gone: then /proc/self/exe. Returns the hello's flags.
uint32_t write_hello(RecordWriter& w, int argc, char* const* argv) {
  uint32_t flags = 0;
  const char* executed = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  if (executed != nullptr && executed[0] != '\0' && strncmp(executed, "/dev/fd/", 8) != 0 &&
      strncmp(executed, "/proc/", 6) != 0) {
    w.add(executed, strlen(executed));
    flags |= wire::flag_exe_as_executed;
  } else {
    const long exe = sys::readlink("/proc/self/exe", w.data(), w.room());
    w.commit(exe > 0 ? size_t(exe) : 0);
  }
  const long cwd = read_cwd(w.data(), w.room());
  w.commit(cwd > 0 ? size_t(cwd) : 0);
  w.add_argv(argv, argc);
  return flags;
}

// A vfork child's first record: it takes an identity and sends its hello.
__attribute__((noinline)) void introduce_borrower(int pid) {
  t_borrowed = Borrowed{pid, now_ns(), 1};
  const Sender child{pid, t_borrowed.nonce, true};
  char buf[kStackHello];
  RecordWriter w{buf, sizeof buf};
  wire::Header h = header(wire::Kind::hello, child, 0);
  h.flags = write_hello(w, g_argc, g_argv);
  const iovec iov = w.finish(h);
  transport::log(&iov, 1);
}

// The sender of a record made now: this process, or the vfork child borrowing its memory.
Sender sender() {
  const int pid = sys::getpid();
  if (!borrowing_memory(pid)) return Sender{pid, g_nonce.load(std::memory_order_relaxed), false};
  if (t_borrowed.pid != pid) introduce_borrower(pid);
  return Sender{pid, t_borrowed.nonce, true};
}

}  // namespace

void start() {
  const int pid = sys::getpid();
  const uint64_t nonce = now_ns();
  g_nonce.store(nonce, std::memory_order_relaxed);
  g_seq.store(0, std::memory_order_relaxed);
  g_own_pid.store(pid, std::memory_order_relaxed);
  g_ppid.store(sys::getppid(), std::memory_order_relaxed);
  transport::set_identity(pid, nonce);
}

void hello(int argc, char* const* argv) {
  g_argc = argc;
  g_argv = argv;
  RecordWriter w{g_hello, sizeof g_hello};
  const uint32_t flags = write_hello(w, argc, argv);
  const int pid = g_own_pid.load(std::memory_order_relaxed);
  wire::Header h = header(wire::Kind::hello, Sender{pid, g_nonce.load(std::memory_order_relaxed), false}, 0);
  h.flags = flags;
  const iovec iov = w.finish(h);
  transport::log(&iov, 1);
}

void access(const AccessText& a) {
  const Sender s = sender();
  if (s.borrowed || g_bye_sent.load(std::memory_order_relaxed)) {
    send_access(s, a, SendDecision{1, false});
    return;
  }
  const SendDecision d = g_repeats.note(a);
  if (d.count != 0) send_access(s, a, d);
}

void flush() {
  const Sender s = sender();
  if (s.borrowed) return;
  flush_pending(s);
  transport::settle_lost();  // the image that counted them is about to be replaced
}

void exec(const ExecText& e) {
  const Sender s = sender();
  char buf[kStackRecord];
  RecordWriter w{buf, sizeof buf};
  w.add(e.named, strlen(e.named));
  w.add(e.resolved, strlen(e.resolved));
  w.add_argv(e.argv);
  wire::Header h = header(wire::Kind::exec, s, next_seq(s));
  h.op = wire::op_exec;
  h.result = e.result;
  h.count = e.child;
  h.flags = e.flags;
  const iovec iov = w.finish(h);
  deliver(s, &iov, 1, true);
}

void bye(int status) {
  const int pid = sys::getpid();
  if (borrowing_memory(pid)) {
    // A vfork child that said nothing needs no goodbye.
    if (t_borrowed.pid == pid) send_header_only(Sender{pid, t_borrowed.nonce, true}, wire::Kind::bye, 0, status);
    return;
  }
  if (g_bye_sent.exchange(true, std::memory_order_relaxed)) return;
  const Sender s{pid, g_nonce.load(std::memory_order_relaxed), false};
  flush_pending(s);
  transport::settle_lost();
  // Nor does a process that said nothing but hello: it has no counts to complete, and most
  // processes of a build (compilers, assemblers) are such, each spared a socket.
  if (g_seq.load(std::memory_order_relaxed) == 0) return;
  send_header_only(s, wire::Kind::bye, 0, status);
}

void after_fork(int argc, char* const* argv) {
  forget_own_tid();
  g_repeats.reset();
  g_bye_sent.store(false, std::memory_order_relaxed);
  start();
  hello(argc, argv);
}

}  // namespace fpshim::report
