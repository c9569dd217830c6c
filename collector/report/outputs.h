// The reports a build asked for, and the one call that writes them all from a summary.
#pragma once

#include <optional>
#include <string>

#include "model/summary.h"

namespace fpshim {

struct ReportOutputs {
  std::optional<std::string> report;  // JSON report file
  std::optional<std::string> text;    // text summary file instead of stderr
  bool quiet = false;                 // no text summary
};

// Writes every report `outputs` names. Returns 0, or kExitSetupError if one could not be written
// (said on stderr).
int write_reports(const Summary& summary, const ReportOutputs& outputs);

}  // namespace fpshim
