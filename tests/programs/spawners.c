/* Starts children through each door glibc offers; every child reads a different watched file, so a
   test can tell which doors the shim followed. Usage: spawners MODE...
   fork vfork posix_spawn posix_spawnp system popen execve_empty_env execvp */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

static void wait_for(pid_t pid) {
  int status;
  waitpid(pid, &status, 0);
}

static void run(const char *mode) {
  if (!strcmp(mode, "fork")) {
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open("/proc/ioports", O_RDONLY);
      if (fd >= 0) close(fd);
      _exit(0);
    }
    wait_for(pid);
  } else if (!strcmp(mode, "vfork")) {
    pid_t pid = vfork();
    if (pid == 0) {
      execl("/bin/cat", "cat", "/proc/iomem", (char *)0);
      _exit(127);
    }
    wait_for(pid);
  } else if (!strcmp(mode, "posix_spawn")) {
    pid_t pid;
    char *argv[] = {"cat", "/proc/net/route", 0};
    if (posix_spawn(&pid, "/bin/cat", 0, 0, argv, environ) == 0) wait_for(pid);
  } else if (!strcmp(mode, "posix_spawnp")) {
    pid_t pid;
    char *argv[] = {"cat", "/proc/devices", 0};
    if (posix_spawnp(&pid, "cat", 0, 0, argv, environ) == 0) wait_for(pid);
  } else if (!strcmp(mode, "system")) {
    system("cat /etc/machine-id");
  } else if (!strcmp(mode, "popen")) {
    FILE *f = popen("cat /sys/class/dmi/id/product_uuid 2>&1", "r");
    char buf[256];
    while (f && fgets(buf, sizeof buf, f)) {
    }
    if (f) pclose(f);
  } else if (!strcmp(mode, "execve_empty_env")) {
    pid_t pid = fork();
    if (pid == 0) {
      char *argv[] = {"cat", "/var/lib/dbus/machine-id", 0};
      char *envp[] = {0};
      execve("/bin/cat", argv, envp);
      _exit(127);
    }
    wait_for(pid);
  } else if (!strcmp(mode, "execvp")) {
    pid_t pid = fork();
    if (pid == 0) {
      char *argv[] = {"cat", "/proc/net/arp", 0};
      execvp("cat", argv);
      _exit(127);
    }
    wait_for(pid);
  } else {
    fprintf(stderr, "spawners: unknown mode %s\n", mode);
    exit(2);
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) run(argv[i]);
  return 0;
}
