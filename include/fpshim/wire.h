// The record format between libfpshim.so and the collector.
//
// One record is one datagram on the collector's AF_UNIX SOCK_DGRAM socket, or one entry in a spool
// file or the process log (records back to back; each says its own size). Access records go to
// the socket; the records of the process tree (hello, exec, bye, lost) to the process log. A
// record is a fixed Header followed by `nstrings` strings, each a uint32_t length and that many
// bytes (no NUL, no padding). Integers are in the host's byte order: both ends run on the same
// machine. The layout is the same for every ABI the shim is built for (x86-64, i386, musl): fixed
// width fields only, each at an offset that is a multiple of its size, and the header 8-aligned
// (i386 would align a uint64_t to 4 only); the static_asserts below fail the build otherwise.
//
// Header-only and free of the C++ runtime: the shim includes it too.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace fpshim::wire {

inline constexpr uint32_t kMagic = 0x31535046;  // "FPS1"
inline constexpr uint16_t kVersion = 1;
inline constexpr uint32_t kMaxRecord = 64 * 1024;
inline constexpr uint32_t kMaxStrings = 4096;

enum class Kind : uint16_t {
  hello = 1,   // once per process, at start: strings exe, cwd, argv...
  access = 2,  // a watched path was reached: strings resolved, spelled, entry point (e.g. "openat")
  bye = 3,     // the process is leaving; every pending count has been sent before it
  lost = 4,    // `count` records this process could neither send nor spool
  exec = 5,    // a program is about to run: strings target (as named), resolved target, argv...
};

// An exec record is sent before the image is replaced (execve and relatives: `count` = 0, the new
// image keeps this pid) or after a child was started (posix_spawn, system, popen: `count` = the
// child's pid). Pending repeat counts are flushed before it, so for the old image it works as a bye.
// If the exec then fails, a second exec record with `result` = errno follows and the image goes on.

// What an access did. A record may carry several bits (open O_RDWR is read|write).
enum Op : uint32_t {
  op_read = 1u << 0,   // open/fopen for reading
  op_write = 1u << 1,  // open/fopen/creat for writing
  op_list = 1u << 2,   // opendir, scandir, open(O_DIRECTORY), fdopendir
  op_stat = 1u << 3,   // stat, access, readlink, realpath, open(O_PATH)
  op_exec = 1u << 4,   // execve and relatives
  op_link = 1u << 5,   // a new name leading to the path: symlink, link, rename (either end)
  // connect() to a Unix socket by its path (an SSH agent's)
  op_connect = 1u << 6,
};

enum RecordFlags : uint32_t {
  flag_truncated = 1u << 0,   // a string (argv, a path) was cut to fit kMaxRecord
  flag_repeat = 1u << 1,      // access: a count update for an access reported before
  flag_from_spool = 1u << 2,  // set by the collector when it read the record from a spool file
  // 1u << 3 is free: no record ever carried it
  flag_env_restored = 1u << 4,     // exec: the shim put LD_PRELOAD/FPSHIM_* back into a scrubbed environment
  flag_preload_dropped = 1u << 5,  // exec: no shim for the target's ABI next to ours; the shim left itself out
  flag_exe_as_executed = 1u << 6,  // hello: exe is the name the kernel executed (AT_EXECFN), unresolved
  flag_unverified = 1u << 7        // set by the collector: the record came from a file (spool, process log),
                                   // not over the socket, so the kernel did not vouch for its pid
};

struct alignas(8) Header {
  uint32_t magic;
  uint16_t version;
  uint16_t kind;  // Kind
  uint32_t size;  // bytes of the whole record, this header included
  uint32_t nstrings;
  uint64_t build_id;    // from FPSHIM_BUILD
  uint64_t time_ns;     // CLOCK_REALTIME when the record was made
  uint64_t proc_nonce;  // CLOCK_REALTIME ns when the shim started in this process; (pid, nonce) names a process
  uint64_t seq;         // per process, 0 for hello, then 1, 2, ... in the order records were made
  int32_t pid;
  int32_t ppid;
  int32_t tid;
  uint32_t op;         // access: Op bits
  int32_t open_flags;  // access: the flags argument of open-like calls, else 0
  int32_t result;      // access, exec: 0 on success, else the errno; bye: exit status or -1; lost: the errno
                       // of the last spool write that failed (ENOSPC: a full disk), or 0
  uint32_t count;      // access: accesses this record stands for (>= 1); lost: records lost;
                       // exec: the spawned child's pid, or 0 when this process's image is replaced
  uint32_t flags;      // RecordFlags
};
static_assert(sizeof(Header) == 80, "wire header layout is part of the protocol");
static_assert(offsetof(Header, version) == 4 && offsetof(Header, kind) == 6 && offsetof(Header, size) == 8 &&
                  offsetof(Header, nstrings) == 12 && offsetof(Header, build_id) == 16 &&
                  offsetof(Header, time_ns) == 24 && offsetof(Header, proc_nonce) == 32 &&
                  offsetof(Header, seq) == 40 && offsetof(Header, pid) == 48 && offsetof(Header, ppid) == 52 &&
                  offsetof(Header, tid) == 56 && offsetof(Header, op) == 60 && offsetof(Header, open_flags) == 64 &&
                  offsetof(Header, result) == 68 && offsetof(Header, count) == 72 && offsetof(Header, flags) == 76,
              "wire header layout is part of the protocol, the same on every ABI");

struct Bytes {
  const char* data;
  uint32_t size;
};

// Checks a record's framing and points `out[i]` at its strings (inside `buf`).
// Returns the number of strings, or -1 if the record is malformed (wrong magic or version,
// sizes that do not add up, more than `max_out` strings, or longer than kMaxRecord).
inline int decode(const void* buf, size_t n, Header* h, Bytes* out, uint32_t max_out) {
  if (n < sizeof(Header) || n > kMaxRecord) return -1;
  memcpy(h, buf, sizeof(Header));
  if (h->magic != kMagic || h->version != kVersion || h->size != n) return -1;
  if (h->nstrings > max_out || h->nstrings > kMaxStrings) return -1;
  const char* p = static_cast<const char*>(buf) + sizeof(Header);
  const char* end = static_cast<const char*>(buf) + n;
  for (uint32_t i = 0; i < h->nstrings; i++) {
    uint32_t len;
    if (size_t(end - p) < sizeof len) return -1;
    memcpy(&len, p, sizeof len);
    p += sizeof len;
    if (size_t(end - p) < len) return -1;
    out[i] = Bytes{p, len};
    p += len;
  }
  return p == end ? int(h->nstrings) : -1;
}

// Bytes a string takes on the wire.
inline constexpr uint32_t encoded_size(uint32_t len) { return uint32_t(sizeof(uint32_t)) + len; }

// Environment the collector gives every process of a build (and the shim restores in exec'd children).
inline constexpr const char* kEnvSocket = "FPSHIM_SOCKET";     // path of the collector's datagram socket
inline constexpr const char* kEnvSpool = "FPSHIM_SPOOL";       // directory for records that could not be sent
                                                               // and for the process log:
inline constexpr const char* kProcessLog = "processes.spool";  // hello, exec, bye and lost records of every
                                                               // process, appended; read like a spool file
// The spool's loss ledger: what the processes writing to it lost for good (neither sent nor
// spooled: a full disk, a spool made unwritable), counted where no new block or directory entry is
// needed. Made with the spool directory; bytes 0-7 kLedgerMagic, 8-15 the count (native order), the
// rest zeros, so the file's blocks exist before a disk fills. Updated under flock(2) by shim and
// collector alike: read, add, write back.
inline constexpr const char* kLossLedger = "lost.ledger";
inline constexpr char kLedgerMagic[8] = {'f', 'p', 'l', 'o', 's', 't', '0', '1'};
inline constexpr unsigned kLedgerSize = 4096;
inline constexpr const char* kEnvBuild = "FPSHIM_BUILD";    // build id, 16 hex digits
inline constexpr const char* kEnvFilter = "FPSHIM_FILTER";  // the compiled pre-filter (see below)
// The file holding FPSHIM_FILTER parsed (shim/filter_image.h), which `fpshim run` writes once per
// build: a process maps it instead of parsing the text, if it checks out.
inline constexpr const char* kEnvFilterImage = "FPSHIM_FILTER_IMAGE";
inline constexpr const char* kEnvLib = "FPSHIM_LIB";  // absolute path of libfpshim.so

// A process that has nothing but LD_PRELOAD (no FPSHIM_SOCKET) reports to the documented defaults,
// in a directory per uid: "/var/tmp/fpshim-<uid>/" + kDefaultSocket (a `fpshim serve` for this uid),
// else + kDefaultSpool. /var/tmp outlives a reboot and a Dockerfile RUN step, and is not the build's
// working tree. FPSHIM_SOCKET and FPSHIM_SPOOL override each.
inline constexpr const char* kDefaultDir = "/var/tmp/fpshim";
inline constexpr const char* kDefaultSocket = "serve.sock";
inline constexpr const char* kDefaultSpool = "spool";

// FNV-1a 64: a hash that is the same on every machine, in the shim and in the collector.
inline constexpr uint64_t kFnvBasis = 0xcbf29ce484222325;
inline uint64_t fnv1a(const void* data, size_t n, uint64_t h = kFnvBasis) {
  for (size_t i = 0; i < n; i++) h = (h ^ static_cast<const unsigned char*>(data)[i]) * 0x100000001b3;
  return h;
}

// The build id of an FPSHIM_BUILD that is not 16 lowercase hex digits (a name such as a CI step's):
// FNV-1a 64 of its bytes, never 0.
inline uint64_t build_id_of_name(const char* name) {
  const uint64_t h = fnv1a(name, strlen(name));
  return h != 0 ? h : 1;
}

// FPSHIM_FILTER: the cheap pre-filter the shim applies, compiled by the collector from rules.json.
// Entries are separated by ':'; inside an entry '%' and ':' are written %25 and %3A. The first
// entry is the format version "v1". Then each entry is one letter and its text:
//   P<absolute path>  a path is a candidate if it starts with this text (a plain string prefix,
//                     so "P/etc/hosts" also passes /etc/hosts.allow; the collector decides).
//   G<pattern>        like P, but a component that is exactly "*" stands for any one non-empty
//                     component: "G/proc/*/net/" passes /proc/42/net/dev, not /proc/42/maps.
//   B<name>           a path is a candidate if its last component is exactly <name>.
//   S                 strict (`fpshim run --strict`): every path is a candidate, and the shim
//                     checks what each successful open reached (shim/strict.h).
// Example: v1:P/sys/class/dmi/id:P/proc/ioports:G/proc/*/net/:Bauthorized_keys
// The filter only lets through a superset of what the rules match; the collector matches exactly.

// Is text[i] a wildcard of a G pattern: a '*' that is a whole component (after a '/', and the end
// of the text or a '/' after it)? Every other '*' is a literal character.
inline constexpr bool is_wildcard(const char* text, size_t len, size_t i) {
  return i > 0 && i < len && text[i] == '*' && text[i - 1] == '/' && (i + 1 == len || text[i + 1] == '/');
}

// The index of the first wildcard (is_wildcard) at or after `from`, or `len` if there is none.
inline constexpr size_t find_wildcard(const char* text, size_t len, size_t from = 0) {
  for (size_t i = from; i < len; i++)
    if (is_wildcard(text, len, i)) return i;
  return len;
}

}  // namespace fpshim::wire
