// The shape of every hook: decide from the path alone whether it could be watched; if not, hand
// the call to the real function as a tail call (no stack frame, a few dozen instructions, errno
// untouched); if so, make the call and observe it, out of line:
//
//   FPSHIM_PATH_HOOK(int, open, (const char* path, int flags, mode_t mode), (path, flags, mode)) {
//     if (!candidate<Scan>(AT_FDCWD, path)) return real::open()(path, flags, mode);
//     return observed([=] {
//       const int fd = real::open()(path, flags, mode);
//       observe_open("open", AT_FDCWD, path, flags, fd);
//       return fd;
//     });
//   }
#pragma once

#include <atomic>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "cwd.h"
#include "dotdot.h"
#include "fd_flags.h"
#include "libc.h"
#include "ops.h"

#define FPSHIM_EXPORT extern "C" __attribute__((visibility("default")))

// Defines the exported function `name` without glibc's declaration of it, whose nonnull
// attributes would let the compiler drop our null checks (closedir(NULL) is an EINVAL, not a crash).
#define FPSHIM_DEFINE(ret, name, params)               \
  FPSHIM_EXPORT ret name##_hook params __asm__(#name); \
  ret name##_hook params

// Defines one version of an exported function libc has in two (exports.map): `which` is current
// (the default, "@@GLIBC_2.3") or compat (the older, "@GLIBC_2.2.5"); each forwards to the same
// version of libc's (real::name_current(), real::name_compat()), so an old binary keeps the old
// behaviour. The C name, fpshim_<name>_<which>, stays local. Off x86-64 the current version is
// defined without a version and the compat one is not exported (libc.h FPSHIM_SYMBOL_VERSIONS).
#if FPSHIM_SYMBOL_VERSIONS
#define FPSHIM_DEFINE_VERSION(ret, name, which, version, params)  \
  FPSHIM_EXPORT ret fpshim_##name##_##which params;               \
  __asm__(".symver fpshim_" #name "_" #which ", " #name version); \
  ret fpshim_##name##_##which params
#else
#define FPSHIM_DEFINE_VERSION(ret, name, which, version, params) FPSHIM_DEFINE_VERSION_##which(ret, name, params)
#define FPSHIM_DEFINE_VERSION_current(ret, name, params) FPSHIM_DEFINE(ret, name, params)
#define FPSHIM_DEFINE_VERSION_compat(ret, name, params) [[maybe_unused]] static ret name##_compat params
#endif

// Defines the exported function `name` with the body that follows, a template over the `Scan` of
// dotdot.h. On x86-64 the body is compiled twice, with the AVX2 and the SSE2 scan; `name` jumps
// through a pointer that its first call sets to the one this CPU can run. (Not an ifunc: glibc
// complains when a library relocated before us, such as libselinux, binds to one.)
//
// The parameters may differ from glibc's declaration in one way: the variadic mode of open and
// openat is taken as a named parameter. On x86-64 and aarch64 a variadic integer travels in the
// same register as a named one (on i386, in the same stack slot), so the hook passes it on unread and the real function
// reads it only when the flags say it was given. No va_list, hence no stack frame.
#if defined(__x86_64__)
#define FPSHIM_PATH_HOOK(ret, name, params, args)                                                         \
  template <class Scan>                                                                                   \
  static ret name##_body params;                                                                          \
  __attribute__((FPSHIM_AVX2_TARGET, flatten)) static ret name##_avx2 params {                            \
    return name##_body<::fpshim::ScanAvx2> args;                                                          \
  }                                                                                                       \
  __attribute__((flatten)) static ret name##_sse2 params { return name##_body<::fpshim::ScanSse2> args; } \
  static ret name##_portable params { return name##_body<::fpshim::ScanPortable> args; }                  \
  static ret name##_pick params;                                                                          \
  constinit static std::atomic<ret(*) params> name##_variant{&name##_pick};                               \
  static ret name##_pick params {                                                                         \
    const auto variant = ::fpshim::under_valgrind() ? &name##_portable                                    \
                         : ::fpshim::cpu_has_avx2() ? &name##_avx2                                        \
                                                    : &name##_sse2;                                       \
    name##_variant.store(variant, std::memory_order_relaxed);                                             \
    return variant args;                                                                                  \
  }                                                                                                       \
  FPSHIM_DEFINE(ret, name, params) { return name##_variant.load(std::memory_order_relaxed) args; }        \
  template <class Scan>                                                                                   \
  static ret name##_body params
#elif defined(__aarch64__) || defined(__i386__)
#define FPSHIM_PATH_HOOK(ret, name, params, args)                                                            \
  template <class Scan>                                                                                      \
  static ret name##_body params;                                                                             \
  __attribute__((flatten)) static ret name##_one params { return name##_body<::fpshim::BaselineScan> args; } \
  FPSHIM_DEFINE(ret, name, params) { return name##_one args; }                                               \
  template <class Scan>                                                                                      \
  static ret name##_body params
#else
#error "fpshim: check how this ABI passes variadic arguments before defining the hooks"
#endif

namespace fpshim {

struct Call {
  const char* fn;    // entry point, as reported
  int dirfd;         // AT_FDCWD unless an *at call
  const char* path;  // null: the directory `dirfd` itself (fdopendir)
  uint32_t op;
  int open_flags;
};

#if defined(__x86_64__)
// From what glibc's ld.so found at start-up: no cpuid, which a virtual machine may trap (tens of
// µs); on musl, libgcc's cpuid table, filled once (libc.h).
inline bool cpu_has_avx2() { return FPSHIM_CPU_HAS_AVX2(); }
#endif

inline bool base_interesting(int dirfd) { return dirfd == AT_FDCWD ? cwd_interesting() : fd_flagged(dirfd); }

// Could `path` (relative to `dirfd`) be watched? No call, system call, lock or allocation; errs on
// the side of yes, and the slow path looks again. Before the configuration is loaded every path is
// a candidate, and the slow path loads it. A relative path under a dirfd the shim did not see
// opened on an interesting directory is not a candidate unless it climbs with `..`.
template <class Scan>
inline bool candidate(int dirfd, const char* path) {
  if (__builtin_expect(path == nullptr, 0)) return false;
  return Filter::quick_verdict<Scan>(g_config.filter, path, [dirfd] { return base_interesting(dirfd); }) !=
         Filter::Verdict::no;
}

// Runs `call` (the real call, then the observation) out of line, keeping the hook frameless.
template <class F>
__attribute__((cold, noinline)) auto observed(F call) {
  return call();
}

// The first step of the slow path, after the real call: loads the configuration if this is the
// first candidate (before, every path is one), and runs the parts of the pre-filter the hooks leave
// out: basename entries, and how far a relative path climbs from an uninteresting cwd
// ("../include/x.h" from a build directory stays unwatched). `path` null: the dirfd itself.
bool worth_resolving(int dirfd, const char* path);

// Then: resolve, match, report. `failed`: the call failed with the current errno. `new_fd`: a
// descriptor the call returned (flagged if it is on an interesting directory), or -1.
__attribute__((cold, noinline)) void observe(const Call& call, bool failed, int new_fd);

// Both steps, for the common kinds of call.
__attribute__((cold, noinline)) void observe_open(const char* fn, int dirfd, const char* path, int flags, int fd);
__attribute__((cold, noinline)) void observe_fopen(const char* fn, const char* path, const char* mode, FILE* f);
__attribute__((cold, noinline)) void observe_list(const char* fn, int dirfd, const char* path, bool failed, int fd);
// stat, access, readlink, realpath: op_stat. An empty `path` is the dirfd itself with
// AT_EMPTY_PATH in `at_flags`, else nothing.
__attribute__((cold, noinline)) void observe_stat(const char* fn, int dirfd, const char* path, int at_flags,
                                                  bool failed);

// The last step, for a path resolved already: match, report. `result`: 0 or the call's errno.
__attribute__((cold, noinline)) void observe_resolved(const char* fn, uint32_t op, int open_flags, int result,
                                                      const char* resolved, long len, const char* spelled);

// Writes to `out` the absolute, lexically normalised path `path` names relative to `dirfd` (null
// `path`: the directory of `dirfd`), /proc/self spelled with our pid; returns its length, or -1.
long resolve_path(int dirfd, const char* path, char* out, size_t cap);

}  // namespace fpshim
