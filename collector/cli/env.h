// `fpshim env`: what to set so that processes with nothing but LD_PRELOAD are watched.
#pragma once

#include "cli/run.h"

namespace fpshim {

// Prints LD_PRELOAD (the installed libfpshim.so's absolute path) and the FPSHIM_* variables the
// options ask for, as `export` lines, $GITHUB_ENV lines or Dockerfile ENV lines.
int print_env(const RunOptions& options);

}  // namespace fpshim
