// The open family and stdio opens.
#include "hook.h"
#include "real.h"

using namespace fpshim;

FPSHIM_PATH_HOOK(int, open, (const char* path, int flags, mode_t mode), (path, flags, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::open()(path, flags, mode);
  return observed([=] {
    const int fd = real::open()(path, flags, mode);
    observe_open("open", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, open64, (const char* path, int flags, mode_t mode), (path, flags, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::open64()(path, flags, mode);
  return observed([=] {
    const int fd = real::open64()(path, flags, mode);
    observe_open("open64", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, openat, (int dirfd, const char* path, int flags, mode_t mode), (dirfd, path, flags, mode)) {
  if (!candidate<Scan>(dirfd, path)) return real::openat()(dirfd, path, flags, mode);
  return observed([=] {
    const int fd = real::openat()(dirfd, path, flags, mode);
    observe_open("openat", dirfd, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, openat64, (int dirfd, const char* path, int flags, mode_t mode), (dirfd, path, flags, mode)) {
  if (!candidate<Scan>(dirfd, path)) return real::openat64()(dirfd, path, flags, mode);
  return observed([=] {
    const int fd = real::openat64()(dirfd, path, flags, mode);
    observe_open("openat64", dirfd, path, flags, fd);
    return fd;
  });
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
// The _FORTIFY_SOURCE entry points for calls without a mode.
FPSHIM_PATH_HOOK(int, __open_2, (const char* path, int flags), (path, flags)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__open_2()(path, flags);
  return observed([=] {
    const int fd = real::__open_2()(path, flags);
    observe_open("__open_2", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, __open64_2, (const char* path, int flags), (path, flags)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__open64_2()(path, flags);
  return observed([=] {
    const int fd = real::__open64_2()(path, flags);
    observe_open("__open64_2", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, __openat_2, (int dirfd, const char* path, int flags), (dirfd, path, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::__openat_2()(dirfd, path, flags);
  return observed([=] {
    const int fd = real::__openat_2()(dirfd, path, flags);
    observe_open("__openat_2", dirfd, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, __openat64_2, (int dirfd, const char* path, int flags), (dirfd, path, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::__openat64_2()(dirfd, path, flags);
  return observed([=] {
    const int fd = real::__openat64_2()(dirfd, path, flags);
    observe_open("__openat64_2", dirfd, path, flags, fd);
    return fd;
  });
}
#endif

FPSHIM_PATH_HOOK(int, creat, (const char* path, mode_t mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::creat()(path, mode);
  return observed([=] {
    const int fd = real::creat()(path, mode);
    observe_open("creat", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, creat64, (const char* path, mode_t mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::creat64()(path, mode);
  return observed([=] {
    const int fd = real::creat64()(path, mode);
    observe_open("creat64", AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(FILE*, fopen, (const char* path, const char* mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::fopen()(path, mode);
  return observed([=] {
    FILE* f = real::fopen()(path, mode);
    observe_fopen("fopen", path, mode, f);
    return f;
  });
}

FPSHIM_PATH_HOOK(FILE*, fopen64, (const char* path, const char* mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::fopen64()(path, mode);
  return observed([=] {
    FILE* f = real::fopen64()(path, mode);
    observe_fopen("fopen64", path, mode, f);
    return f;
  });
}

// A null path reopens the same file with another mode: nothing new is reached.
FPSHIM_PATH_HOOK(FILE*, freopen, (const char* path, const char* mode, FILE* stream), (path, mode, stream)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::freopen()(path, mode, stream);
  return observed([=] {
    FILE* f = real::freopen()(path, mode, stream);
    observe_fopen("freopen", path, mode, f);
    return f;
  });
}

FPSHIM_PATH_HOOK(FILE*, freopen64, (const char* path, const char* mode, FILE* stream), (path, mode, stream)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::freopen64()(path, mode, stream);
  return observed([=] {
    FILE* f = real::freopen64()(path, mode, stream);
    observe_fopen("freopen64", path, mode, f);
    return f;
  });
}
