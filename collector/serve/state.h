// What survives a restart of `fpshim serve`, per served uid, under <state>/<uid>/ (0700, the
// daemon's): one journal per build (builds/<build id>.journal: its records as on the wire, written
// before they count), and how far the uid's process log has been taken (log.pos). A successor
// replays the journals, resumes the log there and claims the spool, so nothing is lost and, with
// the dedup by (pid, nonce, seq) when a report is made, nothing is counted twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ingest/ingest.h"
#include "model/summary.h"

namespace fpshim {

// A build id as BuildKey::str() writes it: 16 hex digits, or "<pid>-<nonce>".
std::optional<BuildKey> parse_build_key(const std::string& text);

// Makes `path` a directory of mode `mode` owned by `uid` if it is missing; false (with `error`) if
// it cannot, or if what is there is not such a directory (a symbolic link, another owner).
bool ensure_dir(const std::string& path, unsigned mode, uint32_t uid, uint32_t gid, std::string& error);

class UidState {
 public:
  bool open(const std::string& root, uint32_t uid, std::string& error);

  std::string journal_path(const BuildKey& key) const { return dir_ + "/builds/" + key.str() + ".journal"; }
  // The build journals a predecessor left.
  std::vector<BuildKey> journals() const;

  Ingest::LogPosition load_log_position() const;
  void save_log_position(const Ingest::LogPosition& p);

 private:
  std::string dir_;
  Ingest::LogPosition saved_;
};

}  // namespace fpshim
