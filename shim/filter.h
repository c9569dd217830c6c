// The pre-filter from FPSHIM_FILTER (format in include/fpshim/wire.h), held in fixed static arrays.
//
// quick_verdict() is the check every hooked call makes on its path argument; with
// maybe_candidate() it must stay a superset of matches() applied to the path once normalised (see
// path.h), and cost a handful of instructions for the usual unwatched path. matches() and
// interesting_dir() run only on candidates.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "dotdot.h"

namespace fpshim {

class Filter {
 public:
  static constexpr unsigned kMaxEntries = 256;
  static constexpr unsigned kMaxText = 16 * 1024;

  // Replaces the content with the parsed `spec`. Entries beyond the fixed limits widen the filter
  // (every path whose first component starts like the lost prefix or pattern, or every path for a
  // lost basename). A malformed spec (not "v1", bad escape, unknown kind, relative path) or a null
  // one yields a filter that lets every path through, so the collector still sees everything;
  // returns false in that case. A Filter never parsed (all zero) also lets every path through.
  bool parse(const char* spec);

  // Lets no path through.
  void reject_all();

  // The inline part of maybe_candidate(), for the hooks: no call, so the hook needs no stack
  // frame. `look_further` (basename entries) is settled by maybe_candidate() in the slow path.
  // `base_interesting()` tells whether the directory a relative path starts from (cwd or dirfd)
  // is interesting; it is called only for relative paths. `Scan::has_dotdot` is a scan of dotdot.h.
  enum class Verdict { no, yes, look_further };
  template <class Scan, class BaseInteresting>
  Verdict quick_verdict(const char* path, BaseInteresting base_interesting) const {
    if (path[0] == '/') {
      const uint8_t f = hot_.first[static_cast<unsigned char>(path[1])];
      if (__builtin_expect(f == kReject, 1))
        return __builtin_expect(Scan::has_dotdot(path), 0) ? Verdict::yes : Verdict::no;
      if (f == kPass || (f != kRejectFurther && !second_rejects(f, path))) return Verdict::yes;
    } else if (base_interesting()) {
      return Verdict::yes;
    }
    if (Scan::has_dotdot(path)) return Verdict::yes;
    return hot_.exact_only ? Verdict::no : Verdict::look_further;
  }

  // Could `path`, once normalised, match?
  template <class BaseInteresting>
  bool maybe_candidate(const char* path, BaseInteresting base_interesting) const {
    if (near_miss(path)) return false;
    const Verdict v = quick_verdict<BaselineScan>(path, base_interesting);
    return v == Verdict::yes || (v == Verdict::look_further && further_candidate(path));
  }

  // An absolute path that quick_verdict() lets through for its first two bytes only: no entry
  // starts with its first eight, and it has no `..`. The slow path's first question, before any
  // resolving.
  bool near_miss(const char* path) const;

  // `fpshim run --strict` (an S entry): every path is a candidate; the slow path checks what each
  // successful open reached (strict.h).
  bool strict() const { return strict_; }

  // The literal text every path a P or G entry matches begins with (a G entry's up to its first
  // wildcard), NUL-terminated in `out`; the number of such entries is literal_count().
  unsigned literal_count() const { return nprefixes_ + npatterns_; }
  void literal(unsigned i, char* out, size_t cap) const;

  // True if quick_verdict() may leave the answer to maybe_candidate().
  bool has_further_checks() const { return !hot_.exact_only; }

  // For a normalised absolute path: `matches` if a P entry is a string prefix of it, or a G entry
  // is one with its "*" components standing for any one non-empty component, or its last component
  // equals a B entry; `interesting_dir` if, taken as a directory, it lies inside a P or G entry or
  // is an ancestor of one, i.e. a relative path from it could match.
  struct Lookup {
    bool matches, interesting_dir;
  };
  Lookup lookup(const char* path, size_t len) const;
  bool matches(const char* path, size_t len) const { return lookup(path, len).matches; }
  bool interesting_dir(const char* dir, size_t len) const { return lookup(dir, len).interesting_dir; }

 private:
  struct Entry {
    uint16_t offset, length;
  };

  // What quick_verdict() reads: how an absolute path may start. first[c] for the byte after the
  // leading '/': kPass, kReject (no entry starts so: only a `..` could lead into one), kSlot + i
  // when the byte after that decides, by bit in second[i] (set: reject). With basename entries
  // (not exact_only) kRejectFurther stands for kReject, so that the common rejection need not
  // test exact_only. All zero lets every path through: that is the state of a process whose
  // configuration is not loaded yet, so its first path goes to the slow path, which loads it.
  // parse() fills a copy and publishes it at the end, so a concurrent reader sees a filter at least
  // as wide as the final one. (A `..` is looked for even with no prefix: one flag less to test on
  // the hot path.)
  // A path that passes both bytes meets start_known(): its first 8 bytes must be those of an entry
  // (`starts`, open addressing, 0 for empty), unless the slot is `unsettled` (an entry of its
  // slot is shorter than 8 bytes or has a "*" component there).
  static constexpr uint8_t kPass = 0, kReject = 1, kSlot = 2, kRejectFurther = 255;
  static constexpr unsigned kSlots = 16;
  static constexpr unsigned kStarts = 512;  // at most half full (index_starts): short probes
  struct Hot {
    uint8_t first[256];
    uint64_t second[kSlots][4];
    uint32_t unsettled;  // bit per slot
    bool exact_only;     // no basename entries, nothing else lets everything through
    uint64_t starts[kStarts];
  };

  // `f` is a slot: does the byte after path[1] (which is not the NUL) reject the path?
  bool second_rejects(uint8_t f, const char* path) const {
    const unsigned char c = static_cast<unsigned char>(path[2]);
    return (hot_.second[f - kSlot][c >> 6] >> (c & 63)) & 1;
  }

  // `f` is a slot that let the path through: could an entry begin the way it does?
  bool start_known(uint8_t f, const char* path) const;
  static unsigned start_hash(uint64_t start) { return unsigned((start * 0x9e3779b97f4a7c15u) >> 55); }
  void index_starts(Hot& hot) const;

  // For a path starting with '/': no entry begins the way it does.
  bool rejects_start(const char* path) const {
    const uint8_t f = hot_.first[static_cast<unsigned char>(path[1])];
    return f == kReject || f == kRejectFurther || (f != kPass && second_rejects(f, path));
  }

  enum class Reach { none, inside, above };
  static Hot rejecting_all();
  static void pass_start(Hot& hot, unsigned char first, int second);
  void reset_entries();
  void allow_all(Hot& hot);
  void publish(const Hot& hot);
  bool add_entry(Hot& hot, char kind, const char* raw, size_t raw_len);
  void index_prefixes();
  int compare(const Entry& a, const Entry& b) const;
  int compare_key(const Entry& e, const char* key, size_t len) const;
  unsigned upper_bound(const char* key, size_t len) const;
  bool above_prefix(unsigned from, const char* dir, size_t len) const;
  bool prefix_of(const Entry& e, const char* path, size_t len) const;
  Reach reach(const Entry& e, const char* path, size_t len) const;
  bool further_candidate(const char* path) const;
  bool basename_matches(const char* name, size_t len) const;
  bool overflow_covers(const char* path, size_t len) const;

  Hot hot_ = {};
  bool complete_ = false;      // published: the entries below may be read
  uint64_t overflow_[4] = {};  // first bytes of P and G entries that did not fit
  bool match_all_ = false;
  bool has_overflow_ = false;
  bool strict_ = false;
  uint16_t nprefixes_ = 0;
  uint16_t npatterns_ = 0;
  uint16_t nbasenames_ = 0;
  uint16_t text_used_ = 0;
  Entry prefixes_[kMaxEntries] = {};  // P entries: sorted, none a prefix of another
  uint16_t by_first_[257] = {};       // P entries whose byte after '/' is b: [by_first_[b], by_first_[b+1])
  Entry patterns_[kMaxEntries] = {};  // G entries
  Entry basenames_[kMaxEntries] = {};
  char text_[kMaxText] = {};
};

}  // namespace fpshim
