// `fpshim serve` (the daemon, serve/daemon.h), `fpshim status` and `fpshim report --socket`: the
// command line's side of them.
#pragma once

#include "cli/run.h"

namespace fpshim {

// Fills in the defaults (rules, state and report directories) and runs the daemon.
int serve_command(RunOptions& options);
// Lists the builds the daemon at --socket (default: this uid's) holds for the asker's uid.
int status_command(const RunOptions& options);
// Asks the daemon at --socket for the report of --build now; prints the files it wrote.
int report_from_serve(const RunOptions& options);

}  // namespace fpshim
