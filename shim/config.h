// The FPSHIM_* environment (docs/design.md), snapshotted once into static storage.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "filter.h"

namespace fpshim {

// The pre-filter before the configuration is loaded: all zero, every path a candidate (filter.h).
extern Filter g_unloaded_filter;

struct Config {
  bool active = false;      // loaded: report (inert only until then)
  sockaddr_un socket = {};  // FPSHIM_SOCKET, else the default (wire.h); sun_path empty if it did not fit:
                            // every record goes to the spool
  socklen_t socket_len = 0;
  char spool_dir[4096] = {};  // FPSHIM_SPOOL, else the default (wire.h); empty: no spool
  char lib[4096] = {};        // this shim: FPSHIM_LIB or its LD_PRELOAD entry, named for our ABI (variants.h)
  uint64_t build_id = 0;
  // The pre-filter in force, read by every hook (one load more than a Filter held here): before the
  // configuration is loaded g_unloaded_filter, then the library's image of the default filter
  // (.rodata), the build's filter image (filter_image.h, mapped) or FPSHIM_FILTER parsed (.bss).
  const Filter* filter = &g_unloaded_filter;
  // The FPSHIM_* entries as received ("NAME=value"), which exec'd children get back. An entry
  // that does not fit in `env_text` is left out.
  static constexpr unsigned kMaxEnv = 6;
  const char* env[kMaxEnv] = {};
  unsigned nenv = 0;
  char env_text[32 * 1024] = {};
};

extern Config g_config;

// Fills g_config from `envp` (a NULL-terminated "NAME=value" array). Called once, by lifecycle.
void load_config(char* const* envp);

}  // namespace fpshim
