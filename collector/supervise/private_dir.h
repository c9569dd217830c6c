// The build's private directory (0700): the collector's socket, the shim's spool, and what the
// collector keeps so that a restarted collector can carry on. What the collector keeps lives in
// unlinked files (O_TMPFILE, else memfds) that `fpshim run` holds and every collector it forks
// inherits: no name reaches them, and the non-dumpable supervisor and collector keep a same-uid
// build out of their /proc/<pid>/fd.
#pragma once

#include <string>

namespace fpshim {

class PrivateDir {
 public:
  // Makes a fresh directory under $TMPDIR (or /tmp) with an empty spool/. On failure says why.
  bool create(std::string& error);
  // Removes it and everything in it.
  void remove();

  const std::string& path() const { return path_; }
  std::string socket() const { return path_ + "/sock"; }
  std::string spool() const { return path_ + "/spool"; }
  std::string filter_image() const { return path_ + "/filter.image"; }  // supervise/filter_image_file.h
  // The unlinked files, as the process holding them opens them again (/proc/self/fd/N).
  std::string journal() const { return held(journal_fd_); }          // every record received
  std::string counters() const { return held(counters_fd_); }        // what no record carries
  std::string inspections() const { return held(inspections_fd_); }  // executables inspected

 private:
  static std::string held(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

  std::string path_;
  int journal_fd_ = -1;
  int counters_fd_ = -1;
  int inspections_fd_ = -1;
};

}  // namespace fpshim
