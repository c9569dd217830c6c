#include <stdio.h>
#include <string.h>

int fib(int n);
int gcd(int a, int b);

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--self-test") == 0) return fib(10) == 55 && gcd(12, 18) == 6 ? 0 : 1;
  printf("fib(20) = %d\n", fib(20));
  return 0;
}
