// Two bits per descriptor, set by the slow path of a hooked open on an interesting directory:
// "flagged" tells *at calls the dirfd is worth resolving; "listed" says the open itself was a
// listing (O_DIRECTORY, opendir), so an fdopendir on it adds nothing. A stale bit is harmless (the
// dirfd is then resolved for nothing); a missing one loses relative paths under that dirfd
// (descriptors from dup or from unhooked calls are not flagged). A vfork child clears none: its
// descriptors are its own, the bits are its parent's. Descriptors a process inherits
// (`exec 3</proc`) are read lazily: until the process first passes a descriptor above 2 as a
// directory, every such descriptor is worth resolving, and that call reads /proc/self/fd once
// (note_open_fds), so that a process that never does (most of a build's) pays nothing for them.
#pragma once

#include <atomic>
#include <stdint.h>

namespace fpshim {

inline constexpr int kFlaggedFds = 65536;
// Set once this process flags a descriptor or opens our socket: until then, which is for good in
// most processes, close and closedir have nothing to look at.
inline constinit std::atomic<bool> g_fds_noted{false};
// Set once note_open_fds() has read this process's descriptors.
inline constinit std::atomic<bool> g_fds_read{false};
extern std::atomic<uint64_t> g_fd_flagged[kFlaggedFds / 64];
extern std::atomic<uint64_t> g_fd_listed[kFlaggedFds / 64];

inline bool fd_bit(const std::atomic<uint64_t>* bits, int fd) {
  return (bits[fd >> 6].load(std::memory_order_relaxed) >> (fd & 63)) & 1;
}

// Descriptors beyond the table are always worth resolving, and those above 2 until
// note_open_fds() has run.
inline bool fd_flagged(int fd) {
  if (static_cast<unsigned>(fd) >= unsigned(kFlaggedFds)) return fd >= 0;
  return fd_bit(g_fd_flagged, fd) || (fd > 2 && !g_fds_read.load(std::memory_order_acquire));
}

inline bool fd_listed(int fd) { return static_cast<unsigned>(fd) < unsigned(kFlaggedFds) && fd_bit(g_fd_listed, fd); }

inline bool fds_noted() { return g_fds_noted.load(std::memory_order_relaxed); }

inline void flag_fd(int fd, bool listed) {
  if (static_cast<unsigned>(fd) >= unsigned(kFlaggedFds)) return;
  g_fds_noted.store(true, std::memory_order_relaxed);
  const uint64_t bit = uint64_t(1) << (fd & 63);
  g_fd_flagged[fd >> 6].fetch_or(bit, std::memory_order_relaxed);
  if (listed) g_fd_listed[fd >> 6].fetch_or(bit, std::memory_order_relaxed);
  else g_fd_listed[fd >> 6].fetch_and(~bit, std::memory_order_relaxed);
}

// Clears the bits of `fd`, which has some (out of line: it asks whether this is a vfork child).
void clear_fd(int fd);

inline void unflag_fd(int fd) {
  if (static_cast<unsigned>(fd) < unsigned(kFlaggedFds) && fd_bit(g_fd_flagged, fd)) clear_fd(fd);
}

// Every descriptor from `first` to `last` (close_range, closefrom).
void unflag_fds(unsigned first, unsigned last);

// Once, from the slow path of the first call given a descriptor above 2 as its directory: flags
// each descriptor above 2 that is open on an interesting directory (or anything under one), read
// from /proc/self/fd. A few system calls. Not in a vfork child (whose bits are its parent's).
void note_open_fds();

}  // namespace fpshim
