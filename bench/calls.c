/* calls: N calls of one hooked entry point class, for the per-call benchmarks (bench/run calls).
 *
 *   calls CLASS N PATH [ROUNDS]             ROUNDS rounds of N calls on PATH
 *   calls CLASS N --distinct PREFIX [ROUNDS] call i uses PREFIX<i> (every path distinct across rounds)
 *
 * CLASS: open openat fopen opendir stat access close
 *   open/openat/fopen/opendir are paired with their close/fclose/closedir (one "call" = the pair);
 *   close is close(-1) on its own, to tell the cost of a close hook apart.
 * Prints "ns_per_call MEDIAN MIN" (median and fastest round, CLOCK_MONOTONIC: no syscall).
 * The loop is run_loop(), kept out of line so callgrind can collect inside it alone
 * (--toggle-collect=run_loop). Build: gcc -O2 (no _FORTIFY_SOURCE: each class calls its plain symbol). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum cls { C_OPEN, C_OPENAT, C_FOPEN, C_OPENDIR, C_STAT, C_ACCESS, C_CLOSE };

static volatile long sink;

__attribute__((noinline)) void run_loop(enum cls c, long n, const char *path, char **paths) {
  long acc = 0;
  for (long i = 0; i < n; i++) {
    const char *p = paths ? paths[i] : path;
    switch (c) {
      case C_OPEN: {
        int fd = open(p, O_RDONLY);
        if (fd >= 0) close(fd);
        acc += fd;
        break;
      }
      case C_OPENAT: {
        int fd = openat(AT_FDCWD, p, O_RDONLY);
        if (fd >= 0) close(fd);
        acc += fd;
        break;
      }
      case C_FOPEN: {
        FILE *f = fopen(p, "r");
        if (f) fclose(f);
        acc += f != NULL;
        break;
      }
      case C_OPENDIR: {
        DIR *d = opendir(p);
        if (d) closedir(d);
        acc += d != NULL;
        break;
      }
      case C_STAT: {
        struct stat st;
        acc += stat(p, &st);
        break;
      }
      case C_ACCESS: acc += access(p, R_OK); break;
      case C_CLOSE: acc += close(-1); break;
    }
  }
  sink = acc;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  static const char *names[] = {"open", "openat", "fopen", "opendir", "stat", "access", "close"};
  if (argc < 4) {
    fprintf(stderr, "usage: calls CLASS N PATH [ROUNDS] | calls CLASS N --distinct PREFIX [ROUNDS]\n");
    return 2;
  }
  int c = -1;
  for (int i = 0; i < 7; i++)
    if (strcmp(argv[1], names[i]) == 0) c = i;
  if (c < 0) {
    fprintf(stderr, "calls: unknown class %s\n", argv[1]);
    return 2;
  }
  long n = atol(argv[2]);
  int distinct = strcmp(argv[3], "--distinct") == 0;
  const char *path = distinct ? argv[4] : argv[3];
  int ai = distinct ? 5 : 4;
  int rounds = argc > ai ? atoi(argv[ai]) : 1;
  if (n <= 0 || rounds <= 0) return 2;

  char **paths = NULL;
  if (distinct) { /* made before any timing */
    paths = malloc(sizeof(char *) * n * rounds);
    for (long i = 0; i < n * rounds; i++) {
      if (asprintf(&paths[i], "%s%ld", path, i) < 0) return 1;
    }
  }
  double *t = malloc(sizeof(double) * rounds);
  for (int r = 0; r < rounds; r++) {
    double t0 = now_ns();
    run_loop((enum cls)c, n, path, paths ? paths + (long)r * n : NULL);
    t[r] = (now_ns() - t0) / n;
  }
  double fastest = t[0];
  for (int r = 1; r < rounds; r++)
    if (t[r] < fastest) fastest = t[r];
  qsort(t, rounds, sizeof(double), cmp_double);
  double median = rounds % 2 ? t[rounds / 2] : (t[rounds / 2 - 1] + t[rounds / 2]) / 2;
  printf("ns_per_call %.1f %.1f\n", median, fastest);
  return 0;
}
