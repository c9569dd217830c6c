/* A library that defines realpath without a symbol version and forwards it to the next
   definition, allocating the result itself when the caller passes no buffer: what AddressSanitizer's
   runtime does. A program linked against it has an unversioned reference to realpath, which the
   loader binds to the first definition in search order. Linked into unversioned_realpath. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

char *realpath(const char *path, char *resolved) {
  char *(*next)(const char *, char *) = (char *(*)(const char *, char *))dlsym(RTLD_NEXT, "realpath");
  if (resolved != NULL) return next(path, resolved);
  char *buffer = malloc(PATH_MAX);
  char *r = buffer != NULL ? next(path, buffer) : NULL;
  if (r == NULL) free(buffer);
  return r;
}
