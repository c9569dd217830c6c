/* Reaches one path through the libc door named on the command line: doors DOOR PATH [DOOR PATH...].
   Prints only the return value and errno, so runs with and without fpshim compare byte for byte.
   `doors --list` prints every door and the operation the report should show for it, one per line
   ("stat stat"): the tests take the doors from there. Also built with musl-gcc and gcc -m32
   (tests/CMakeLists.txt): the doors glibc alone has are left out of the musl build. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <nl_types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The pre-2.33 stat ABI that binaries built on older glibc still import. */
extern int __xstat(int ver, const char *path, struct stat *st);
extern int __lxstat(int ver, const char *path, struct stat *st);
#ifdef __GLIBC__
/* The other names glibc exports for its opens (tests/libc_exports/doors.txt). */
extern int __open(const char *path, int flags, ...);
extern int __open64(const char *path, int flags, ...);
extern int __open_nocancel(const char *path, int flags, ...);
extern int __open64_nocancel(const char *path, int flags, ...);
extern FILE *_IO_fopen(const char *path, const char *mode);
extern int _IO_file_close_it(FILE *f);
extern FILE *_IO_file_fopen(FILE *f, const char *path, const char *mode, int is32not64);
extern FILE *_IO_file_open(FILE *f, const char *path, int flags, int prot, int read_write, int is32not64);
extern int __statfs(const char *path, struct statfs *buf);
extern int __connect(int fd, const struct sockaddr *addr, socklen_t len);
#endif

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
/* A relative open after a chdir made through syscall(), the way back through syscall(SYS_fchdir):
   the shim's cached working directory follows both. The system call numbers are the ABI's own. */
static long by_syscall_chdir(const char *path) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return -1;
  *slash = '\0';
  int here = open(".", O_RDONLY | O_DIRECTORY);
  if (here < 0) return -1;
  long fd = syscall(SYS_chdir, dir) == 0 ? open(slash + 1, O_RDONLY) : -1;
  int saved = errno;
  if (syscall(SYS_fchdir, here) != 0) {
    perror("fchdir");
    exit(2);
  }
  close(here);
  if (fd >= 0) close((int)fd);
  errno = saved;
  return fd >= 0 ? 0 : -1;
}

#ifdef __GLIBC__
static long opened(long fd) {
  if (fd >= 0) close((int)fd);
  return fd >= 0 ? 0 : -1;
}
static long by___open(const char *path) { return opened(__open(path, O_RDONLY)); }
static long by___open64(const char *path) { return opened(__open64(path, O_RDONLY)); }
static long by___open_nocancel(const char *path) { return opened(__open_nocancel(path, O_RDONLY)); }
static long by___open64_nocancel(const char *path) { return opened(__open64_nocancel(path, O_RDONLY)); }
static long by__IO_fopen(const char *path) {
  FILE *f = _IO_fopen(path, "r");
  if (f) fclose(f);
  return f ? 0 : -1;
}
/* libio's per-stream opens, as freopen uses them: a stream closed in place, then reopened. */
static long by__IO_file_fopen(const char *path) {
  FILE *f = fopen("/dev/null", "r");
  if (!f) return -1;
  _IO_file_close_it(f);
  FILE *r = _IO_file_fopen(f, path, "r", 1);
  int saved = errno;
  fclose(f);
  errno = saved;
  return r ? 0 : -1;
}
static long by__IO_file_open(const char *path) {
  FILE *f = fopen("/dev/null", "r");
  if (!f) return -1;
  _IO_file_close_it(f);
  FILE *r = _IO_file_open(f, path, O_RDONLY, 0666, 8 /* _IO_NO_WRITES */, 1);
  int saved = errno;
  fclose(f);
  errno = saved;
  return r ? 0 : -1;
}
#endif
static long by_catopen(const char *path) {
  nl_catd c = catopen(path, 0);
  if (c != (nl_catd)-1) catclose(c);
  return c != (nl_catd)-1 ? 0 : -1;
}
static long by_statfs(const char *path) {
  struct statfs st;
  return statfs(path, &st);
}
static long by_statfs64(const char *path) {
  struct statfs64 st;
  return statfs64(path, &st);
}
#ifdef __GLIBC__
static long by___statfs(const char *path) {
  struct statfs st;
  return __statfs(path, &st);
}
#endif
static long by_statvfs(const char *path) {
  struct statvfs st;
  return statvfs(path, &st);
}
static long by_statvfs64(const char *path) {
  struct statvfs64 st;
  return statvfs64(path, &st);
}
static long by_getxattr(const char *path) {
  char value[256];
  return getxattr(path, "user.fpshim", value, sizeof value) >= 0 ? 0 : -1;
}
static long by_lgetxattr(const char *path) {
  char value[256];
  return lgetxattr(path, "user.fpshim", value, sizeof value) >= 0 ? 0 : -1;
}
static long by_listxattr(const char *path) {
  char list[4096];
  return listxattr(path, list, sizeof list) >= 0 ? 0 : -1;
}
static long by_name_to_handle_at(const char *path) {
  struct file_handle *h = malloc(sizeof *h + MAX_HANDLE_SZ);
  int mount_id;
  h->handle_bytes = MAX_HANDLE_SZ;
  long rc = name_to_handle_at(AT_FDCWD, path, h, &mount_id, 0);
  free(h);
  return rc;
}
static long by_llistxattr(const char *path) {
  char list[4096];
  return llistxattr(path, list, sizeof list) >= 0 ? 0 : -1;
}
#ifdef __GLIBC__
/* Functions fetched by name from libc's own handle, as code that knows about LD_PRELOAD would.
   glibc's: the musl shim does not interpose dlsym (README "Limits of LD_PRELOAD"). */
static void *libc_handle(void) {
  void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (!h) {
    fprintf(stderr, "doors: %s\n", dlerror());
    exit(2);
  }
  return h;
}
static long by_dlsym_open(const char *path) {
  int (*f)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(libc_handle(), "open");
  return opened(f(path, O_RDONLY));
}
#ifdef __x86_64__
#define OPEN_VERSION "GLIBC_2.2.5"
#else
#define OPEN_VERSION "GLIBC_2.0"
#endif
static long by_dlvsym_open(const char *path) {
  int (*f)(const char *, int, ...) = (int (*)(const char *, int, ...))dlvsym(libc_handle(), "open", OPEN_VERSION);
  return opened(f(path, O_RDONLY));
}
static long by_dlsym_fopen(const char *path) {
  FILE *(*f)(const char *, const char *) = (FILE * (*)(const char *, const char *)) dlsym(libc_handle(), "fopen");
  FILE *file = f(path, "r");
  if (file) fclose(file);
  return file ? 0 : -1;
}
/* dlsym itself fetched from libc, then asked for open. */
static long by_dlsym_dlsym_open(const char *path) {
  void *(*lookup)(void *, const char *) = (void *(*)(void *, const char *))dlsym(libc_handle(), "dlsym");
  int (*f)(const char *, int, ...) = (int (*)(const char *, int, ...))lookup(libc_handle(), "open");
  return opened(f(path, O_RDONLY));
}
static long by_dlsym_stat(const char *path) {
  int (*f)(const char *, struct stat *) = (int (*)(const char *, struct stat *))dlsym(libc_handle(), "stat");
  struct stat st;
  return f(path, &st);
}
#endif

/* New names for the path, made in a fresh directory and removed again. */
static char scratch[64];
static const char *new_name(void) {
  strcpy(scratch, "/tmp/doors.XXXXXX");
  if (!mkdtemp(scratch)) {
    perror("mkdtemp");
    exit(2);
  }
  strcat(scratch, "/name");
  return scratch;
}
static void remove_new_name(void) {
  unlink(scratch);
  rmdir(dirname(scratch));
}
static long made(long rc) {
  int saved = errno;
  remove_new_name();
  errno = saved;
  return rc;
}
static long by_symlink(const char *path) { return made(symlink(path, new_name())); }
static long by_symlinkat(const char *path) { return made(symlinkat(path, AT_FDCWD, new_name())); }
/* A relative target, from the directory the link is made in. */
static long by_symlink_relative(const char *path) {
  char target[PATH_MAX];
  snprintf(target, sizeof target, "../..%s", path);
  return made(symlink(target, new_name()));
}
static long by_link(const char *path) { return made(link(path, new_name())); }
static long by_linkat(const char *path) { return made(linkat(AT_FDCWD, path, AT_FDCWD, new_name(), 0)); }
/* A rename of the path onto itself: both ends reached, nothing moved (the tests also run these
   on files of the system). */
static long by_rename(const char *path) { return rename(path, path); }
static long by_renameat(const char *path) { return renameat(AT_FDCWD, path, AT_FDCWD, path); }
#ifdef __GLIBC__
static long by_renameat2(const char *path) { return renameat2(AT_FDCWD, path, AT_FDCWD, path, RENAME_NOREPLACE); }
#endif

/* A Unix socket reached by its path (an SSH agent's, say), through `connect`. */
static long connected(int (*connect_fn)(int, const struct sockaddr *, socklen_t), const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const long rc = connect_fn(fd, (const struct sockaddr *)&a, sizeof a);
  const int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}
static long by_connect(const char *path) { return connected(connect, path); }
#ifdef __GLIBC__
static long by___connect(const char *path) { return connected(__connect, path); }
#endif

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
#ifdef __GLIBC__
    {"dlsym_stat", "stat", by_dlsym_stat},
#endif
    {"statfs", "stat", by_statfs},
    {"statfs64", "stat", by_statfs64},
#ifdef __GLIBC__
    {"__statfs", "stat", by___statfs},
#endif
    {"statvfs", "stat", by_statvfs},
    {"statvfs64", "stat", by_statvfs64},
    {"getxattr", "stat", by_getxattr},
    {"lgetxattr", "stat", by_lgetxattr},
    {"listxattr", "stat", by_listxattr},
    {"llistxattr", "stat", by_llistxattr},
    {"name_to_handle_at", "stat", by_name_to_handle_at},
    {"glob", "list", by_glob},
    {"nftw", "list", by_nftw},
    {"ftw", "list", by_ftw},
    {"fts_open", "list", by_fts_open},
    {"syscall_openat2", "read", by_syscall_openat2},
    {"syscall_open", "read", by_syscall_open},
    {"syscall_chdir", "read", by_syscall_chdir},
#ifdef __GLIBC__
    {"__open", "read", by___open},
    {"__open64", "read", by___open64},
    {"__open_nocancel", "read", by___open_nocancel},
    {"__open64_nocancel", "read", by___open64_nocancel},
    {"_IO_fopen", "read", by__IO_fopen},
    {"_IO_file_fopen", "read", by__IO_file_fopen},
    {"_IO_file_open", "read", by__IO_file_open},
#endif
    {"catopen", "read", by_catopen},
#ifdef __GLIBC__
    {"dlsym_open", "read", by_dlsym_open},
    {"dlvsym_open", "read", by_dlvsym_open},
    {"dlsym_fopen", "read", by_dlsym_fopen},
    {"dlsym_dlsym_open", "read", by_dlsym_dlsym_open},
#endif
    {"symlink", "link", by_symlink},
    {"symlinkat", "link", by_symlinkat},
    {"symlink_relative", "link", by_symlink_relative},
    {"link", "link", by_link},
    {"linkat", "link", by_linkat},
    {"rename", "link", by_rename},
    {"renameat", "link", by_renameat},
#ifdef __GLIBC__
    {"renameat2", "link", by_renameat2},
#endif
    {"connect", "connect", by_connect},
#ifdef __GLIBC__
    {"__connect", "connect", by___connect},
#endif
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
