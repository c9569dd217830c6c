#include "ingest/seq_set.h"

namespace fpshim {

bool SeqSet::insert(uint64_t seq) {
  if (seq < prefix_) return false;
  uint64_t offset = seq - prefix_;
  if (offset >= kWindow) return true;
  size_t word = head_ + size_t(offset / 64);
  uint64_t bit = uint64_t(1) << (offset % 64);
  if (word >= bits_.size()) bits_.resize(word + 1, 0);
  if (bits_[word] & bit) return false;
  bits_[word] |= bit;
  count_++;
  if (seq > highest_ || count_ == 1) highest_ = seq;
  compact();
  return true;
}

// Folds full words at the front into the prefix.
void SeqSet::compact() {
  while (head_ < bits_.size() && bits_[head_] == ~uint64_t(0)) {
    head_++;
    prefix_ += 64;
  }
  if (head_ == bits_.size()) {
    bits_.clear();
    head_ = 0;
  } else if (head_ > 0 && head_ * 2 >= bits_.size()) {
    bits_.erase(bits_.begin(), bits_.begin() + ptrdiff_t(head_));
    head_ = 0;
  }
}

}  // namespace fpshim
