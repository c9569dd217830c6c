// `fpshim serve`: one collector for a machine that hosts many builds (a CI runner). A foreground
// daemon: logs to stderr; SIGTERM/SIGINT write every open build's report and exit 0; SIGHUP
// reloads the rules (a bad file is refused, its errors said, the old rules kept).
#pragma once

#include "serve/options.h"

namespace fpshim {

// Runs until SIGTERM or SIGINT. Returns 0, or kExitSetupError if it could not start (a socket in
// use by another daemon, a directory that is not what it must be, bad rules).
int serve(const ServeOptions& options);

}  // namespace fpshim
