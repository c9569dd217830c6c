// The parsed filter `fpshim run` writes once per build (FPSHIM_FILTER_IMAGE), which the build's
// processes map and use in place instead of parsing FPSHIM_FILTER at every start: the file's
// format, and the checks a process makes before it trusts one. The build runs as the same uid and
// may have rewritten the file, so nothing in it is taken on faith (docs/design.md, "The pre-filter").
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "filter.h"

namespace fpshim {

// The file: this header, zeros up to kFilterImageOffset, the Filter, then the spec it was parsed
// from and a NUL.
struct FilterImageHeader {
  char magic[8];         // kFilterImageMagic
  uint64_t layout;       // Filter::layout() of the writer
  uint64_t size;         // of the whole file: filter_image_size(spec_length)
  uint64_t spec_length;  // without its NUL
};
inline constexpr char kFilterImageMagic[8] = {'f', 'p', 'f', 'i', 'l', 't', '0', '1'};
inline constexpr size_t kFilterImageOffset = 64;
static_assert(sizeof(FilterImageHeader) <= kFilterImageOffset && kFilterImageOffset % alignof(Filter) == 0);

inline constexpr size_t filter_image_size(size_t spec_length) {
  return kFilterImageOffset + sizeof(Filter) + spec_length + 1;
}

// Maps the file at `path` read-only (open, fstat, mmap, close: no descriptor stays) and returns its
// Filter if the header is ours (magic, layout, size, the file's size), the spec it holds is `spec`
// byte for byte, and the Filter is well_formed(); else nullptr, with nothing left mapped. A mapping
// that is used stays for the life of the process. Off LP64 (i386) always nullptr: the collector
// writes its own layout, which no 32-bit process shares.
const Filter* map_filter_image(const char* path, const char* spec);

}  // namespace fpshim
