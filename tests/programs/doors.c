/* Reaches one path through the libc door named on the command line: doors DOOR PATH.
   Prints only the return value and errno, so runs with and without fpshim compare byte for byte. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <linux/openat2.h>
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

static long reach(const char *door, const char *path) {
  struct stat st;
  char buf[PATH_MAX];
  if (!strcmp(door, "stat")) return stat(path, &st);
  if (!strcmp(door, "lstat")) return lstat(path, &st);
  if (!strcmp(door, "fstatat")) return fstatat(AT_FDCWD, path, &st, 0);
  if (!strcmp(door, "xstat")) return __xstat(1, path, &st);
  if (!strcmp(door, "lxstat")) return __lxstat(1, path, &st);
  if (!strcmp(door, "statx")) {
    struct statx sx;
    return statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx);
  }
  if (!strcmp(door, "access")) return access(path, R_OK);
  if (!strcmp(door, "faccessat")) return faccessat(AT_FDCWD, path, R_OK, AT_EACCESS);
  if (!strcmp(door, "eaccess")) return eaccess(path, R_OK);
  if (!strcmp(door, "euidaccess")) return euidaccess(path, R_OK);
  if (!strcmp(door, "readlink")) return readlink(path, buf, sizeof buf) >= 0 ? 0 : -1;
  if (!strcmp(door, "readlinkat")) return readlinkat(AT_FDCWD, path, buf, sizeof buf) >= 0 ? 0 : -1;
  if (!strcmp(door, "realpath")) return realpath(path, buf) ? 0 : -1;
  if (!strcmp(door, "canonicalize_file_name")) {
    char *p = canonicalize_file_name(path);
    free(p);
    return p ? 0 : -1;
  }
  if (!strcmp(door, "glob")) {
    glob_t g;
    int rc = glob(path, 0, 0, &g);
    if (rc == 0) globfree(&g);
    return rc == 0 ? 0 : -1;
  }
  if (!strcmp(door, "nftw")) return nftw(path, visit, 4, FTW_PHYS);
  if (!strcmp(door, "ftw")) return ftw(path, visit_ftw, 4);
  if (!strcmp(door, "fts_open")) {
    char *roots[] = {(char *)path, 0};
    FTS *f = fts_open(roots, FTS_PHYSICAL, 0);
    if (!f) return -1;
    fts_read(f);
    fts_close(f);
    return 0;
  }
  if (!strcmp(door, "syscall_statx")) {
    struct statx sx;
    return syscall(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx);
  }
  if (!strcmp(door, "syscall_openat2")) {
    struct open_how how = {.flags = O_RDONLY};
    long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd >= 0) close((int)fd);
    return fd >= 0 ? 0 : -1;
  }
  if (!strcmp(door, "syscall_open")) {
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
    if (fd >= 0) close((int)fd);
    return fd >= 0 ? 0 : -1;
  }
  fprintf(stderr, "doors: unknown door %s\n", door);
  exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    errno = 0;
    long rc = reach(argv[i], argv[i + 1]);
    printf("%s %s = %ld %s\n", argv[i], argv[i + 1], rc, rc < 0 && errno ? strerrorname_np(errno) : "");
  }
  return 0;
}
