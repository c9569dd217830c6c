// What a collector writes down so that a successor started after its death loses nothing: every
// record it accepted (the journal, records back to back as on the wire), and the counts that no
// record carries (malformed and refused datagrams, torn spool tails, forged spool records).
#pragma once

#include <sys/uio.h>

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "ingest/record_file.h"
#include "ingest/stats.h"

namespace fpshim {

// The most bytes the journal holds: about 1.8 million records. Past it, records are aggregated without
// being journaled (Stats::unjournaled); a successor then finds what its predecessor lost by the
// gaps in the processes' seqs (their later records and byes come from the process log).
inline constexpr uint64_t kMaxJournalBytes = uint64_t(256) << 20;

class Journal {
 public:
  explicit Journal(uint64_t max_bytes = kMaxJournalBytes) : max_bytes_(max_bytes) {}
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  bool open(const std::string& journal_path, const std::string& counters_path, std::string& error);

  // Passes on every record journaled so far (by this collector's predecessors).
  void replay(const std::function<void(const RecordBytes&)>& each);
  // Adds the predecessors' counts to `stats`.
  void load_counters(Stats& stats);

  // One write for the whole batch, before the records are aggregated; nothing once the journal
  // holds max_bytes (the records are counted in unjournaled()).
  void append(std::span<const iovec> records);
  uint64_t unjournaled() const { return unjournaled_; }
  // Saves the counts if they changed.
  void save_counters(const Stats& stats);
  // Keeps what the collector saw the build do (from `tampering`, the ones not saved yet), and gives
  // back the predecessors' (load_tampering), so that killing the collector does not erase it.
  void save_tampering(const std::vector<Tampering>& tampering);
  std::vector<Tampering> load_tampering();

  bool healthy() const { return error_ == 0; }
  // The errno of the first failed write (ENOSPC: a full disk), 0 if none.
  int error() const { return error_; }

 private:
  struct Counts {
    uint64_t malformed = 0;
    uint64_t refused = 0;
    uint64_t lost = 0;
    uint64_t unjournaled = 0;
    uint64_t forged_spool = 0;
    bool operator==(const Counts&) const = default;
  };

  uint64_t max_bytes_;
  uint64_t size_ = 0;
  uint64_t unjournaled_ = 0;  // this collector's
  int fd_ = -1;
  int counters_fd_ = -1;
  Counts saved_;
  size_t tampering_saved_ = 0;     // of this collector's own
  uint64_t tampering_end_ = 4096;  // where the next one goes in the counters file, after the Counts
  int error_ = 0;
};

}  // namespace fpshim
