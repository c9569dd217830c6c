/* Opens a file by its handle, so that the opening process never names it:
     handles save PATH FILE     writes PATH's handle (name_to_handle_at) to FILE
     handles open DIR FILE      opens the handle in FILE (open_by_handle_at, DIR on the same mount)
   and prints the result: the first runs without fpshim, the second under it. Needs
   CAP_DAC_READ_SEARCH and a filesystem that gives out handles. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: handles save PATH FILE | handles open DIR FILE\n");
    return 2;
  }
  _Alignas(struct file_handle) char room[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  struct file_handle *h = (struct file_handle *)room;
  if (!strcmp(argv[1], "save")) {
    int mount_id;
    h->handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(AT_FDCWD, argv[2], h, &mount_id, 0)) {
      printf("name_to_handle_at %s\n", strerrorname_np(errno));
      return 1;
    }
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(h, sizeof *h + h->handle_bytes, 1, f) != 1 || fclose(f)) return 1;
    return 0;
  }
  FILE *f = fopen(argv[3], "rb");
  if (!f || fread(h, 1, sizeof *h + MAX_HANDLE_SZ, f) < sizeof *h) return 1;
  fclose(f);
  int mount_fd = open(argv[2], O_RDONLY | O_DIRECTORY);
  int fd = open_by_handle_at(mount_fd, h, O_RDONLY);
  printf("open_by_handle_at %s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
  return fd >= 0 ? 0 : 1;
}
