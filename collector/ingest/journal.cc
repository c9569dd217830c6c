// The journal of accepted records and the counters file beside it (ingest/journal.h).
#include "ingest/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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
  struct stat st;
  if (fstat(fd_, &st) == 0) size_ = uint64_t(st.st_size);
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
  stats.unjournaled += c.unjournaled;
  stats.forged_spool += c.forged_spool;
}

void Journal::append(std::span<const iovec> records) {
  uint64_t bytes = 0;
  for (const iovec& r : records) bytes += r.iov_len;
  if (size_ + bytes > max_bytes_) {
    unjournaled_ += records.size();
    return;
  }
  errno = 0;
  // A short write to a regular file without an error means the device is full.
  if (!records.empty() && !append_records(fd_, records) && error_ == 0) error_ = errno != 0 ? errno : ENOSPC;
  size_ += bytes;
}

void Journal::save_counters(const Stats& stats) {
  Counts now{stats.malformed, stats.refused, stats.lost, stats.unjournaled + unjournaled_, stats.forged_spool};
  if (now == saved_) return;
  if (pwrite(counters_fd_, &now, sizeof now, 0) == ssize_t(sizeof now)) saved_ = now;
}

// In the counters file from offset 4096 on: one line per event, "SEEN_NS WHAT\n".
void Journal::save_tampering(const std::vector<Tampering>& tampering) {
  for (; tampering_saved_ < tampering.size(); tampering_saved_++) {
    const Tampering& t = tampering[tampering_saved_];
    const std::string line = fmt::format("{} {}\n", t.seen_ns, t.what);
    if (pwrite(counters_fd_, line.data(), line.size(), off_t(tampering_end_)) != ssize_t(line.size())) return;
    tampering_end_ += line.size();
  }
}

std::vector<Tampering> Journal::load_tampering() {
  std::vector<Tampering> out;
  std::string text(64 * 1024, '\0');  // the collector writes a handful; more is not its writing
  const ssize_t n = pread(counters_fd_, text.data(), text.size(), 4096);
  text.resize(n > 0 ? size_t(n) : 0);
  for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
    const size_t space = text.find(' ', at);
    if (space >= end) break;
    out.push_back({text.substr(space + 1, end - space - 1), std::strtoull(text.c_str() + at, nullptr, 10)});
    tampering_end_ = 4096 + end + 1;
  }
  return out;
}

}  // namespace fpshim
