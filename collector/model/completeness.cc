// The gaps of a report (completeness.h), worked out from the summary's stats, build and coverage.
#include "model/completeness.h"

#include <cstring>

#include <fmt/format.h>

#include "ingest/journal.h"
#include "model/process_tree.h"

namespace fpshim {

namespace {

std::string count_of(uint64_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

const char* gap_name(Gap::Kind kind) {
  switch (kind) {
    case Gap::Kind::forged: return "forged";
    case Gap::Kind::tampered: return "tampered";
    case Gap::Kind::lost: return "lost";
    case Gap::Kind::went_dark: return "went_dark";
    case Gap::Kind::supervisor_gone: return "supervisor_gone";
    case Gap::Kind::still_running: return "still_running";
    case Gap::Kind::collector_stopped: return "collector_stopped";
    case Gap::Kind::not_journaled: return "not_journaled";
    case Gap::Kind::journal_full: return "journal_full";
    case Gap::Kind::processes_folded: return "processes_folded";
    case Gap::Kind::capped: return "capped";
    case Gap::Kind::unmonitored: return "unmonitored";
  }
  return "unknown";
}

std::vector<Gap> gaps_of(const Summary& s) {
  std::vector<Gap> gaps;
  const Stats& st = s.stats;
  auto add = [&gaps](Gap::Kind kind, uint64_t count, std::string text) {
    if (count > 0) gaps.push_back(Gap{kind, count, std::move(text)});
  };
  add(Gap::Kind::forged, st.conflicting,
      fmt::format("the build forged records ({} claimed the sequence number of another with other content)",
                  count_of(st.conflicting, "record", "records")));
  add(Gap::Kind::forged, st.forged_spool,
      fmt::format("the build forged records ({} in spool files claimed a pid other than the file's)",
                  count_of(st.forged_spool, "record", "records")));
  add(Gap::Kind::tampered, s.tampering.size(),
      fmt::format("the build tampered with its records {} ({}{})", count_of(s.tampering.size(), "time", "times"),
                  s.tampering.empty() ? "" : s.tampering.front().what, s.tampering.size() > 1 ? ", ..." : ""));
  add(Gap::Kind::lost, st.lost,
      fmt::format("{} lost{}", count_of(st.lost, "record was", "records were"),
                  st.spool_errno != 0 ? fmt::format(" (spooling failed: {})", strerror(int(st.spool_errno))) : ""));
  add(Gap::Kind::went_dark, st.processes_without_bye,
      fmt::format("{} dark (said hello and more, never bye: killed, or silenced)",
                  count_of(st.processes_without_bye, "process went", "processes went")));
  add(Gap::Kind::supervisor_gone, s.build.supervisor_gone ? 1 : 0,
      "fpshim run went away before the build ended (killed?)");
  add(Gap::Kind::still_running, s.build.linger_expired ? std::max<uint64_t>(1, s.build.still_running.size()) : 0,
      fmt::format("fpshim stopped waiting with {} of the build still running",
                  count_of(s.build.still_running.size(), "process", "processes")));
  add(Gap::Kind::collector_stopped, st.collector_stopped,
      fmt::format("the collector was stopped or hung {} and replaced",
                  count_of(st.collector_stopped, "time", "times")));
  add(Gap::Kind::not_journaled, st.journal_errno != 0 ? 1 : 0,
      fmt::format("the collector could not write its journal ({}); a restart would have lost records",
                  strerror(int(st.journal_errno))));
  add(Gap::Kind::journal_full, st.unjournaled,
      fmt::format("the journal was full (at {} MiB): {} not journaled; a restart would have lost them",
                  kMaxJournalBytes >> 20, count_of(st.unjournaled, "record was", "records were")));
  add(Gap::Kind::processes_folded, st.processes_folded,
      fmt::format("the process tree was full (at {} processes): {} (hellos and execs) beyond it counted, not listed",
                  ProcessTree::kMaxProcesses, count_of(st.processes_folded, "process", "processes")));
  add(Gap::Kind::capped, st.capped,
      fmt::format("{} dropped at the daemon's caps for one build (its journal's size, its processes)",
                  count_of(st.capped, "record was", "records were")));
  add(Gap::Kind::unmonitored, s.coverage.unmonitored.size(),
      fmt::format("{} unmonitored", count_of(s.coverage.unmonitored.size(), "process ran", "processes ran")));
  return gaps;
}

std::string why_incomplete(const std::vector<Gap>& gaps) {
  std::string out;
  for (const Gap& g : gaps) out += (out.empty() ? "" : "; ") + g.text;
  return out;
}

}  // namespace fpshim
