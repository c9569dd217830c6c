// The watchdog over the collector process: a build that stops it (SIGSTOP, a ptrace stop) or wedges
// it must not hang `fpshim run` or go unreported. Once a second `fpshim run` looks at the
// collector's state in /proc: a job-control stop is continued (SIGCONT) while the build runs, a
// trace stop is ended by replacing the collector, and during the final drain (the collector writes
// the reports) one that is stopped, or makes no progress (no CPU time, not running) for
// kFinishStallNs, is replaced: the successor replays the journal and writes the reports.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace fpshim {

class Watchdog {
 public:
  static constexpr uint64_t kCheckEveryNs = 1'000'000'000;
  static constexpr uint64_t kFinishStallNs = 20'000'000'000;

  enum class Verdict { fine, continued, replace };

  // Looks at `collector` (at most every kCheckEveryNs; `finishing`: the final drain has begun) and
  // does what it says: SIGCONT for `continued`; the caller kills and replaces for `replace`.
  Verdict check(pid_t collector, bool finishing, uint64_t now_ns);
  // A new collector: its progress is measured afresh.
  void reset() { last_cpu_ = UINT64_MAX; }

  // When the next check is due (CLOCK_MONOTONIC ns).
  uint64_t next_check_ns() const { return next_check_ns_; }

 private:
  uint64_t next_check_ns_ = 0;
  uint64_t last_cpu_ = UINT64_MAX;  // utime + stime at the last check that saw progress
  uint64_t progress_ns_ = 0;        // when that was
};

}  // namespace fpshim
