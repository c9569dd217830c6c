// Directory listing.
#include <dirent.h>

#include "hook.h"
#include "real.h"

using namespace fpshim;

FPSHIM_PATH_HOOK(DIR*, opendir, (const char* path), (path)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::opendir()(path);
  return observed([=] {
    DIR* dir = real::opendir()(path);
    observe_list("opendir", AT_FDCWD, path, dir == nullptr, dir != nullptr ? dirfd(dir) : -1);
    return dir;
  });
}

FPSHIM_PATH_HOOK(int, scandir,
                 (const char* path, struct dirent*** list, int (*select)(const struct dirent*),
                  int (*compare)(const struct dirent**, const struct dirent**)),
                 (path, list, select, compare)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::scandir()(path, list, select, compare);
  return observed([=] {
    const int n = real::scandir()(path, list, select, compare);
    observe_list("scandir", AT_FDCWD, path, n < 0, -1);
    return n;
  });
}

FPSHIM_PATH_HOOK(int, scandir64,
                 (const char* path, struct dirent64*** list, int (*select)(const struct dirent64*),
                  int (*compare)(const struct dirent64**, const struct dirent64**)),
                 (path, list, select, compare)) {
  if (!candidate<Scan>(AT_FDCWD, path)) return real::scandir64()(path, list, select, compare);
  return observed([=] {
    const int n = real::scandir64()(path, list, select, compare);
    observe_list("scandir64", AT_FDCWD, path, n < 0, -1);
    return n;
  });
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
FPSHIM_PATH_HOOK(int, scandirat,
                 (int dirfd, const char* path, struct dirent*** list, int (*select)(const struct dirent*),
                  int (*compare)(const struct dirent**, const struct dirent**)),
                 (dirfd, path, list, select, compare)) {
  if (!candidate<Scan>(dirfd, path)) return real::scandirat()(dirfd, path, list, select, compare);
  return observed([=] {
    const int n = real::scandirat()(dirfd, path, list, select, compare);
    observe_list("scandirat", dirfd, path, n < 0, -1);
    return n;
  });
}

FPSHIM_PATH_HOOK(int, scandirat64,
                 (int dirfd, const char* path, struct dirent64*** list, int (*select)(const struct dirent64*),
                  int (*compare)(const struct dirent64**, const struct dirent64**)),
                 (dirfd, path, list, select, compare)) {
  if (!candidate<Scan>(dirfd, path)) return real::scandirat64()(dirfd, path, list, select, compare);
  return observed([=] {
    const int n = real::scandirat64()(dirfd, path, list, select, compare);
    observe_list("scandirat64", dirfd, path, n < 0, -1);
    return n;
  });
}
#endif

// The descriptor has no path of its own: only one we flagged is resolved, through /proc/self/fd,
// and only if its open was not a listing already (open(O_DIRECTORY) then fdopendir, as fts does,
// is one listing). The record spells the path as resolved.
FPSHIM_DEFINE(DIR*, fdopendir, (int fd)) {
  if (!fd_flagged(fd) || fd_listed(fd)) return real::fdopendir()(fd);
  return observed([=] {
    DIR* dir = real::fdopendir()(fd);
    observe_list("fdopendir", fd, nullptr, dir == nullptr, -1);
    return dir;
  });
}

namespace {

__attribute__((cold, noinline)) void unflag_dir(DIR* dir) {
  if (dir != nullptr) unflag_fd(dirfd(dir));
}

}  // namespace

// The flag goes first: once closed, the number may be reused by another thread.
FPSHIM_DEFINE(int, closedir, (DIR * dir)) {
  if (__builtin_expect(fds_noted(), 0)) unflag_dir(dir);
  return real::closedir()(dir);
}
