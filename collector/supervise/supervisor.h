// `fpshim run`'s own process: it starts the collector process and the build, passes signals on to
// the build, restarts the collector when it dies, waits for the build and every descendant, then
// has the collector write the reports.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "supervise/control.h"
#include "supervise/watchdog.h"
#include "model/summary.h"

namespace fpshim {

class Supervisor {
 public:
  // Runs in the forked collector process with the control pipe's read end and the ready pipe's
  // write end; returns the collector's exit status.
  using CollectorMain = std::function<int(int control_fd, int ready_fd)>;

  Supervisor(BuildInfo& build, double linger_seconds, bool quiet, CollectorMain collector_main);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Blocks the signals the loops read from a signalfd, and adopts orphaned descendants.
  bool prepare(std::string& error);
  // The collector keeps the build's stdout (instead of /dev/null) to write a report to "-".
  void keep_stdout_for_reports() { keep_stdout_ = true; }
  // Starts the first collector and waits until its socket is bound.
  bool start_collector(std::string& error);
  // Starts the command; on failure reports it like a shell and sets the exit code to 127 or 126.
  bool spawn(const std::vector<std::string>& env);
  // Nested in a watched build, the shim in this process would put the outer build's environment
  // back into the command's: it is started with a raw execve of `program` (PATH already searched)
  // instead, so that its processes report to this run (which forwards their records outward).
  void spawn_past_the_shim(std::string program) { raw_program_ = std::move(program); }
  // Until the command and every descendant are gone, or the linger time after the command ran out.
  void wait_for_build();
  // Tells the collector the build is done and waits until it has written the reports (restarting
  // it if it dies). Returns its exit status.
  int finish();

 private:
  static constexpr unsigned kMaxRestarts = 5;
  static constexpr uint64_t kRestartDelayNs = 100'000'000;

  bool fork_collector(bool wait_until_ready, std::string& error);
  // fork and a raw execve of raw_program_ (the shim does not see it); 0 or the errno of the exec.
  int spawn_raw(char* const* argv, char* const* envp);
  [[noreturn]] void become_collector(int control_fd, int ready_fd);
  void tell_collector(bool root_too);
  void read_signals();
  bool reap();
  bool children_besides_collector() const;
  void on_collector_death(int status);
  void restart_collector_if_due();
  int poll_timeout(uint64_t deadline_ns) const;
  // Has the watchdog look at the collector, and acts on what it finds.
  void watch();

  BuildInfo& build_;
  uint64_t linger_ns_;
  bool quiet_;
  bool keep_stdout_ = false;
  std::string raw_program_;  // spawn_past_the_shim
  CollectorMain collector_main_;
  sigset_t original_mask_{};
  int signal_fd_ = -1;
  pid_t root_ = 0;
  bool root_done_ = false;
  uint64_t root_ended_ns_ = 0;
  bool stop_lingering_ = false;
  pid_t collector_ = 0;
  int control_fd_ = -1;
  unsigned restarts_ = 0;
  uint64_t restart_due_ns_ = 0;  // CLOCK_MONOTONIC; 0: none pending
  bool finishing_ = false;
  std::optional<int> collector_status_;  // its exit status once it finished
  Watchdog watchdog_;
  uint64_t collector_stopped_ = 0;  // times the watchdog found it stopped or hung
  std::vector<pid_t> abandoned_;    // collectors it replaced, which a tracer may keep from being reaped
};

}  // namespace fpshim
