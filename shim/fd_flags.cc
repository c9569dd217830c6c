#include "fd_flags.h"

#include "self.h"

namespace fpshim {

constinit std::atomic<uint64_t> g_fd_flagged[kFlaggedFds / 64] = {};
constinit std::atomic<uint64_t> g_fd_listed[kFlaggedFds / 64] = {};

void clear_fd(int fd) {
  if (borrowing_memory()) return;
  const uint64_t bit = uint64_t(1) << (fd & 63);
  g_fd_flagged[fd >> 6].fetch_and(~bit, std::memory_order_relaxed);
  g_fd_listed[fd >> 6].fetch_and(~bit, std::memory_order_relaxed);
}

void unflag_fds(unsigned first, unsigned last) {
  if (first >= unsigned(kFlaggedFds) || borrowing_memory()) return;
  if (last >= unsigned(kFlaggedFds)) last = kFlaggedFds - 1;
  for (unsigned word = first >> 6; word <= last >> 6; word++) {
    const unsigned lo = word == first >> 6 ? first & 63 : 0, hi = word == last >> 6 ? last & 63 : 63;
    const uint64_t mask = (~uint64_t(0) >> (63 - hi)) & (~uint64_t(0) << lo);
    if ((g_fd_flagged[word].load(std::memory_order_relaxed) & mask) == 0) continue;
    g_fd_flagged[word].fetch_and(~mask, std::memory_order_relaxed);
    g_fd_listed[word].fetch_and(~mask, std::memory_order_relaxed);
  }
}

}  // namespace fpshim
