// `fpshim run` and `fpshim check-rules`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/exit_status.h"
#include "report/outputs.h"

namespace fpshim {

struct RunOptions {
  std::optional<std::string> rules;   // default: find_default_rules()
  ReportOutputs outputs;
  double linger_seconds = 30;         // how long to wait for descendants after the command exits
  std::vector<std::string> command;
};

// Runs the command under the shim and reports. Returns the command's exit status (128+N if it
// died of signal N, 127/126 if it could not be started) or kExitSetupError.
int run_build(const RunOptions& options);

// Validates the rules and prints the recipes and the compiled filter; 0 if valid, else 2.
int check_rules(const std::optional<std::string>& rules_path);

}  // namespace fpshim
