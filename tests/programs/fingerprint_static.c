/* Linked statically: LD_PRELOAD cannot reach it, so fpshim must report it as unmonitored. */
#include <fcntl.h>
#include <unistd.h>

int main(void) {
  int fd = open("/proc/ioports", O_RDONLY);
  if (fd >= 0) close(fd);
  return 0;
}
