// The build's private directory (0700): the collector's socket, the shim's spool, and what the
// collector keeps so that a restarted collector can carry on.
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
  std::string journal() const { return path_ + "/journal"; }          // every record received
  std::string counters() const { return path_ + "/counters"; }        // what no record carries
  std::string inspections() const { return path_ + "/inspections"; }  // executables inspected

 private:
  std::string path_;
};

}  // namespace fpshim
