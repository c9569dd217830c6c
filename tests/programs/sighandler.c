/* A signal handler that opens a watched file, interrupting a main loop that opens files too.
   Prints how many times the handler ran (to stderr), so the test can compare with the report. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_alarm(int sig) {
  (void)sig;
  int fd = open("/proc/ioports", O_RDONLY);
  if (fd >= 0) close(fd);
  handled++;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, 0);
  struct itimerval every_ms = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_REAL, &every_ms, 0);
  while (handled < 300) {
    int fd = open("/proc/iomem", O_RDONLY);
    if (fd >= 0) close(fd);
    fd = open("/etc/passwd", O_RDONLY);
    if (fd >= 0) close(fd);
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, 0);
  fprintf(stderr, "handler ran %d\n", (int)handled);
  return 0;
}
