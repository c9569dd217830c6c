// The seqs of one process and the content hash of each first record (seq_set.h).
#include "ingest/seq_set.h"

#include <algorithm>

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

SeqSet::Seen SeqSet::insert(uint64_t seq, uint32_t content) {
  const bool tracked = seq < prefix_ || seq - prefix_ < kWindow;
  if (insert(seq)) {
    if (!tracked) return Seen::fresh;
    if (seq < dense_.size() + kDenseSlack) {
      if (seq >= dense_.size()) dense_.resize(size_t(seq) + 1, 0);
      dense_[size_t(seq)] = content;
    } else {
      contents_.emplace(seq, content);
    }
    return Seen::fresh;
  }
  // A seq kept in the map before the vector grew past it is found there first.
  auto kept = contents_.empty() ? contents_.end() : contents_.find(seq);
  uint32_t first;
  if (kept != contents_.end()) first = kept->second;
  else if (seq < dense_.size()) first = dense_[size_t(seq)];
  else return Seen::duplicate;
  if (first == content) return Seen::duplicate;
  // Each content that claimed this seq is a record of its own, counted once however often it comes.
  std::vector<uint32_t>& others = conflicts_[seq];
  if (std::find(others.begin(), others.end(), content) != others.end()) return Seen::duplicate;
  if (others.size() < kMaxConflicts) others.push_back(content);
  return Seen::conflicting;
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
