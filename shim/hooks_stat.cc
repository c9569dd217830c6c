// Metadata: the stat family in both ABIs (the GLIBC_2.33 functions and the __xstat ones that
// binaries built against older glibc import, such as GNU make and node), and statx. glibc's own
// callers reach the syscalls directly; only the entry points are ours to see. And statfs,
// statvfs and the extended attribute reads.
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "hook.h"
#include "real.h"

using namespace fpshim;

FPSHIM_PATH_HOOK(int, stat, (const char* path, struct stat* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::stat()(path, buf);
  return observed([=] {
    const int r = real::stat()(path, buf);
    observe_stat("stat", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, stat64, (const char* path, struct stat64* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::stat64()(path, buf);
  return observed([=] {
    const int r = real::stat64()(path, buf);
    observe_stat("stat64", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, lstat, (const char* path, struct stat* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::lstat()(path, buf);
  return observed([=] {
    const int r = real::lstat()(path, buf);
    observe_stat("lstat", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, lstat64, (const char* path, struct stat64* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::lstat64()(path, buf);
  return observed([=] {
    const int r = real::lstat64()(path, buf);
    observe_stat("lstat64", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, fstatat, (int dirfd, const char* path, struct stat* buf, int flags), (dirfd, path, buf, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::fstatat()(dirfd, path, buf, flags);
  return observed([=] {
    const int r = real::fstatat()(dirfd, path, buf, flags);
    observe_stat("fstatat", dirfd, path, flags, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, fstatat64, (int dirfd, const char* path, struct stat64* buf, int flags),
                 (dirfd, path, buf, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::fstatat64()(dirfd, path, buf, flags);
  return observed([=] {
    const int r = real::fstatat64()(dirfd, path, buf, flags);
    observe_stat("fstatat64", dirfd, path, flags, r != 0);
    return r;
  });
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
FPSHIM_PATH_HOOK(int, statx, (int dirfd, const char* path, int flags, unsigned mask, struct statx* buf),
                 (dirfd, path, flags, mask, buf)) {
  if (!candidate<Scan>(dirfd, path)) return real::statx()(dirfd, path, flags, mask, buf);
  return observed([=] {
    const int r = real::statx()(dirfd, path, flags, mask, buf);
    observe_stat("statx", dirfd, path, flags, r != 0);
    return r;
  });
}
#endif

// The ABI before glibc 2.33: `ver` is _STAT_VER, passed on as given.

FPSHIM_PATH_HOOK(int, __xstat, (int ver, const char* path, struct stat* buf), (ver, path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__xstat()(ver, path, buf);
  return observed([=] {
    const int r = real::__xstat()(ver, path, buf);
    observe_stat("__xstat", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, __xstat64, (int ver, const char* path, struct stat64* buf), (ver, path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__xstat64()(ver, path, buf);
  return observed([=] {
    const int r = real::__xstat64()(ver, path, buf);
    observe_stat("__xstat64", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, __lxstat, (int ver, const char* path, struct stat* buf), (ver, path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__lxstat()(ver, path, buf);
  return observed([=] {
    const int r = real::__lxstat()(ver, path, buf);
    observe_stat("__lxstat", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, __lxstat64, (int ver, const char* path, struct stat64* buf), (ver, path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__lxstat64()(ver, path, buf);
  return observed([=] {
    const int r = real::__lxstat64()(ver, path, buf);
    observe_stat("__lxstat64", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, __fxstatat, (int ver, int dirfd, const char* path, struct stat* buf, int flags),
                 (ver, dirfd, path, buf, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::__fxstatat()(ver, dirfd, path, buf, flags);
  return observed([=] {
    const int r = real::__fxstatat()(ver, dirfd, path, buf, flags);
    observe_stat("__fxstatat", dirfd, path, flags, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, __fxstatat64, (int ver, int dirfd, const char* path, struct stat64* buf, int flags),
                 (ver, dirfd, path, buf, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::__fxstatat64()(ver, dirfd, path, buf, flags);
  return observed([=] {
    const int r = real::__fxstatat64()(ver, dirfd, path, buf, flags);
    observe_stat("__fxstatat64", dirfd, path, flags, r != 0);
    return r;
  });
}

// The filesystem a path lives on, and a path's extended attributes: metadata too.

FPSHIM_PATH_HOOK(int, statfs, (const char* path, struct statfs* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::statfs()(path, buf);
  return observed([=] {
    const int r = real::statfs()(path, buf);
    observe_stat("statfs", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, statfs64, (const char* path, struct statfs64* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::statfs64()(path, buf);
  return observed([=] {
    const int r = real::statfs64()(path, buf);
    observe_stat("statfs64", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
FPSHIM_PATH_HOOK(int, __statfs, (const char* path, struct statfs* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__statfs()(path, buf);
  return observed([=] {
    const int r = real::__statfs()(path, buf);
    observe_stat("__statfs", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}
#endif

FPSHIM_PATH_HOOK(int, statvfs, (const char* path, struct statvfs* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::statvfs()(path, buf);
  return observed([=] {
    const int r = real::statvfs()(path, buf);
    observe_stat("statvfs", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, statvfs64, (const char* path, struct statvfs64* buf), (path, buf)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::statvfs64()(path, buf);
  return observed([=] {
    const int r = real::statvfs64()(path, buf);
    observe_stat("statvfs64", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(ssize_t, getxattr, (const char* path, const char* name, void* value, size_t size),
                 (path, name, value, size)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::getxattr()(path, name, value, size);
  return observed([=] {
    const ssize_t r = real::getxattr()(path, name, value, size);
    observe_stat("getxattr", AT_FDCWD, path, 0, r < 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(ssize_t, lgetxattr, (const char* path, const char* name, void* value, size_t size),
                 (path, name, value, size)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::lgetxattr()(path, name, value, size);
  return observed([=] {
    const ssize_t r = real::lgetxattr()(path, name, value, size);
    observe_stat("lgetxattr", AT_FDCWD, path, 0, r < 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(ssize_t, listxattr, (const char* path, char* list, size_t size), (path, list, size)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::listxattr()(path, list, size);
  return observed([=] {
    const ssize_t r = real::listxattr()(path, list, size);
    observe_stat("listxattr", AT_FDCWD, path, 0, r < 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(ssize_t, llistxattr, (const char* path, char* list, size_t size), (path, list, size)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::llistxattr()(path, list, size);
  return observed([=] {
    const ssize_t r = real::llistxattr()(path, list, size);
    observe_stat("llistxattr", AT_FDCWD, path, 0, r < 0);
    return r;
  });
}
