// `fpshim run --strict`: what a successful open reached, whatever its path said. A symlink that
// was there before the build (committed to the repository, say) leads an open of an unwatched
// name to a watched file; the lexical checks cannot see that. In strict mode every open goes to
// the slow path, and one whose path matched nothing has its descriptor checked: one fstat,
// compared with the filesystems the watched paths live on (any file of /proc, /sys or another
// filesystem than the root's) and with the watched files themselves (device and inode on the
// root's filesystem); a hit is resolved through /proc/self/fd and reported under its real path.
#pragma once

#include <stdint.h>

namespace fpshim {

// At start, in strict mode: the identities of the watched paths (one stat per P or G entry).
void load_strict_targets();

// After open `fn` of `spelled` returned `fd`, with operation `op` and `open_flags`.
__attribute__((cold, noinline)) void check_strict(const char* fn, const char* spelled, uint32_t op, int open_flags,
                                                  int fd);

}  // namespace fpshim
