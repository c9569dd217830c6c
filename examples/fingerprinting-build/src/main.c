#include <stdio.h>
#include <string.h>
#include "build-info.h"

int add(int a, int b);
int mul(int a, int b);
const char *greeting(void);

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--self-test") == 0) return add(2, 3) == 5 && mul(2, 3) == 6 ? 0 : 1;
  printf("%s from %s (%s)\n", greeting(), BUILD_HOST_OS, BUILD_STAMP);
  return 0;
}
