// Reading and taking from the spool's loss ledger, by the protocol of shim/transport.cc
// (add_to_ledger): an exclusive flock, then read, change, write back the whole block.
#include "ingest/loss_ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "fpshim/wire.h"

namespace fpshim {

namespace {

uint64_t count_in(const char (&block)[16]) {
  if (memcmp(block, wire::kLedgerMagic, sizeof wire::kLedgerMagic) != 0) return 0;
  uint64_t count;
  memcpy(&count, block + 8, sizeof count);
  return count;
}

int open_ledger(const std::string& dir, int flags) {
  return open((dir + "/" + wire::kLossLedger).c_str(), flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

}  // namespace

uint64_t read_loss_ledger(const std::string& dir) {
  const int fd = open_ledger(dir, O_RDONLY);
  if (fd < 0) return 0;
  char block[16];
  const bool whole = pread(fd, block, sizeof block, 0) == ssize_t(sizeof block);
  close(fd);
  return whole ? count_in(block) : 0;
}

bool take_from_loss_ledger(const std::string& dir, uint64_t n) {
  if (n == 0) return true;
  const int fd = open_ledger(dir, O_RDWR);
  if (fd < 0) return false;
  bool ok = flock(fd, LOCK_EX) == 0;
  if (ok) {
    char head[16];
    const uint64_t count = pread(fd, head, sizeof head, 0) == ssize_t(sizeof head) ? count_in(head) : 0;
    char block[wire::kLedgerSize] = {};
    memcpy(block, wire::kLedgerMagic, sizeof wire::kLedgerMagic);
    const uint64_t rest = count - std::min(count, n);
    memcpy(block + 8, &rest, sizeof rest);
    ok = pwrite(fd, block, sizeof block, 0) == ssize_t(sizeof block);
    flock(fd, LOCK_UN);
  }
  close(fd);
  return ok;
}

}  // namespace fpshim
