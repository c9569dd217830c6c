#include "ingest/ingest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "base/clock.h"

namespace fpshim {

namespace {

constexpr int kReceiveBuffer = 8 << 20;

// Sets or clears a flag in a record's bytes, which are journaled as they are delivered.
void set_flag(char* record, uint32_t flag, bool on) {
  uint32_t flags;
  memcpy(&flags, record + offsetof(wire::Header, flags), sizeof flags);
  flags = on ? flags | flag : flags & ~flag;
  memcpy(record + offsetof(wire::Header, flags), &flags, sizeof flags);
}

// The pid and nonce a spool file's name gives ("<pid>-<nonce>.spool" or ".claimed", as the shim
// names them); false for other files (the process log).
bool owner_of_spool_name(const std::string& path, int32_t& pid, uint64_t& nonce) {
  const std::string_view name = std::string_view(path).substr(path.rfind('/') + 1);
  const size_t dash = name.find('-'), dot = name.find('.');
  if (dash == std::string_view::npos || dot == std::string_view::npos || dot < dash) return false;
  const auto [p_end, p_err] = std::from_chars(name.data(), name.data() + dash, pid);
  const auto [n_end, n_err] = std::from_chars(name.data() + dash + 1, name.data() + dot, nonce);
  return p_err == std::errc() && p_end == name.data() + dash && n_err == std::errc() && n_end == name.data() + dot;
}

}  // namespace

bool has_required_strings(const wire::Header& h, int nstrings) {
  switch (wire::Kind(h.kind)) {
    case wire::Kind::hello: return nstrings >= 2;   // exe, cwd, argv...
    case wire::Kind::access: return nstrings >= 3;  // resolved, spelled, entry point
    case wire::Kind::exec: return nstrings >= 2;    // target, resolved target, argv...
    case wire::Kind::bye:
    case wire::Kind::lost: return true;
  }
  return false;
}

Ingest::~Ingest() {
  for (Claimed& c : claimed_) ::close(c.fd);
  if (log_.fd >= 0) ::close(log_.fd);
  close();
}

int bind_socket(const std::string& path, std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = fmt::format("socket path too long: {}", path);
    return -1;
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = fmt::format("cannot create a socket: {}", strerror(errno));
    return -1;
  }
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  int size = kReceiveBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);  // capped at net.core.rmem_max
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = fmt::format("cannot bind {}: {}", path, strerror(errno));
    ::close(fd);
    return -1;
  }
  return fd;
}

void Ingest::adopt(int fd) {
  fd_ = fd;
  if (!owner_set_) uid_ = getuid();
  // The offset belongs to the socket, not the descriptor: a predecessor killed after a peek left
  // it past datagrams it never consumed.
  int zero = 0;
  peek_ = setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) == 0;
  buffers_.resize(size_t(kBatch) * wire::kMaxRecord);
  control_.resize(size_t(kBatch) * CMSG_SPACE(sizeof(ucred)));
}

bool Ingest::accept(const char* data, size_t size, int32_t sender_pid, wire::Header& h, int& n) {
  n = wire::decode(data, size, &h, strings_.data(), uint32_t(strings_.size()));
  if (n < 0 || !has_required_strings(h, n) || (sender_pid != 0 && h.pid != sender_pid)) {
    stats_.malformed++;
    return false;
  }
  if (build_id_ && h.build_id != *build_id_) {
    stats_.refused++;
    return false;
  }
  return true;
}

void Ingest::deliver(const char* data, size_t size, int32_t sender_pid, bool from_spool, RecordSink& sink) {
  wire::Header h;
  int n;
  if (!accept(data, size, sender_pid, h, n)) return;
  if (from_spool) h.flags |= wire::flag_from_spool;
  sink.on_record(h, std::span<const wire::Bytes>(strings_.data(), size_t(n)));
}

void Ingest::keep(const char* data, size_t size, const wire::Header& h, int nstrings) {
  accepted_.push_back({const_cast<char*>(data), size});
  batch_.push_back({h, uint32_t(batch_strings_.size()), uint32_t(nstrings)});
  batch_strings_.insert(batch_strings_.end(), strings_.begin(), strings_.begin() + nstrings);
}

void Ingest::forward() {
  std::vector<char> copy;
  for (const iovec& r : accepted_) {
    copy.assign(static_cast<const char*>(r.iov_base), static_cast<const char*>(r.iov_base) + r.iov_len);
    wire::Header h;
    memcpy(&h, copy.data(), sizeof h);
    h.build_id = forward_build_;
    h.flags &= ~uint32_t(wire::flag_from_spool | wire::flag_unverified);  // the outer collector's to set
    memcpy(copy.data(), &h, sizeof h);
    const bool of_tree = wire::Kind(h.kind) != wire::Kind::access;
    const std::string path = forward_dir_ + "/" +
                             (of_tree ? std::string(wire::kProcessLog)
                                      : fmt::format("{}-{}.spool", h.pid, h.proc_nonce));
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) continue;
    if (write(fd, copy.data(), copy.size()) != ssize_t(copy.size())) {
      // The outer report counts what is missing from a process's seqs as lost.
    }
    ::close(fd);
  }
}

void Ingest::journal_and_deliver(RecordSink& sink) {
  if (journal_) journal_->append(accepted_);
  if (!forward_dir_.empty()) forward();
  for (const Decoded& d : batch_)
    sink.on_record(d.header, std::span<const wire::Bytes>(batch_strings_.data() + d.first_string, d.strings));
  accepted_.clear();
  batch_.clear();
  batch_strings_.clear();
  sink.on_batch_end();
}

size_t Ingest::drain(RecordSink& sink, size_t max_datagrams) {
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  size_t total = 0;
  const size_t cmsg_space = CMSG_SPACE(sizeof(ucred));
  while (fd_ >= 0 && total < max_datagrams) {
    for (unsigned i = 0; i < kBatch; i++) {
      iovs[i] = {buffers_.data() + size_t(i) * wire::kMaxRecord, wire::kMaxRecord};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = control_.data() + i * cmsg_space;
      msgs[i].msg_hdr.msg_controllen = cmsg_space;
    }
    int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT | (peek_ ? MSG_PEEK : 0), nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: the queue is empty
    }
    // A peek of a datagram larger than its buffer moves the peek offset only past what it copied:
    // the next peeks read the rest of it as datagrams of their own. The batch ends at it.
    bool truncated = false;
    for (int i = 0; i < n && !truncated; i++)
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        n = i + 1;
        truncated = true;
      }
    for (int i = 0; i < n; i++) {
      const msghdr& m = msgs[i].msg_hdr;
      const ucred* cred = nullptr;
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
          cred = reinterpret_cast<ucred*>(CMSG_DATA(c));
      const char* data = static_cast<const char*>(iovs[i].iov_base);
      wire::Header h;
      int nstrings;
      if (!cred || cred->uid != uid_) stats_.refused++;
      else if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) stats_.malformed++;
      else if (accept(data, msgs[i].msg_len, cred->pid, h, nstrings)) {
        set_flag(const_cast<char*>(data), wire::flag_unverified, false);  // the kernel vouched for its pid
        h.flags &= ~uint32_t(wire::flag_unverified);
        keep(data, msgs[i].msg_len, h, nstrings);
      }
    }
    journal_and_deliver(sink);
    if (peek_) consume(unsigned(n), truncated);
    total += size_t(n);
  }
  return total;
}

void Ingest::consume(unsigned n, bool reset) {
  mmsghdr msgs[kBatch] = {};  // no buffers: each datagram is dropped (this reader is the only one)
  while (n > 0) {
    int got = recvmmsg(fd_, msgs, n, MSG_DONTWAIT, nullptr);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    n -= unsigned(got);
  }
  if (reset) {
    int zero = 0;
    setsockopt(fd_, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero);
  }
}

void Ingest::read_claimed(Claimed& c, RecordSink& sink, bool late) {
  if (c.offset == UINT64_MAX) return;
  // A spool file holds the records of the process its name gives: one that claims another pid was
  // written by something else, to pass for that process (counted as forged, not delivered).
  int32_t name_pid = 0;
  uint64_t name_nonce = 0;
  const bool named = owner_of_spool_name(c.path, name_pid, name_nonce);
  bool intact = read_records(c.fd, c.offset, [&](std::span<RecordBytes> records) {
    for (RecordBytes& r : records) {
      if (late) set_flag(r.data, wire::flag_from_spool, true);
      set_flag(r.data, wire::flag_unverified, true);
      wire::Header h;
      int n;
      if (!accept(r.data, r.size, 0, h, n)) continue;
      if (named && (h.pid != name_pid || h.proc_nonce != name_nonce)) {
        stats_.forged_spool++;
        continue;
      }
      keep(r.data, r.size, h, n);
    }
    journal_and_deliver(sink);
  });
  if (!intact) {
    stats_.malformed++;
    c.offset = UINT64_MAX;  // nothing more can be read from it
  }
}

void Ingest::finish_claimed(Claimed& c, RecordSink& sink) {
  read_claimed(c, sink);
  count_torn_end(c, sink);
  ::close(c.fd);
  unlink(c.path.c_str());
}

void Ingest::count_torn_end(const Claimed& c, RecordSink& sink) {
  struct stat st;
  if (c.offset != UINT64_MAX && fstat(c.fd, &st) == 0 && uint64_t(st.st_size) > c.offset) {
    wire::Header h;
    bool has_header = pread(c.fd, &h, sizeof h, off_t(c.offset)) == ssize_t(sizeof h) && h.magic == wire::kMagic &&
                      (!build_id_ || h.build_id == *build_id_);
    if (has_header) sink.on_torn(h);
    else stats_.lost++;  // a torn record at the end
  }
}

int Ingest::open_own(const std::string& path) {
  // O_NONBLOCK: a FIFO planted in the spool must not block the open (it is refused below).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != (owner_set_ ? uid_ : getuid())) {
    stats_.refused++;
    ::close(fd);
    unlink(path.c_str());
    return -1;
  }
  return fd;
}

void Ingest::check_log(RecordSink& sink) {
  struct stat held, named;
  if (fstat(log_.fd, &held) != 0) return;
  if (log_.offset != UINT64_MAX && uint64_t(held.st_size) < log_.offset) {
    log_tampering_.push_back(
        {fmt::format("the process log was truncated from {} to {} bytes", log_.offset, held.st_size), now_ns()});
    log_.offset = 0;
  }
  const bool gone = lstat(log_.path.c_str(), &named) != 0;
  if (!gone && named.st_dev == held.st_dev && named.st_ino == held.st_ino) return;
  read_claimed(log_, sink, false);
  log_tampering_.push_back(
      {gone ? "the process log was deleted" : "the process log was replaced by another file", now_ns()});
  ::close(log_.fd);
  log_ = Claimed{"", -1, 0, 0};
}

void Ingest::follow_log(RecordSink& sink) {
  if (spool_dir_.empty()) return;
  if (log_.fd >= 0) check_log(sink);
  if (log_.fd < 0) {
    log_.path = spool_dir_ + "/" + wire::kProcessLog;
    log_.fd = open_own(log_.path);
    struct stat st;
    if (log_.fd >= 0 && fstat(log_.fd, &st) == 0) {
      log_position_ = {uint64_t(st.st_dev), uint64_t(st.st_ino), 0};
      if (resume_.dev == log_position_.dev && resume_.ino == log_position_.ino &&
          resume_.offset <= uint64_t(st.st_size))
        log_.offset = resume_.offset;
    }
  }
  if (log_.fd >= 0) read_claimed(log_, sink, false);
  if (log_.fd >= 0 && log_.offset != UINT64_MAX) log_position_.offset = log_.offset;
}

void Ingest::finish_log(RecordSink& sink) {
  follow_log(sink);
  if (log_.fd >= 0) count_torn_end(log_, sink);
}

void Ingest::claim_spool(RecordSink& sink, uint64_t settle_ns) {
  if (spool_dir_.empty()) return;
  DIR* dir = opendir(spool_dir_.c_str());
  if (!dir) return;
  std::vector<std::string> paths;
  while (dirent* e = readdir(dir)) {
    std::string_view name = e->d_name;
    std::string from = spool_dir_ + "/" + std::string(name);
    if (name == wire::kProcessLog) continue;  // followed, not claimed (follow_log)
    if (name.ends_with(".claimed")) {
      bool ours = false;
      for (const Claimed& c : claimed_) ours |= c.path == from;
      if (!ours) paths.push_back(std::move(from));
    } else if (name.ends_with(".spool")) {
      std::string to = from.substr(0, from.size() - 6) + ".claimed";
      if (rename(from.c_str(), to.c_str()) == 0) paths.push_back(std::move(to));
    }
  }
  closedir(dir);
  const uint64_t due = now_ns(CLOCK_MONOTONIC) + settle_ns;
  for (std::string& path : paths) {
    const int fd = open_own(path);
    if (fd < 0) continue;
    Claimed c{std::move(path), fd, 0, due};
    read_claimed(c, sink);
    if (settle_ns == 0) finish_claimed(c, sink);
    else claimed_.push_back(std::move(c));
  }
}

uint64_t Ingest::settle(RecordSink& sink, bool all) {
  const uint64_t now = now_ns(CLOCK_MONOTONIC);
  uint64_t next = 0;
  for (size_t i = 0; i < claimed_.size();) {
    if (all || claimed_[i].due_ns <= now) {
      finish_claimed(claimed_[i], sink);
      claimed_.erase(claimed_.begin() + ptrdiff_t(i));
      continue;
    }
    if (next == 0 || claimed_[i].due_ns < next) next = claimed_[i].due_ns;
    i++;
  }
  return next;
}

std::vector<std::string> Ingest::spool_files(bool claim) {
  std::vector<std::string> paths;
  DIR* dir = spool_dir_.empty() ? nullptr : opendir(spool_dir_.c_str());
  if (!dir) return paths;
  const std::string stamp = fmt::format("-{}-{}", now_ns(), getpid());
  while (dirent* e = readdir(dir)) {
    std::string_view name = e->d_name;
    std::string path = spool_dir_ + "/" + std::string(name);
    if (name.ends_with(".spool") && claim) {
      // The process log is appended to by every build: claimed under a name of its own.
      std::string to = path.substr(0, path.size() - 6) + (name == wire::kProcessLog ? stamp : "") + ".claimed";
      if (rename(path.c_str(), to.c_str()) == 0) paths.push_back(std::move(to));
    } else if (name.ends_with(".spool") || name.ends_with(".claimed")) {
      paths.push_back(std::move(path));
    }
  }
  closedir(dir);
  std::sort(paths.begin(), paths.end());
  return paths;
}

void Ingest::read_files(const std::vector<std::string>& paths, RecordSink& sink) {
  for (const std::string& path : paths) {
    const int fd = open_own(path);
    if (fd < 0) continue;
    Claimed c{path, fd, 0, 0};
    read_claimed(c, sink, false);
    count_torn_end(c, sink);
    ::close(fd);
  }
}

void Ingest::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace fpshim
