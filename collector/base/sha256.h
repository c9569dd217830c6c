// SHA-256 (FIPS 180-4), for the digest of a report file that `fpshim run` and `fpshim report` print
// last, so that a report rewritten afterwards by something the build left running is detectable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fpshim {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  // The digest of everything passed to update(); the object is spent afterwards.
  std::array<uint8_t, 32> finish();

 private:
  void block(const uint8_t* p);

  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes
};

// The digest of `bytes` in 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace fpshim
