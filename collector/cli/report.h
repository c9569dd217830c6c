// `fpshim report`: the reports of the builds that ran with nothing but LD_PRELOAD, from the spool
// their processes left (a Dockerfile's RUN steps, a CI job's steps).
#pragma once

#include "cli/run.h"

namespace fpshim {

// Reads the spool, splits it into builds (model/builds.h), selects by --build or --root, and writes
// the reports run writes. Returns 0, the gate's status, kExitSetupError, or kExitNothingRecorded
// when the spool holds no process (said on stderr with the likely cause).
int report_spool(const RunOptions& options);

}  // namespace fpshim
