// The descriptor bits (fd_flags.h), and the inherited descriptors flagged when first needed.
#include "fd_flags.h"

#include <dirent.h>
#include <fcntl.h>

#include "config.h"
#include "path.h"
#include "self.h"
#include "sys.h"

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

void note_open_fds() {
  if (g_fds_read.load(std::memory_order_acquire) || borrowing_memory()) return;
  const int dir = sys::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;  // every descriptor stays worth resolving
  alignas(8) char entries[2048];
  long n;
  while ((n = sys::getdents64(dir, entries, sizeof entries)) > 0) {
    for (long at = 0; at < n;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(entries + at);
      at += e->d_reclen;
      int fd = 0;
      const char* c = e->d_name;
      for (; *c >= '0' && *c <= '9'; c++) fd = fd * 10 + (*c - '0');
      if (*c != '\0' || c == e->d_name || fd <= 2 || fd == dir) continue;
      char link[32] = "/proc/self/fd/", target[4096];
      link[14 + format_decimal(unsigned(fd), link + 14)] = '\0';
      const long len = sys::readlink(link, target, sizeof target);
      if (len > 0 && target[0] == '/' && g_config.filter->interesting_dir(target, size_t(len))) flag_fd(fd, false);
    }
  }
  sys::close(dir);
  g_fds_read.store(true, std::memory_order_release);
}

}  // namespace fpshim
