/* storm NPROC N PATH: NPROC processes at once, each opening (and closing) PATH N times.
 * Children leave with exit(), so the shim's destructor flushes its pending counts and says bye.
 * Prints "seconds X" (from the first fork to the last child reaped). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: storm NPROC N PATH\n");
    return 2;
  }
  int nproc = atoi(argv[1]);
  long n = atol(argv[2]);
  const char *path = argv[3];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int p = 0; p < nproc; p++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("storm: fork");
      return 1;
    }
    if (pid == 0) {
      long failed = 0;
      for (long i = 0; i < n; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) failed++;
        else close(fd);
      }
      exit(failed == n ? 1 : 0);
    }
  }
  int bad = 0, status;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bad++;
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("seconds %.3f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
  return bad ? 1 : 0;
}
