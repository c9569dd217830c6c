// The records a process sends (docs/design.md "Records"). Everything here is async-signal-safe.
#pragma once

#include <stdint.h>

#include "repeats.h"

namespace fpshim::report {

// Names this process: caches the pid, takes a new nonce, restarts seq. At start and in a fork child.
void start();

// The hello record: exe, cwd, then argv, cut to fit a record.
void hello(int argc, char* const* argv);

// One watched access; the repeat table decides whether and with what count it is sent now.
void access(const AccessText& a);

// At exit: every pending repeat count, the lost count, then bye. Later accesses are sent one by one.
void bye();

// In a fork child: forget the parent's counts, then start() and hello() again.
void after_fork(int argc, char* const* argv);

}  // namespace fpshim::report
