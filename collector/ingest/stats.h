// The counts of a run that no single record carries: what arrived, what was lost, refused or
// folded. The journal keeps them across collector restarts; the report prints them as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fpshim {

// Something the build did to the records meant for fpshim, seen by the collector as it happened.
struct Tampering {
  std::string what;  // "the process log was deleted", "... truncated from N to M bytes", "... replaced"
  uint64_t seen_ns = 0;
};

struct Stats {
  uint64_t records = 0;          // well-formed records accepted (socket and spool)
  uint64_t lost = 0;             // records that never arrived (gaps in a process's seqs), plus torn spool tails
  uint64_t late = 0;             // records read back from spool files
  uint64_t malformed = 0;        // datagrams or spool records that failed to decode
  uint64_t refused = 0;          // records from another uid or another build
  uint64_t unmatched = 0;        // access records no recipe matched (the shim's filter is a superset)
  uint64_t excluded = 0;         // access records a recipe matched but excluded by executable, per recipe
  uint64_t below_threshold = 0;  // weak access records of a recipe whose process or build stayed below its threshold
  uint64_t processes = 0;        // processes (pid, nonce) that sent a hello
  uint64_t processes_without_bye = 0;  // ... and more records, but no bye, and were not replaced by an exec
  uint64_t duplicates = 0;             // records seen twice (a spool file re-read after a collector restart)
  uint64_t conflicting = 0;            // records that claimed a seq already seen with other content: forged
  uint64_t forged_spool = 0;           // records in a spool file that claim a pid other than the file's name
  uint64_t unverified = 0;             // records that came from files (spool, process log), not the socket
  uint64_t collector_stopped = 0;      // times the watchdog found the collector stopped or hung and replaced it
  uint64_t journal_errno = 0;          // the first error writing the journal (ENOSPC: a full disk), 0 if none
  uint64_t spool_errno = 0;            // why a shim lost records it could not spool (ENOSPC), 0 if none
  uint64_t env_restored = 0;           // execs whose scrubbed environment the shim repaired
  uint64_t collector_restarts = 0;
  uint64_t collector_peak_rss_kb = 0;
  uint64_t folded_paths = 0;      // distinct paths in the recipes' folded buckets, summed over them
  uint64_t folded_records = 0;    // access records counted in folded buckets, per recipe
  uint64_t capped = 0;            // records `fpshim serve` dropped at a cap (processes or bytes per build)
  uint64_t processes_folded = 0;  // beyond the process tree's limit: hellos of processes not in it, and exec
                                  // records that found no room (a program started and its hello count twice)
  uint64_t unjournaled = 0;       // records aggregated but not journaled: the journal was full (kMaxJournalBytes)
};

}  // namespace fpshim
