/* Runs its arguments as a child (fork, execvp, wait) and leaves with the child's exit status:
   chain PROGRAM [ARG...]. Built for every ABI a shim exists for (tests/CMakeLists.txt), so a test
   can cross from one C library or ELF class to another and back. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: chain PROGRAM [ARG...]\n");
    return 2;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 126;
  if (pid == 0) {
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) return 126;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
