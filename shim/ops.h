// What an open-like call does to its path, as wire::Op bits.
#pragma once

#include <fcntl.h>
#include <stdint.h>

#include "fpshim/wire.h"

namespace fpshim {

inline uint32_t op_for_open_flags(int flags) {
  if (flags & O_PATH) return wire::op_stat;
  // O_TMPFILE carries the O_DIRECTORY bit but creates a file in that directory.
  if ((flags & O_TMPFILE) != O_TMPFILE && (flags & O_DIRECTORY)) return wire::op_list;
  uint32_t op = wire::op_read;
  if ((flags & O_ACCMODE) == O_WRONLY) op = wire::op_write;
  if ((flags & O_ACCMODE) == O_RDWR) op = wire::op_read | wire::op_write;
  if (flags & (O_CREAT | O_TRUNC)) op |= wire::op_write;
  return op;
}

// fopen modes: "r" reads, "w" and "a" write, "+" does both.
inline uint32_t op_for_fopen_mode(const char* mode) {
  if (mode == nullptr) return wire::op_read;
  uint32_t op = mode[0] == 'w' || mode[0] == 'a' ? wire::op_write : wire::op_read;
  for (const char* m = mode; *m != '\0' && *m != ','; m++)
    if (*m == '+') op = wire::op_read | wire::op_write;
  return op;
}

}  // namespace fpshim
