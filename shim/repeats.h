// The repeat table (docs/design.md "Records"): a fixed, lock-free table of the accesses a process
// already reported, keyed by a hash of (resolved path, op, result). The first access of a key is
// sent at once with count 1; later ones only count, and when a key's total reaches a power of two
// its pending count is sent. flush() sends every pending count (at exit). Each access is counted
// in exactly one record. A full table (or a path too long to keep) sends every access on its own.
#pragma once

#include <atomic>
#include <stddef.h>
#include <stdint.h>

namespace fpshim {

struct AccessText {
  const char* fn;  // a string literal
  uint32_t op;
  int32_t open_flags;
  int32_t result;
  const char* resolved;
  uint32_t resolved_len;
  const char* spelled;
  uint32_t spelled_len;
  bool spelled_cut;  // `spelled` is a truncated copy
};

struct SendDecision {
  uint32_t count;  // accesses the record stands for; 0: send nothing now
  bool repeat;     // a count update for a key reported before
};

uint64_t access_key(const char* resolved, size_t len, uint32_t op, int32_t result);

class RepeatTable {
 public:
  static constexpr unsigned kSlots = 512;
  static constexpr unsigned kProbes = 16;
  static constexpr size_t kText = 448;  // resolved and spelled path kept for flush

  SendDecision note(const AccessText& a);

  // Calls send(const AccessText&, SendDecision) for every key with a pending count.
  template <class Send>
  void flush(Send send) {
    for (unsigned i = 0; i < kSlots; i++) {
      if (keys_[i].load(std::memory_order_acquire) == 0 || !ready_[i].load(std::memory_order_acquire)) continue;
      const SendDecision d = claim(i, totals_[i].load(std::memory_order_relaxed));
      if (d.count != 0) send(saved(i), d);
    }
  }

  // Forgets every key (a fork child: its parent reports what it counted).
  void reset();

 private:
  struct Saved {
    const char* fn;
    uint32_t op;
    int32_t open_flags;
    int32_t result;
    uint16_t resolved_len, spelled_len;
    bool spelled_cut;
  };

  SendDecision count(unsigned i);
  SendDecision claim(unsigned i, uint32_t total);
  void save(unsigned i, const AccessText& a);
  AccessText saved(unsigned i) const;

  std::atomic<unsigned> used_{0};
  std::atomic<uint64_t> keys_[kSlots] = {};
  std::atomic<uint32_t> totals_[kSlots] = {};
  std::atomic<uint32_t> reported_[kSlots] = {};
  std::atomic<bool> ready_[kSlots] = {};
  Saved saved_[kSlots] = {};
  char text_[kSlots][kText] = {};
};

}  // namespace fpshim
