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
    const Filter* const self = this;
    return quick_verdict<Scan>(self, path, base_interesting);
  }
  // The same, for the filter `current` points to (the configuration's): read through the pointer
  // where it is used, so that no register holds it across base_interesting() and the hook keeps
  // no stack frame.
  template <class Scan, class BaseInteresting>
  static Verdict quick_verdict(const Filter* const& current, const char* path, BaseInteresting base_interesting) {
    if (path[0] == '/') {
      const Filter* const f = current;
      const uint8_t first = f->first_[static_cast<unsigned char>(path[1])];
      if (__builtin_expect(first == kReject, 1))
        return __builtin_expect(Scan::has_dotdot(path), 0) ? Verdict::yes : Verdict::no;
      if (first == kPass || (first != kRejectFurther && f->walk<Scan>(path))) return Verdict::yes;
    } else if (base_interesting()) {
      return Verdict::yes;
    }
    if (Scan::has_dotdot(path)) return Verdict::yes;
    return current->exact_only_ ? Verdict::no : Verdict::look_further;
  }

  // Could `path`, once normalised, match?
  template <class BaseInteresting>
  bool maybe_candidate(const char* path, BaseInteresting base_interesting) const {
    if (near_miss(path)) return false;
    const Verdict v = quick_verdict<BaselineScan>(path, base_interesting);
    return v == Verdict::yes || (v == Verdict::look_further && further_candidate(path));
  }

  // An absolute path that quick_verdict() rejects by its walk (may_start), a "near miss": its
  // first byte may begin an entry, its first 8, 16, ... bytes begin none, and it has no `..`. For the
  // slow paths that are not behind a hook's quick_verdict(); before any resolving.
  bool near_miss(const char* path) const;

  // `fpshim run --strict` (an S entry): every path is a candidate; the slow path checks what each
  // successful open reached (strict.h).
  bool strict() const { return strict_; }

  // The literal text every path a P or G entry matches begins with (a G entry's up to its first
  // wildcard), NUL-terminated in `out`; the number of such entries is literal_count().
  unsigned literal_count() const { return nprefixes_ + npatterns_; }
  void literal(unsigned i, char* out, size_t cap) const;

  // True if quick_verdict() may leave the answer to maybe_candidate().
  bool has_further_checks() const { return !exact_only_; }

  // A Filter is parsed ahead of time and used in place (default_filter_image.h, filter_image.h)
  // only by code that agrees on this: its size, alignment, array bounds and where the arrays lie.
  static constexpr uint64_t layout() {
    const uint64_t parts[] = {sizeof(Filter),
                              alignof(Filter),
                              kMaxEntries,
                              kMaxText,
                              kLinks,
                              kNodes,
                              kTails,
                              offsetof(Filter, link_chunk_),
                              offsetof(Filter, tails_),
                              offsetof(Filter, text_)};
    uint64_t h = 0xcbf29ce484222325u;
    for (uint64_t part : parts) h = (h ^ part) * 0x100000001b3u;
    return h;
  }

  // For a Filter this process did not parse (a file's, filter_image.h): true if every index the
  // hooks and lookups read stays within its arrays, the walk ends (no link or wildcard tail holds a
  // NUL, so each step of the walk consumes bytes of the path; a link slot is empty, so child()
  // stops), and its flags are 0 or 1. What it lets through is not checked: only parse() knows.
  bool well_formed() const;

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
  friend struct FilterImageProbe;  // tests/unit/shim_filter_image_test.cc: damages an image field by field

  struct Entry {
    uint16_t offset, length;
  };

  // What quick_verdict() reads. first_[c] for the byte c after the leading '/': kPass, kReject (no
  // entry starts so: only a `..` could lead into one), or kWalk: may_start() decides. With basename
  // entries (not exact_only_) kRejectFurther stands for kReject, so that the common rejection need
  // not test exact_only_. All zero lets every path through: that is the state of a process whose
  // configuration is not loaded yet, so its first path goes to the slow path, which loads it.
  // parse() lets every path through while it builds the walk, and publishes first_ at the end.
  // (A `..` is looked for even with no prefix: one flag less to test on the hot path.)
  static constexpr uint8_t kPass = 0, kReject = 1, kWalk = 2, kRejectFurther = 255;
  uint8_t first_[256] = {};
  bool exact_only_ = false;  // no basename entries, nothing else lets everything through

  // The walk: a trie over the text of the P and G entries in steps of 8 bytes. Node c + 1 stands
  // for the paths whose byte after '/' is c; a node's child for the next 8 bytes is found in
  // `links_` (open addressing on the pair, at most half full). An entry ends in a node with a tail:
  // its last 0 to 7 bytes, a masked compare. A path that matches a tail passes. A G entry's text up
  // to a wildcard ends in a wildcard tail instead, whose `next` node walks the text after the
  // wildcard: a path that matches it goes on from the '/' after its next component (and passes if
  // that component is the last, empty, "." or ".."; the wildcard of a /proc link stands for a pid
  // or "self" only, and another component does not go on there). Entries that share their text up to a
  // wildcard share that node. A path that finds no child is a near miss, unless it ends within
  // those 8 bytes or its normal form may start otherwise there (may_differ), or a wildcard tail it
  // matched on the way lets it go on.
  static constexpr unsigned kLinks = 1024;
  static constexpr unsigned kNodes = 257 + kLinks / 2;  // 257 first-byte nodes (0 is none), the rest inner
  static constexpr unsigned kTails = 4 * kMaxEntries + 16;
  static constexpr unsigned kPending = 4;  // wildcard tails one walk may go on from; more pass
  struct Tail {
    uint64_t bytes, mask;
  };
  struct TailNext {
    uint16_t node;  // 0: a plain tail; else the node after a wildcard
    uint8_t bytes;  // the tail's length
    bool pid;       // the wildcard of a /proc link: a component of digits, or "self"
  };
  struct TailRange {
    uint16_t begin, end;
  };
  uint64_t link_chunk_[kLinks] = {};
  uint16_t link_parent_[kLinks] = {};
  uint16_t link_child_[kLinks] = {};  // 0: empty slot
  TailRange tails_of_[kNodes] = {};
  Tail tails_[kTails] = {};
  TailNext tail_next_[kTails] = {};

  __attribute__((always_inline, FPSHIM_GENERAL_REGS)) static unsigned link_hash(unsigned node, uint64_t chunk) {
    return unsigned(((chunk + node) * 0x9e3779b97f4a7c15u) >> 55);  // 9 bits: kLinks
  }
  __attribute__((always_inline, FPSHIM_GENERAL_REGS)) unsigned child(unsigned node, uint64_t chunk) const {
    for (unsigned h = link_hash(node, chunk);; h = (h + 1) % kLinks) {
      const unsigned c = link_child_[h];
      if (c == 0 || (link_chunk_[h] == chunk && link_parent_[h] == node)) return c;
    }
  }

  // 0x80 in each byte of `x` that is zero, 0 elsewhere (exactly: no carries between bytes).
  __attribute__((always_inline, FPSHIM_GENERAL_REGS)) static uint64_t zero_bytes(uint64_t x) {
    constexpr uint64_t low7 = 0x7f7f7f7f7f7f7f7fu;
    return ~(((x & low7) + low7) | x | low7);
  }

  // Could an entry begin the way the absolute `path` does (`f` = first_[path[1]], kWalk)? The 8
  // bytes from `p` are read as one word where that stays within p's page (bytes after the NUL do
  // not matter), else, and under Memcheck (valgrind.h), byte by byte.
  template <class Scan>
  __attribute__((always_inline, FPSHIM_GENERAL_REGS, FPSHIM_SCAN_ATTRIBUTES)) static uint64_t load8(const char* p) {
    uint64_t v = 0;
    if (Scan::whole_blocks() && (reinterpret_cast<uintptr_t>(p) & 4095) <= 4096 - 8) {
      __builtin_memcpy(&v, p, 8);
      return v;
    }
    for (unsigned i = 0; i < 8 && p[i] != '\0'; i++) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    return v;
  }
  // may_start(), out of line, called so that a hook needs no stack frame for it: on x86-64 from
  // inline assembly that steps below the red zone, saves the six argument registers (which may hold
  // the hook's arguments) around the call and tells the compiler the others it may clobber (r10,
  // r11, rax). The walk uses general registers only (no vector register to save, no aligned stack).
  template <class Scan>
  bool walk(const char* path) const {
#if defined(__x86_64__)
    bool found;
    asm volatile(
        "lea -128(%%rsp), %%rsp\n\t"
        "push %%rdi\n\tpush %%rsi\n\tpush %%rdx\n\tpush %%rcx\n\tpush %%r8\n\tpush %%r9\n\t"
        "push %[self]\n\tmov %[path], %%rdi\n\tpop %%rsi\n\t"  // in an order that works wherever they are
        "call %P[fn]\n\t"
        "pop %%r9\n\tpop %%r8\n\tpop %%rcx\n\tpop %%rdx\n\tpop %%rsi\n\tpop %%rdi\n\t"
        "lea 128(%%rsp), %%rsp"
        : "=a"(found)
        : [path] "r"(path), [self] "r"(this), [fn] "i"(&walk_out_of_line<Scan>)
        : "r10", "r11", "memory", "cc");
    return found;
#else
    return may_start<Scan>(path);
#endif
  }
#if defined(__x86_64__)
  template <class Scan>
  __attribute__((noinline, used, FPSHIM_GENERAL_REGS, FPSHIM_SCAN_ATTRIBUTES)) static bool walk_out_of_line(
      const char* path, const Filter* f) {
    return f->may_start<Scan>(path);
  }
#endif

  template <class Scan>
  __attribute__((always_inline, FPSHIM_GENERAL_REGS, FPSHIM_SCAN_ATTRIBUTES)) bool may_start(const char* path) const {
    unsigned node = static_cast<unsigned char>(path[1]) + 1u;
    uint64_t before = 0;  // the 8 bytes before
    const char* resume_at[kPending];
    uint16_t resume_node[kPending];
    unsigned pending = 0;
    for (const char* p = path;;) {
      const uint64_t chunk = load8<Scan>(p);
      const TailRange t = tails_of_[node];
      for (unsigned i = t.begin; i < t.end; i++) {
        if (((chunk ^ tails_[i].bytes) & tails_[i].mask) != 0) continue;
        const TailNext n = tail_next_[i];
        if (n.node == 0 || pending == kPending) return true;
        const char* const c = p + n.bytes;
        // The path may match or lie above an entry here: the component is empty, "." or "..".
        if (c[0] == '\0' || c[0] == '/' || (c[0] == '.' && (c[1] == '\0' || c[1] == '/' || c[1] == '.'))) return true;
        const char* slash = c;
        bool digits = true;
        for (; *slash != '/' && *slash != '\0'; slash++) digits = digits && *slash >= '0' && *slash <= '9';
        if (n.pid && !digits && !(slash - c == 4 && c[0] == 's' && c[1] == 'e' && c[2] == 'l' && c[3] == 'f')) continue;
        if (*slash == '\0') return true;  // the last component: above an entry
        resume_at[pending] = slash;
        resume_node[pending++] = n.node;
      }
      unsigned next = child(node, chunk);
      if (next == 0) {
        if (may_differ(chunk, before)) return true;
        if (pending == 0) return false;
        // Go on after a wildcard: from the '/' that ends a component neither empty nor "." (the
        // byte before it is no '/', and "/." before it is not).
        pending--;
        p = resume_at[pending];
        next = resume_node[pending];
        before = 0;
      } else {
        p += 8;
        before = chunk;
      }
      node = next;
    }
  }

  // No entry begins like the path up to `chunk`, as spelled (the 8 bytes before it were an entry's,
  // so they hold no NUL, "//" or "/./"). Unless the path ends within these 8 bytes (it may lie above
  // an entry) or its normal form may begin otherwise: a '/' then '/' or '.' here or across the step.
  __attribute__((always_inline, FPSHIM_GENERAL_REGS)) static bool may_differ(uint64_t chunk, uint64_t before) {
    constexpr uint64_t ones = 0x0101010101010101u, last = uint64_t(0x80) << 56;
    const uint64_t x = chunk ^ ('/' * ones);
    const uint64_t nul = zero_bytes(chunk), slashes = zero_bytes(x), dots = zero_bytes(x ^ ones);
    const uint64_t after_slash = (before >> 56) == '/' ? 0x80 : 0;
    // "//"; "/." then '/', the end, or the step ("/.." the caller's scan finds); "/" then '/' or
    // '.' across the step, or "/." before it.
    return (nul | (slashes & (slashes >> 8)) | (dots & (slashes << 8) & (((slashes | nul) >> 8) | last)) |
            (after_slash & (slashes | dots))) != 0 ||
           (before >> 48) == ('.' << 8 | '/');
  }

  void build_walk(uint8_t* first);

  enum class Reach { none, inside, above };
  void reset_entries();
  void allow_all();
  void publish(const uint8_t* first, bool exact_only);
  bool add_entry(uint8_t* first, bool& exact_only, char kind, const char* raw, size_t raw_len);
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
