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
  memset(first_, kPass, sizeof first_);  // every path to the slow path while the walk is rebuilt
  reset_entries();
  uint8_t first[256];
  memset(first, kReject, sizeof first);
  bool exact_only = true;
  bool ok = spec != nullptr && strncmp(spec, "v1", 2) == 0 && (spec[2] == ':' || spec[2] == '\0');
  for (const char* p = ok ? spec + 2 : ""; ok && *p == ':' && !match_all_;) {
    const char* begin = ++p;
    p = strchrnul(p, ':');
    if (p != begin) ok = add_entry(first, exact_only, begin[0], begin + 1, size_t(p - begin - 1));
  }
  if (!ok) allow_all();
  if (match_all_) {
    memset(first, kPass, sizeof first);
    exact_only = false;
  }
  index_prefixes();
  build_walk(first);
  publish(first, exact_only);
  return ok;
}

void Filter::reject_all() {
  memset(first_, kPass, sizeof first_);
  reset_entries();
  uint8_t first[256];
  memset(first, kReject, sizeof first);
  build_walk(first);
  publish(first, true);
}

void Filter::reset_entries() {
  memset(overflow_, 0, sizeof overflow_);
  match_all_ = has_overflow_ = strict_ = false;
  nprefixes_ = npatterns_ = nbasenames_ = text_used_ = 0;
}

void Filter::allow_all() {
  reset_entries();
  match_all_ = true;
}

void Filter::publish(const uint8_t* first, bool exact_only) {
  uint8_t published[256];
  for (unsigned c = 0; c < 256; c++) published[c] = first[c] == kReject && !exact_only ? kRejectFurther : first[c];
  __atomic_store_n(&exact_only_, exact_only, __ATOMIC_RELAXED);
  memcpy(first_, published, sizeof first_);
  __atomic_store_n(&complete_, true, __ATOMIC_RELEASE);
}

bool Filter::add_entry(uint8_t* first, bool& exact_only, char kind, const char* raw, size_t raw_len) {
  if (kind == 'S') {  // strict: every path goes to the slow path, relative ones too
    if (raw_len != 0) return false;
    strict_ = true;
    memset(first, kPass, 256);
    exact_only = false;
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
      allow_all();
      return true;
    }
    if (memchr(text, '/', len) != nullptr) return false;
    basenames_[nbasenames_++] = Entry{text_used_, uint16_t(len)};
    text_used_ = uint16_t(text_used_ + len);
    exact_only = false;
    return true;
  }
  if (text[0] != '/') return false;
  Entry* list = kind == 'P' ? prefixes_ : patterns_;
  uint16_t& count = kind == 'P' ? nprefixes_ : npatterns_;
  const bool kept = fits && count < kMaxEntries;
  const bool any_start = kind == 'G' && wire::is_wildcard(text, len, 1);  // "/*/...": any first component
  if (len == 1 || (any_start && !kept)) {                                 // "/" matches everything
    allow_all();
    return true;
  }
  if (any_start) memset(first, kPass, 256);
  const unsigned char c = static_cast<unsigned char>(text[1]);
  if (first[c] == kReject) first[c] = kWalk;  // build_walk() settles it
  if (kept) {
    list[count++] = Entry{text_used_, uint16_t(len)};
    text_used_ = uint16_t(text_used_ + len);
  } else {
    set_bit(overflow_, c);
    has_overflow_ = true;
    first[c] = kPass;
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

// The spellings that hide the first component until normalised ("/", "//x", "/./x", "/../x") pass
// on their first byte; the /proc and /dev links that may name any path (observe.cc
// follow_proc_links, path.h proc_link_prefix) are walked like G entries whose "*" stands for a pid
// (or tid) or "self" only.
// /proc/thread-self passes whole (its normal form is /proc/<pid>/task/<tid>), and so does
// /proc/self when an entry names a /proc/<digits> path: "*" stands for "self" and the pid alike.
constexpr const char* kLinkStarts[] = {"/dev/fd/",          "/dev/std",    "/proc/thread-self",   "/proc/*/root",
                                       "/proc/*/cwd",       "/proc/*/fd/", "/proc/*/task/*/root", "/proc/*/task/*/cwd",
                                       "/proc/*/task/*/fd/"};

// The walk of may_start() over the text of the P and G entries (a G entry's between its
// wildcards), and of kLinkStarts. An entry that does not fit the fixed tables lets every path
// through on its first byte instead.
void Filter::build_walk(uint8_t* first) {
  memset(link_child_, 0, sizeof link_child_);
  memset(tails_of_, 0, sizeof tails_of_);
  if (nprefixes_ == 0 && npatterns_ == 0 && !has_overflow_) return;
  first['\0'] = first['/'] = first['.'] = kPass;
  uint16_t nodes = 257, ntails = 0, nlinks = 0, nwild = 0;
  // Tails are kept per node in one array: first counted, then placed.
  uint16_t count[kNodes] = {};
  struct Placed {
    uint16_t node;
    Tail tail;
    TailNext next;
  } placed[kTails];
  uint16_t wild[kTails];  // the wildcard tails among them
  // An entry's text, up to each wildcard of a G entry (`pattern`) in turn.
  auto add = [&](const char* text, size_t len, bool pattern, bool pid) {
    const unsigned char c = static_cast<unsigned char>(text[1]);
    if (first[c] == kPass) return;
    first[c] = kWalk;
    unsigned node = c + 1u;
    for (size_t from = 0;;) {
      const size_t to = pattern ? wire::find_wildcard(text, len, from) : len;
      size_t at = from;
      for (; at + 8 <= to; at += 8) {
        uint64_t chunk;
        memcpy(&chunk, text + at, 8);
        unsigned next = child(node, chunk);
        if (next == 0) {
          if (nodes == kNodes || nlinks == kLinks / 2) {
            first[c] = kPass;
            return;
          }
          unsigned h = link_hash(node, chunk);
          while (link_child_[h] != 0) h = (h + 1) % kLinks;
          next = nodes++;
          link_chunk_[h] = chunk;
          link_parent_[h] = uint16_t(node);
          link_child_[h] = uint16_t(next);
          nlinks++;
        }
        node = next;
      }
      Tail t = {0, 0};
      for (size_t i = at; i < to; i++) {
        t.bytes |= uint64_t(static_cast<unsigned char>(text[i])) << (8 * (i - at));
        t.mask |= uint64_t(0xff) << (8 * (i - at));
      }
      // A wildcard that ends the entry stands for what a plain tail passes: the path goes on there.
      if (to + 1 >= len) {
        if (ntails == kTails) {
          first[c] = kPass;
          return;
        }
        placed[ntails++] = Placed{uint16_t(node), t, TailNext{0, 0, false}};
        count[node]++;
        return;
      }
      unsigned k = 0;
      while (k < nwild && !(placed[wild[k]].node == node && placed[wild[k]].tail.bytes == t.bytes &&
                            placed[wild[k]].tail.mask == t.mask && placed[wild[k]].next.pid == pid))
        k++;
      if (k == nwild) {
        if (ntails == kTails || nodes == kNodes) {
          first[c] = kPass;
          return;
        }
        wild[nwild++] = ntails;
        placed[ntails++] = Placed{uint16_t(node), t, TailNext{nodes++, uint8_t(to - at), pid}};
        count[node]++;
      }
      node = placed[wild[k]].next.node;
      from = to + 1;  // the '/' after the wildcard
    }
  };
  for (unsigned i = 0; i < nprefixes_; i++) add(text_ + prefixes_[i].offset, prefixes_[i].length, false, false);
  for (unsigned i = 0; i < npatterns_; i++) add(text_ + patterns_[i].offset, patterns_[i].length, true, false);
  for (const char* link : kLinkStarts) add(link, strlen(link), true, true);
  bool pid_named = false;
  for (unsigned i = 0; i < nprefixes_ + npatterns_; i++) {
    const Entry& e = i < nprefixes_ ? prefixes_[i] : patterns_[i - nprefixes_];
    pid_named = pid_named || (e.length > 6 && memcmp(text_ + e.offset, "/proc/", 6) == 0 &&
                              text_[e.offset + 6] >= '0' && text_[e.offset + 6] <= '9');
  }
  if (pid_named) add("/proc/self", 10, false, false);
  unsigned begin = 0;
  for (unsigned n = 0; n < kNodes; n++) {
    tails_of_[n] = TailRange{uint16_t(begin), uint16_t(begin)};
    begin += count[n];
  }
  for (unsigned i = 0; i < ntails; i++) {
    const unsigned at = tails_of_[placed[i].node].end++;
    tails_[at] = placed[i].tail;
    tail_next_[at] = placed[i].next;
  }
}

// may_start() reads whole 8-byte words within the path's page, past its NUL: not for the sanitizers.
__attribute__((FPSHIM_SCAN_ATTRIBUTES)) bool Filter::near_miss(const char* path) const {
  if (path == nullptr || path[0] != '/' || !__atomic_load_n(&exact_only_, __ATOMIC_ACQUIRE)) return false;
  const uint8_t f = first_[static_cast<unsigned char>(path[1])];
  return f != kPass && (f == kReject || f == kRejectFurther || !may_start<BaselineScan>(path)) && !has_dotdot(path);
}

// ---- A Filter parsed elsewhere

namespace {

bool is_flag(const bool& b) {
  uint8_t byte;
  memcpy(&byte, &b, 1);  // a bool that holds neither 0 nor 1 may not be read as one
  return byte <= 1;
}

}  // namespace

bool Filter::well_formed() const {
  const bool* const flags[] = {&exact_only_, &complete_, &match_all_, &has_overflow_, &strict_};
  for (const bool* flag : flags)
    if (!is_flag(*flag)) return false;
  bool empty_slot = false;
  for (unsigned h = 0; h < kLinks; h++) {
    if (link_child_[h] == 0) empty_slot = true;
    else if (link_child_[h] >= kNodes || zero_bytes(link_chunk_[h]) != 0) return false;
  }
  if (!empty_slot) return false;
  // end - begin wraps past 16 bits when a range ends before it begins.
  unsigned tails_read = 0, wrapped = 0;  // the walk reads no tail past the greatest end
  for (const TailRange& r : tails_of_) {
    wrapped |= unsigned(r.end) - unsigned(r.begin);
    tails_read = r.end > tails_read ? r.end : tails_read;
  }
  if (wrapped > 0xffff || tails_read > kTails) return false;
  for (unsigned i = 0; i < tails_read; i++) {
    const TailNext& n = tail_next_[i];
    if (!is_flag(n.pid)) return false;
    if (n.node == 0) continue;  // a plain tail: the walk ends there
    // A wildcard tail: up to 7 bytes, none a NUL, so that the path has them before its end.
    const uint64_t mask = (uint64_t(1) << (8 * (n.bytes & 7))) - 1;
    if (n.node >= kNodes || n.bytes > 7 || tails_[i].mask != mask || zero_bytes(tails_[i].bytes | ~mask) != 0)
      return false;
  }
  if (nprefixes_ > kMaxEntries || npatterns_ > kMaxEntries || nbasenames_ > kMaxEntries || text_used_ > kMaxText)
    return false;
  auto within = [](const Entry* list, unsigned count, unsigned min_length) {
    for (unsigned i = 0; i < count; i++)
      if (list[i].length < min_length || list[i].offset + list[i].length > kMaxText) return false;
    return true;
  };
  if (!within(prefixes_, nprefixes_, 2) || !within(patterns_, npatterns_, 2) || !within(basenames_, nbasenames_, 0))
    return false;
  for (uint16_t b : by_first_)
    if (b > nprefixes_) return false;
  return true;
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
  } else if (const uint8_t f = first_[static_cast<unsigned char>(path[1])]; f != kReject && f != kRejectFurther) {
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
