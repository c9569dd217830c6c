// The records a process sends (docs/design.md "Records"). Everything here is async-signal-safe.
//
// A vfork child (self.h) sends under an identity of its own: its pid, a nonce taken when it first
// sends, and seqs counted in the thread-local slot of the parent thread it borrows (that thread is
// suspended until the child execs or exits, and reads the slot only when it is a vfork child in
// turn). It introduces itself with a hello in the process log, sends each access on its own (the
// repeat table is the parent's) on a transient socket, and spools under its own name.
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

// Before this image may be replaced: every pending repeat count and the lost count.
void flush();

struct ExecText {
  const char* named;
  const char* resolved;  // absolute, "" if unknown
  char* const* argv;     // may be null
  uint32_t child;        // the spawned child's pid; 0: this process's image is replaced
  int32_t result;        // 0, or the errno of a failed exec or spawn
  uint32_t flags;        // wire::flag_env_restored, wire::flag_preload_dropped
};
void exec(const ExecText& e);

// The process is leaving with `status` (-1: unknown): every pending count, the lost count, then
// bye; once. Later accesses are sent one by one.
void bye(int status);

// In a fork child: forget the parent's counts, then start() and hello() again.
void after_fork(int argc, char* const* argv);

}  // namespace fpshim::report
