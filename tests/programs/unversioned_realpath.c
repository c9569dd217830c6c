/* unversioned_realpath PATH: prints realpath(PATH, NULL) or the error. Its reference to realpath
   is unversioned (tests/programs/lib/interposer.c defines it first, as ASan's runtime does for a
   program built with -fsanitize=address). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  errno = 0;
  char *r = realpath(argv[1], NULL);
  if (r == NULL) {
    printf("failed: %s\n", strerror(errno));
    return 1;
  }
  printf("%s\n", r);
  free(r);
  return 0;
}
