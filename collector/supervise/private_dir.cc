// The build's private directory and the unlinked files the collectors keep their state in.
#include "supervise/private_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace fpshim {

namespace {

std::string temp_root() {
  const char* tmpdir = getenv("TMPDIR");
  // The socket path must fit in sockaddr_un (108 bytes) with "/fpshim-XXXXXX/sock" appended.
  if (tmpdir && tmpdir[0] == '/' && strlen(tmpdir) + 20 < sizeof(sockaddr_un::sun_path)) return tmpdir;
  return "/tmp";
}

void remove_files_in(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
  }
}

}  // namespace

bool PrivateDir::create(std::string& error) {
  std::string templ = temp_root() + "/fpshim-XXXXXX";
  if (!mkdtemp(templ.data())) {
    error = fmt::format("cannot create a private directory {}: {}", templ, strerror(errno));
    return false;
  }
  path_ = templ;
  if (mkdir(spool().c_str(), 0700) != 0) {
    error = fmt::format("cannot create {}: {}", spool(), strerror(errno));
    return false;
  }
  for (int* fd : {&journal_fd_, &counters_fd_, &inspections_fd_}) {
    *fd = open(path_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (*fd < 0) *fd = memfd_create("fpshim-journal", MFD_CLOEXEC);  // a file system without O_TMPFILE
    if (*fd < 0) {
      error = fmt::format("cannot create an unlinked file in {}: {}", path_, strerror(errno));
      return false;
    }
  }
  return true;
}

void PrivateDir::remove() {
  for (int* fd : {&journal_fd_, &counters_fd_, &inspections_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  if (path_.empty()) return;
  remove_files_in(spool());
  rmdir(spool().c_str());
  remove_files_in(path_);
  rmdir(path_.c_str());
  path_.clear();
}

}  // namespace fpshim
