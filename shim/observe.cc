#include <errno.h>
#include <string.h>

#include "hook.h"
#include "lifecycle.h"
#include "path.h"
#include "report.h"
#include "strict.h"
#include "sys.h"

namespace fpshim {

namespace {

// The directory `dirfd` is open on, from /proc/self/fd; -1 if unknown or not a path.
long fd_path(int fd, char* out, size_t cap) {
  char link[32] = "/proc/self/fd/";
  const size_t n = 14 + format_decimal(static_cast<unsigned>(fd), link + 14);
  link[n] = '\0';
  const long len = sys::readlink(link, out, cap);
  return len > 0 && out[0] == '/' ? len : -1;
}

int live_pid() { return sys::getpid(); }
int live_tid() { return sys::gettid(); }

// Replaces, as often as one leads to another (a few times at most), the /proc or /dev link that
// begins the normalised `path` (path.h proc_link_prefix) with what it names: /dev/stdin is
// /proc/self/fd/0, which is the file our stdin is open on. A link that names no path (a pipe,
// a socket) or cannot be read (another user's process) stays as it is spelled.
__attribute__((noinline)) long follow_proc_links(char* path, long len, size_t cap) {
  for (int hop = 0; hop < 8 && len > 0; hop++) {
    const size_t link = proc_link_prefix(path, size_t(len));
    if (link == 0) break;
    char target[4096];
    const char kept = path[link];
    path[link] = '\0';
    const long n = sys::readlink(path, target, sizeof target);
    path[link] = kept;
    const size_t rest = size_t(len) - link;
    if (n <= 0 || target[0] != '/' || size_t(n) + rest + 1 > sizeof target) break;
    memcpy(target + n, path + link, rest);
    target[size_t(n) + rest] = '\0';
    len = normalize_path(nullptr, 0, target, path, cap);
    if (len > 0) len = rewrite_proc_self(path, size_t(len), cap, live_pid, live_tid);
  }
  return len;
}

}  // namespace

long resolve_path(int dirfd, const char* path, char* out, size_t cap) {
  long len;
  if (path != nullptr && path[0] == '/') {
    len = normalize_path(nullptr, 0, path, out, cap);
  } else {
    const long base = dirfd == AT_FDCWD ? read_cwd(out, cap) : fd_path(dirfd, out, cap);
    if (base <= 0) return -1;
    len = normalize_path(out, size_t(base), path != nullptr ? path : "", out, cap);
  }
  if (len > 0) len = rewrite_proc_self(out, size_t(len), cap, live_pid, live_tid);
  if (len > 0 && proc_link_prefix(out, size_t(len)) > 0) len = follow_proc_links(out, len, cap);
  return len;
}

bool worth_resolving(int dirfd, const char* path) {
  if (!ready()) return false;
  const Filter& filter = *g_config.filter;
  // The first time: until then every descriptor above 2 was a candidate (fd_flags.h).
  if (dirfd != AT_FDCWD && (path == nullptr || path[0] != '/')) note_open_fds();
  if (path == nullptr) return true;
  // (The walk lets through the /proc and /dev links that may name any other path: follow_proc_links.)
  if (path[0] == '/') return !filter.near_miss(path);
  if (filter.has_further_checks()) return filter.maybe_candidate(path, [dirfd] { return base_interesting(dirfd); });
  if (dirfd != AT_FDCWD) return fd_flagged(dirfd) || BaselineScan::has_dotdot(path);
  return cwd_interesting() || climb_depth(path) > cwd_safe_climb();
}

void observe(const Call& call, bool failed, int new_fd) {
  const int saved = errno;
  char resolved[kResolvedMax];
  const long len = resolve_path(call.dirfd, call.path, resolved, sizeof resolved);
  if (len > 0) {
    const Filter::Lookup found = g_config.filter->lookup(resolved, size_t(len));
    if (new_fd >= 0 && found.interesting_dir) flag_fd(new_fd, call.op == wire::op_list);
    if (found.matches) {
      const char* spelled = call.path != nullptr ? call.path : resolved;
      report::access(AccessText{call.fn, call.op, call.open_flags, failed ? saved : 0, resolved, uint32_t(len), spelled,
                                uint32_t(strlen(spelled)), false});
    } else if (new_fd >= 0 && g_config.filter->strict()) {
      check_strict(call.fn, call.path, call.op, call.open_flags, new_fd);
    }
  }
  errno = saved;
}

void observe_resolved(const char* fn, uint32_t op, int open_flags, int result, const char* resolved, long len,
                      const char* spelled) {
  if (len <= 0 || !g_config.filter->lookup(resolved, size_t(len)).matches) return;
  report::access(
      AccessText{fn, op, open_flags, result, resolved, uint32_t(len), spelled, uint32_t(strlen(spelled)), false});
}

void observe_open(const char* fn, int dirfd, const char* path, int flags, int fd) {
  if (worth_resolving(dirfd, path)) observe(Call{fn, dirfd, path, op_for_open_flags(flags), flags}, fd < 0, fd);
  else if (fd >= 0 && g_config.filter->strict()) check_strict(fn, path, op_for_open_flags(flags), flags, fd);
}

void observe_list(const char* fn, int dirfd, const char* path, bool failed, int fd) {
  if (worth_resolving(dirfd, path)) observe(Call{fn, dirfd, path, wire::op_list, 0}, failed, fd);
  else if (!failed && fd >= 0 && g_config.filter->strict()) check_strict(fn, path, wire::op_list, 0, fd);
}

void observe_stat(const char* fn, int dirfd, const char* path, int at_flags, bool failed) {
  if (path[0] == '\0' && !(at_flags & AT_EMPTY_PATH)) return;
  if (worth_resolving(dirfd, path[0] != '\0' ? path : nullptr))
    observe(Call{fn, dirfd, path[0] != '\0' ? path : nullptr, wire::op_stat, 0}, failed, -1);
}

void observe_fopen(const char* fn, const char* path, const char* mode, FILE* f) {
  if (worth_resolving(AT_FDCWD, path))
    observe(Call{fn, AT_FDCWD, path, op_for_fopen_mode(mode), 0}, f == nullptr, f != nullptr ? fileno(f) : -1);
  else if (f != nullptr && g_config.filter->strict()) check_strict(fn, path, op_for_fopen_mode(mode), 0, fileno(f));
}

}  // namespace fpshim
