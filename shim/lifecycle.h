// When the shim is ready: the configuration is taken on first use (a hook may run before our
// constructor, e.g. from another library's constructor), once, by one thread.
#pragma once

#include <atomic>

namespace fpshim {

enum : int { kUninit, kInert, kActive };
extern std::atomic<int> g_state;

bool init_slow();

// From __libc_start_main, before the constructors run: argc and argv, where the C library does
// not pass them to constructors (musl; libc.h).
void note_main_arguments(int argc, char** argv);

// The status the process leaves with (exit, _exit, a return from main), for its bye record.
void note_exit_status(int status);
// The same for the status main returned, without asking for the pid: main returns in the process
// that ran it (a vfork child that returned from the function that called vfork would be undefined).
void note_main_status(int status);

// True if the shim is set up and reports. Unlike ready(), never sets it up: for hooks that may run
// in a vfork child, where setting up would write the parent's memory (exec, exit).
inline bool reporting() { return g_state.load(std::memory_order_acquire) == kActive; }

// True if hooks should look at paths: the configuration is loaded and names a collector.
inline bool ready() {
  const int s = g_state.load(std::memory_order_acquire);
  return __builtin_expect(s == kActive, 1) || (s == kUninit && init_slow());
}

}  // namespace fpshim
