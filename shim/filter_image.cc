// Mapping and checking a filter image (filter_image.h). Raw system calls (sys.h): no hook, no errno.
#include "filter_image.h"

#include <string.h>
#include <sys/mman.h>

#include "sys.h"

namespace fpshim {

namespace {

#if !defined(__i386__)
bool header_ok(const FilterImageHeader& h, size_t spec_length, uint64_t file_size) {
  return memcmp(h.magic, kFilterImageMagic, sizeof h.magic) == 0 && h.layout == Filter::layout() &&
         h.spec_length == spec_length && h.size == filter_image_size(spec_length) && file_size == h.size;
}
#endif

}  // namespace

const Filter* map_filter_image(const char* path, const char* spec) {
#if defined(__i386__)
  (void)path;
  (void)spec;
  return nullptr;
#else
  if (path == nullptr || path[0] != '/' || spec == nullptr) return nullptr;
  const int fd = sys::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return nullptr;
  sys::Stat st;
  const size_t spec_length = strlen(spec);
  const size_t size = filter_image_size(spec_length);
  void* map = nullptr;
  if (sys::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && uint64_t(st.st_size) == size) {
    const long m = sys::call(SYS_mmap, 0, long(size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (m < 0 && m > -4096) map = nullptr;
    else map = reinterpret_cast<void*>(m);
  }
  sys::close(fd);
  if (map == nullptr) return nullptr;
  const char* bytes = static_cast<const char*>(map);
  FilterImageHeader header;
  memcpy(&header, bytes, sizeof header);
  const Filter* filter = reinterpret_cast<const Filter*>(bytes + kFilterImageOffset);
  const char* stored = bytes + kFilterImageOffset + sizeof(Filter);
  if (header_ok(header, spec_length, uint64_t(st.st_size)) && memcmp(stored, spec, spec_length + 1) == 0 &&
      filter->well_formed())
    return filter;
  sys::call(SYS_munmap, reinterpret_cast<long>(map), long(size));
  return nullptr;
#endif
}

}  // namespace fpshim
