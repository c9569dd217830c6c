// What a collector writes down so that a successor started after its death loses nothing: every
// record it accepted (the journal, records back to back as on the wire), and the counts that no
// record carries (malformed and refused datagrams, torn spool tails, forged spool records).
#pragma once

#include <sys/uio.h>

#include <functional>
#include <span>
#include <string>

#include "ingest/record_file.h"
#include "ingest/stats.h"

namespace fpshim {

class Journal {
 public:
  Journal() = default;
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  bool open(const std::string& journal_path, const std::string& counters_path, std::string& error);

  // Passes on every record journaled so far (by this collector's predecessors).
  void replay(const std::function<void(const RecordBytes&)>& each);
  // Adds the predecessors' counts to `stats`.
  void load_counters(Stats& stats);

  // One write for the whole batch, before the records are aggregated.
  void append(std::span<const iovec> records);
  // Saves the counts if they changed.
  void save_counters(const Stats& stats);

  bool healthy() const { return error_ == 0; }
  // The errno of the first failed write (ENOSPC: a full disk), 0 if none.
  int error() const { return error_; }

 private:
  struct Counts {
    uint64_t malformed = 0;
    uint64_t refused = 0;
    uint64_t lost = 0;
    uint64_t forged_spool = 0;
    bool operator==(const Counts&) const = default;
  };

  int fd_ = -1;
  int counters_fd_ = -1;
  Counts saved_;
  int error_ = 0;
};

}  // namespace fpshim
