#include "supervise/collector_process.h"

#include <poll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "base/clock.h"
#include "base/exit_status.h"
#include "base/say.h"
#include "ingest/ingest.h"
#include "ingest/journal.h"
#include "inspect/inspection_cache.h"
#include "model/aggregate.h"
#include "report/outputs.h"
#include "supervise/control.h"
#include "supervise/descendants.h"
#include "supervise/filter_image_file.h"

namespace fpshim {

namespace {

// How long a spool file claimed while the build runs stays open for a last read (see claim_spool).
constexpr uint64_t kSettleNs = 1'000'000'000;
// How often the process log is read and spool files are claimed while the build runs.
constexpr uint64_t kReadFilesEveryNs = 1'000'000'000;

class Collector {
 public:
  explicit Collector(CollectorSetup setup)
      : setup_(std::move(setup)), inspections_(own_credentials()),
        aggregate_(
            *setup_.rules, stats_, [this](const std::string& path) { return inspections_.inspect(path); },
            running_image_check()),
        ingest_(setup_.build_id, stats_) {}

  bool start(int ready_fd) {
    const PrivateDir& dir = setup_.dir;
    std::string error;
    if (!journal_.open(dir.journal(), dir.counters(), error)) {
      say("fpshim: {}\n", error);
      return false;
    }
    ingest_.adopt(setup_.socket);
    if (write(ready_fd, "r", 1) != 1) {
      // `fpshim run` only waits for the first collector
    }
    close(ready_fd);
    inspections_.keep_log(dir.inspections());
    ingest_.set_journal(&journal_);
    if (!setup_.outer_spool.empty()) ingest_.set_forward(setup_.outer_spool, setup_.outer_build);
    ingest_.set_spool_dir(dir.spool());
    journal_.load_counters(stats_);
    earlier_tampering_ = journal_.load_tampering();
    journal_.replay([this](const RecordBytes& r) { ingest_.deliver(r.data, r.size, 0, false, aggregate_); });
    ingest_.follow_log(aggregate_);
    ingest_.claim_spool(aggregate_, kSettleNs);
    return true;
  }

  // Until the control pipe ends.
  void collect(int control_fd) {
    uint64_t next_read = now_ns(CLOCK_MONOTONIC) + kReadFilesEveryNs;
    for (;;) {
      uint64_t now = now_ns(CLOCK_MONOTONIC);
      if (now >= next_read) {
        ingest_.follow_log(aggregate_);
        ingest_.claim_spool(aggregate_, kSettleNs);
        next_read = now + kReadFilesEveryNs;
      }
      uint64_t next = ingest_.settle(aggregate_, false);
      if (next == 0 || next > next_read) next = next_read;
      const int timeout = next > now ? int((next - now) / 1'000'000 + 1) : 0;
      pollfd fds[] = {{ingest_.fd(), POLLIN, 0}, {control_fd, POLLIN, 0}};
      if (poll(fds, 2, timeout) < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) ingest_.drain(aggregate_, 4096);
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        ssize_t n = read(control_fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return;
        if (n > 0)
          for (const ControlMessage& m : reader_.feed(std::string_view(buf, size_t(n)))) on_message(m);
      }
      journal_.save_counters(stats_);
      journal_.save_tampering(ingest_.log_tampering());
    }
  }

  int finish() {
    while (ingest_.drain(aggregate_) > 0) {
    }
    ingest_.finish_log(aggregate_);
    ingest_.claim_spool(aggregate_);
    ingest_.settle(aggregate_, true);
    while (ingest_.drain(aggregate_) > 0) {
    }
    journal_.save_counters(stats_);
    stats_.unjournaled += journal_.unjournaled();
    ingest_.close();

    Summary summary;
    BuildInfo& build = summary.build;
    build.id = setup_.build_id;
    build.command = setup_.command;
    build.cwd = setup_.cwd;
    build.finished_ns = now_ns();
    if (finish_) {
      build.started_ns = finish_->started_ns;
      build.exit_code = finish_->exit_code;
      build.signal = finish_->signal;
      build.linger_expired = finish_->linger_expired;
      stats_.collector_restarts = finish_->collector_restarts;
      stats_.collector_stopped = finish_->collector_stopped;
      if (root_) aggregate_.set_root_exit(finish_->exit_code, finish_->ended_ns);
    } else {
      build.started_ns = root_ ? root_->started_ns : 0;
      build.exit_code = -1;  // `fpshim run` is gone: nobody saw the command end
      build.supervisor_gone = true;
    }
    if (!journal_.healthy()) stats_.journal_errno = uint64_t(journal_.error());
    if (build.linger_expired) {
      for (ProcessRef& p : live_descendants(setup_.supervisor))
        if (p.pid != getpid()) build.still_running.push_back(std::move(p));
    }
    rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) == 0) stats_.collector_peak_rss_kb = uint64_t(usage.ru_maxrss);
    aggregate_.summarize(summary);
    summary.tampering = earlier_tampering_;
    for (const Tampering& t : ingest_.log_tampering()) summary.tampering.push_back(t);
    if (!setup_.filter_image.empty())
      if (std::optional<std::string> what = filter_image_tampering(setup_.dir.filter_image(), setup_.filter_image))
        summary.tampering.push_back(Tampering{*what, now_ns()});
    int status = write_reports(summary, setup_.outputs);
    if (!finish_) setup_.dir.remove();
    return status;
  }

 private:
  void on_message(const ControlMessage& m) {
    if (m.type == ControlMessage::Type::finish) {
      finish_ = m;
      return;
    }
    root_ = m;
    aggregate_.set_root(m.root_pid, setup_.supervisor, m.started_ns, setup_.root_exe, setup_.command);
  }

  CollectorSetup setup_;
  Stats stats_;
  InspectionCache inspections_;
  Aggregate aggregate_;
  Journal journal_;
  Ingest ingest_;
  ControlReader reader_;
  std::optional<ControlMessage> root_;
  std::optional<ControlMessage> finish_;
  std::vector<Tampering> earlier_tampering_;  // what predecessors saw (Journal::load_tampering)
};

}  // namespace

int run_collector(const CollectorSetup& setup, int control_fd, int ready_fd) {
  Collector collector(setup);
  if (!collector.start(ready_fd)) return kExitSetupError;
  collector.collect(control_fd);
  return collector.finish();
}

}  // namespace fpshim
