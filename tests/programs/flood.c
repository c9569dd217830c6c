// flood N [TAG]: opens N distinct watched paths (/sys/class/dmi/id/<TAG>-<k>, which do not exist),
// each once, through libc: under the shim every open is an access record of its own (distinct
// paths are never folded into a repeat count). For the load tests of `fpshim serve`.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: flood N [TAG]\n");
    return 2;
  }
  const long n = strtol(argv[1], NULL, 10);
  const char* tag = argc > 2 ? argv[2] : "flood";
  char path[256];
  for (long k = 0; k < n; k++) {
    snprintf(path, sizeof path, "/sys/class/dmi/id/%s-%ld", tag, k);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) close(fd);
  }
  return 0;
}
