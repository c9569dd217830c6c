/* Does what daemons and sandboxes do to inherited descriptors, between two watched opens.
   Usage: fdsweep MODE   (close_range | closefrom | loop | dup2) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void touch(const char *path) {
  int fd = open(path, O_RDONLY);
  printf("open %s -> %s\n", path, fd >= 0 ? "ok" : "failed");
  if (fd >= 0) close(fd);
}

/* Points every socket descriptor of this process at /dev/null, as a program reusing numbers would. */
static void dup2_onto_sockets(void) {
  int null = open("/dev/null", O_WRONLY);
  DIR *d = opendir("/proc/self/fd");
  for (struct dirent *e; (e = readdir(d));) {
    char link[300], target[256];
    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n > 0 && strncmp(target, "socket:", 7) == 0) dup2(null, atoi(e->d_name));
  }
  closedir(d);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "close_range";
  touch("/proc/ioports");
  if (!strcmp(mode, "close_range")) {
    close_range(3, ~0U, 0);
  } else if (!strcmp(mode, "closefrom")) {
    closefrom(3);
  } else if (!strcmp(mode, "loop")) {
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    for (int fd = 3; fd < (int)r.rlim_cur; fd++) close(fd);
  } else if (!strcmp(mode, "dup2")) {
    dup2_onto_sockets();
  }
  touch("/proc/iomem");
  touch("/sys/class/dmi/id/board_serial");
  return 0;
}
