/* Linked statically, and deletes its own file as soon as it starts (as `go test` removes its test
 * binary once it ran), then reads /proc/ioports: fpshim must not call it monitored because the
 * file it would inspect is gone. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
  (void)argc;
  unlink(argv[0]);
  int fd = open("/proc/ioports", O_RDONLY);
  if (fd >= 0) close(fd);
  return 0;
}
