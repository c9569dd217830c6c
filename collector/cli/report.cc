#include "cli/report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "base/say.h"
#include "cli/locate.h"
#include "ingest/ingest.h"
#include "ingest/loss_ledger.h"
#include "ingest/record_file.h"
#include "model/aggregate.h"
#include "model/builds.h"
#include "report/outputs.h"

namespace fpshim {

namespace {

// How long claimed files wait before they are read: a writer may have opened one just before the
// rename (the collector of `fpshim run` waits as long; see Ingest::claim_spool).
constexpr auto kSettle = std::chrono::seconds(1);

// Passes on the records of the selected builds only; which build a record belongs to is known from
// a first pass over the whole spool.
class SelectedBuilds final : public RecordSink {
 public:
  SelectedBuilds(const ProcessTree& whole, std::set<BuildKey> keys, RecordSink& next)
      : whole_(whole), keys_(std::move(keys)), next_(next) {}

  bool selected(int32_t pid, uint64_t nonce) const {
    const Process* p = whole_.find(ProcessKey{pid, nonce});
    return p && keys_.contains(build_of(whole_, *p));
  }
  void on_record(const wire::Header& h, std::span<const wire::Bytes> strings) override {
    if (selected(h.pid, h.proc_nonce)) next_.on_record(h, strings);
  }
  void on_torn(const wire::Header& h) override {
    if (selected(h.pid, h.proc_nonce)) next_.on_torn(h);
  }

 private:
  const ProcessTree& whole_;
  std::set<BuildKey> keys_;
  RecordSink& next_;
};

// Why a spool may hold nothing, in the words a user can act on.
std::string likely_cause(const std::string& dir, bool exists) {
  std::vector<std::string> tried;
  std::string lib = find_shim_library(tried).value_or("libfpshim.so");
  std::string where = exists ? fmt::format("no process reported to {}", dir) : fmt::format("{} does not exist", dir);
  return fmt::format(
      "{}: is LD_PRELOAD set to {} in the build's environment (`fpshim env` prints it)? is the shim built for "
      "this libc and this machine (a musl or 32-bit program cannot load it)? can uid {} write {}?",
      where, lib, getuid(), dir);
}

// The spool must be ours and closed to others: another uid's records are not ours to report.
bool spool_is_ours(const std::string& dir, std::string& why) {
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) return false;
  if (!S_ISDIR(st.st_mode)) why = fmt::format("{} is not a directory", dir);
  else if (st.st_uid != getuid()) why = fmt::format("{} belongs to uid {}, not to uid {}", dir, st.st_uid, getuid());
  else if (st.st_mode & (S_IWGRP | S_IWOTH))
    why = fmt::format("{} is writable by others (mode {:o})", dir, st.st_mode & 07777);
  return why.empty();
}

std::optional<uint64_t> parse_build_id(const std::string& s) {
  if (s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos)
    return std::stoull(s, nullptr, 16);
  return std::nullopt;
}

// The builds --build and --root name, or all of them.
std::set<BuildKey> select(const std::vector<BuildPart>& parts, const RunOptions& options, std::vector<size_t>& chosen) {
  std::set<BuildKey> keys;
  for (size_t i = 0; i < parts.size(); i++) {
    const BuildPart& p = parts[i];
    bool take = true;
    if (options.build) {
      const uint64_t named = parse_build_id(*options.build).value_or(wire::build_id_of_name(options.build->c_str()));
      take = p.id == *options.build || (p.build_id != 0 && p.build_id == named);
    }
    if (options.root_pid != 0) take = take && p.root.pid == options.root_pid;
    if (!take) continue;
    chosen.push_back(i);
    keys.insert(p.key);
  }
  return keys;
}

// --consume: the records of builds not reported go back into the spool, in one file of their own.
bool carry_back(const std::vector<std::string>& files, const SelectedBuilds& reported, const std::string& dir) {
  const std::string path = fmt::format("{}/carried-{}-{}.spool", dir, time(nullptr), getpid());
  int out = -1;
  bool ok = true;
  for (const std::string& file : files) {
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    uint64_t offset = 0;
    read_records(fd, offset, [&](std::span<RecordBytes> records) {
      std::vector<iovec> keep;
      for (const RecordBytes& r : records) {
        wire::Header h;
        memcpy(&h, r.data, sizeof h);
        if (!reported.selected(h.pid, h.proc_nonce)) keep.push_back({r.data, r.size});
      }
      if (keep.empty()) return;
      if (out < 0) out = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      ok = ok && out >= 0 && append_records(out, keep);
    });
    close(fd);
  }
  if (out >= 0 && close(out) != 0) ok = false;
  if (!ok) say("fpshim: cannot put the records of builds not reported back into {}; the claimed files stay\n", dir);
  return ok;
}

}  // namespace

int report_spool(const RunOptions& options) {
  std::optional<Rules> rules = load_checked_rules(options.rules);
  if (!rules) return kExitSetupError;
  const std::string dir = options.spool.value_or(default_spool_dir());
  std::string why;
  if (!outputs_writable(options.outputs, why)) {
    say("fpshim: {}\n", why);
    return kExitSetupError;
  }
  struct stat st;
  const bool exists = lstat(dir.c_str(), &st) == 0;
  if (!exists) {
    say("fpshim: nothing was recorded: {}\n", likely_cause(dir, false));
    return kExitNothingRecorded;
  }
  if (!spool_is_ours(dir, why)) {
    say("fpshim: refusing the spool: {}\n", why);
    return kExitSetupError;
  }

  // First pass: every process in the spool, to tell the builds apart.
  Stats whole_stats;
  Ingest ingest(std::nullopt, whole_stats);
  ingest.set_spool_dir(dir);
  const std::vector<std::string> files = ingest.spool_files(options.consume);
  if (options.consume && !files.empty()) std::this_thread::sleep_for(kSettle);
  Aggregate whole(*rules, whole_stats, {}, running_image_check());
  ingest.read_files(files, whole);
  Summary all;
  whole.summarize(all);
  const std::vector<BuildPart> parts = split_builds(whole.tree(), *rules, whole.hits());
  // Records lost for good (a full disk, a spool made unwritable) are in the ledger, not in any
  // build: said, and counted as lost in whatever is reported.
  const uint64_t ledger_lost = read_loss_ledger(dir);
  if (ledger_lost > 0)
    say("fpshim: {} record(s) could be neither sent nor written to {} (a full disk, or the spool not writable); "
        "which builds they belonged to is not known\n",
        ledger_lost, dir);
  if (parts.empty()) {
    say("fpshim: nothing was recorded: {}\n", likely_cause(dir, true));
    return kExitNothingRecorded;
  }
  std::vector<size_t> chosen;
  std::set<BuildKey> keys = select(parts, options, chosen);
  if (keys.empty()) {
    std::vector<std::string> ids;
    for (const BuildPart& p : parts)
      ids.push_back(fmt::format("{} (pid {}: {})", p.id, p.root.pid, fmt::join(p.root.argv, " ")));
    say("fpshim: no build in {} matches; there are: {}\n", dir, fmt::join(ids, "; "));
    return kExitSetupError;
  }

  // Second pass, when only some builds were asked for: their records alone.
  Summary summary;
  Stats stats;
  Aggregate selected_builds(*rules, stats, {}, running_image_check());
  SelectedBuilds only(whole.tree(), keys, selected_builds);
  std::vector<BuildPart> reported;
  if (chosen.size() == parts.size()) {
    summary = std::move(all);
    reported = parts;
  } else {
    Ingest again(std::nullopt, stats);
    again.set_spool_dir(dir);
    again.read_files(files, only);
    selected_builds.summarize(summary);
    reported = split_builds(selected_builds.tree(), *rules, selected_builds.hits());
  }
  describe_builds(summary, reported);
  summary.stats.lost += ledger_lost;
  if (reported.size() > 1) summary.build.command = {"fpshim", "report", "--spool", dir};
  ReportOutputs outputs = options.outputs;
  outputs.own_status = true;
  if (!load_checked_suppressions(outputs, outputs.source_root.value_or(summary.build.cwd))) return kExitSetupError;
  const int status = write_reports(summary, outputs);

  if (options.consume) {
    if (chosen.size() == parts.size() || carry_back(files, only, dir))
      for (const std::string& f : files) unlink(f.c_str());
    if (chosen.size() == parts.size()) take_from_loss_ledger(dir, ledger_lost);
  }
  return status;
}

}  // namespace fpshim
