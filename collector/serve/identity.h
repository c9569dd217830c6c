// The file-system identity the daemon acts under. `fpshim serve` runs as root for every served
// uid, but a uid's directory, spool and process log belong to that uid, who could swap a name in
// them for a symbolic link at any moment: so everything the daemon does there is done with that
// uid's file-system rights (setfsuid/setfsgid), and only its own state and reports with root's.
#pragma once

#include <sys/fsuid.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>

namespace fpshim {

// Acts with `uid`'s (and `gid`'s) file-system rights until destroyed; nothing when not root.
class AsUser {
 public:
  AsUser(uint32_t uid, uint32_t gid) : active_(geteuid() == 0 && uid != 0) {
    if (!active_) return;
    prev_gid_ = setfsgid(gid);
    prev_uid_ = setfsuid(uid);
  }
  ~AsUser() {
    if (!active_) return;
    setfsuid(prev_uid_);
    setfsgid(prev_gid_);
  }
  AsUser(const AsUser&) = delete;
  AsUser& operator=(const AsUser&) = delete;

 private:
  bool active_;
  int prev_uid_ = 0;
  int prev_gid_ = 0;
};

// Back to the daemon's own rights (for its state directory) inside an AsUser, until destroyed.
class AsDaemon {
 public:
  AsDaemon() : prev_gid_(setfsgid(getegid())), prev_uid_(setfsuid(geteuid())) {}
  ~AsDaemon() {
    setfsuid(prev_uid_);
    setfsgid(prev_gid_);
  }
  AsDaemon(const AsDaemon&) = delete;
  AsDaemon& operator=(const AsDaemon&) = delete;

 private:
  int prev_gid_;
  int prev_uid_;
};

}  // namespace fpshim
