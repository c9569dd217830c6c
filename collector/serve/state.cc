// The state directory of `fpshim serve` (serve/state.h): per uid, build journals and the process
// log's position.
#include "serve/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace fpshim {

std::optional<BuildKey> parse_build_key(const std::string& text) {
  if (text.size() == 16 && text.find_first_not_of("0123456789abcdef") == std::string::npos) {
    const uint64_t id = std::stoull(text, nullptr, 16);
    if (id != 0) return BuildKey{id, 0, 0};
    return std::nullopt;
  }
  const size_t dash = text.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == text.size()) return std::nullopt;
  const std::string pid = text.substr(0, dash), nonce = text.substr(dash + 1);
  if (pid.find_first_not_of("0123456789") != std::string::npos ||
      nonce.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9 || nonce.size() > 19)
    return std::nullopt;
  return BuildKey{0, int32_t(std::stol(pid)), std::stoull(nonce)};
}

bool ensure_dir(const std::string& path, unsigned mode, uint32_t uid, uint32_t gid, std::string& error) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || mkdir(path.c_str(), mode) != 0) {
      if (errno != EEXIST) {
        error = fmt::format("cannot create {}: {}", path, strerror(errno));
        return false;
      }
    } else {
      if (geteuid() == 0 && uid != 0 && chown(path.c_str(), uid, gid) != 0) {
        error = fmt::format("cannot give {} to uid {}: {}", path, uid, strerror(errno));
        return false;
      }
      chmod(path.c_str(), mode);  // whatever the umask took away
    }
    if (lstat(path.c_str(), &st) != 0) {
      error = fmt::format("cannot create {}: {}", path, strerror(errno));
      return false;
    }
  }
  if (!S_ISDIR(st.st_mode)) error = fmt::format("{} is not a directory", path);
  else if (st.st_uid != uid) error = fmt::format("{} belongs to uid {}, not to uid {}", path, st.st_uid, uid);
  else if (st.st_mode & (S_IWGRP | S_IWOTH))
    error = fmt::format("{} is writable by others (mode {:o})", path, st.st_mode & 07777);
  return error.empty();
}

bool UidState::open(const std::string& root, uint32_t uid, std::string& error) {
  dir_ = fmt::format("{}/{}", root, uid);
  const uint32_t me = geteuid();
  if (!ensure_dir(root, 0700, me, getegid(), error) || !ensure_dir(dir_, 0700, me, getegid(), error) ||
      !ensure_dir(dir_ + "/builds", 0700, me, getegid(), error))
    return false;
  saved_ = load_log_position();
  return true;
}

std::vector<BuildKey> UidState::journals() const {
  std::vector<BuildKey> keys;
  DIR* dir = opendir((dir_ + "/builds").c_str());
  if (!dir) return keys;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (!name.ends_with(".journal")) continue;
    if (auto key = parse_build_key(name.substr(0, name.size() - 8))) keys.push_back(*key);
  }
  closedir(dir);
  return keys;
}

Ingest::LogPosition UidState::load_log_position() const {
  Ingest::LogPosition p;
  const int fd = ::open((dir_ + "/log.pos").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return p;
  if (read(fd, &p, sizeof p) != ssize_t(sizeof p)) p = {};
  close(fd);
  return p;
}

void UidState::save_log_position(const Ingest::LogPosition& p) {
  if (p.dev == saved_.dev && p.ino == saved_.ino && p.offset == saved_.offset) return;
  // Written after the records up to `offset` are in their journals: a crash in between takes some
  // again, which the dedup by seq absorbs; the other order would lose them.
  const std::string path = dir_ + "/log.pos", tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  const bool ok = write(fd, &p, sizeof p) == ssize_t(sizeof p);
  if (close(fd) == 0 && ok && rename(tmp.c_str(), path.c_str()) == 0) saved_ = p;
}

}  // namespace fpshim
