/* spawn N PROGRAM: posix_spawn PROGRAM (no arguments) N times, one after another, waiting for each.
 * Prints "us_per_exec X". With the shim preloaded, spawn's own posix_spawn hook and the child's
 * start-up (loading libfpshim.so, its constructor, the hello record) and exit (bye) are all in X. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: spawn N PROGRAM\n");
    return 2;
  }
  long n = atol(argv[1]);
  char *child_argv[] = {argv[2], NULL};
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    pid_t pid;
    int rc = posix_spawn(&pid, argv[2], NULL, NULL, child_argv, environ);
    if (rc != 0) {
      fprintf(stderr, "spawn: posix_spawn failed: %d\n", rc);
      return 1;
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "spawn: child failed\n");
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double us = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / n;
  printf("us_per_exec %.2f\n", us);
  return 0;
}
