#include "ingest/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace fpshim {

Journal::~Journal() {
  if (fd_ >= 0) close(fd_);
  if (counters_fd_ >= 0) close(counters_fd_);
}

bool Journal::open(const std::string& journal_path, const std::string& counters_path, std::string& error) {
  fd_ = ::open(journal_path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  counters_fd_ = ::open(counters_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0 || counters_fd_ < 0) {
    error = fmt::format("cannot open the journal in {}: {}", journal_path, strerror(errno));
    return false;
  }
  return true;
}

void Journal::replay(const std::function<void(const RecordBytes&)>& each) {
  uint64_t offset = 0;
  // A torn tail (the predecessor died in the middle of a write) held nothing it had aggregated.
  read_records(fd_, offset, [&](std::span<RecordBytes> records) {
    for (const RecordBytes& r : records) each(r);
  });
}

void Journal::load_counters(Stats& stats) {
  Counts c;
  if (pread(counters_fd_, &c, sizeof c, 0) != ssize_t(sizeof c)) return;
  saved_ = c;
  stats.malformed += c.malformed;
  stats.refused += c.refused;
  stats.lost += c.lost;
  stats.forged_spool += c.forged_spool;
}

void Journal::append(std::span<const iovec> records) {
  errno = 0;
  // A short write to a regular file without an error means the device is full.
  if (!records.empty() && !append_records(fd_, records) && error_ == 0) error_ = errno != 0 ? errno : ENOSPC;
}

void Journal::save_counters(const Stats& stats) {
  Counts now{stats.malformed, stats.refused, stats.lost, stats.forged_spool};
  if (now == saved_) return;
  if (pwrite(counters_fd_, &now, sizeof now, 0) == ssize_t(sizeof now)) saved_ = now;
}

}  // namespace fpshim
