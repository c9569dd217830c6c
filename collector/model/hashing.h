// Hashing paths once per record, and the flat tables that index by those hashes.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace fpshim {

// splitmix64's finaliser: every output bit depends on every input bit.
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9;
  x ^= x >> 27;
  x *= 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

inline uint64_t hash_bytes(std::string_view s) { return mix64(std::hash<std::string_view>()(s)); }

// Open addressing with linear probing, from 64-bit hashes to indexes into the caller's own storage.
// Several items may share a hash: lookups ask the caller which stored index is the one wanted.
class HashIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  template <typename Same>
  uint32_t find(uint64_t hash, Same&& same) const {
    if (slots_.empty()) return kNone;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.index == kNone) return kNone;
      if (s.hash == hash && same(s.index)) return s.index;
    }
  }

  void insert(uint64_t hash, uint32_t index) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(hash, index);
    size_++;
  }

  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t index = kNone;
  };

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.index != kNone) place(s.hash, s.index);
  }

  void place(uint64_t hash, uint32_t index) {
    size_t i = hash & mask_;
    while (slots_[i].index != kNone) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, index};
  }

  std::vector<Slot> slots_;  // a power of two, at most half full
  size_t mask_ = 0;
  size_t size_ = 0;
};

// A set of 64-bit hashes that stops growing at `capacity` members.
class BoundedHashSet {
 public:
  explicit BoundedHashSet(size_t capacity) : capacity_(capacity) {}

  enum class Insert { fresh, present, full };

  Insert insert(uint64_t hash) {
    hash += hash == 0;  // 0 marks a free slot
    if (slots_.empty()) slots_.assign(16, 0);
    const size_t mask = slots_.size() - 1;
    size_t i = hash & mask;
    for (; slots_[i] != 0; i = (i + 1) & mask)
      if (slots_[i] == hash) return Insert::present;
    if (size_ >= capacity_) return Insert::full;
    slots_[i] = hash;
    if (++size_ * 2 > slots_.size()) grow();
    return Insert::fresh;
  }

 private:
  void grow() {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.size() * 2, 0);
    const size_t mask = slots_.size() - 1;
    for (uint64_t h : old) {
      if (h == 0) continue;
      size_t i = h & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = h;
    }
  }

  size_t capacity_;
  size_t size_ = 0;
  std::vector<uint64_t> slots_;  // a power of two, at most half full
};

// An estimate of how many distinct hashes were added (HyperLogLog, 4,096 one-byte registers:
// about 1.6% standard error, 4 KiB however many were added).
class DistinctEstimate {
 public:
  void add(uint64_t hash) {
    if (registers_.empty()) registers_.assign(kRegisters, 0);
    uint8_t& r = registers_[hash >> (64 - kBits)];
    const uint64_t rest = (hash << kBits) | (uint64_t(1) << (kBits - 1));
    r = std::max(r, uint8_t(std::countl_zero(rest) + 1));
  }

  uint64_t estimate() const {
    if (registers_.empty()) return 0;
    const double m = double(kRegisters);
    double sum = 0;
    size_t zeros = 0;
    for (uint8_t r : registers_) {
      sum += std::ldexp(1.0, -int(r));
      zeros += r == 0;
    }
    double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / double(zeros));  // few: linear counting
    return uint64_t(std::llround(e));
  }

 private:
  static constexpr int kBits = 12;
  static constexpr size_t kRegisters = size_t(1) << kBits;
  std::vector<uint8_t> registers_;
};

}  // namespace fpshim
