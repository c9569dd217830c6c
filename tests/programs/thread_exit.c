/* Threads keep opening watched files while one of them calls exit(). */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *reader(void *arg) {
  (void)arg;
  for (;;) {
    int fd = open("/proc/ioports", O_RDONLY);
    if (fd >= 0) close(fd);
  }
  return 0;
}

static void *leaver(void *arg) {
  (void)arg;
  usleep(50 * 1000);
  exit(3);
}

int main(void) {
  pthread_t t;
  for (int i = 0; i < 4; i++) pthread_create(&t, 0, reader, 0);
  pthread_create(&t, 0, leaver, 0);
  for (;;) pause();
}
