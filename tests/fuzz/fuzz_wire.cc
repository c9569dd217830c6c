// libFuzzer target: the wire decoder (include/fpshim/wire.h) on any bytes, as a datagram arrives.
#include <cstddef>
#include <cstdint>

#include "fpshim/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fpshim::wire::Header h;
  fpshim::wire::Bytes strings[fpshim::wire::kMaxStrings];
  const int n = fpshim::wire::decode(data, size, &h, strings, fpshim::wire::kMaxStrings);
  // Every string the decoder hands out lies inside the record.
  for (int i = 0; i < n; i++) {
    const auto* begin = reinterpret_cast<const uint8_t*>(strings[i].data);
    if (begin < data || begin + strings[i].size > data + size) __builtin_trap();
  }
  return 0;
}
