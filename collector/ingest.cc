#include "ingest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace fpshim {

namespace {

constexpr int kReceiveBuffer = 8 << 20;

std::string temp_root() {
  const char* tmpdir = getenv("TMPDIR");
  // The socket path must fit in sockaddr_un (108 bytes) with "/fpshim-XXXXXX/sock" appended.
  if (tmpdir && tmpdir[0] == '/' && strlen(tmpdir) + 20 < sizeof(sockaddr_un::sun_path)) return tmpdir;
  return "/tmp";
}

}  // namespace

bool has_required_strings(const wire::Header& h, int nstrings) {
  switch (wire::Kind(h.kind)) {
    case wire::Kind::hello: return nstrings >= 2;   // exe, cwd, argv...
    case wire::Kind::access: return nstrings >= 3;  // resolved, spelled, entry point
    case wire::Kind::bye:
    case wire::Kind::lost: return true;
  }
  return false;
}

Ingest::~Ingest() { close(); }

bool Ingest::open(std::string& error) {
  std::string templ = temp_root() + "/fpshim-XXXXXX";
  if (!mkdtemp(templ.data())) {
    error = fmt::format("cannot create a private directory {}: {}", templ, strerror(errno));
    return false;
  }
  dir_ = templ;
  socket_path_ = dir_ + "/sock";
  spool_dir_ = dir_ + "/spool";
  if (mkdir(spool_dir_.c_str(), 0700) != 0) {
    error = fmt::format("cannot create {}: {}", spool_dir_, strerror(errno));
    return false;
  }
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    error = fmt::format("cannot create a socket: {}", strerror(errno));
    return false;
  }
  int on = 1;
  setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  int size = kReceiveBuffer;
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);  // capped at net.core.rmem_max

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = fmt::format("cannot bind {}: {}", socket_path_, strerror(errno));
    return false;
  }
  uid_ = getuid();
  buffers_.resize(size_t(kBatch) * wire::kMaxRecord);
  control_.resize(size_t(kBatch) * CMSG_SPACE(sizeof(ucred)));
  return true;
}

void Ingest::deliver(const char* data, size_t size, int32_t sender_pid, bool from_spool, RecordSink& sink) {
  wire::Header h;
  int n = wire::decode(data, size, &h, strings_.data(), uint32_t(strings_.size()));
  if (n < 0 || !has_required_strings(h, n) || (sender_pid != 0 && h.pid != sender_pid)) {
    stats_.malformed++;
    return;
  }
  if (h.build_id != build_id_) {
    stats_.refused++;
    return;
  }
  if (from_spool) {
    h.flags |= wire::flag_from_spool;
    stats_.late++;
  }
  stats_.records++;
  sink.on_record(h, std::span<const wire::Bytes>(strings_.data(), size_t(n)));
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
    int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: the queue is empty
    }
    for (int i = 0; i < n; i++) {
      const msghdr& m = msgs[i].msg_hdr;
      const ucred* cred = nullptr;
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) cred = reinterpret_cast<ucred*>(CMSG_DATA(c));
      if (!cred || cred->uid != uid_) {
        stats_.refused++;
      } else if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        stats_.malformed++;
      } else {
        deliver(static_cast<const char*>(iovs[i].iov_base), msgs[i].msg_len, cred->pid, false, sink);
      }
    }
    total += size_t(n);
    if (unsigned(n) < kBatch) break;
  }
  return total;
}

void Ingest::ingest_spool_file(int fd, RecordSink& sink) {
  std::vector<char> buf(std::max<size_t>(1 << 20, 2 * wire::kMaxRecord));
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf.data() + have, buf.size() - have);
    if (n < 0 && errno == EINTR) continue;
    bool eof = n <= 0;
    if (n > 0) have += size_t(n);
    size_t pos = 0;
    while (have - pos >= sizeof(wire::Header)) {
      wire::Header h;
      memcpy(&h, buf.data() + pos, sizeof h);
      if (h.magic != wire::kMagic || h.size < sizeof h || h.size > wire::kMaxRecord) {
        stats_.malformed++;  // no way to find the next record boundary
        return;
      }
      if (have - pos < h.size) break;
      deliver(buf.data() + pos, h.size, 0, true, sink);
      pos += h.size;
    }
    memmove(buf.data(), buf.data() + pos, have - pos);
    have -= pos;
    if (eof) {
      if (have > 0) stats_.lost++;  // a torn record at the end
      return;
    }
  }
}

void Ingest::ingest_spool(RecordSink& sink) {
  if (spool_dir_.empty()) return;
  DIR* dir = opendir(spool_dir_.c_str());
  if (!dir) return;
  std::vector<std::string> claimed;
  while (dirent* e = readdir(dir)) {
    std::string_view name = e->d_name;
    if (!name.ends_with(".spool")) continue;
    std::string from = spool_dir_ + "/" + std::string(name);
    std::string to = from.substr(0, from.size() - 6) + ".claimed";
    if (rename(from.c_str(), to.c_str()) == 0) claimed.push_back(std::move(to));
  }
  closedir(dir);
  for (const std::string& path : claimed) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == uid_) {
      ingest_spool_file(fd, sink);
    } else if (fd >= 0) {
      stats_.refused++;
    }
    if (fd >= 0) ::close(fd);
    unlink(path.c_str());
  }
}

void Ingest::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (dir_.empty()) return;
  if (DIR* dir = opendir(spool_dir_.c_str())) {
    while (dirent* e = readdir(dir)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") unlinkat(dirfd(dir), e->d_name, 0);
    }
    closedir(dir);
  }
  rmdir(spool_dir_.c_str());
  unlink(socket_path_.c_str());
  rmdir(dir_.c_str());
  dir_.clear();
}

}  // namespace fpshim
