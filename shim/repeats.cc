#include "repeats.h"

#include <string.h>

namespace fpshim {

uint64_t access_key(const char* resolved, size_t len, uint32_t op, int32_t result) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (size_t i = 0; i < len; i++) h = (h ^ static_cast<unsigned char>(resolved[i])) * 0x100000001b3ull;
  h = (h ^ op) * 0x100000001b3ull;
  h = (h ^ static_cast<uint32_t>(result)) * 0x100000001b3ull;
  return h != 0 ? h : 1;  // 0 marks a free slot
}

SendDecision RepeatTable::note(const AccessText& a) {
  const uint64_t key = access_key(a.resolved, a.resolved_len, a.op, a.result);
  for (unsigned probe = 0, i = unsigned(key) % kSlots; probe < kProbes; probe++, i = (i + 1) % kSlots) {
    uint64_t k = keys_[i].load(std::memory_order_acquire);
    if (k == 0) {
      if (a.resolved_len > kText) break;
      if (keys_[i].compare_exchange_strong(k, key, std::memory_order_acq_rel)) {
        used_.fetch_add(1, std::memory_order_relaxed);
        save(i, a);
        return count(i);
      }
    }
    if (k == key) return count(i);
  }
  return SendDecision{1, false};
}

SendDecision RepeatTable::count(unsigned i) {
  const uint32_t total = totals_[i].fetch_add(1, std::memory_order_acq_rel) + 1;
  if ((total & (total - 1)) != 0) return SendDecision{0, false};
  return claim(i, total);
}

// Moves the reported mark up to `total`; whoever moves it sends the difference.
SendDecision RepeatTable::claim(unsigned i, uint32_t total) {
  uint32_t reported = reported_[i].load(std::memory_order_relaxed);
  while (reported < total)
    if (reported_[i].compare_exchange_weak(reported, total, std::memory_order_acq_rel))
      return SendDecision{total - reported, reported != 0};
  return SendDecision{0, false};
}

void RepeatTable::save(unsigned i, const AccessText& a) {
  const size_t spelled_len = a.spelled_len < kText - a.resolved_len ? a.spelled_len : kText - a.resolved_len;
  memcpy(text_[i], a.resolved, a.resolved_len);
  memcpy(text_[i] + a.resolved_len, a.spelled, spelled_len);
  saved_[i] = Saved{a.fn,
                    a.op,
                    a.open_flags,
                    a.result,
                    uint16_t(a.resolved_len),
                    uint16_t(spelled_len),
                    a.spelled_cut || spelled_len < a.spelled_len};
  ready_[i].store(true, std::memory_order_release);
}

AccessText RepeatTable::saved(unsigned i) const {
  const Saved& s = saved_[i];
  return AccessText{
      s.fn,          s.op,         s.open_flags, s.result, text_[i], s.resolved_len, text_[i] + s.resolved_len,
      s.spelled_len, s.spelled_cut};
}

void RepeatTable::reset() {
  if (used_.load(std::memory_order_relaxed) == 0) return;
  for (unsigned i = 0; i < kSlots; i++) {
    keys_[i].store(0, std::memory_order_relaxed);
    totals_[i].store(0, std::memory_order_relaxed);
    reported_[i].store(0, std::memory_order_relaxed);
    ready_[i].store(false, std::memory_order_relaxed);
  }
  used_.store(0, std::memory_order_relaxed);
}

}  // namespace fpshim
