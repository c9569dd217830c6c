#include <errno.h>
#include <string.h>

#include "hook.h"
#include "lifecycle.h"
#include "path.h"
#include "report.h"
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
  return len > 0 ? rewrite_proc_self(out, size_t(len), cap, live_pid, live_tid) : len;
}

bool worth_resolving(int dirfd, const char* path) {
  if (!ready()) return false;
  const Filter& filter = g_config.filter;
  if (path == nullptr) return true;
  if (path[0] == '/') return !filter.near_miss(path);
  if (filter.has_further_checks()) return filter.maybe_candidate(path, [dirfd] { return base_interesting(dirfd); });
  return dirfd != AT_FDCWD || cwd_interesting() || climb_depth(path) > cwd_safe_climb();
}

void observe(const Call& call, bool failed, int new_fd) {
  const int saved = errno;
  char resolved[kResolvedMax];
  const long len = resolve_path(call.dirfd, call.path, resolved, sizeof resolved);
  if (len > 0) {
    const Filter::Lookup found = g_config.filter.lookup(resolved, size_t(len));
    if (new_fd >= 0 && found.interesting_dir) flag_fd(new_fd, call.op == wire::op_list);
    if (found.matches) {
      const char* spelled = call.path != nullptr ? call.path : resolved;
      report::access(AccessText{call.fn, call.op, call.open_flags, failed ? saved : 0, resolved, uint32_t(len), spelled,
                                uint32_t(strlen(spelled)), false});
    }
  }
  errno = saved;
}

void observe_open(const char* fn, int dirfd, const char* path, int flags, int fd) {
  if (worth_resolving(dirfd, path)) observe(Call{fn, dirfd, path, op_for_open_flags(flags), flags}, fd < 0, fd);
}

void observe_list(const char* fn, int dirfd, const char* path, bool failed, int fd) {
  if (worth_resolving(dirfd, path)) observe(Call{fn, dirfd, path, wire::op_list, 0}, failed, fd);
}

void observe_stat(const char* fn, int dirfd, const char* path, int at_flags, bool failed) {
  if (path[0] == '\0' && !(at_flags & AT_EMPTY_PATH)) return;
  if (worth_resolving(dirfd, path[0] != '\0' ? path : nullptr))
    observe(Call{fn, dirfd, path[0] != '\0' ? path : nullptr, wire::op_stat, 0}, failed, -1);
}

void observe_fopen(const char* fn, const char* path, const char* mode, FILE* f) {
  if (worth_resolving(AT_FDCWD, path))
    observe(Call{fn, AT_FDCWD, path, op_for_fopen_mode(mode), 0}, f == nullptr, f != nullptr ? fileno(f) : -1);
}

}  // namespace fpshim
