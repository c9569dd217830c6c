// The processes still running below fpshim, read from /proc (for the report at the linger cutoff).
#pragma once

#include <sys/types.h>

#include <vector>

#include "model/summary.h"

namespace fpshim {

// Every live process whose parent chain leads to `ancestor`, by pid.
std::vector<ProcessRef> live_descendants(pid_t ancestor);

}  // namespace fpshim
