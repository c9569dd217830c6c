// A build's report from its journal (serve/build_report.h).
#include "serve/build_report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "base/exit_status.h"
#include "base/say.h"
#include "ingest/ingest.h"
#include "ingest/record_file.h"
#include "model/aggregate.h"
#include "model/builds.h"
#include "report/outputs.h"
#include "serve/state.h"

namespace fpshim {

int write_build_report(const LiveBuild& b, uint32_t uid, uint32_t gid, const Rules& rules, const ServeOptions& options,
                       std::vector<std::string>& files, LiveEvents* live) {
  Stats stats;
  Aggregate aggregate(rules, stats);
  // The journal is the daemon's (its state directory is closed to the builds): each record's flags
  // say what the daemon knew when it came (the kernel's word for its pid, or a spool file the build
  // could write), as `fpshim run` replays its own journal.
  Ingest journal(std::nullopt, stats);
  if (const int fd = open(b.journal_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW); fd >= 0) {
    uint64_t offset = 0;
    read_records(fd, offset, [&](std::span<RecordBytes> records) {
      for (const RecordBytes& r : records) journal.deliver(r.data, r.size, 0, false, aggregate);
    });
    close(fd);
  }
  stats.capped += b.capped;
  stats.lost += b.torn + b.ledger;
  Summary summary;
  aggregate.summarize(summary);
  // A record dropped at a cap leaves a gap in its process's seqs, which the summary counted as
  // lost: it is counted once, as capped.
  summary.stats.lost -= std::min(summary.stats.lost, b.capped);
  describe_builds(summary, split_builds(aggregate.tree(), rules, aggregate.hits()));
  summary.build.id = b.key.build_id;
  if (live) live->on_report(uid, b, summary);

  std::string error;
  const std::string dir = fmt::format("{}/{}", options.reports, uid);
  if (!ensure_dir(options.reports, 0711, geteuid(), getegid(), error) || !ensure_dir(dir, 0700, uid, gid, error)) {
    say("fpshim serve: {}\n", error);
    return kExitSetupError;
  }
  ReportOutputs outputs = options.outputs;
  outputs.own_status = true;
  outputs.quiet = true;
  // serve's --events and --syslog are the live stream (serve/live_events.h), never a build's file.
  outputs.events.reset();
  if (live) outputs.syslog.reset();
  const std::string base = dir + "/" + b.id;
  for (const std::string& format : options.formats) {
    if (format == "json") outputs.report = base + ".json";
    else if (format == "txt") outputs.text = base + ".txt", outputs.quiet = false;
    else if (format == "sarif") outputs.sarif = base + ".sarif";
    else if (format == "html") outputs.html = base + ".html";
    else if (format == "events") outputs.events = base + ".events.jsonl";
  }
  const int status = write_reports(summary, outputs);
  for (const std::optional<std::string>* file :
       {&outputs.report, &outputs.text, &outputs.sarif, &outputs.html, &outputs.events}) {
    if (!*file) continue;
    // Readable by the build's uid alone (the directory is 0700 and theirs too).
    if (geteuid() == 0 && chown((*file)->c_str(), uid, gid) != 0)
      say("fpshim serve: cannot give {} to uid {}\n", **file, uid);
    chmod((*file)->c_str(), 0600);
    files.push_back(**file);
  }
  return status;
}

}  // namespace fpshim
