/* next_door PATH: opens PATH through libnextdoor.so, which calls the open dlsym(RTLD_NEXT) gave it
   (tests/programs/lib/nextdoor.c). Prints whether it opened. */
#include <stdio.h>
#include <unistd.h>

int nextdoor_open(const char *path);

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int fd = nextdoor_open(argv[1]);
  printf("%s\n", fd >= 0 ? "opened" : "failed");
  if (fd >= 0) close(fd);
  return 0;
}
