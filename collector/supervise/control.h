// What `fpshim run` tells its collector process, one line of words per message on a pipe. The pipe's
// end (EOF) is the signal to finish: drain, ingest the spool, write the reports, exit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fpshim {

struct ControlMessage {
  enum class Type { root, finish };
  Type type = Type::root;
  uint64_t started_ns = 0;  // when the build started

  // root: the command was started
  pid_t root_pid = 0;

  // finish: the command is done (or the linger time ran out)
  int exit_code = 0;  // 128+N if it died of signal N
  std::optional<int> signal;
  uint64_t ended_ns = 0;
  bool linger_expired = false;
  uint64_t collector_restarts = 0;
  uint64_t collector_stopped = 0;  // times the watchdog found the collector stopped or hung
};

std::string encode_message(const ControlMessage& m);

// Splits the bytes read from the pipe into messages; a line that does not parse is skipped.
class ControlReader {
 public:
  std::vector<ControlMessage> feed(std::string_view bytes);

 private:
  std::string pending_;
};

}  // namespace fpshim
