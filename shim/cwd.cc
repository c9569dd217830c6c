#include "cwd.h"

#include <limits.h>
#include <string.h>

#include "config.h"
#include "self.h"
#include "sys.h"

namespace fpshim {

constinit std::atomic<bool> g_cwd_interesting{true};
constinit std::atomic<int> g_cwd_safe_climb{0};

namespace {

// A seqlock over g_cached_path: `seq` is odd while the single writer (holder of `writing`) copies.
// `changes` counts chdirs; the copy is current only if `published` equals it.
struct Cache {
  std::atomic<unsigned> seq{0};
  std::atomic<bool> writing{false};
  std::atomic<unsigned> changes{1};
  std::atomic<unsigned> published{0};
  std::atomic<size_t> len{0};
};
constinit Cache g_cache;
constinit char g_cached_path[PATH_MAX] = {};  // apart from Cache, which is not all zero, to stay in .bss

// The ancestors of an uninteresting directory are uninteresting up to some level, and everything
// under an uninteresting directory is too.
int safe_climb(const char* dir, size_t len) {
  int levels = 0;
  while (len > 1) {
    while (len > 1 && dir[len - 1] != '/') len--;
    if (len > 1) len--;  // the parent, without its trailing slash ("/" stays "/")
    if (g_config.filter->interesting_dir(dir, len)) return levels;
    levels++;
  }
  return levels;
}

void publish(unsigned change) {
  char buf[PATH_MAX];
  const long r = sys::getcwd(buf, sizeof buf);
  const long len = r > 0 && buf[0] == '/' ? r - 1 : -1;  // "(unreachable)/..." is not a path
  g_cache.seq.fetch_add(1, std::memory_order_acq_rel);
  if (len >= 0) memcpy(g_cached_path, buf, size_t(len));
  g_cache.len.store(len >= 0 ? size_t(len) : 0, std::memory_order_relaxed);
  g_cache.published.store(len >= 0 ? change : 0, std::memory_order_relaxed);
  g_cache.seq.fetch_add(1, std::memory_order_release);
  const bool interesting = len < 0 || g_config.filter->interesting_dir(buf, size_t(len));
  if (!interesting) g_cwd_safe_climb.store(safe_climb(buf, size_t(len)), std::memory_order_relaxed);
  g_cwd_interesting.store(interesting, std::memory_order_release);
}

}  // namespace

void refresh_cwd() {
  g_cache.changes.fetch_add(1, std::memory_order_acq_rel);
  g_cwd_interesting.store(true, std::memory_order_relaxed);
  while (!g_cache.writing.exchange(true, std::memory_order_acquire)) {
    unsigned change;
    do {
      change = g_cache.changes.load(std::memory_order_acquire);
      publish(change);
    } while (g_cache.changes.load(std::memory_order_acquire) != change);
    g_cache.writing.store(false, std::memory_order_release);
    // A refresh that found `writing` set in the meantime left its change to us.
    if (g_cache.changes.load(std::memory_order_acquire) == change) break;
  }
}

void forget_cwd() {
  g_cache.changes.fetch_add(1, std::memory_order_acq_rel);
  g_cwd_interesting.store(true, std::memory_order_release);
}

void cwd_changed() {
  if (borrowing_memory()) forget_cwd();
  else refresh_cwd();
}

long read_cwd(char* out, size_t cap) {
  bool refreshed = false;
  for (int attempt = 0; attempt < 4; attempt++) {
    const unsigned before = g_cache.seq.load(std::memory_order_acquire);
    if (before & 1) continue;
    const size_t len = g_cache.len.load(std::memory_order_relaxed);
    const bool current = g_cache.published.load(std::memory_order_relaxed) ==
                         g_cache.changes.load(std::memory_order_relaxed);
    if (!current && !refreshed && !g_cache.writing.load(std::memory_order_relaxed) && !borrowing_memory()) {
      refresh_cwd();  // stale since a vfork child's chdir
      refreshed = true;
      continue;
    }
    if (!current) break;
    if (len > cap) return -1;
    memcpy(out, g_cached_path, len);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (g_cache.seq.load(std::memory_order_relaxed) == before) return long(len);
  }
  const long r = sys::getcwd(out, cap);
  return r > 0 && out[0] == '/' ? r - 1 : -1;
}

}  // namespace fpshim
