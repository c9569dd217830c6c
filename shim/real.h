// The next definition of each hooked function (libc's, or another preload's), found with
// dlsym(RTLD_NEXT) on its first use and kept in an atomic pointer. Works before our constructor
// has run. Usage: real::open()(path, flags, mode). To hook a new function, add it to the list.
#pragma once

#include <atomic>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

// glibc declares these only for _FORTIFY_SOURCE builds.
extern "C" {
int __open_2(const char* path, int flags);
int __open64_2(const char* path, int flags);
int __openat_2(int dirfd, const char* path, int flags);
int __openat64_2(int dirfd, const char* path, int flags);
}

#define FPSHIM_REAL_FUNCTIONS(X)                                                                   \
  X(open) X(open64) X(openat) X(openat64) X(__open_2) X(__open64_2) X(__openat_2) X(__openat64_2) \
  X(creat) X(creat64) X(fopen) X(fopen64) X(freopen) X(freopen64)                                \
  X(opendir) X(fdopendir) X(scandir) X(scandir64) X(scandirat) X(scandirat64) X(closedir)         \
  X(chdir) X(fchdir) X(close)

namespace fpshim::real {

// dlsym(RTLD_NEXT, name); a function missing from every later object is fatal.
void* lookup(const char* name);

// A slot starts out (constant-initialised, so usable before any constructor) holding a trampoline
// that looks the function up, stores it and forwards the call; callers never test for null.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // glibc's nonnull on the function types
template <class F>
struct Slot;
template <class R, class... A, bool NE>
struct Slot<R (*)(A...) noexcept(NE)> {
  using Pointer = R (*)(A...) noexcept(NE);
  template <std::atomic<Pointer>& slot, const char* name>
  static R first_call(A... a) noexcept(NE) {
    const auto p = reinterpret_cast<Pointer>(lookup(name));
    slot.store(p, std::memory_order_relaxed);
    return p(a...);
  }
};
// A variadic function is always called with one argument beyond its named ones (open's mode).
template <class R, class... A, bool NE>
struct Slot<R (*)(A..., ...) noexcept(NE)> {
  using Pointer = R (*)(A..., unsigned long) noexcept(NE);
  template <std::atomic<Pointer>& slot, const char* name>
  static R first_call(A... a, unsigned long extra) noexcept(NE) {
    const auto p = reinterpret_cast<R (*)(A..., ...)>(lookup(name));
    slot.store(reinterpret_cast<Pointer>(p), std::memory_order_relaxed);
    return p(a..., extra);
  }
};

#define FPSHIM_DECLARE_REAL(name)                                                                \
  using name##_slot = Slot<decltype(&::name)>;                                                   \
  extern std::atomic<name##_slot::Pointer> slot_##name;                                          \
  inline decltype(&::name) name() {                                                              \
    return reinterpret_cast<decltype(&::name)>(slot_##name.load(std::memory_order_relaxed));     \
  }
FPSHIM_REAL_FUNCTIONS(FPSHIM_DECLARE_REAL)
#undef FPSHIM_DECLARE_REAL
#pragma GCC diagnostic pop

}  // namespace fpshim::real
