// Lexical path resolution, as the shim applies it to candidate paths. Symlinks are not followed.
#pragma once

#include <stddef.h>
#include <string.h>

namespace fpshim {

// Room for a cwd or directory of up to PATH_MAX joined with a relative path of up to PATH_MAX.
inline constexpr size_t kResolvedMax = 2 * 4096;

// Writes to `out` the absolute path `path` names when relative paths start from the directory
// `base` (`base_len` bytes, no NUL needed; ignored when `path` is absolute), with ".", ".." (never
// above "/"), repeated slashes and trailing slashes folded. `base` must be normalised already (as
// getcwd and /proc/self/fd give it); it may point into `out`. Returns the length (a NUL follows),
// or -1 if the result, or a step on the way to it, needs more than `cap` bytes.
long normalize_path(const char* base, size_t base_len, const char* path, char* out, size_t cap);

// How many levels above the directory it starts from the relative path `path` climbs at most
// ("../a/../../b" climbs 2).
int climb_depth(const char* path);

// Rewrites a normalised "/proc/self[/...]" as "/proc/<pid>[/...]" and "/proc/thread-self[/...]" as
// "/proc/<pid>/task/<tid>[/...]" in place; `pid` and `tid` are called only when needed. Returns the
// new length, or -1 if it does not fit in `cap` bytes.
long rewrite_proc_self(char* path, size_t len, size_t cap, int (*pid)(), int (*tid)());

// In a normalised absolute path (/proc/self already rewritten), the length of the leading part
// that is a link naming another path: /proc/<pid>/root, /proc/<pid>/cwd, /proc/<pid>/fd/<n> (each
// also under task/<tid>), /dev/fd/<n>, /dev/stdin, /dev/stdout, /dev/stderr; 0 if none.
size_t proc_link_prefix(const char* path, size_t len);

// The path a glob pattern reaches first. With a wildcard (* ? [, and { when `brace`): the
// directory before the component holding the first one, which glob lists ("." if none, "/" for
// the root), and `*lists` is set; without: the whole pattern, which glob only looks up.
// Backslash escapes are undone unless `noescape`. Returns the length written to `out` (a NUL
// follows), or -1 if it does not fit in `cap` bytes.
long glob_start(const char* pattern, bool brace, bool noescape, char* out, size_t cap, bool* lists);

// Writes the decimal form of `v` to `out` (room for 20 digits); returns its length.
size_t format_decimal(unsigned long long v, char* out);

}  // namespace fpshim
