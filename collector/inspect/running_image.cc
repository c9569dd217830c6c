// Inspecting what a live process runs (running_image.h): its start time from /proc/<pid>/stat tells
// it from a later process with the same pid, and /proc/<pid>/exe is its image.
#include "inspect/running_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace fpshim {

namespace {

// A process's shim starts after the process did; a pid's process that started later than this
// after the shim's start is another one.
constexpr uint64_t kStartSlackNs = 100'000'000;
// The bytes of a program's name the kernel keeps as its comm (TASK_COMM_LEN less the NUL).
constexpr size_t kCommLength = 15;

uint64_t clock_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

struct Started {
  uint64_t ticks = 0;  // when: field 22 of /proc/<pid>/stat, clock ticks after boot
  std::string comm;    // what it runs: the first 15 bytes of the name it was executed as
  bool operator==(const Started&) const = default;
};

// When `pid` started, and its comm.
std::optional<Started> started(int32_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  const char* open_paren = strchr(buf, '(');
  const char* after = strrchr(buf, ')');  // the comm may hold spaces and parentheses
  unsigned long long ticks = 0;
  if (!open_paren || !after || after < open_paren ||
      sscanf(after + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &ticks) !=
          1)
    return std::nullopt;
  return Started{uint64_t(ticks), std::string(open_paren + 1, after)};
}

// Clock ticks after boot as CLOCK_REALTIME ns.
uint64_t realtime_of_ticks(uint64_t ticks) {
  const uint64_t boot_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
  return boot_ns + ticks * (1'000'000'000 / uint64_t(sysconf(_SC_CLK_TCK)));
}

}  // namespace

std::optional<Inspection> inspect_running_image(int32_t pid, uint64_t nonce_ns, std::string_view named,
                                                const Inspection& by_path, Credentials who) {
  if (pid <= 0) return std::nullopt;
  const std::optional<Started> then = started(pid);
  if (!then || realtime_of_ticks(then->ticks) > nonce_ns + kStartSlackNs) return std::nullopt;
  const std::string_view base = named.substr(named.rfind('/') + 1);
  if (then->comm != base.substr(0, kCommLength)) return std::nullopt;
  const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  struct stat st;
  if (stat(exe.c_str(), &st) != 0) return std::nullopt;
  if (by_path.readable && by_path.dev == uint64_t(st.st_dev) && by_path.ino == uint64_t(st.st_ino)) return by_path;
  Inspection fresh = inspect_executable(exe, who);
  // Still the same process: the pid was not reused while we looked.
  if (!fresh.readable || started(pid) != then) return std::nullopt;
  return fresh;
}

}  // namespace fpshim
