// Delivery of finished records (docs/design.md "Transport"): the collector's datagram socket, else
// one append to this process's spool file, else the lost count. Async-signal-safe, lock-free.
#pragma once

#include <atomic>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

namespace fpshim::transport {

enum class Outcome { sent, spooled, lost };

// Sends one record (the concatenation of `iov`) on the persistent socket, opening it on first use.
Outcome send(const iovec* iov, int n);

// Sends one record on a socket opened and closed for it, so the descriptor table is left as it was.
Outcome send_transient(const iovec* iov, int n);

// For the records a process sends once (bye): the persistent socket if it is open, else a transient one.
Outcome send_once(const iovec* iov, int n);

// Records that could neither be sent nor spooled since the last take.
uint32_t take_lost();
void add_lost(uint32_t n);

// The persistent socket: descriptor in the low half, its inode in the high half, so both change
// together (sockfs inode numbers are 32-bit). Descriptor -1 when we hold none.
extern std::atomic<uint64_t> g_socket;
inline constexpr uint64_t kNoSocket = uint32_t(-1);

// The program closes `fd`: if it is our socket, forget it (we reopen on the next send).
inline void on_close(int fd) {
  uint64_t cur = g_socket.load(std::memory_order_relaxed);
  if (fd >= 0 && int(uint32_t(cur)) == fd) g_socket.compare_exchange_strong(cur, kNoSocket, std::memory_order_relaxed);
}

// In a fork child: a new spool file name (pid, nonce) and a zero lost count; the socket is shared.
void set_identity(int pid, uint64_t nonce);

}  // namespace fpshim::transport
