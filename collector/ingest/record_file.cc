#include "ingest/record_file.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "fpshim/wire.h"

namespace fpshim {

bool read_records(int fd, uint64_t& offset, const std::function<void(std::span<RecordBytes>)>& batch) {
  std::vector<char> buf(std::max<size_t>(1 << 20, 2 * wire::kMaxRecord));
  std::vector<RecordBytes> records;
  size_t have = 0;
  for (;;) {
    ssize_t n = pread(fd, buf.data() + have, buf.size() - have, off_t(offset + have));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    have += size_t(n);
    size_t pos = 0;
    records.clear();
    bool broken = false;
    while (have - pos >= sizeof(wire::Header)) {
      wire::Header h;
      memcpy(&h, buf.data() + pos, sizeof h);
      if (h.magic != wire::kMagic || h.size < sizeof h || h.size > wire::kMaxRecord) {
        broken = true;  // no way to find the next record boundary
        break;
      }
      if (have - pos < h.size) break;
      records.push_back(RecordBytes{buf.data() + pos, h.size});
      pos += h.size;
    }
    if (!records.empty()) batch(records);
    offset += pos;
    if (broken) return false;
    memmove(buf.data(), buf.data() + pos, have - pos);
    have -= pos;
  }
}

bool append_records(int fd, std::span<const iovec> records) {
  while (!records.empty()) {
    size_t n = std::min<size_t>(records.size(), IOV_MAX);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += records[i].iov_len;
    ssize_t written;
    do {
      written = writev(fd, records.data(), int(n));
    } while (written < 0 && errno == EINTR);
    if (written != ssize_t(total)) return false;
    records = records.subspan(n);
  }
  return true;
}

}  // namespace fpshim
