// The collector: a process of its own, forked by `fpshim run` and named fpshim-collect, that
// receives the records, journals them, and writes the reports once told the build is done. If it
// dies, `fpshim run` starts another, which picks up the journal and the spool.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "supervise/private_dir.h"
#include "rules/rules.h"
#include "report/outputs.h"

namespace fpshim {

inline constexpr char kCollectorName[] = "fpshim-collect";

struct CollectorSetup {
  const Rules* rules = nullptr;
  std::vector<std::string> command;
  std::string root_exe;  // the file the command runs (PATH searched), inspected as the root's image
  ReportOutputs outputs;
  PrivateDir dir;
  uint64_t build_id = 0;
  std::string cwd;
  pid_t supervisor = 0;  // `fpshim run`: the build's processes are its descendants
  int socket = -1;       // from bind_socket, held by the supervisor for every collector it starts
  // Nested in a watched build: the outer build's spool and id, where every record is forwarded too.
  std::string outer_spool;
  uint64_t outer_build = 0;
  // What was written to dir.filter_image() (supervise/filter_image_file.h), checked at the end; empty: none.
  std::string filter_image;
};

// Takes over the socket, writes one byte to `ready_fd`, catches up on the journal and the spool, then
// collects until `control_fd` reaches its end. Returns the exit status: 0, or kExitSetupError if
// it could not start or could not write a report.
int run_collector(const CollectorSetup& setup, int control_fd, int ready_fd);

}  // namespace fpshim
