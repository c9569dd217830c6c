#include "filter.h"
#include "valgrind.h"

#include <string.h>

#include "fpshim/wire.h"

namespace fpshim {

#if defined(__x86_64__) || defined(__SSE2__)
alignas(32) const char kDots[32] = {'.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.',
                                    '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.', '.'};
#endif

namespace {

void set_bit(uint64_t* table, unsigned char c) { table[c >> 6] |= uint64_t(1) << (c & 63); }
void clear_bit(uint64_t* table, unsigned char c) { table[c >> 6] &= ~(uint64_t(1) << (c & 63)); }
bool test_bit(const uint64_t* table, unsigned char c) { return (table[c >> 6] >> (c & 63)) & 1; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the %-escapes of one entry, writing at most `cap` bytes to `out`; returns the whole
// decoded length, or -1 for a bad escape or an escaped NUL.
long unescape(const char* in, size_t len, char* out, size_t cap) {
  if (memchr(in, '%', len) == nullptr) {
    memcpy(out, in, len < cap ? len : cap);
    return long(len);
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i++, n++) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= len) return -1;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0 || (hi | lo) == 0) return -1;
      c = char(hi * 16 + lo);
      i += 2;
    }
    if (n < cap) out[n] = c;
  }
  return long(n);
}

}  // namespace

// ---- Parsing

bool Filter::parse(const char* spec) {
  reset_entries();
  Hot hot = rejecting_all();
  bool ok = spec != nullptr && strncmp(spec, "v1", 2) == 0 && (spec[2] == ':' || spec[2] == '\0');
  for (const char* p = ok ? spec + 2 : ""; ok && *p == ':' && !match_all_;) {
    const char* begin = ++p;
    p = strchrnul(p, ':');
    if (p != begin) ok = add_entry(hot, begin[0], begin + 1, size_t(p - begin - 1));
  }
  if (!ok) allow_all(hot);
  index_prefixes();
  index_starts(hot);
  publish(hot);
  return ok;
}

void Filter::reject_all() {
  reset_entries();
  publish(rejecting_all());
}

Filter::Hot Filter::rejecting_all() {
  Hot hot = {};
  memset(hot.first, kReject, sizeof hot.first);
  hot.exact_only = true;
  return hot;
}

void Filter::reset_entries() {
  memset(overflow_, 0, sizeof overflow_);
  match_all_ = has_overflow_ = strict_ = false;
  nprefixes_ = npatterns_ = nbasenames_ = text_used_ = 0;
}

void Filter::allow_all(Hot& hot) {
  reset_entries();
  hot = Hot{};
  match_all_ = true;
}

void Filter::publish(const Hot& hot) {
  memcpy(hot_.starts, hot.starts, sizeof hot_.starts);
  __atomic_store_n(&hot_.unsettled, hot.unsettled, __ATOMIC_RELAXED);
  memcpy(hot_.second, hot.second, sizeof hot_.second);
  uint8_t first[256];
  for (unsigned c = 0; c < 256; c++)
    first[c] = hot.first[c] == kReject && !hot.exact_only ? kRejectFurther : hot.first[c];
  memcpy(hot_.first, first, sizeof hot_.first);
  __atomic_store_n(&hot_.exact_only, hot.exact_only, __ATOMIC_RELEASE);
  __atomic_store_n(&complete_, true, __ATOMIC_RELEASE);
}

// Lets through absolute paths starting with `first` then `second` (-1: then anything).
void Filter::pass_start(Hot& hot, unsigned char first, int second) {
  uint8_t& f = hot.first[first];
  if (f == kPass) return;
  if (second < 0) {
    f = kPass;
    return;
  }
  if (f == kReject) {  // a new slot, if one is left (counted only here: every entry comes this way)
    unsigned used = 0;
    for (uint8_t v : hot.first) used += v >= kSlot;
    if (used == kSlots) {
      f = kPass;
      return;
    }
    f = uint8_t(kSlot + used);
    memset(hot.second[used], 0xff, sizeof hot.second[used]);
  }
  clear_bit(hot.second[f - kSlot], static_cast<unsigned char>(second));
}

bool Filter::add_entry(Hot& hot, char kind, const char* raw, size_t raw_len) {
  if (kind == 'S') {  // strict: every path goes to the slow path, relative ones too
    if (raw_len != 0) return false;
    strict_ = true;
    memset(hot.first, kPass, sizeof hot.first);
    hot.exact_only = false;
    return true;
  }
  if (kind != 'P' && kind != 'G' && kind != 'B') return false;
  // Decoded text is never longer than the raw text; an entry that may not fit is only decoded far
  // enough to widen the filter for it.
  char scratch[3];
  const size_t room = kMaxText - text_used_;
  const bool fits = raw_len <= room;
  char* text = fits ? text_ + text_used_ : scratch;
  const long decoded = unescape(raw, raw_len, text, fits ? room : sizeof scratch);
  if (decoded <= 0) return false;
  const size_t len = size_t(decoded);
  if (kind == 'B') {
    if (!fits || nbasenames_ == kMaxEntries) {
      allow_all(hot);
      return true;
    }
    if (memchr(text, '/', len) != nullptr) return false;
    basenames_[nbasenames_++] = Entry{text_used_, uint16_t(len)};
    text_used_ = uint16_t(text_used_ + len);
    hot.exact_only = false;
    return true;
  }
  if (text[0] != '/') return false;
  Entry* list = kind == 'P' ? prefixes_ : patterns_;
  uint16_t& count = kind == 'P' ? nprefixes_ : npatterns_;
  const bool kept = fits && count < kMaxEntries;
  const bool any_start = kind == 'G' && wire::is_wildcard(text, len, 1);  // "/*/...": any first component
  if (len == 1 || (any_start && !kept)) {                                 // "/" matches everything
    allow_all(hot);
    return true;
  }
  if (any_start) memset(hot.first, kPass, sizeof hot.first);
  const unsigned char first = static_cast<unsigned char>(text[1]);
  const bool second_known = len >= 3 && !(kind == 'G' && wire::is_wildcard(text, len, 2));
  pass_start(hot, first, second_known ? static_cast<unsigned char>(text[2]) : -1);
  // The spellings that hide the first component until normalised: "/", "//x", "/./x", "/../x".
  pass_start(hot, '\0', -1);
  pass_start(hot, '/', -1);
  pass_start(hot, '.', -1);
  // And /proc and /dev, whose links may name any path (observe.cc follow_proc_links).
  pass_start(hot, 'p', 'r');
  pass_start(hot, 'd', 'e');
  if (kept) {
    list[count++] = Entry{text_used_, uint16_t(len)};
    text_used_ = uint16_t(text_used_ + len);
  } else {
    set_bit(overflow_, first);
    has_overflow_ = true;
    hot.first[first] = kPass;
  }
  return true;
}

void Filter::literal(unsigned i, char* out, size_t cap) const {
  const bool prefix = i < nprefixes_;
  const Entry& e = prefix ? prefixes_[i] : patterns_[i - nprefixes_];
  const char* text = text_ + e.offset;
  size_t len = prefix ? e.length : wire::find_wildcard(text, e.length);
  if (len >= cap) len = cap - 1;
  memcpy(out, text, len);
  out[len] = '\0';
}

int Filter::compare(const Entry& a, const Entry& b) const {
  const int c = memcmp(text_ + a.offset, text_ + b.offset, a.length < b.length ? a.length : b.length);
  return c != 0 ? c : int(a.length) - int(b.length);
}

// Sorts the P entries (the collector sends them sorted already) and drops those a shorter one
// covers. In a sorted list where no entry is a prefix of another, the only entry that can be a
// prefix of a path is the greatest one not above it, which a binary search finds.
void Filter::index_prefixes() {
  for (unsigned i = 1; i < nprefixes_; i++)
    for (unsigned j = i; j > 0 && compare(prefixes_[j - 1], prefixes_[j]) > 0; j--) {
      const Entry t = prefixes_[j];
      prefixes_[j] = prefixes_[j - 1];
      prefixes_[j - 1] = t;
    }
  unsigned kept = 0;
  for (unsigned i = 0; i < nprefixes_; i++) {
    const Entry& e = prefixes_[i];
    if (kept == 0 || !prefix_of(prefixes_[kept - 1], text_ + e.offset, e.length)) prefixes_[kept++] = e;
  }
  nprefixes_ = uint16_t(kept);
  unsigned i = 0;
  for (unsigned b = 0; b <= 256; b++) {
    while (i < nprefixes_ && static_cast<unsigned char>(text_[prefixes_[i].offset + 1]) < b) i++;
    by_first_[b] = uint16_t(i);
  }
}

// The first 8 bytes of every P and G entry whose first byte has a slot, or the slot unsettled.
void Filter::index_starts(Hot& hot) const {
  memset(hot.starts, 0, sizeof hot.starts);
  hot.unsettled = 0;
  unsigned used = 0;
  auto index = [&](const Entry& e, bool pattern) {
    const char* text = text_ + e.offset;
    const uint8_t f = hot.first[static_cast<unsigned char>(text[1])];
    if (f < kSlot) return;
    bool settled = e.length >= 8 && used < kStarts / 2;
    for (size_t i = 1; settled && pattern && i < 8; i++) settled = !wire::is_wildcard(text, e.length, i);
    if (!settled) {
      hot.unsettled |= 1u << (f - kSlot);
      return;
    }
    uint64_t start;
    memcpy(&start, text, 8);
    unsigned h = start_hash(start);
    while (hot.starts[h] != 0 && hot.starts[h] != start) h = (h + 1) % kStarts;
    if (hot.starts[h] == 0) used++;
    hot.starts[h] = start;
  };
  for (unsigned i = 0; i < nprefixes_; i++) index(prefixes_[i], false);
  for (unsigned i = 0; i < npatterns_; i++) index(patterns_[i], true);
}

namespace {

// 0x80 in each byte of `x` that is zero, 0 elsewhere (exactly: no carries between bytes).
uint64_t zero_bytes(uint64_t x) {
  constexpr uint64_t low7 = 0x7f7f7f7f7f7f7f7fu;
  return ~(((x & low7) + low7) | x | low7);
}

}  // namespace

// Normalising a path changes its first 8 bytes only through "//", "/." or /proc/self (whose slot
// the /proc/[0-9]+ patterns leave unsettled; "/.." near_miss() looks for), so a path without
// those starts as its normal form does. A NUL among them: a short path, maybe above an entry.
__attribute__((FPSHIM_SCAN_ATTRIBUTES)) bool Filter::start_known(uint8_t f, const char* path) const {
  if ((__atomic_load_n(&hot_.unsettled, __ATOMIC_RELAXED) >> (f - kSlot)) & 1) return true;
  uint64_t start = 0;
  if ((reinterpret_cast<uintptr_t>(path) & 4095) <= 4096 - 8 && !under_valgrind()) {
    memcpy(&start, path, 8);  // within the page; bytes after the NUL do not matter
  } else {
    for (unsigned i = 0; i < 8 && path[i] != '\0'; i++)
      start |= uint64_t(static_cast<unsigned char>(path[i])) << (8 * i);
  }
  constexpr uint64_t ones = 0x0101010101010101u;
  if (zero_bytes(start) != 0) return true;
  const uint64_t slashes = zero_bytes(start ^ ('/' * ones)), dots = zero_bytes(start ^ ('.' * ones));
  if ((slashes & ((slashes | dots) >> 8)) != 0) return true;
  for (unsigned h = start_hash(start);; h = (h + 1) % kStarts) {
    const uint64_t known = __atomic_load_n(&hot_.starts[h], __ATOMIC_RELAXED);
    if (known == start) return true;
    if (known == 0) return false;
  }
}

bool Filter::near_miss(const char* path) const {
  if (path == nullptr || path[0] != '/' || !__atomic_load_n(&hot_.exact_only, __ATOMIC_ACQUIRE)) return false;
  const uint8_t f = hot_.first[static_cast<unsigned char>(path[1])];
  return f != kPass && !rejects_start(path) && !start_known(f, path) && !has_dotdot(path);
}

// ---- Matching

int Filter::compare_key(const Entry& e, const char* key, size_t len) const {
  const int c = memcmp(text_ + e.offset, key, e.length < len ? e.length : len);
  return c != 0 ? c : (e.length < len ? -1 : e.length > len ? 1 : 0);
}

// Index of the first P entry above the key (len >= 2), among those that share its byte after '/'.
unsigned Filter::upper_bound(const char* key, size_t len) const {
  const unsigned char b = static_cast<unsigned char>(key[1]);
  unsigned lo = by_first_[b], hi = by_first_[b + 1];
  while (lo < hi) {
    const unsigned mid = (lo + hi) / 2;
    if (compare_key(prefixes_[mid], key, len) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

bool Filter::prefix_of(const Entry& e, const char* path, size_t len) const {
  return e.length <= len && memcmp(text_ + e.offset, path, e.length) == 0;
}

// How the normalised `path` stands to the G entry `e`: the entry matches it (inside), or could
// match below it (above: the path ends where an entry component ends), or neither.
Filter::Reach Filter::reach(const Entry& e, const char* path, size_t len) const {
  const char* pat = text_ + e.offset;
  const size_t plen = e.length;
  size_t i = 0, j = 0;
  for (;;) {
    // The literal text up to the next wildcard component.
    size_t w = i;
    for (;; w++) {
      const void* star = w < plen ? memchr(pat + w, '*', plen - w) : nullptr;
      if (star == nullptr) {
        w = plen;
        break;
      }
      w = size_t(static_cast<const char*>(star) - pat);
      if (wire::is_wildcard(pat, plen, w)) break;
    }
    const size_t literal = w - i, rest = len - j;
    if (memcmp(pat + i, path + j, literal < rest ? literal : rest) != 0) return Reach::none;
    if (rest < literal) return pat[i + rest] == '/' ? Reach::above : Reach::none;
    i = w;
    j += literal;
    if (i == plen) return Reach::inside;
    // The wildcard: any one non-empty component.
    if (j == len) return Reach::above;
    if (path[j] == '/') return Reach::none;
    const void* slash = memchr(path + j, '/', len - j);
    j = slash != nullptr ? size_t(static_cast<const char*>(slash) - path) : len;
    i++;
  }
}

bool Filter::overflow_covers(const char* path, size_t len) const {
  return has_overflow_ && len >= 2 && test_bit(overflow_, static_cast<unsigned char>(path[1]));
}

// Above a P entry: the entries that start with dir come from `from` on, those going on with '/'
// after any going on with a smaller byte ("/sys-x" sorts before "/sys/x").
bool Filter::above_prefix(unsigned from, const char* dir, size_t len) const {
  for (unsigned k = from; k < nprefixes_; k++) {
    const Entry& e = prefixes_[k];
    if (e.length <= len || memcmp(text_ + e.offset, dir, len) != 0) return false;
    const char next = text_[e.offset + len];
    if (next == '/') return true;
    if (static_cast<unsigned char>(next) > '/') return false;
  }
  return false;
}

Filter::Lookup Filter::lookup(const char* path, size_t len) const {
  if (match_all_) return Lookup{true, true};
  Lookup r = {false, false};
  if (len == 1) {  // "/" is above everything
    r.interesting_dir = nprefixes_ != 0 || npatterns_ != 0 || has_overflow_;
  } else if (overflow_covers(path, len)) {
    r = Lookup{true, true};
  } else if (!rejects_start(path)) {
    const unsigned i = upper_bound(path, len);
    r.matches = i > 0 && prefix_of(prefixes_[i - 1], path, len);
    r.interesting_dir = r.matches || above_prefix(i, path, len);
    for (unsigned k = 0; k < npatterns_ && !r.matches; k++) {
      const Entry& e = patterns_[k];
      if (text_[e.offset + 1] != path[1] && text_[e.offset + 1] != '*') continue;
      const Reach where = reach(e, path, len);
      r.matches = where == Reach::inside;
      r.interesting_dir = r.interesting_dir || where != Reach::none;
    }
  }
  if (!r.matches && nbasenames_ != 0) {
    size_t begin = len;
    while (begin > 0 && path[begin - 1] != '/') begin--;
    r.matches = basename_matches(path + begin, len - begin);
  }
  return r;
}

// ---- Basenames

bool Filter::basename_matches(const char* name, size_t len) const {
  for (unsigned i = 0; i < nbasenames_; i++)
    if (basenames_[i].length == len && memcmp(text_ + basenames_[i].offset, name, len) == 0) return true;
  return false;
}

bool Filter::further_candidate(const char* path) const {
  // Not published yet, or everything matches.
  if (!__atomic_load_n(&complete_, __ATOMIC_ACQUIRE) || nbasenames_ == 0) return true;
  size_t end = strlen(path);
  while (end > 1 && path[end - 1] == '/') end--;
  size_t begin = end;
  while (begin > 0 && path[begin - 1] != '/') begin--;
  const char* name = path + begin;
  const size_t len = end - begin;
  // Components that normalisation replaces: ".", "..", and the /proc/self spellings.
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) return true;
  if ((len == 4 && memcmp(name, "self", 4) == 0) || (len == 11 && memcmp(name, "thread-self", 11) == 0)) return true;
  return basename_matches(name, len);
}

}  // namespace fpshim
