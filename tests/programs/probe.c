/* Does the file operations named on its command line and prints what each returned, so a test can
   run it with and without fpshim and compare. Each argument is OP:ARGS:
     open:PATH  openrw:PATH  creat:PATH  fopen:PATH  opendir:PATH  openat:DIR:NAME  chdir:PATH
     repeat:N:PATH (open+close N times)  fds (list this process's descriptors) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void show(const char *what, const char *path, long result, int err) {
  if (result < 0) printf("%s %s = -1 %s\n", what, path, strerrorname_np(err));
  else printf("%s %s = %ld\n", what, path, result);
}

static void list_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int self = dirfd(d);
  printf("fds:");
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.' && atoi(e->d_name) != self) printf(" %s", e->d_name);
  printf("\n");
  closedir(d);
}

static DIR *kept_open[64];
static int nkept;

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char *arg = argv[i];
    char *colon = strchr(arg, ':');
    char *rest = colon ? colon + 1 : arg + strlen(arg);
    if (colon) *colon = 0;
    errno = 0;
    if (!strcmp(arg, "open")) {
      int fd = open(rest, O_RDONLY);
      show("open", rest, fd, errno);
    } else if (!strcmp(arg, "openrw")) {
      int fd = open(rest, O_RDWR);
      show("openrw", rest, fd, errno);
    } else if (!strcmp(arg, "creat")) {
      int fd = creat(rest, 0600);
      show("creat", rest, fd, errno);
    } else if (!strcmp(arg, "fopen")) {
      FILE *f = fopen(rest, "r");
      show("fopen", rest, f ? fileno(f) : -1, errno);
    } else if (!strcmp(arg, "opendir")) {
      DIR *d = opendir(rest);
      show("opendir", rest, d ? dirfd(d) : -1, errno);
      if (d && nkept < 64) kept_open[nkept++] = d;
    } else if (!strcmp(arg, "openat")) {
      char *name = strchr(rest, ':');
      *name++ = 0;
      int dir = open(rest, O_RDONLY | O_DIRECTORY);
      int fd = openat(dir, name, O_RDONLY);
      show("openat", name, fd, errno);
    } else if (!strcmp(arg, "chdir")) {
      show("chdir", rest, chdir(rest), errno);
    } else if (!strcmp(arg, "repeat")) {
      char *path = strchr(rest, ':');
      *path++ = 0;
      long n = atol(rest), failures = 0;
      for (long k = 0; k < n; k++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) failures++;
        else close(fd);
      }
      printf("repeat %s = %ld opens, %ld failed\n", path, n, failures);
    } else if (!strcmp(arg, "fds")) {
      list_fds();
    } else {
      fprintf(stderr, "probe: unknown operation %s\n", arg);
      return 2;
    }
  }
  while (nkept > 0) closedir(kept_open[--nkept]);
  return 0;
}
