// The cached working directory: read once at start, refreshed by the chdir/fchdir hooks, so
// relative candidate paths resolve without a system call. Readers may run in signal handlers.
#pragma once

#include <atomic>
#include <stddef.h>

namespace fpshim {

extern std::atomic<bool> g_cwd_interesting;
extern std::atomic<int> g_cwd_safe_climb;

// Could a relative path from the cwd match? True while the cache is being refreshed.
inline bool cwd_interesting() { return g_cwd_interesting.load(std::memory_order_acquire); }

// How many levels a relative path may climb from an uninteresting cwd and still be under an
// uninteresting directory (where nothing can match a prefix entry).
inline int cwd_safe_climb() { return g_cwd_safe_climb.load(std::memory_order_relaxed); }

// Re-reads the cwd with getcwd. Lock-free: a refresh that runs while another is in progress leaves
// the cache marked stale, and readers fall back to getcwd until the other one publishes again.
void refresh_cwd();

// For a vfork child that changed directory: marks the cache stale without writing it (it is the
// parent's). Readers fall back to getcwd; the parent's next read refreshes it.
void forget_cwd();

// After a successful chdir or fchdir (the libc functions, or syscall() with their numbers): refreshes
// the cache, or in a vfork child forgets it. A chdir made with a raw system call instruction, or
// by a thread that left the shared working directory (unshare(CLONE_FS)), is not seen: relative
// paths are then resolved against the old directory (README "Limits of LD_PRELOAD").
void cwd_changed();

// Copies the cwd (no NUL) into `out`; returns its length, or -1 if it is unknown or does not fit.
long read_cwd(char* out, size_t cap);

}  // namespace fpshim
