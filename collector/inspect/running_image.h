// The image a live process really runs, through /proc/<pid>/exe, which still opens when its file was
// deleted (`go test` removes its test binary) or replaced after the exec: what an inspection by
// path cannot see.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "inspect/inspection.h"

namespace fpshim {

// The inspection to trust for process `pid`, whose shim started at `nonce_ns` (CLOCK_REALTIME) in a
// program executed as `named`: `by_path` when /proc/<pid>/exe is the file it inspected (same device
// and inode), else a fresh inspection of /proc/<pid>/exe. Nothing when the process is gone, its pid
// now names a process that started after `nonce_ns` (the pid was reused), or it has executed
// another program since (its comm is no longer the start of `named`'s last component).
std::optional<Inspection> inspect_running_image(int32_t pid, uint64_t nonce_ns, std::string_view named,
                                                const Inspection& by_path, Credentials who);

}  // namespace fpshim
