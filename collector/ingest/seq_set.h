// The sequence numbers a process's records carried, each with a hash of its record's content: a
// record seen again with the same content is a duplicate (dropped), with other content a conflict
// (kept: a forger's record must not make the real one a "duplicate"); gaps are lost records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace fpshim {

// Seqs are dense from 0 and mostly arrive in order, so the set is a count of the complete prefix
// plus a bitmap of what arrived beyond it: a few words per process, not one bit per record.
class SeqSet {
 public:
  // A seq further than this beyond the complete prefix is accepted but not tracked (a bogus seq
  // must not make the bitmap huge).
  static constexpr uint64_t kWindow = uint64_t(1) << 24;
  // Conflicting contents remembered per seq (a forger may send any number).
  static constexpr size_t kMaxConflicts = 64;

  // True if `seq` is new (or untracked), false if it was seen before.
  bool insert(uint64_t seq);

  enum class Seen { fresh, duplicate, conflicting };
  // insert(), and for a seq seen before whether a record with the same `content` hash came with it
  // before (duplicate) or not (conflicting: another record claimed the seq). The hashes are kept.
  Seen insert(uint64_t seq, uint32_t content);

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint64_t highest() const { return highest_; }
  // Seqs between 0 and the highest one seen that never arrived.
  uint64_t missing() const { return empty() ? 0 : highest_ + 1 - count_; }

 private:
  void compact();

  // How far beyond the vector's end a seq may be and still be kept in it.
  static constexpr uint64_t kDenseSlack = 4096;

  uint64_t prefix_ = 0;         // every seq below this arrived
  std::vector<uint64_t> bits_;  // bit b of word w: seq prefix_ + 64 * (w - head_) + b arrived
  size_t head_ = 0;             // words before head_ are spent
  uint64_t count_ = 0;
  uint64_t highest_ = 0;
  // seq -> content hash of its first record: by index while seqs come densely from 0 (no allocation
  // per record), in the map for a seq far beyond them (a bogus seq must not make the vector huge).
  std::vector<uint32_t> dense_;
  std::unordered_map<uint64_t, uint32_t> contents_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> conflicts_;  // seq -> those of the records that conflicted
};

}  // namespace fpshim
