/* Reaches one path through the libc door named on the command line: doors DOOR PATH [DOOR PATH...].
   Prints only the return value and errno, so runs with and without fpshim compare byte for byte.
   `doors --list` prints every door and the operation the report should show for it, one per line
   ("stat stat"): the tests take the doors from there. Also built with musl-gcc and gcc -m32
   (tests/CMakeLists.txt): the doors glibc alone has are left out of the musl build. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The pre-2.33 stat ABI that binaries built on older glibc still import. */
extern int __xstat(int ver, const char *path, struct stat *st);
extern int __lxstat(int ver, const char *path, struct stat *st);

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)path, (void)st, (void)flag, (void)ftw;
  return 1; /* stop at the first entry */
}

static int visit_ftw(const char *path, const struct stat *st, int flag) {
  (void)path, (void)st, (void)flag;
  return 1;
}

static long by_stat(const char *path) {
  struct stat st;
  return stat(path, &st);
}
static long by_lstat(const char *path) {
  struct stat st;
  return lstat(path, &st);
}
static long by_fstatat(const char *path) {
  struct stat st;
  return fstatat(AT_FDCWD, path, &st, 0);
}
static long by_xstat(const char *path) {
  struct stat st;
  return __xstat(1, path, &st);
}
static long by_lxstat(const char *path) {
  struct stat st;
  return __lxstat(1, path, &st);
}
#ifdef __GLIBC__
static long by_statx(const char *path) {
  struct statx sx;
  return statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx);
}
static long by_syscall_statx(const char *path) {
  struct statx sx;
  return syscall(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx);
}
#endif
static long by_readlink(const char *path) {
  char buf[PATH_MAX];
  return readlink(path, buf, sizeof buf) >= 0 ? 0 : -1;
}
static long by_readlinkat(const char *path) {
  char buf[PATH_MAX];
  return readlinkat(AT_FDCWD, path, buf, sizeof buf) >= 0 ? 0 : -1;
}
static long by_realpath(const char *path) {
  char buf[PATH_MAX];
  return realpath(path, buf) ? 0 : -1;
}
#ifdef __GLIBC__
static long by_canonicalize_file_name(const char *path) {
  char *p = canonicalize_file_name(path);
  free(p);
  return p ? 0 : -1;
}
#endif
static long by_access(const char *path) { return access(path, R_OK); }
static long by_faccessat(const char *path) { return faccessat(AT_FDCWD, path, R_OK, AT_EACCESS); }
static long by_eaccess(const char *path) { return eaccess(path, R_OK); }
static long by_euidaccess(const char *path) { return euidaccess(path, R_OK); }
static long by_glob(const char *path) {
  glob_t g;
  int rc = glob(path, 0, 0, &g);
  if (rc == 0) globfree(&g);
  return rc == 0 ? 0 : -1;
}
static long by_nftw(const char *path) { return nftw(path, visit, 4, FTW_PHYS); }
static long by_ftw(const char *path) { return ftw(path, visit_ftw, 4); }
static long by_fts_open(const char *path) {
  char *roots[] = {(char *)path, 0};
  FTS *f = fts_open(roots, FTS_PHYSICAL, 0);
  if (!f) return -1;
  fts_read(f);
  fts_close(f);
  return 0;
}
static long by_syscall_openat2(const char *path) {
  struct { /* linux/openat2.h's struct open_how, which musl's headers lack */
    unsigned long long flags, mode, resolve;
  } how = {.flags = O_RDONLY};
  long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd >= 0) close((int)fd);
  return fd >= 0 ? 0 : -1;
}
static long by_syscall_open(const char *path) {
  long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
  if (fd >= 0) close((int)fd);
  return fd >= 0 ? 0 : -1;
}

/* Every door, and the operation (report "operations") reaching a path through it counts as. */
static const struct door {
  const char *name;
  const char *op;
  long (*reach)(const char *path);
} doors[] = {
    {"stat", "stat", by_stat},
    {"lstat", "stat", by_lstat},
    {"fstatat", "stat", by_fstatat},
    {"xstat", "stat", by_xstat},
    {"lxstat", "stat", by_lxstat},
#ifdef __GLIBC__
    {"statx", "stat", by_statx},
    {"syscall_statx", "stat", by_syscall_statx},
#endif
    {"readlink", "stat", by_readlink},
    {"readlinkat", "stat", by_readlinkat},
    {"realpath", "stat", by_realpath},
#ifdef __GLIBC__
    {"canonicalize_file_name", "stat", by_canonicalize_file_name},
#endif
    {"access", "stat", by_access},
    {"faccessat", "stat", by_faccessat},
    {"eaccess", "stat", by_eaccess},
    {"euidaccess", "stat", by_euidaccess},
    {"glob", "list", by_glob},
    {"nftw", "list", by_nftw},
    {"ftw", "list", by_ftw},
    {"fts_open", "list", by_fts_open},
    {"syscall_openat2", "read", by_syscall_openat2},
    {"syscall_open", "read", by_syscall_open},
};

static const char *error_name(int e) {
#ifdef __GLIBC__
  return strerrorname_np(e);
#else
  return strerror(e);
#endif
}

static long reach(const char *name, const char *path) {
  for (size_t i = 0; i < sizeof doors / sizeof doors[0]; i++)
    if (!strcmp(name, doors[i].name)) return doors[i].reach(path);
  fprintf(stderr, "doors: unknown door %s\n", name);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--list")) {
    for (size_t i = 0; i < sizeof doors / sizeof doors[0]; i++) printf("%s %s\n", doors[i].name, doors[i].op);
    return 0;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    errno = 0;
    long rc = reach(argv[i], argv[i + 1]);
    printf("%s %s = %ld %s\n", argv[i], argv[i + 1], rc, rc < 0 && errno ? error_name(errno) : "");
  }
  return 0;
}
