// Raw system calls for the shim's own work. They bypass libc, so they never reach our hooks (nor
// another preload's) and never touch errno: failures come back as -errno.
#pragma once

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

namespace fpshim::sys {

#if defined(__x86_64__)
inline long call(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
inline long call(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#elif defined(__i386__)
// Up to five arguments: no call of the shim's takes six on i386 (the sixth would go in ebp).
inline long call(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  (void)f;
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e) : "memory");
  return ret;
}
#else
#error "fpshim: add the raw system call sequence for this architecture"
#endif

inline long arg(const void* p) { return reinterpret_cast<long>(p); }

// The kernel's stat structure as fstat/fstatat fill it: on i386 the 64-bit one (fstat64), which
// glibc's struct stat64 matches; elsewhere the one struct stat is.
#if defined(__i386__)
using Stat = struct stat64;
inline constexpr long kFstat = SYS_fstat64, kFstatat = SYS_fstatat64;
#else
using Stat = struct stat;
inline constexpr long kFstat = SYS_fstat, kFstatat = SYS_newfstatat;
#endif

// prlimit64's limits, 64 bits on every ABI.
struct Rlimit64 {
  uint64_t cur, max;
};

inline int open(const char* path, int flags, int mode = 0) {
  return int(call(SYS_openat, AT_FDCWD, arg(path), flags, mode));
}
inline int openat(int dirfd, const char* path, int flags) { return int(call(SYS_openat, dirfd, arg(path), flags)); }
inline int mkdir(const char* path, int mode) { return int(call(SYS_mkdirat, AT_FDCWD, arg(path), mode)); }
inline int close(int fd) { return int(call(SYS_close, fd)); }
#if defined(__i386__)
inline long pread(int fd, void* buf, size_t n, long offset) {
  return call(SYS_pread64, fd, arg(buf), long(n), offset, 0);
}
inline long pwrite(int fd, const void* buf, size_t n, long offset) {
  return call(SYS_pwrite64, fd, arg(buf), long(n), offset, 0);
}
#else
inline long pread(int fd, void* buf, size_t n, long offset) { return call(SYS_pread64, fd, arg(buf), long(n), offset); }
inline long pwrite(int fd, const void* buf, size_t n, long offset) {
  return call(SYS_pwrite64, fd, arg(buf), long(n), offset);
}
#endif
inline int flock(int fd, int how) { return int(call(SYS_flock, fd, how)); }
inline long read(int fd, void* buf, size_t n) { return call(SYS_read, fd, arg(buf), long(n)); }
inline int faccessat(int dirfd, const char* path, int mode) { return int(call(SYS_faccessat, dirfd, arg(path), mode)); }
inline int fstatat(int dirfd, const char* path, Stat* st, int flags) {
  return int(call(kFstatat, dirfd, arg(path), arg(st), flags));
}
inline long readlink(const char* path, char* buf, size_t cap) {
  return call(SYS_readlinkat, AT_FDCWD, arg(path), arg(buf), long(cap));
}
// Returns the length of the path with its NUL, or -errno.
inline long getcwd(char* buf, size_t cap) { return call(SYS_getcwd, arg(buf), long(cap)); }
inline long getdents64(int fd, void* buf, size_t n) { return call(SYS_getdents64, fd, arg(buf), long(n)); }
inline long writev(int fd, const iovec* iov, int n) { return call(SYS_writev, fd, arg(iov), n); }
inline long write(int fd, const void* buf, size_t n) { return call(SYS_write, fd, arg(buf), long(n)); }
inline int fstat(int fd, Stat* st) { return int(call(kFstat, fd, arg(st))); }
inline int fcntl(int fd, int cmd, long a) { return int(call(SYS_fcntl, fd, cmd, a)); }
inline int socket(int domain, int type, int proto) { return int(call(SYS_socket, domain, type, proto)); }
inline int connect(int fd, const void* addr, socklen_t len) { return int(call(SYS_connect, fd, arg(addr), len)); }
inline int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return int(call(SYS_setsockopt, fd, level, name, arg(value), len));
}
inline long sendmsg(int fd, const msghdr* m, int flags) { return call(SYS_sendmsg, fd, arg(m), flags); }
inline int getpid() { return int(call(SYS_getpid)); }
inline int getppid() { return int(call(SYS_getppid)); }
inline int gettid() { return int(call(SYS_gettid)); }
inline void sched_yield() { call(SYS_sched_yield); }
inline int getrlimit(int resource, Rlimit64* lim) { return int(call(SYS_prlimit64, 0, resource, 0, arg(lim))); }

}  // namespace fpshim::sys
