// syscall(): some runtimes make file system calls through it (libuv's statx; openat2, which has
// no glibc wrapper before 2.43), and a chdir through it must not leave the cwd cache behind. The numbers below are
// decoded; every other one, futex above all, costs a bit test before the jump to libc's syscall(), which sets errno
// from the raw result.
#include <stdint.h>
#include <sys/syscall.h>

#include "exec_flow.h"
#include "hook.h"
#include "real.h"

using namespace fpshim;

namespace {

// fstatat: newfstatat on 64-bit ABIs, fstatat64 on i386.
#if defined(__NR_newfstatat)
constexpr long kNrFstatat = __NR_newfstatat;
constexpr char kFstatatName[] = "syscall(newfstatat)";
#else
constexpr long kNrFstatat = __NR_fstatat64;
constexpr char kFstatatName[] = "syscall(fstatat64)";
#endif

constexpr long kFileCalls[] = {
#ifdef __NR_open
    __NR_open,
#endif
#ifdef __NR_stat
    __NR_stat,
#endif
#ifdef __NR_lstat
    __NR_lstat,
#endif
#ifdef __NR_access
    __NR_access,
#endif
#ifdef __NR_readlink
    __NR_readlink,
#endif
    __NR_openat,     __NR_openat2, kNrFstatat,    __NR_statx, __NR_faccessat, __NR_faccessat2,
    __NR_readlinkat, __NR_execve,  __NR_execveat, __NR_chdir, __NR_fchdir,
};

struct CallSet {
  uint64_t bits[8];
};

constexpr CallSet file_call_set() {
  CallSet set = {};
  for (long n : kFileCalls) set.bits[n >> 6] |= uint64_t(1) << (n & 63);
  return set;
}

constexpr CallSet kFileCallSet = file_call_set();
static_assert([] {
  for (long n : kFileCalls)
    if (n < 0 || n >= 8 * 64) return false;
  return true;
}());

inline bool file_call(long n) {
  return static_cast<unsigned long>(n) < 8 * 64 && ((kFileCallSet.bits[n >> 6] >> (n & 63)) & 1);
}

// The open flags of an openat2 `struct open_how` (its first member), if it is readable.
int openat2_flags(long how, long size) {
  return how != 0 && size >= long(sizeof(uint64_t)) ? int(*reinterpret_cast<const uint64_t*>(how)) : 0;
}

__attribute__((cold, noinline)) long decoded(long n, long a, long b, long c, long d, long e, long f) {
  const auto forward = [&] { return real::syscall()(n, a, b, c, d, e, f); };
  const auto text = [](long v) { return reinterpret_cast<const char*>(v); };
  const auto strings = [](long v) { return reinterpret_cast<char* const*>(v); };
  if (n == __NR_execve)
    return exec_in_place(ExecCall{"syscall(execve)", text(a), strings(b), strings(c)}, [&](char* const* env) {
      return int(real::syscall()(n, a, b, reinterpret_cast<long>(env), d, e, f));
    });
  if (n == __NR_execveat) {
    const bool empty = (e & AT_EMPTY_PATH) && b != 0 && text(b)[0] == '\0';
    return exec_in_place(
        ExecCall{"syscall(execveat)", text(b), strings(c), strings(d), int(a), false, empty},
        [&](char* const* env) { return int(real::syscall()(n, a, b, c, reinterpret_cast<long>(env), e, f)); });
  }
  if (n == __NR_chdir || n == __NR_fchdir) {  // the cwd cache follows (cwd.h)
    const long r = forward();
    if (r == 0 && ready()) cwd_changed();
    return r;
  }
  const bool at = n == __NR_openat || n == __NR_openat2 || n == kNrFstatat || n == __NR_statx || n == __NR_faccessat ||
                  n == __NR_faccessat2 || n == __NR_readlinkat;
  const int dirfd = at ? int(a) : AT_FDCWD;
  const char* path = text(at ? b : a);
  if (!candidate<BaselineScan>(dirfd, path)) return forward();
  const long r = forward();
  switch (n) {
#ifdef __NR_open
    case __NR_open: observe_open("syscall(open)", dirfd, path, int(b), int(r)); break;
#endif
    case __NR_openat: observe_open("syscall(openat)", dirfd, path, int(c), int(r)); break;
    case __NR_openat2: observe_open("syscall(openat2)", dirfd, path, openat2_flags(c, d), int(r)); break;
#ifdef __NR_stat
    case __NR_stat: observe_stat("syscall(stat)", dirfd, path, 0, r != 0); break;
#endif
#ifdef __NR_lstat
    case __NR_lstat: observe_stat("syscall(lstat)", dirfd, path, 0, r != 0); break;
#endif
#ifdef __NR_access
    case __NR_access: observe_stat("syscall(access)", dirfd, path, 0, r != 0); break;
#endif
#ifdef __NR_readlink
    case __NR_readlink: observe_stat("syscall(readlink)", dirfd, path, 0, r < 0); break;
#endif
    case kNrFstatat: observe_stat(kFstatatName, dirfd, path, int(d), r != 0); break;
    case __NR_statx: observe_stat("syscall(statx)", dirfd, path, int(c), r != 0); break;
    case __NR_faccessat: observe_stat("syscall(faccessat)", dirfd, path, 0, r != 0); break;
    case __NR_faccessat2: observe_stat("syscall(faccessat2)", dirfd, path, int(d), r != 0); break;
    case __NR_readlinkat: observe_stat("syscall(readlinkat)", dirfd, path, 0, r < 0); break;
  }
  return r;
}

}  // namespace

// Takes the variadic arguments as six named longs: on x86-64, aarch64 and i386 they travel where
// named ones would, and libc's syscall() reads all six whatever the number.
FPSHIM_DEFINE(long, syscall, (long n, long a, long b, long c, long d, long e, long f)) {
  if (__builtin_expect(!file_call(n), 1)) return real::syscall()(n, a, b, c, d, e, f);
  return decoded(n, a, b, c, d, e, f);
}
