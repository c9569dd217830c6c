// Inspections of executables, remembered by path and file identity, and kept in a log file so
// that a restarted collector still knows about programs that were deleted since.
#pragma once

#include <sys/types.h>

#include <string>

#include "inspect/inspection.h"
#include "base/string_map.h"

namespace fpshim {

class InspectionCache {
 public:
  explicit InspectionCache(Credentials who) : who_(who) {}
  ~InspectionCache();
  InspectionCache(const InspectionCache&) = delete;
  InspectionCache& operator=(const InspectionCache&) = delete;

  // Reads what a predecessor logged in `path`, then appends every new inspection to it.
  void keep_log(const std::string& path);

  // The cached result while the file is unchanged (or gone), else a fresh inspection.
  Inspection inspect(const std::string& path);

 private:
  static constexpr size_t kMaxEntries = 4096;

  struct FileId {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    mode_t mode = 0;
    bool operator==(const FileId&) const = default;
  };
  struct Entry {
    FileId id;
    Inspection result;
  };

  void remember(const std::string& path, const Entry& entry, bool log);

  Credentials who_;
  StringMap<Entry> entries_;
  int log_fd_ = -1;
};

}  // namespace fpshim
