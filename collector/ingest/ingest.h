// Receiving records: the socket the shim sends to, and the spool files it falls back to. Every
// accepted record is journaled before it is passed on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fpshim/wire.h"
#include "ingest/journal.h"
#include "ingest/record_sink.h"
#include "ingest/stats.h"

namespace fpshim {

// Creates the build's datagram socket at `path`: close-on-exec, non-blocking, SO_PASSCRED, with a
// receive buffer as large as allowed. Returns the descriptor, or -1 with `error` set.
int bind_socket(const std::string& path, std::string& error);

class Ingest {
 public:
  // Accepts records of `build_id` only, or of any build (a spool that many builds share).
  Ingest(std::optional<uint64_t> build_id, Stats& stats)
      : build_id_(build_id), stats_(stats), strings_(wire::kMaxStrings) {}
  ~Ingest();
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  // Receives on `fd`, a socket from bind_socket. The supervisor holds it too, so datagrams queued
  // when a collector dies wait in the kernel for its successor instead of vanishing with it.
  void adopt(int fd);
  // Where the shim spools; and where accepted records are journaled (none: not journaled).
  void set_spool_dir(std::string dir) { spool_dir_ = std::move(dir); }
  void set_journal(Journal* journal) { journal_ = journal; }
  // A nested `fpshim run` (one started inside a watched build): every accepted record is also
  // appended to the outer build's spool `dir` as the shim would spool it (the process log, or
  // "<pid>-<nonce>.spool"), under the outer build's id, so that the outer report sees the inner
  // build's processes (as unverified records: they passed through a program of the build).
  void set_forward(std::string dir, uint64_t build_id) {
    forward_dir_ = std::move(dir);
    forward_build_ = build_id;
  }
  // Whose records these are: datagrams must carry this uid's credentials and spool files must be
  // owned by it (default: our own uid; `fpshim serve` running as root serves other uids too).
  void set_owner(uint32_t uid) {
    uid_ = uid;
    owner_set_ = true;
  }

  // Where the process log has been read up to, so that a daemon's successor resumes there instead
  // of taking again what was already taken (records up to `offset` of the file dev/ino).
  struct LogPosition {
    uint64_t dev = 0;
    uint64_t ino = 0;
    uint64_t offset = 0;
  };
  LogPosition log_position() const { return log_position_; }
  // Before the first follow_log: start at `p.offset` if the process log is still the file `p` names.
  void resume_log(const LogPosition& p) { resume_ = p; }

  int fd() const { return fd_; }

  // Receives queued datagrams without blocking, at most `max_datagrams`; returns how many it read.
  // A batch is peeked, journaled, and only then taken off the queue: a collector killed in between
  // leaves it queued for its successor (which sees its journaled records again, as duplicates).
  size_t drain(RecordSink& sink, size_t max_datagrams = SIZE_MAX);

  // Claims every spool file but the process log (renames *.spool to *.claimed, and takes
  // *.claimed files a dead predecessor left), journals and delivers its records. A shim may have
  // opened a file just before the rename and not written yet, so with `settle_ns` > 0 the file is
  // read once more that much later (by settle()) before it is removed.
  void claim_spool(RecordSink& sink, uint64_t settle_ns = 0);
  // Finishes the claimed files that are due (all of them with `all`); returns when the next is due
  // (ns, CLOCK_MONOTONIC), or 0 if none is waiting.
  uint64_t settle(RecordSink& sink, bool all);

  // Reads the records appended to the process log (wire::kProcessLog) since the last call. The log
  // is never claimed while the build runs: a process that opened it may append at any time, so it
  // is followed like a growing file, and only complete records are taken.
  void follow_log(RecordSink& sink);
  // What follow_log saw happen to the process log: deleted or replaced (what the old file still
  // held is read, then the new file is followed from its start) or truncated below what was read
  // (read again from its start; what the build cut away was taken already, and its seqs dedup).
  const std::vector<Tampering>& log_tampering() const { return log_tampering_; }
  // The last read of the process log, when every process is gone: a record left incomplete at its
  // end is torn.
  void finish_log(RecordSink& sink);

  // A spool many builds share (`fpshim report`): its record files (the process log, spool files,
  // claimed ones) as they are; with `claim`, each renamed to *.claimed first, so that writers
  // start new files (wait a moment before reading: a writer may have opened one just before).
  std::vector<std::string> spool_files(bool claim);
  // Reads each file whole, in place, and delivers its records (a record torn at the end is lost).
  void read_files(const std::vector<std::string>& paths, RecordSink& sink);

  // Checks and delivers one record; `sender_pid` is the kernel's word for datagrams, 0 for spool
  // and journal.
  void deliver(const char* data, size_t size, int32_t sender_pid, bool from_spool, RecordSink& sink);

  // Closes this collector's descriptor of the socket, if it has one; the destructor calls it too.
  // The socket itself lives on in the supervisor's descriptor, and its file stays in the private
  // directory, which PrivateDir::remove() deletes.
  void close();

 private:
  static constexpr unsigned kBatch = 64;

  struct Claimed {
    std::string path;
    int fd;
    uint64_t offset;
    uint64_t due_ns;
  };

  // One accepted record of a batch: its header and its strings in batch_strings_.
  struct Decoded {
    wire::Header header;
    uint32_t first_string;
    uint32_t strings;
  };

  // Counts a malformed or refused record; true if it can be delivered (decoded into h, strings_).
  bool accept(const char* data, size_t size, int32_t sender_pid, wire::Header& h, int& nstrings);
  // Adds an accepted record to the batch (decoded into h and strings_ by accept()).
  void keep(const char* data, size_t size, const wire::Header& h, int nstrings);
  // One write of the batch to the journal, then the records to `sink`.
  void journal_and_deliver(RecordSink& sink);
  // Takes `n` peeked datagrams off the socket's queue (without copying them again); with `reset`,
  // then sets the peek offset back to the queue's head.
  void consume(unsigned n, bool reset);
  // The batch to the outer build's spool (set_forward).
  void forward();
  // `late`: its records went to a spool file because they could not be sent (stats.late).
  void read_claimed(Claimed& c, RecordSink& sink, bool late = true);
  // A record left incomplete at the end of `c` is torn.
  void count_torn_end(const Claimed& c, RecordSink& sink);
  void finish_claimed(Claimed& c, RecordSink& sink);
  // Notices the process log deleted, replaced or truncated since the last read (log_tampering()).
  void check_log(RecordSink& sink);
  // Opens `path` for reading if it is a regular file of ours; -1 if not (a file that is not is removed).
  int open_own(const std::string& path);

  std::optional<uint64_t> build_id_;
  Stats& stats_;
  Journal* journal_ = nullptr;
  int fd_ = -1;
  uint32_t uid_ = 0;
  bool owner_set_ = false;
  bool peek_ = false;  // the socket keeps a peek offset (SO_PEEK_OFF): drain() peeks, then consumes
  LogPosition resume_;
  LogPosition log_position_;
  std::string spool_dir_;
  std::string forward_dir_;
  uint64_t forward_build_ = 0;
  std::vector<Claimed> claimed_;
  Claimed log_{"", -1, 0, 0};
  std::vector<Tampering> log_tampering_;
  std::vector<char> buffers_;         // kBatch datagrams of up to kMaxRecord bytes
  std::vector<char> control_;         // their SCM_CREDENTIALS
  std::vector<wire::Bytes> strings_;  // decode output, reused
  std::vector<iovec> accepted_;       // the records of one batch, to journal
  std::vector<Decoded> batch_;        // ... and to deliver
  std::vector<wire::Bytes> batch_strings_;
};

// True if a record of this kind carries the strings the collector needs.
bool has_required_strings(const wire::Header& h, int nstrings);

}  // namespace fpshim
