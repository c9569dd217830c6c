// What `fpshim serve` is told on its command line: where it listens, keeps its state and writes
// reports, whom it serves, and the caps that bound its memory and disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/outputs.h"

namespace fpshim {

struct ServeLimits {
  size_t builds = 1024;               // builds held at once by the daemon (live or reported and kept)
  size_t builds_per_uid = 256;        // ... and by one uid, so that one uid cannot take every slot
  size_t processes = 100'000;         // process images per build; records of further ones are dropped
  uint64_t build_bytes = 1ull << 30;  // journal bytes per build; records beyond are dropped
  size_t pending = 100'000;           // records per uid waiting for the hello that tells their build
  size_t batch = 2048;                // datagrams taken from one uid's socket per round (fairness)
};

struct ServeOptions {
  std::string rules;                  // the rules file (reloaded on SIGHUP)
  std::optional<std::string> socket;  // our own uid's data socket (default: the bare preload's default)
  std::string state;                  // journals and positions that survive a restart
  std::string reports;                // reports go to <reports>/<uid>/<build id>.<ext>
  std::vector<uint32_t> uids;         // other uids served (root only), each at its default socket
  double grace_seconds = 10;          // a build whose processes all ended is reported after this quiet time
  double idle_seconds = 3600;         // ... and one whose processes did not all say bye, after this
  double keep_seconds = 0;  // a reported build stays (late records rewrite its report); 0: 6 × grace, ≥ 60 s
  std::vector<std::string> formats = {"json", "txt"};  // json, txt, sarif, html, events
  ReportOutputs outputs;                               // the gate, suppressions, syslog
  ServeLimits limits;
};

}  // namespace fpshim
