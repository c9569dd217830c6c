// Delivery of finished records (docs/design.md "Transport"): accesses on the collector's datagram
// socket, else one append to this process's spool file, else the lost count; the records of the
// process tree appended to the build's process log. Async-signal-safe, lock-free.
#pragma once

#include <atomic>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

namespace fpshim::transport {

enum class Outcome { sent, spooled, lost };

// Sends one record (the concatenation of `iov`) on the persistent socket, opening it on first use.
Outcome send(const iovec* iov, int n);

// Appends a record about the process tree (hello, exec, bye, lost) to the build's process log
// (wire::kProcessLog), which the collector reads on its own schedule: no wake-up of the collector at
// every process start. Else a transient socket, else the lost count. Leaves the descriptor table as
// it was.
Outcome log(const iovec* iov, int n);

// For a vfork child (self.h): a transient socket, else the spool file of (pid, nonce); a record
// that is lost is not counted (the count is the parent's).
Outcome send_borrowed(const iovec* iov, int n, int pid, uint64_t nonce);

// Records that could neither be sent nor spooled since the last take.
uint32_t take_lost();
void add_lost(uint32_t n);
// The errno of the last write to the spool that failed (ENOSPC: a full disk), 0 if none: a lost
// record carries it, so that the report says why records were lost.
int spool_error();

// The records lost for good (at a bye, or an exec, after the last try to send the count): added to
// the spool's loss ledger (wire::kLossLedger), where a report finds them.
void settle_lost();

// The persistent socket: descriptor in the low half, its inode in the high half, so both change
// together (sockfs inode numbers are 32-bit). Descriptor -1 when we hold none.
extern std::atomic<uint64_t> g_socket;
inline constexpr uint64_t kNoSocket = uint32_t(-1);

// Forgets the socket `cur` names, unless this is a vfork child (whose descriptors are its own).
void forget(uint64_t cur);

// The program closes `fd`: if it is our socket, forget it (we reopen on the next send).
inline void on_close(int fd) {
  const uint64_t cur = g_socket.load(std::memory_order_relaxed);
  if (fd >= 0 && int(uint32_t(cur)) == fd) forget(cur);
}

// The program closes every descriptor from `first` to `last`.
inline void on_close_range(unsigned first, unsigned last) {
  const uint64_t cur = g_socket.load(std::memory_order_relaxed);
  const int fd = int(uint32_t(cur));
  if (fd >= 0 && unsigned(fd) >= first && unsigned(fd) <= last) forget(cur);
}

// The program makes `fd` a copy of another descriptor (dup2, dup3). If `fd` is our socket, ours
// moves to another number first, so that the call goes through and we keep our socket; if the
// call fails, after_step_aside() moves it back.
struct Moved {
  uint64_t from, to;  // kNoSocket: nothing moved
};
Moved step_aside(int fd);
void after_step_aside(const Moved& m, bool call_failed);

// In a fork child: a new spool file name (pid, nonce) and a zero lost count; the socket is shared.
void set_identity(int pid, uint64_t nonce);

}  // namespace fpshim::transport
