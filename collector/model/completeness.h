// Whether a report can be taken as the whole story, and if not why: the one answer every writer
// gives in its first line, so that "no fingerprinting detected" is said only of a complete report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/summary.h"

namespace fpshim {

// What a path, a folded bucket or a finding some of whose records came from a spool file or the
// process log (not over the socket) is marked with: those files are written by code the build controls.
inline constexpr const char* kUnverified = "unverified: its pid was not checked by the kernel";

// One reason a report is incomplete.
struct Gap {
  enum class Kind {
    forged,             // records that claimed the seq of another with other content, or a spool file
                        // whose records claim another pid than its name's
    tampered,           // the process log deleted, replaced or truncated under the collector
    lost,               // records that never arrived
    went_dark,          // processes that said hello and more, but no bye (killed, or silenced)
    supervisor_gone,    // `fpshim run` went away before the build ended
    still_running,      // descendants still running when fpshim stopped waiting
    collector_stopped,  // the collector was stopped or hung, and replaced
    not_journaled,      // the collector could not write its journal (a full disk)
    journal_full,       // records not journaled: the journal reached its cap (kMaxJournalBytes)
    processes_folded,   // processes beyond the process tree's cap, counted but not listed
    capped,             // records `fpshim serve` dropped at a build's caps (--max-build-bytes, --max-processes)
    unmonitored,        // processes that ran where the shim cannot see
  };
  Kind kind;
  uint64_t count = 0;
  std::string text;  // "3 records were lost", for every writer alike
};

// The reason's name in the JSON report: "forged", "lost", "went_dark", ...
const char* gap_name(Gap::Kind kind);

// Every gap of the report, the gravest first; empty: the report is complete.
std::vector<Gap> gaps_of(const Summary& s);

// "3 records were lost; 1 process went dark (hello and no bye)": the gaps as one sentence.
std::string why_incomplete(const std::vector<Gap>& gaps);

}  // namespace fpshim
