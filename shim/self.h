// Which process is running the shim. The pid is cached when the shim starts in a process and
// again by the fork handler in a child. A process whose pid differs from it is a vfork child (or
// a clone() sharing our memory without the fork handler): it runs in its parent's memory until it
// execs or exits, so it must not write the shim's shared state, which is the parent's.
#pragma once

#include <atomic>

#include "sys.h"

namespace fpshim {

inline constinit std::atomic<int> g_own_pid{0};

inline bool borrowing_memory(int pid) { return pid != g_own_pid.load(std::memory_order_relaxed); }

// This thread's id, asked once per thread; the fork handler forgets it in the child. Not for a
// vfork child, whose thread-local storage is its parent's thread's.
inline constinit thread_local int t_tid __attribute__((tls_model("initial-exec"))) = 0;
inline int own_tid() {
  if (__builtin_expect(t_tid == 0, 0)) t_tid = sys::gettid();
  return t_tid;
}
inline void forget_own_tid() { t_tid = 0; }
inline bool borrowing_memory() { return borrowing_memory(sys::getpid()); }

}  // namespace fpshim
