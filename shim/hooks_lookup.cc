// Lookups that reach a path without opening it: access checks, symlink reads and canonical
// names. realpath and canonicalize_file_name report the path they were given (their own
// readlinks and stats inside glibc are not seen); the canonical result is not reported.
#include "hook.h"
#include "real.h"

using namespace fpshim;


FPSHIM_PATH_HOOK(int, access, (const char* path, int mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::access()(path, mode);
  return observed([=] {
    const int r = real::access()(path, mode);
    observe_stat("access", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, faccessat, (int dirfd, const char* path, int mode, int flags), (dirfd, path, mode, flags)) {
  if (!candidate<Scan>(dirfd, path)) return real::faccessat()(dirfd, path, mode, flags);
  return observed([=] {
    const int r = real::faccessat()(dirfd, path, mode, flags);
    observe_stat("faccessat", dirfd, path, flags, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, eaccess, (const char* path, int mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::eaccess()(path, mode);
  return observed([=] {
    const int r = real::eaccess()(path, mode);
    observe_stat("eaccess", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, euidaccess, (const char* path, int mode), (path, mode)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::euidaccess()(path, mode);
  return observed([=] {
    const int r = real::euidaccess()(path, mode);
    observe_stat("euidaccess", AT_FDCWD, path, 0, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(ssize_t, readlink, (const char* path, char* buf, size_t len), (path, buf, len)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::readlink()(path, buf, len);
  return observed([=] {
    const ssize_t r = real::readlink()(path, buf, len);
    observe_stat("readlink", AT_FDCWD, path, 0, r < 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(ssize_t, readlinkat, (int dirfd, const char* path, char* buf, size_t len), (dirfd, path, buf, len)) {
  if (!candidate<Scan>(dirfd, path)) return real::readlinkat()(dirfd, path, buf, len);
  return observed([=] {
    const ssize_t r = real::readlinkat()(dirfd, path, buf, len);
    observe_stat("readlinkat", dirfd, path, 0, r < 0);
    return r;
  });
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
FPSHIM_PATH_HOOK(ssize_t, __readlink_chk, (const char* path, char* buf, size_t len, size_t buf_len),
                 (path, buf, len, buf_len)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__readlink_chk()(path, buf, len, buf_len);
  return observed([=] {
    const ssize_t r = real::__readlink_chk()(path, buf, len, buf_len);
    observe_stat("__readlink_chk", AT_FDCWD, path, 0, r < 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(ssize_t, __readlinkat_chk, (int dirfd, const char* path, char* buf, size_t len, size_t buf_len),
                 (dirfd, path, buf, len, buf_len)) {
  if (!candidate<Scan>(dirfd, path)) return real::__readlinkat_chk()(dirfd, path, buf, len, buf_len);
  return observed([=] {
    const ssize_t r = real::__readlinkat_chk()(dirfd, path, buf, len, buf_len);
    observe_stat("__readlinkat_chk", dirfd, path, 0, r < 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(char*, canonicalize_file_name, (const char* path), (path)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::canonicalize_file_name()(path);
  return observed([=] {
    char* r = real::canonicalize_file_name()(path);
    observe_stat("canonicalize_file_name", AT_FDCWD, path, 0, r == nullptr);
    return r;
  });
}

FPSHIM_PATH_HOOK(char*, __realpath_chk, (const char* path, char* resolved, size_t resolved_len),
                 (path, resolved, resolved_len)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::__realpath_chk()(path, resolved, resolved_len);
  return observed([=] {
    char* r = real::__realpath_chk()(path, resolved, resolved_len);
    observe_stat("__realpath_chk", AT_FDCWD, path, 0, r == nullptr);
    return r;
  });
}
#endif

namespace {

char* realpath_via(decltype(&::realpath) real, const char* path, char* resolved) {
  if (!candidate<BaselineScan>(AT_FDCWD, path)) return real(path, resolved);
  return observed([=] {
    char* r = real(path, resolved);
    observe_stat("realpath", AT_FDCWD, path, 0, r == nullptr);
    return r;
  });
}

}  // namespace

FPSHIM_DEFINE_VERSION(char*, realpath, current, "@@GLIBC_2.3", (const char* path, char* resolved)) {
  return realpath_via(real::realpath_current(), path, resolved);
}

// The GLIBC_2.2.5 realpath fails with EINVAL when `resolved` is null instead of allocating.
FPSHIM_DEFINE_VERSION(char*, realpath, compat, "@GLIBC_2.2.5", (const char* path, char* resolved)) {
  return realpath_via(real::realpath_compat(), path, resolved);
}
