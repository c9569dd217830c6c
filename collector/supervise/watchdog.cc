// The collector's state from /proc/<pid>/stat, and what the watchdog does about it (watchdog.h).
#include "supervise/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace fpshim {

namespace {

struct ProcState {
  char state = '?';  // R, S, D, T (stopped), t (trace stop), Z, ...
  uint64_t cpu = 0;  // utime + stime, in clock ticks
};

// Fields 3 (state), 14 and 15 (utime, stime) of /proc/<pid>/stat; after the comm, which ends at the
// last ')'.
bool read_state(pid_t pid, ProcState& out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", int(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* after = strrchr(buf, ')');
  if (!after) return false;
  unsigned long long utime = 0, stime = 0;
  char state = '?';
  // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  if (sscanf(after + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state, &utime, &stime) != 3)
    return false;
  out = {state, uint64_t(utime + stime)};
  return true;
}

}  // namespace

Watchdog::Verdict Watchdog::check(pid_t collector, bool finishing, uint64_t now_ns) {
  if (collector <= 0 || now_ns < next_check_ns_) return Verdict::fine;
  next_check_ns_ = now_ns + kCheckEveryNs;
  ProcState st;
  if (!read_state(collector, st)) return Verdict::fine;  // gone: waitpid tells
  if (st.state == 'T' && !finishing) {
    kill(collector, SIGCONT);
    return Verdict::continued;
  }
  // Once the reports are being written, a successor is told what happened and says so; a stopped
  // collector would not.
  if (st.state == 'T') return Verdict::replace;
  if (st.state == 't') return Verdict::replace;  // a tracer holds it; SIGCONT would not end that
  if (last_cpu_ == UINT64_MAX || st.cpu != last_cpu_ || st.state == 'R') {
    last_cpu_ = st.cpu;
    progress_ns_ = now_ns;
    return Verdict::fine;
  }
  return finishing && now_ns - progress_ns_ >= kFinishStallNs ? Verdict::replace : Verdict::fine;
}

}  // namespace fpshim
