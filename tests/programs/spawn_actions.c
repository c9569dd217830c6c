/* Spawns `wc -c` with its stdin opened by posix_spawn file actions, so that the spawning process
   never opens the file itself:
     spawn_actions open PATH            addopen(0, PATH)
     spawn_actions chdir DIR PATH       addchdir_np(DIR), then addopen(0, PATH)
     spawn_actions fchdir DIR PATH      addfchdir_np(a descriptor of DIR), then addopen(0, PATH)
   Prints posix_spawn's result and the child's exit status (wc's output goes to stdout as well), so
   runs with and without fpshim compare byte for byte. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: spawn_actions open|chdir|fchdir [DIR] PATH\n");
    return 2;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const char *path = argv[2];
  if (!strcmp(argv[1], "chdir") && argc == 4) {
    posix_spawn_file_actions_addchdir_np(&fa, argv[2]);
    path = argv[3];
  } else if (!strcmp(argv[1], "fchdir") && argc == 4) {
    int dir = open(argv[2], O_RDONLY | O_DIRECTORY);
    if (dir < 0) {
      perror("open");
      return 2;
    }
    posix_spawn_file_actions_addfchdir_np(&fa, dir);
    path = argv[3];
  } else if (strcmp(argv[1], "open") || argc != 3) {
    fprintf(stderr, "spawn_actions: bad arguments\n");
    return 2;
  }
  posix_spawn_file_actions_addopen(&fa, 0, path, O_RDONLY, 0);
  char *child_argv[] = {"wc", "-c", NULL};
  pid_t pid;
  fflush(stdout);
  int rc = posix_spawnp(&pid, "wc", &fa, NULL, child_argv, environ);
  int status = -1;
  if (rc == 0) waitpid(pid, &status, 0);
  printf("posix_spawnp = %s, status %d\n", rc ? strerrorname_np(rc) : "0", status);
  posix_spawn_file_actions_destroy(&fa);
  return 0;
}
