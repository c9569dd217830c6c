#include "supervise/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/as_text.h"
#include "base/clock.h"
#include "base/exit_status.h"
#include "base/say.h"
#include "supervise/collector_process.h"
#include "supervise/descendants.h"

namespace fpshim {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
constexpr int kFirstCollectorTimeoutMs = 10'000;

// execve as a system call instruction: the shim hooks execve and syscall(), and would put its own
// environment back. Returns the errno of a failed exec.
int execve_past_the_shim(const char* path, char* const* argv, char* const* envp) {
  long ret;
#if defined(__x86_64__)
  asm volatile("syscall" : "=a"(ret) : "0"(long(SYS_execve)), "D"(path), "S"(argv), "d"(envp) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 asm("x8") = SYS_execve;
  register long x0 asm("x0") = long(path);
  register long x1 asm("x1") = long(argv);
  register long x2 asm("x2") = long(envp);
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  ret = x0;
#else
  ret = syscall(SYS_execve, path, argv, envp);  // the shim sees it: the command reports to the outer run
  if (ret < 0) ret = -errno;
#endif
  return int(-ret);
}

std::string describe_death(int status) {
  if (WIFSIGNALED(status)) return "killed by " + signal_name(WTERMSIG(status));
  return fmt::format("exit status {}", WEXITSTATUS(status));
}

}  // namespace

Supervisor::Supervisor(BuildInfo& build, double linger_seconds, bool quiet, CollectorMain collector_main)
    : build_(build), linger_ns_(uint64_t(linger_seconds * 1e9)), quiet_(quiet),
      collector_main_(std::move(collector_main)) {}

// The signals stay blocked: fpshim is about to exit with the build's status, and a late SIGINT or
// SIGPIPE still pending must not replace it.
Supervisor::~Supervisor() {
  if (signal_fd_ >= 0) close(signal_fd_);
  if (control_fd_ >= 0) close(control_fd_);
}

bool Supervisor::prepare(std::string& error) {
  signal(SIGCHLD, SIG_DFL);  // an inherited SIG_IGN would make the kernel reap our children
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (int sig : kForwarded) sigaddset(&handled, sig);
  sigset_t blocked = handled;
  sigaddset(&blocked, SIGPIPE);  // a closed stderr must not kill us before we exit with the build's status
  sigprocmask(SIG_BLOCK, &blocked, &original_mask_);
  signal_fd_ = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) {
    error = fmt::format("signalfd: {}", strerror(errno));
    return false;
  }
  // Orphaned descendants become our children, so wait() sees the whole build finish.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Not dumpable, nor the collectors forked from us: a build process of our uid (without
  // CAP_SYS_PTRACE) can then neither read our memory nor reach the unlinked journal through
  // /proc/<pid>/fd. The build's own programs are dumpable again: exec resets the flag.
  prctl(PR_SET_DUMPABLE, 0);
  return true;
}

bool Supervisor::start_collector(std::string& error) { return fork_collector(true, error); }

bool Supervisor::fork_collector(bool wait_until_ready, std::string& error) {
  int control[2], ready[2];
  if (pipe2(control, O_CLOEXEC) != 0) {
    error = fmt::format("pipe: {}", strerror(errno));
    return false;
  }
  if (pipe2(ready, O_CLOEXEC) != 0) {
    error = fmt::format("pipe: {}", strerror(errno));
    close(control[0]);
    close(control[1]);
    return false;
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(control[1]);
    close(ready[0]);
    become_collector(control[0], ready[1]);
  }
  close(control[0]);
  close(ready[1]);
  if (pid < 0) {
    error = fmt::format("fork: {}", strerror(errno));
    close(control[1]);
    close(ready[0]);
    return false;
  }
  collector_ = pid;
  watchdog_.reset();
  control_fd_ = control[1];
  fcntl(control_fd_, F_SETFL, O_NONBLOCK);  // a wedged collector must not stall signal forwarding
  bool ready_seen = true;
  if (wait_until_ready) {
    pollfd p = {ready[0], POLLIN, 0};
    char byte;
    ready_seen = poll(&p, 1, kFirstCollectorTimeoutMs) > 0 && read(ready[0], &byte, 1) == 1;
    if (!ready_seen) {
      error = "the collector did not start";
      kill(pid, SIGKILL);  // left alone, it would write a report once we are gone
    }
  }
  close(ready[0]);
  tell_collector(true);
  return ready_seen;
}

void Supervisor::become_collector(int control_fd, int ready_fd) {
  close(signal_fd_);
  if (control_fd_ >= 0) close(control_fd_);
  prctl(PR_SET_NAME, kCollectorName);
  // Terminal signals reach the whole foreground group; the build decides how they end it, and the
  // collector must live on to write the report. Any other death is survived by a restart.
  for (int sig : {SIGINT, SIGQUIT, SIGHUP, SIGPIPE}) signal(sig, SIG_IGN);
  sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
  // It writes only to stderr (and to stdout when a report goes to "-"); holding the build's stdin
  // or stdout open could keep a pipe alive.
  if (int null = open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
    dup2(null, STDIN_FILENO);
    if (!keep_stdout_) dup2(null, STDOUT_FILENO);
    if (null > STDERR_FILENO) close(null);
  }
  int status = collector_main_(control_fd, ready_fd);
  std::fflush(nullptr);
  _exit(status);
}

void Supervisor::tell_collector(bool root_too) {
  if (control_fd_ < 0) return;
  std::string text;
  if (root_too && root_ > 0) {
    ControlMessage root;
    root.type = ControlMessage::Type::root;
    root.started_ns = build_.started_ns;
    root.root_pid = root_;
    text += encode_message(root);
  }
  if (finishing_) {
    ControlMessage done;
    done.type = ControlMessage::Type::finish;
    done.started_ns = build_.started_ns;
    done.exit_code = build_.exit_code;
    done.signal = build_.signal;
    done.ended_ns = root_ended_ns_;
    done.linger_expired = build_.linger_expired;
    done.collector_restarts = restarts_;
    done.collector_stopped = collector_stopped_;
    text += encode_message(done);
  }
  if (!text.empty() && write(control_fd_, text.data(), text.size()) < 0) {
    // The collector is gone; reap() will notice and start another, which is told again.
  }
  if (finishing_) {
    close(control_fd_);
    control_fd_ = -1;
  }
}

bool Supervisor::spawn(const std::vector<std::string>& env) {
  std::vector<char*> argv, envp;
  for (const std::string& a : build_.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int rc = 0;
  if (!raw_program_.empty()) {
    rc = spawn_raw(argv.data(), envp.data());
  } else {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigmask(&attr, &original_mask_);
    rc = posix_spawnp(&root_, argv[0], nullptr, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
  }
  if (rc != 0) {
    root_ = 0;
    say("fpshim: {}: {}\n", build_.command[0], strerror(rc));
    build_.exit_code = rc == ENOENT ? 127 : 126;
    return false;
  }
  tell_collector(true);
  return true;
}

int Supervisor::spawn_raw(char* const* argv, char* const* envp) {
  // The child tells an exec failure through a close-on-exec pipe: its errno, or EOF on success.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return errno;
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(report[0]);
    close(report[1]);
    return err;
  }
  if (pid == 0) {
    close(report[0]);
    sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
    const int err = execve_past_the_shim(raw_program_.c_str(), argv, envp);
    if (write(report[1], &err, sizeof err) < 0) {
    }
    _exit(127);
  }
  close(report[1]);
  int err = 0;
  ssize_t n;
  do {
    n = read(report[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n != ssize_t(sizeof err)) {
    root_ = pid;
    return 0;
  }
  waitpid(pid, nullptr, 0);
  return err;
}

int Supervisor::poll_timeout(uint64_t deadline_ns) const {
  if (restart_due_ns_ != 0 && (deadline_ns == 0 || restart_due_ns_ < deadline_ns)) deadline_ns = restart_due_ns_;
  const uint64_t check = watchdog_.next_check_ns();
  if (collector_ != 0 && (deadline_ns == 0 || check < deadline_ns)) deadline_ns = check;
  if (deadline_ns == 0) return -1;
  uint64_t now = now_ns(CLOCK_MONOTONIC);
  return deadline_ns > now ? int(std::min<uint64_t>((deadline_ns - now) / 1'000'000 + 1, 1000)) : 0;
}

void Supervisor::wait_for_build() {
  uint64_t linger_deadline = 0;
  for (;;) {
    if (root_done_ && (stop_lingering_ || now_ns(CLOCK_MONOTONIC) >= linger_deadline)) {
      build_.linger_expired = true;
      return;
    }
    pollfd fd = {signal_fd_, POLLIN, 0};
    if (poll(&fd, 1, poll_timeout(linger_deadline)) < 0 && errno != EINTR) return;
    if (fd.revents & POLLIN) read_signals();
    bool was_done = root_done_;
    bool others_left = reap();
    if (root_done_ && !was_done) linger_deadline = now_ns(CLOCK_MONOTONIC) + linger_ns_;
    restart_collector_if_due();
    watch();
    if (root_done_ && !others_left) return;
  }
}

void Supervisor::watch() {
  switch (watchdog_.check(collector_, finishing_, now_ns(CLOCK_MONOTONIC))) {
    case Watchdog::Verdict::fine: return;
    case Watchdog::Verdict::continued:
      collector_stopped_++;
      say("fpshim: the collector was stopped (SIGSTOP by the build?); continuing it\n");
      return;
    case Watchdog::Verdict::replace:
      collector_stopped_++;
      say("fpshim: the collector is stopped or hung; replacing it\n");
      // Replaced at once, not when reaped: a tracer holding it keeps its death from us.
      kill(collector_, SIGKILL);
      abandoned_.push_back(collector_);
      on_collector_death(W_EXITCODE(0, SIGKILL));
      return;
  }
}

int Supervisor::finish() {
  finishing_ = true;
  watchdog_.reset();  // the final drain's progress is measured from now
  if (collector_ != 0) {
    tell_collector(false);
  } else {
    restart_due_ns_ = now_ns(CLOCK_MONOTONIC);  // the last chance, even after kMaxRestarts
  }
  while (!collector_status_) {
    restart_collector_if_due();
    if (collector_ == 0 && restart_due_ns_ == 0) {
      say("fpshim: the collector kept dying; no report was written\n");
      return kExitSetupError;
    }
    pollfd fd = {signal_fd_, POLLIN, 0};
    if (poll(&fd, 1, poll_timeout(0)) < 0 && errno != EINTR) return kExitSetupError;
    if (fd.revents & POLLIN) read_signals();
    reap();
    watch();
  }
  return *collector_status_;
}

void Supervisor::read_signals() {
  signalfd_siginfo si;
  while (read(signal_fd_, &si, sizeof si) == ssize_t(sizeof si)) {
    if (si.ssi_signo == SIGCHLD) continue;  // reap() runs after every wake-up
    // Terminal-generated signals (SI_KERNEL) already reached the whole foreground group; pass on
    // only those sent to fpshim itself.
    // Once the command is gone, such a signal means: stop waiting for its leftovers.
    bool sent_to_us = si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE || si.ssi_code == SI_TKILL;
    if (!sent_to_us) continue;
    if (root_done_ || root_ == 0) stop_lingering_ = true;
    else kill(root_, int(si.ssi_signo));
  }
}

// Reaps whatever exited; returns whether any child other than the collector is left.
bool Supervisor::reap() {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid == 0) return children_besides_collector();
    if (pid < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (pid == collector_) {
      on_collector_death(status);
    } else if (pid == root_) {
      root_done_ = true;
      root_ended_ns_ = now_ns(CLOCK_REALTIME);
      if (WIFSIGNALED(status)) {
        build_.signal = WTERMSIG(status);
        build_.exit_code = 128 + WTERMSIG(status);
      } else {
        build_.exit_code = WEXITSTATUS(status);
      }
    }
  }
}

bool Supervisor::children_besides_collector() const {
  if (collector_ == 0) return true;  // waitpid saw a child, and it is not the collector
  std::ifstream in(fmt::format("/proc/self/task/{}/children", getpid()));
  if (!in) {
    for (const ProcessRef& p : live_descendants(getpid()))
      if (p.pid != collector_ && std::find(abandoned_.begin(), abandoned_.end(), p.pid) == abandoned_.end())
        return true;
    return false;
  }
  for (pid_t pid; in >> pid;)
    if (pid != collector_ && std::find(abandoned_.begin(), abandoned_.end(), pid) == abandoned_.end()) return true;
  return false;
}

void Supervisor::on_collector_death(int status) {
  collector_ = 0;
  if (control_fd_ >= 0) close(control_fd_);
  control_fd_ = -1;
  if (finishing_ && WIFEXITED(status)) {
    collector_status_ = WEXITSTATUS(status);
    return;
  }
  unsigned limit = finishing_ ? kMaxRestarts + 1 : kMaxRestarts;
  if (restarts_ < limit) {
    restart_due_ns_ = now_ns(CLOCK_MONOTONIC) + kRestartDelayNs;
    if (!quiet_) say("fpshim: the collector died ({}); restarting it\n", describe_death(status));
  } else if (!quiet_ && !finishing_) {
    say("fpshim: the collector died ({}) {} times; records wait in the spool until the build ends\n",
        describe_death(status), restarts_ + 1);
  }
}

void Supervisor::restart_collector_if_due() {
  if (restart_due_ns_ == 0 || now_ns(CLOCK_MONOTONIC) < restart_due_ns_) return;
  restart_due_ns_ = 0;
  restarts_++;
  std::string error;
  if (!fork_collector(false, error)) say("fpshim: cannot restart the collector: {}\n", error);
}

}  // namespace fpshim
