// Receiving records: the private socket the shim sends to, and the spool files it falls back to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fpshim/wire.h"
#include "record_sink.h"
#include "summary.h"

namespace fpshim {

class Ingest {
 public:
  Ingest(uint64_t build_id, Stats& stats) : build_id_(build_id), stats_(stats), strings_(wire::kMaxStrings) {}
  ~Ingest();
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  // Creates a fresh 0700 directory under $TMPDIR (or /tmp) holding the socket `sock` and the
  // directory `spool/`. On failure returns false and says why in `error`.
  bool open(std::string& error);

  int fd() const { return fd_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& spool_dir() const { return spool_dir_; }

  // Receives queued datagrams without blocking, at most `max_datagrams`; returns how many it read.
  size_t drain(RecordSink& sink, size_t max_datagrams = SIZE_MAX);

  // Claims every spool file (renames it), reads its records, and removes it.
  void ingest_spool(RecordSink& sink);

  // Checks and delivers one record; `sender_pid` is the kernel's word for datagrams, 0 for spool.
  void deliver(const char* data, size_t size, int32_t sender_pid, bool from_spool, RecordSink& sink);

  // Closes the socket and removes the private directory with everything in it.
  void close();

 private:
  static constexpr unsigned kBatch = 64;

  void ingest_spool_file(int fd, RecordSink& sink);

  uint64_t build_id_;
  Stats& stats_;
  int fd_ = -1;
  uint32_t uid_ = 0;
  std::string dir_;
  std::string socket_path_;
  std::string spool_dir_;
  std::vector<char> buffers_;          // kBatch datagrams of up to kMaxRecord bytes
  std::vector<char> control_;          // their SCM_CREDENTIALS
  std::vector<wire::Bytes> strings_;   // decode output, reused
};

// True if a record of this kind carries the strings the collector needs.
bool has_required_strings(const wire::Header& h, int nstrings);

}  // namespace fpshim
