// Files of records back to back, exactly as on the wire: the shim's spool files and the
// collector's journal.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <span>

namespace fpshim {

struct RecordBytes {
  char* data;
  uint32_t size;
};

// Reads the complete records in `fd` from `offset` on and passes them on in batches (the bytes may
// be changed); moves `offset` past the last complete one. Returns false if the framing is broken
// (a header with a bad magic or size): nothing after that point can be read.
bool read_records(int fd, uint64_t& offset, const std::function<void(std::span<RecordBytes>)>& batch);

// Appends the records with as few writes as possible (one, up to IOV_MAX records). False if a
// write failed or was short.
bool append_records(int fd, std::span<const iovec> records);

}  // namespace fpshim
