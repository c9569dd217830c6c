/* Inspects as a Go program (it carries a .note.go.buildid section) and reads /proc/ioports with a
 * raw system call, as the Go runtime does, which no LD_PRELOAD library sees. It deletes its own
 * file as soon as it starts (as `go test` removes its test binary), so an inspection by path finds
 * nothing. With the argument "wait" it then reads its stdin until EOF before it ends. */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((used, section(".note.go.buildid"))) static const char kGoBuildId[] = "fpshim-test-go-like";

int main(int argc, char** argv) {
  unlink(argv[0]);
  long fd = syscall(SYS_openat, AT_FDCWD, "/proc/ioports", O_RDONLY);
  if (fd >= 0) syscall(SYS_close, fd);
  char buf[64];
  if (argc > 1 && strcmp(argv[1], "wait") == 0)
    while (read(0, buf, sizeof buf) > 0) {
    }
  return 0;
}
