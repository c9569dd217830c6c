// New names for files: symlink, symlinkat, link, linkat, rename, renameat, renameat2. A build that
// makes a watched file reachable under a name of its own (to read it there unseen) is reported
// when it does so, with the operation `link`: the watched path the new name leads to (a symlink's
// target, resolved from the directory the link is made in; a hard link's or rename's source), and
// a watched path a rename or link lands on. A symlink that already existed is found only by
// `fpshim run --strict`.
#include <errno.h>

#include "hook.h"
#include "lifecycle.h"
#include "path.h"
#include "real.h"

using namespace fpshim;

namespace {

// The paths of a link or rename, each relative to its directory descriptor.
void observe_new_name(const char* fn, int old_dirfd, const char* old_path, int new_dirfd, const char* new_path,
                      bool failed) {
  const int saved = errno;
  if (worth_resolving(old_dirfd, old_path)) observe(Call{fn, old_dirfd, old_path, wire::op_link, 0}, failed, -1);
  if (worth_resolving(new_dirfd, new_path)) observe(Call{fn, new_dirfd, new_path, wire::op_link, 0}, failed, -1);
  errno = saved;
}

// A symlink's target is read from the directory that holds the link.
void observe_symlink(const char* fn, const char* target, int dirfd, const char* link_path, bool failed) {
  const int saved = errno;
  if (ready()) {
    char resolved[kResolvedMax];
    long len;
    if (target[0] == '/') {
      len = resolve_path(AT_FDCWD, target, resolved, sizeof resolved);
    } else {
      len = resolve_path(dirfd, link_path, resolved, sizeof resolved);
      while (len > 1 && resolved[len - 1] != '/') len--;  // the link's directory
      if (len > 1) len--;
      if (len > 0) len = normalize_path(resolved, size_t(len), target, resolved, sizeof resolved);
    }
    observe_resolved(fn, wire::op_link, 0, failed ? saved : 0, resolved, len, target);
    if (worth_resolving(dirfd, link_path)) observe(Call{fn, dirfd, link_path, wire::op_link, 0}, failed, -1);
  }
  errno = saved;
}

}  // namespace

// A relative target is looked up from the link's directory, under the cwd or dirfd unless the
// link's own path climbs out of it.
FPSHIM_PATH_HOOK(int, symlink, (const char* target, const char* link_path), (target, link_path)) {
  if (!candidate<Scan>(AT_FDCWD, target) && !candidate<Scan>(AT_FDCWD, link_path))
    return real::symlink()(target, link_path);
  return observed([=] {
    const int r = real::symlink()(target, link_path);
    observe_symlink("symlink", target, AT_FDCWD, link_path, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, symlinkat, (const char* target, int dirfd, const char* link_path), (target, dirfd, link_path)) {
  if (!candidate<Scan>(dirfd, target) && !candidate<Scan>(dirfd, link_path))
    return real::symlinkat()(target, dirfd, link_path);
  return observed([=] {
    const int r = real::symlinkat()(target, dirfd, link_path);
    observe_symlink("symlinkat", target, dirfd, link_path, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, link, (const char* old_path, const char* new_path), (old_path, new_path)) {
  if (!candidate<Scan>(AT_FDCWD, old_path) && !candidate<Scan>(AT_FDCWD, new_path))
    return real::link()(old_path, new_path);
  return observed([=] {
    const int r = real::link()(old_path, new_path);
    observe_new_name("link", AT_FDCWD, old_path, AT_FDCWD, new_path, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, linkat, (int old_dirfd, const char* old_path, int new_dirfd, const char* new_path, int flags),
                 (old_dirfd, old_path, new_dirfd, new_path, flags)) {
  if (!candidate<Scan>(old_dirfd, old_path) && !candidate<Scan>(new_dirfd, new_path))
    return real::linkat()(old_dirfd, old_path, new_dirfd, new_path, flags);
  return observed([=] {
    const int r = real::linkat()(old_dirfd, old_path, new_dirfd, new_path, flags);
    observe_new_name("linkat", old_dirfd, old_path, new_dirfd, new_path, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, rename, (const char* old_path, const char* new_path), (old_path, new_path)) {
  if (!candidate<Scan>(AT_FDCWD, old_path) && !candidate<Scan>(AT_FDCWD, new_path))
    return real::rename()(old_path, new_path);
  return observed([=] {
    const int r = real::rename()(old_path, new_path);
    observe_new_name("rename", AT_FDCWD, old_path, AT_FDCWD, new_path, r != 0);
    return r;
  });
}

FPSHIM_PATH_HOOK(int, renameat, (int old_dirfd, const char* old_path, int new_dirfd, const char* new_path),
                 (old_dirfd, old_path, new_dirfd, new_path)) {
  if (!candidate<Scan>(old_dirfd, old_path) && !candidate<Scan>(new_dirfd, new_path))
    return real::renameat()(old_dirfd, old_path, new_dirfd, new_path);
  return observed([=] {
    const int r = real::renameat()(old_dirfd, old_path, new_dirfd, new_path);
    observe_new_name("renameat", old_dirfd, old_path, new_dirfd, new_path, r != 0);
    return r;
  });
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
FPSHIM_PATH_HOOK(int, renameat2,
                 (int old_dirfd, const char* old_path, int new_dirfd, const char* new_path, unsigned flags),
                 (old_dirfd, old_path, new_dirfd, new_path, flags)) {
  if (!candidate<Scan>(old_dirfd, old_path) && !candidate<Scan>(new_dirfd, new_path))
    return real::renameat2()(old_dirfd, old_path, new_dirfd, new_path, flags);
  return observed([=] {
    const int r = real::renameat2()(old_dirfd, old_path, new_dirfd, new_path, flags);
    observe_new_name("renameat2", old_dirfd, old_path, new_dirfd, new_path, r != 0);
    return r;
  });
}
#endif
