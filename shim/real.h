// The next definition of each hooked function (libc's, or another preload's), found with
// dlsym(RTLD_NEXT) on its first use and kept in an atomic pointer. Works before our constructor
// has run. Usage: real::open()(path, flags, mode). To hook a new function, add it to the list.
// A function libc has in two versions (exports.map) has one slot per version, looked up with
// dlvsym: real::realpath_current(), real::realpath_compat().
#pragma once

#include <atomic>
#include <dirent.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <spawn.h>
#include <stdio.h>
#include <nl_types.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "libc.h"

// glibc declares these only for _FORTIFY_SOURCE builds, or (the stat ABI before 2.33) no longer.
extern "C" {
int __open_2(const char* path, int flags);
int __open64_2(const char* path, int flags);
int __openat_2(int dirfd, const char* path, int flags);
int __openat64_2(int dirfd, const char* path, int flags);
// Aliases libc exports beside the documented names (tests/libc_exports/doors.txt).
int __open(const char* path, int flags, ...);
int __open64(const char* path, int flags, ...);
int __open_nocancel(const char* path, int flags, ...);
int __open64_nocancel(const char* path, int flags, ...);
FILE* _IO_fopen(const char* path, const char* mode);
FILE* _IO_file_fopen(FILE* f, const char* path, const char* mode, int is32not64);
FILE* _IO_file_open(FILE* f, const char* path, int flags, int prot, int read_write, int is32not64);
FILE* _IO_popen(const char* command, const char* mode);
int __libc_system(const char* line);
int __statfs(const char* path, struct statfs* buf);
int __xstat(int ver, const char* path, struct stat* buf);
int __xstat64(int ver, const char* path, struct stat64* buf);
int __lxstat(int ver, const char* path, struct stat* buf);
int __lxstat64(int ver, const char* path, struct stat64* buf);
int __fxstatat(int ver, int dirfd, const char* path, struct stat* buf, int flags);
int __fxstatat64(int ver, int dirfd, const char* path, struct stat64* buf, int flags);
char* __realpath_chk(const char* path, char* resolved, size_t resolved_len);
ssize_t __readlink_chk(const char* path, char* buf, size_t len, size_t buf_len);
ssize_t __readlinkat_chk(int dirfd, const char* path, char* buf, size_t len, size_t buf_len);
int __connect(int fd, const struct sockaddr* addr, socklen_t len);
int __libc_start_main(int (*main)(int, char**, char**), int argc, char** argv, void (*init)(), void (*fini)(),
                      void (*rtld_fini)(), void* stack_end);
}

// One line per family of entry points; the second list has those only glibc exports (libc.h).
// clang-format off
#define FPSHIM_REAL_COMMON(X)                                                                     \
  X(open) X(open64) X(openat) X(openat64)                                                         \
  X(creat) X(creat64) X(fopen) X(fopen64) X(freopen) X(freopen64) X(catopen)                      \
  X(open_by_handle_at) X(name_to_handle_at)                                                       \
  X(opendir) X(fdopendir) X(scandir) X(scandir64) X(closedir)                                     \
  X(chdir) X(fchdir) X(close) X(dup2) X(dup3)                                                     \
  X(stat) X(stat64) X(lstat) X(lstat64) X(fstatat) X(fstatat64)                                   \
  X(__xstat) X(__xstat64) X(__lxstat) X(__lxstat64) X(__fxstatat) X(__fxstatat64)                 \
  X(statfs) X(statfs64) X(statvfs) X(statvfs64)                                                   \
  X(getxattr) X(lgetxattr) X(listxattr) X(llistxattr)                                             \
  X(access) X(faccessat) X(eaccess) X(euidaccess)                                                 \
  X(readlink) X(readlinkat)                                                                       \
  X(ftw) X(ftw64) X(fts_open)                                                                     \
  X(symlink) X(symlinkat) X(link) X(linkat) X(rename) X(renameat)                                 \
  X(execve) X(execvpe) X(fexecve) X(system) X(popen)                                              \
  X(connect)                                                                                      \
  X(exit) X(_exit) X(_Exit)
#if FPSHIM_GLIBC
#define FPSHIM_REAL_FUNCTIONS(X) FPSHIM_REAL_COMMON(X)                                            \
  X(__open_2) X(__open64_2) X(__openat_2) X(__openat64_2)                                         \
  X(__open) X(__open64) X(__open_nocancel) X(__open64_nocancel)                                   \
  X(_IO_fopen) X(_IO_file_fopen) X(_IO_file_open)                                                 \
  X(scandirat) X(scandirat64) X(close_range) X(closefrom) X(statx) X(__statfs)                    \
  X(__readlink_chk) X(__readlinkat_chk) X(canonicalize_file_name) X(__realpath_chk)               \
  X(fts64_open) X(renameat2) X(execveat) X(_IO_popen) X(__libc_system) X(__connect)
#else
#define FPSHIM_REAL_FUNCTIONS(X) FPSHIM_REAL_COMMON(X)
#endif
// clang-format on

// The functions libc exports in two versions, as (name, slot, version). The versions are
// x86-64 glibc's; elsewhere (FPSHIM_SYMBOL_VERSIONS 0) both slots take the default version.
// clang-format off
#define FPSHIM_REAL_VERSIONED(X)                                                \
  X(realpath, current, "GLIBC_2.3") X(realpath, compat, "GLIBC_2.2.5")          \
  X(glob, current, "GLIBC_2.27") X(glob, compat, "GLIBC_2.2.5")                 \
  X(glob64, current, "GLIBC_2.27") X(glob64, compat, "GLIBC_2.2.5")             \
  X(nftw, current, "GLIBC_2.3.3") X(nftw, compat, "GLIBC_2.2.5")                \
  X(nftw64, current, "GLIBC_2.3.3") X(nftw64, compat, "GLIBC_2.2.5")            \
  X(posix_spawn, current, "GLIBC_2.15") X(posix_spawn, compat, "GLIBC_2.2.5")   \
  X(posix_spawnp, current, "GLIBC_2.15") X(posix_spawnp, compat, "GLIBC_2.2.5") \
  X(__libc_start_main, current, "GLIBC_2.34") X(__libc_start_main, compat, "GLIBC_2.2.5")
// clang-format on

namespace fpshim::real {

// dlsym(RTLD_NEXT, name), or dlvsym if a `version` is given; a function missing from every later
// object is fatal.
void* lookup(const char* name, const char* version = nullptr);

// A slot starts out (constant-initialised, so usable before any constructor) holding a trampoline
// that looks the function up, stores it and forwards the call; callers never test for null.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"  // glibc's nonnull on the function types
template <class F>
struct Slot;
template <class R, class... A, bool NE>
struct Slot<R (*)(A...) noexcept(NE)> {
  using Pointer = R (*)(A...) noexcept(NE);
  template <std::atomic<Pointer>& slot, const char* name, const char* version = nullptr>
  static R first_call(A... a) noexcept(NE) {
    const auto p = reinterpret_cast<Pointer>(lookup(name, version));
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

#define FPSHIM_DECLARE_REAL(name)                                                            \
  using name##_slot = Slot<decltype(&::name)>;                                               \
  extern std::atomic<name##_slot::Pointer> slot_##name;                                      \
  inline decltype(&::name) name() {                                                          \
    return reinterpret_cast<decltype(&::name)>(slot_##name.load(std::memory_order_relaxed)); \
  }
FPSHIM_REAL_FUNCTIONS(FPSHIM_DECLARE_REAL)
#undef FPSHIM_DECLARE_REAL

#define FPSHIM_DECLARE_REAL_VERSIONED(name, which, version)                                            \
  extern std::atomic<Slot<decltype(&::name)>::Pointer> slot_##name##_##which;                          \
  inline decltype(&::name) name##_##which() {                                                          \
    return reinterpret_cast<decltype(&::name)>(slot_##name##_##which.load(std::memory_order_relaxed)); \
  }
FPSHIM_REAL_VERSIONED(FPSHIM_DECLARE_REAL_VERSIONED)
#undef FPSHIM_DECLARE_REAL_VERSIONED
#pragma GCC diagnostic pop

// syscall() takes up to six arguments after the number, each in the register a named long would
// use, and libc's reads all six: the hook passes them on as longs.
using Syscall = long (*)(long, long, long, long, long, long, long);
extern std::atomic<Syscall> slot_syscall;
inline Syscall syscall() { return slot_syscall.load(std::memory_order_relaxed); }

}  // namespace fpshim::real
