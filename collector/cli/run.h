// `fpshim run` and `fpshim check-rules`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/exit_status.h"
#include "report/outputs.h"
#include "rules/rules.h"
#include "serve/options.h"

namespace fpshim {

struct RunOptions {
  std::optional<std::string> rules;  // default: find_default_rules()
  ReportOutputs outputs;
  double linger_seconds = 30;  // how long to wait for descendants after the command exits
  bool strict = false;         // check what every open reached (the filter's S entry)
  std::vector<std::string> command;
  // report and env
  std::optional<std::string> spool;   // default: default_spool_dir()
  std::optional<std::string> socket;  // env: a `fpshim serve` socket
  std::optional<std::string> build;   // FPSHIM_BUILD: a name or 16 hex digits
  int root_pid = 0;                   // report: the build whose root had this pid
  bool consume = false;               // report: remove what was reported
  std::string format = "sh";          // env
  ServeOptions serve;                 // serve (state, reports, uids, grace, formats, caps)
};

// The suppressions `--suppress` names, else the default file in `source_root` if there is one, into
// `outputs`; false (said on stderr) if the file has errors.
bool load_checked_suppressions(ReportOutputs& outputs, const std::string& source_root);

// The rules at `path` (default: find_default_rules(), which may be the rules built into fpshim), or
// nullopt with the errors said on stderr.
std::optional<Rules> load_checked_rules(const std::optional<std::string>& path);

// Runs the command under the shim and reports. Returns the command's exit status (128+N if it
// died of signal N, 127/126 if it could not be started) or kExitSetupError.
int run_build(const RunOptions& options);

// Validates the rules and prints the recipes and the compiled filter; 0 if valid, else 2.
int check_rules(const std::optional<std::string>& rules_path);

}  // namespace fpshim
