// `fpshim run --strict` (strict.h): the identities of the watched paths, and the check of a
// descriptor against them.
#include "strict.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "hook.h"
#include "path.h"
#include "sys.h"

namespace fpshim {

namespace {

// A watched filesystem (inode 0: any file on it) or a watched file.
struct Target {
  uint64_t dev;
  uint64_t ino;
};
constexpr unsigned kMaxTargets = Filter::kMaxEntries * 2;
constinit Target g_targets[kMaxTargets] = {};
constinit unsigned g_ntargets = 0;

void add_target(Target t) {
  for (unsigned i = 0; i < g_ntargets; i++)
    if (g_targets[i].dev == t.dev && (g_targets[i].ino == 0 || g_targets[i].ino == t.ino)) return;
  if (g_ntargets < kMaxTargets) g_targets[g_ntargets++] = t;
}

bool is_target(const sys::Stat& st) {
  for (unsigned i = 0; i < g_ntargets; i++)
    if (g_targets[i].dev == st.st_dev && (g_targets[i].ino == 0 || g_targets[i].ino == st.st_ino)) return true;
  return false;
}

}  // namespace

void load_strict_targets() {
  sys::Stat root;
  if (sys::fstatat(AT_FDCWD, "/", &root, 0) != 0) return;
  const Filter& filter = *g_config.filter;
  for (unsigned i = 0; i < filter.literal_count(); i++) {
    char path[4096];
    filter.literal(i, path, sizeof path);
    sys::Stat st;
    if (path[0] != '/' || sys::fstatat(AT_FDCWD, path, &st, 0) != 0) continue;
    add_target(Target{st.st_dev, st.st_dev != root.st_dev ? 0 : st.st_ino});
  }
}

void check_strict(const char* fn, const char* spelled, uint32_t op, int open_flags, int fd) {
  sys::Stat st;
  if (g_ntargets == 0 || sys::fstat(fd, &st) != 0 || !is_target(st)) return;
  char link[32] = "/proc/self/fd/", real[kResolvedMax];
  link[14 + format_decimal(static_cast<unsigned>(fd), link + 14)] = '\0';
  const long len = sys::readlink(link, real, sizeof real - 1);
  if (len <= 0 || real[0] != '/') return;
  real[len] = '\0';
  observe_resolved(fn, op, open_flags, 0, real, len, spelled != nullptr ? spelled : real);
}

}  // namespace fpshim
