#include "transport.h"

#include <atomic>
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>

#include "config.h"
#include "fpshim/wire.h"
#include "fd_flags.h"
#include "path.h"
#include "self.h"
#include "sys.h"

namespace fpshim::transport {

constinit std::atomic<uint64_t> g_socket{kNoSocket};

namespace {

constinit std::atomic<uint64_t> g_socket_dev{0};
constinit std::atomic<uint32_t> g_lost{0};
constinit std::atomic<int> g_spool_error{0};  // the errno of the last spool write that failed
constinit std::atomic<int> g_pid{0};
constinit std::atomic<uint64_t> g_nonce{0};

int fd_of(uint64_t packed) { return int(uint32_t(packed)); }

bool still_ours(uint64_t packed) {
  sys::Stat st;
  return sys::fstat(fd_of(packed), &st) == 0 && S_ISSOCK(st.st_mode) && uint32_t(st.st_ino) == uint32_t(packed >> 32) &&
         st.st_dev == g_socket_dev.load(std::memory_order_relaxed);
}

// Moves `fd` high, out of the range programs and scripts use, without making the kernel grow the
// descriptor table much: at rlimit-64, capped at 1024-64.
int move_high(int fd) {
  sys::Rlimit64 lim;
  long floor = 1024;
  if (sys::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.cur < uint64_t(floor)) floor = long(lim.cur);
  const long minimums[] = {floor - 64, 64};
  for (long min : minimums) {
    if (min <= fd) break;
    const int high = sys::fcntl(fd, F_DUPFD_CLOEXEC, min);
    if (high >= 0) {
      sys::close(fd);
      return high;
    }
  }
  return fd;
}

// How long a send on the persistent socket may wait for room in the collector's queue (which
// holds only net.unix.max_dgram_qlen datagrams, 10 by default) before the record goes to the spool.
constexpr timeval kSendPatience = {0, 20 * 1000};

int open_connected() {
  const Config& c = g_config;
  if (c.socket_len == 0) return -1;
  const int fd = sys::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (sys::connect(fd, &c.socket, c.socket_len) != 0 ||
      sys::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kSendPatience, sizeof kSendPatience) != 0) {
    sys::close(fd);
    return -1;
  }
  return fd;
}

// The persistent socket, checked before use; -1 if the collector cannot be reached.
int persistent_socket() {
  uint64_t cur = g_socket.load(std::memory_order_acquire);
  if (fd_of(cur) >= 0 && still_ours(cur)) return fd_of(cur);
  const int fd = open_connected();
  if (fd < 0) return -1;
  const int high = move_high(fd);
  sys::Stat st;
  if (sys::fstat(high, &st) != 0) {
    sys::close(high);
    return -1;
  }
  g_socket_dev.store(st.st_dev, std::memory_order_relaxed);
  const uint64_t packed = uint64_t(uint32_t(st.st_ino)) << 32 | uint32_t(high);
  g_fds_noted.store(true, std::memory_order_relaxed);
  if (g_socket.compare_exchange_strong(cur, packed, std::memory_order_acq_rel)) return high;
  sys::close(high);  // another thread reopened first
  return fd_of(cur) >= 0 && still_ours(cur) ? fd_of(cur) : -1;
}

// Waits for room (up to kSendPatience) on the persistent socket, not on a transient one.
bool send_on(int fd, const iovec* iov, int n, const sockaddr_un* to, socklen_t to_len) {
  const int wait = to == nullptr ? 0 : MSG_DONTWAIT;
  msghdr m = {};
  m.msg_name = const_cast<sockaddr_un*>(to);
  m.msg_namelen = to_len;
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = size_t(n);
  return sys::sendmsg(fd, &m, wait | MSG_NOSIGNAL) >= 0;
}

// `path` (of capacity `cap`): the spool directory's file `name`.
bool spool_path(const char* name, char* path, size_t cap) {
  const size_t dlen = strlen(g_config.spool_dir);
  const size_t nlen = strlen(name);
  if (dlen == 0 || dlen + nlen + 2 > cap) return false;
  memcpy(path, g_config.spool_dir, dlen);
  path[dlen] = '/';
  memcpy(path + dlen + 1, name, nlen + 1);
  return true;
}

// Adds `n` to the spool's loss ledger (wire::kLossLedger), creating it if it is missing. Under an
// exclusive flock, tried for a while and never waited on: a process stopped while holding it must
// not hang another at its exit (the count is then lost, as it would be without a ledger).
void add_to_ledger(uint64_t n) {
  char path[sizeof g_config.spool_dir + 64];
  if (!spool_path(wire::kLossLedger, path, sizeof path)) return;
  const int fd = sys::open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  bool locked = false;
  for (int i = 0; i < 1000 && !locked; i++) {
    locked = sys::flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (!locked) sys::sched_yield();
  }
  if (locked) {
    char block[wire::kLedgerSize] = {};
    uint64_t count = 0;
    if (sys::pread(fd, block, 16, 0) == 16 && memcmp(block, wire::kLedgerMagic, 8) == 0) memcpy(&count, block + 8, 8);
    count += n;
    memcpy(block, wire::kLedgerMagic, 8);
    memcpy(block + 8, &count, 8);
    sys::pwrite(fd, block, sizeof block, 0);
    sys::flock(fd, LOCK_UN);
  }
  sys::close(fd);
}

// Creates the spool directory (`path` cut at `dlen`) and its parent, 0700, the first time a process
// of a bare preload (wire.h, kDefaultDir) or of `fpshim env --spool DIR` writes there, with its
// loss ledger, whose blocks must exist before they are needed.
bool make_spool_dir(char* path, size_t dlen) {
  path[dlen] = '\0';
  char* slash = strrchr(path, '/');
  if (slash != nullptr && slash != path) {
    *slash = '\0';
    sys::mkdir(path, 0700);
    *slash = '/';
  }
  const int rc = sys::mkdir(path, 0700);
  path[dlen] = '/';
  if (rc == 0) add_to_ledger(0);
  return rc == 0 || rc == -EEXIST;
}

// Appends one record to `name` in the spool directory with one write.
bool append(const char* name, const iovec* iov, int n) {
  char path[sizeof g_config.spool_dir + 64];
  if (!spool_path(name, path, sizeof path)) return false;
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
  int fd = sys::open(path, kFlags, 0600);
  if (fd == -ENOENT && make_spool_dir(path, strlen(g_config.spool_dir))) fd = sys::open(path, kFlags, 0600);
  if (fd < 0) {
    g_spool_error.store(-fd, std::memory_order_relaxed);
    return false;
  }
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  const long written = sys::writev(fd, iov, n);
  const bool ok = written == long(total);
  // A short write to a regular file without an error: the device is full.
  if (!ok) g_spool_error.store(written < 0 ? int(-written) : ENOSPC, std::memory_order_relaxed);
  sys::close(fd);
  return ok;
}

Outcome spool(const iovec* iov, int n, int pid, uint64_t nonce) {
  char name[64];
  size_t len = format_decimal(unsigned(pid), name);
  name[len++] = '-';
  len += format_decimal(nonce, name + len);
  memcpy(name + len, ".spool", 7);
  return append(name, iov, n) ? Outcome::spooled : Outcome::lost;
}

Outcome fall_back(const iovec* iov, int n) {
  const Outcome o = spool(iov, n, g_pid.load(std::memory_order_relaxed), g_nonce.load(std::memory_order_relaxed));
  if (o == Outcome::lost) g_lost.fetch_add(1, std::memory_order_relaxed);
  return o;
}

bool send_on_new_socket(const iovec* iov, int n) {
  const Config& c = g_config;
  if (c.socket_len == 0) return false;
  const int fd = sys::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = send_on(fd, iov, n, &c.socket, c.socket_len);
  sys::close(fd);
  return ok;
}

}  // namespace

Outcome send(const iovec* iov, int n) {
  const int fd = persistent_socket();
  if (fd >= 0 && send_on(fd, iov, n, nullptr, 0)) return Outcome::sent;
  return fall_back(iov, n);
}

Outcome send_borrowed(const iovec* iov, int n, int pid, uint64_t nonce) {
  if (send_on_new_socket(iov, n)) return Outcome::sent;
  return spool(iov, n, pid, nonce);
}

Outcome log(const iovec* iov, int n) {
  if (append(wire::kProcessLog, iov, n) || send_on_new_socket(iov, n)) return Outcome::sent;
  if (!borrowing_memory()) g_lost.fetch_add(1, std::memory_order_relaxed);
  return Outcome::lost;
}

void forget(uint64_t cur) {
  if (!borrowing_memory()) g_socket.compare_exchange_strong(cur, kNoSocket, std::memory_order_relaxed);
}

Moved step_aside(int fd) {
  uint64_t cur = g_socket.load(std::memory_order_acquire);
  if (fd < 0 || fd_of(cur) != fd || borrowing_memory()) return Moved{kNoSocket, kNoSocket};
  // Still high, and below: a program sweeping upward through its descriptors has passed it.
  int copy = sys::fcntl(fd, F_DUPFD_CLOEXEC, fd > 128 ? fd - 64 : 64);
  if (copy < 0) copy = sys::fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
  if (copy < 0) {
    g_socket.compare_exchange_strong(cur, kNoSocket, std::memory_order_relaxed);
    return Moved{kNoSocket, kNoSocket};
  }
  const uint64_t moved = (cur & ~uint64_t(0xffffffffu)) | uint32_t(copy);
  if (!g_socket.compare_exchange_strong(cur, moved, std::memory_order_acq_rel)) {
    sys::close(copy);
    return Moved{kNoSocket, kNoSocket};
  }
  return Moved{cur, moved};
}

void after_step_aside(const Moved& m, bool call_failed) {
  if (m.to == kNoSocket || !call_failed) return;
  uint64_t cur = m.to;
  if (g_socket.compare_exchange_strong(cur, m.from, std::memory_order_acq_rel)) sys::close(fd_of(m.to));
}

uint32_t take_lost() { return g_lost.exchange(0, std::memory_order_relaxed); }
int spool_error() { return g_spool_error.load(std::memory_order_relaxed); }
void add_lost(uint32_t n) { g_lost.fetch_add(n, std::memory_order_relaxed); }

void settle_lost() {
  if (const uint32_t n = take_lost(); n != 0) add_to_ledger(n);
}

void set_identity(int pid, uint64_t nonce) {
  g_pid.store(pid, std::memory_order_relaxed);
  g_nonce.store(nonce, std::memory_order_relaxed);
  g_lost.store(0, std::memory_order_relaxed);
}

}  // namespace fpshim::transport
