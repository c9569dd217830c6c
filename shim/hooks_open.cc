// The open family and stdio opens, with the aliases libc exports for them, catopen, and the
// opens by file handle.
#include <errno.h>
#include <string.h>

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

#if FPSHIM_GLIBC  // glibc only (libc.h)
// The aliases libc exports beside the names above (tests/libc_exports/doors.txt): the same
// functions, reachable by name from any program or through dlsym.

FPSHIM_PATH_HOOK(int, __open, (const char* path, int flags, mode_t mode), (path, flags, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__open()(path, flags, mode);
  return observed([=] {
    const int fd = real::__open()(path, flags, mode);
    observe_open("__open", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, __open64, (const char* path, int flags, mode_t mode), (path, flags, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__open64()(path, flags, mode);
  return observed([=] {
    const int fd = real::__open64()(path, flags, mode);
    observe_open("__open64", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

// GLIBC_PRIVATE, yet exported: dlvsym(handle, "__open_nocancel", "GLIBC_PRIVATE") reaches it.
FPSHIM_PATH_HOOK(int, __open_nocancel, (const char* path, int flags, mode_t mode), (path, flags, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__open_nocancel()(path, flags, mode);
  return observed([=] {
    const int fd = real::__open_nocancel()(path, flags, mode);
    observe_open("__open_nocancel", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(int, __open64_nocancel, (const char* path, int flags, mode_t mode), (path, flags, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__open64_nocancel()(path, flags, mode);
  return observed([=] {
    const int fd = real::__open64_nocancel()(path, flags, mode);
    observe_open("__open64_nocancel", AT_FDCWD, path, flags, fd);
    return fd;
  });
}

FPSHIM_PATH_HOOK(FILE*, _IO_fopen, (const char* path, const char* mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::_IO_fopen()(path, mode);
  return observed([=] {
    FILE* f = real::_IO_fopen()(path, mode);
    observe_fopen("_IO_fopen", path, mode, f);
    return f;
  });
}

// libio's per-stream opens (freopen's inside): a stream closed with _IO_file_close_it, reopened.
FPSHIM_PATH_HOOK(FILE*, _IO_file_fopen, (FILE * stream, const char* path, const char* mode, int is32not64),
                 (stream, path, mode, is32not64)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::_IO_file_fopen()(stream, path, mode, is32not64);
  return observed([=] {
    FILE* f = real::_IO_file_fopen()(stream, path, mode, is32not64);
    observe_fopen("_IO_file_fopen", path, mode, f);
    return f;
  });
}

FPSHIM_PATH_HOOK(FILE*, _IO_file_open,
                 (FILE * stream, const char* path, int flags, int prot, int read_write, int is32not64),
                 (stream, path, flags, prot, read_write, is32not64)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::_IO_file_open()(stream, path, flags, prot, read_write, is32not64);
  return observed([=] {
    FILE* f = real::_IO_file_open()(stream, path, flags, prot, read_write, is32not64);
    observe_open("_IO_file_open", AT_FDCWD, path, flags, f != nullptr ? fileno(f) : -1);
    return f;
  });
}
#endif

// A message catalog named with a '/' is opened as that path; a bare name is looked up through
// NLSPATH inside libc, unseen (README "Limits of LD_PRELOAD").
FPSHIM_PATH_HOOK(nl_catd, catopen, (const char* name, int flag), (name, flag)) {
  if (!candidate<Scan>(AT_FDCWD, name)) return real::catopen()(name, flag);
  return observed([=] {
    nl_catd r = real::catopen()(name, flag);
    if (strchr(name, '/') != nullptr && worth_resolving(AT_FDCWD, name))
      observe(Call{"catopen", AT_FDCWD, name, wire::op_read, O_RDONLY}, r == reinterpret_cast<nl_catd>(-1), -1);
    return r;
  });
}

// A file handle names no path: what open_by_handle_at opened is resolved through /proc/self/fd
// (the call needs CAP_DAC_READ_SEARCH, so it is rare: each successful one costs a readlink). A
// failed one reached nothing we can name.
FPSHIM_DEFINE(int, open_by_handle_at, (int mount_fd, struct file_handle* handle, int flags)) {
  const int fd = real::open_by_handle_at()(mount_fd, handle, flags);
  if (fd >= 0 && worth_resolving(fd, nullptr)) {
    const int saved = errno;
    observe(Call{"open_by_handle_at", fd, nullptr, op_for_open_flags(flags), flags}, false, fd);
    errno = saved;
  }
  return fd;
}

// The handle of a path: a lookup of it, as stat is.
FPSHIM_PATH_HOOK(int, name_to_handle_at,
                 (int dirfd, const char* path, struct file_handle* handle, int* mount_id, int flags),
                 (dirfd, path, handle, mount_id, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::name_to_handle_at()(dirfd, path, handle, mount_id, flags);
  return observed([=] {
    const int r = real::name_to_handle_at()(dirfd, path, handle, mount_id, flags);
    observe_stat("name_to_handle_at", dirfd, path, flags, r != 0);
    return r;
  });
}
