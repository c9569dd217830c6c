// Walkers: glob, nftw, ftw and fts list directories through glibc-internal calls we never see, so
// their entry points report what they start from (op list): each root of fts_open, the directory
// of nftw and ftw, and the directory a glob pattern lists first (path.h glob_start; a pattern
// without a wildcard is only looked up: op stat).
#include <errno.h>

#include "hook.h"
#include "path.h"
#include "real.h"

using namespace fpshim;

namespace {

template <class Real, class... Args>
int glob_via(const char* fn, Real real, const char* pattern, int flags, Args... args) {
  char start[kResolvedMax];
  bool lists = false;
  const bool home = (flags & (GLOB_TILDE | GLOB_TILDE_CHECK)) && pattern != nullptr && pattern[0] == '~';
  if (pattern == nullptr || home ||
      glob_start(pattern, flags & GLOB_BRACE, flags & GLOB_NOESCAPE, start, sizeof start, &lists) <= 0 ||
      !candidate<BaselineScan>(AT_FDCWD, start))
    return real(pattern, flags, args...);
  return observed([&] {
    const int r = real(pattern, flags, args...);
    const int saved = errno;
    // No match for a pattern without wildcards: its one lookup failed.
    const bool failed = r != 0 && (r != GLOB_NOMATCH || !lists);
    if (r == GLOB_NOMATCH) errno = ENOENT;
    if (lists) observe_list(fn, AT_FDCWD, start, failed, -1);
    else observe_stat(fn, AT_FDCWD, start, 0, failed);
    errno = saved;
    return r;
  });
}

template <class Real, class... Args>
int tree_walk(const char* fn, Real real, const char* dir, Args... args) {
  if (!candidate<BaselineScan>(AT_FDCWD, dir)) return real(dir, args...);
  return observed([&] {
    const int r = real(dir, args...);
    observe_list(fn, AT_FDCWD, dir, r == -1, -1);
    return r;
  });
}

template <class Real, class Compare>
auto fts_via(const char* fn, Real real, char* const* roots, int options, Compare compare) {
  bool any = false;
  for (size_t i = 0; roots != nullptr && roots[i] != nullptr && !any; i++)
    any = candidate<BaselineScan>(AT_FDCWD, roots[i]);
  if (!any) return real(roots, options, compare);
  return observed([&] {
    const auto fts = real(roots, options, compare);
    for (size_t i = 0; roots[i] != nullptr; i++) observe_list(fn, AT_FDCWD, roots[i], fts == nullptr, -1);
    return fts;
  });
}

using GlobError = int (*)(const char*, int);

}  // namespace

FPSHIM_DEFINE_VERSION(int, glob, current, "@@GLIBC_2.27", (const char* pattern, int flags, GlobError err, glob_t* g)) {
  return glob_via("glob", real::glob_current(), pattern, flags, err, g);
}

FPSHIM_DEFINE_VERSION(int, glob, compat, "@GLIBC_2.2.5", (const char* pattern, int flags, GlobError err, glob_t* g)) {
  return glob_via("glob", real::glob_compat(), pattern, flags, err, g);
}

FPSHIM_DEFINE_VERSION(int, glob64, current, "@@GLIBC_2.27",
                      (const char* pattern, int flags, GlobError err, glob64_t* g)) {
  return glob_via("glob64", real::glob64_current(), pattern, flags, err, g);
}

FPSHIM_DEFINE_VERSION(int, glob64, compat, "@GLIBC_2.2.5",
                      (const char* pattern, int flags, GlobError err, glob64_t* g)) {
  return glob_via("glob64", real::glob64_compat(), pattern, flags, err, g);
}

// The GLIBC_2.2.5 nftw ignores flags it does not know instead of failing with EINVAL.
FPSHIM_DEFINE_VERSION(int, nftw, current, "@@GLIBC_2.3.3", (const char* dir, __nftw_func_t fn, int fds, int flags)) {
  return tree_walk("nftw", real::nftw_current(), dir, fn, fds, flags);
}

FPSHIM_DEFINE_VERSION(int, nftw, compat, "@GLIBC_2.2.5", (const char* dir, __nftw_func_t fn, int fds, int flags)) {
  return tree_walk("nftw", real::nftw_compat(), dir, fn, fds, flags);
}

FPSHIM_DEFINE_VERSION(int, nftw64, current, "@@GLIBC_2.3.3",
                      (const char* dir, __nftw64_func_t fn, int fds, int flags)) {
  return tree_walk("nftw64", real::nftw64_current(), dir, fn, fds, flags);
}

FPSHIM_DEFINE_VERSION(int, nftw64, compat, "@GLIBC_2.2.5", (const char* dir, __nftw64_func_t fn, int fds, int flags)) {
  return tree_walk("nftw64", real::nftw64_compat(), dir, fn, fds, flags);
}

FPSHIM_DEFINE(int, ftw, (const char* dir, __ftw_func_t fn, int fds)) {
  return tree_walk("ftw", real::ftw(), dir, fn, fds);
}

FPSHIM_DEFINE(int, ftw64, (const char* dir, __ftw64_func_t fn, int fds)) {
  return tree_walk("ftw64", real::ftw64(), dir, fn, fds);
}

FPSHIM_DEFINE(FTS*, fts_open, (char* const* roots, int options, int (*compare)(const FTSENT**, const FTSENT**))) {
  return fts_via("fts_open", real::fts_open(), roots, options, compare);
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
FPSHIM_DEFINE(FTS64*, fts64_open,
              (char* const* roots, int options, int (*compare)(const FTSENT64**, const FTSENT64**))) {
  return fts_via("fts64_open", real::fts64_open(), roots, options, compare);
}
#endif
