// Whether this process runs under Valgrind's Memcheck. The scans that read a string a block at a
// time, past its NUL but within its page (dotdot.h), are safe, but Memcheck reports their branches
// as depending on uninitialised bytes, in the build's own program: a test suite that runs its tests
// under valgrind and fails on any report (json-c's) would fail under fpshim. Under Memcheck the
// shim reads strings byte by byte instead. The other tools track no definedness (Callgrind, with
// which bench/ counts instructions, then runs the code that runs outside Valgrind). Asked once
// (client requests: a few instructions that Valgrind recognises), then one load.
#pragma once

#include <atomic>

namespace fpshim {

bool ask_valgrind();  // valgrind.cc: RUNNING_ON_VALGRIND, where <valgrind/valgrind.h> exists

extern std::atomic<signed char> g_under_valgrind;  // -1 not asked yet

inline bool under_valgrind() {
  signed char v = g_under_valgrind.load(std::memory_order_relaxed);
  if (__builtin_expect(v < 0, 0)) {
    v = ask_valgrind() ? 1 : 0;
    g_under_valgrind.store(v, std::memory_order_relaxed);
  }
  return v != 0;
}

}  // namespace fpshim
