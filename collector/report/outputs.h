// The reports a build asked for, and the one call that writes them all: it finds the findings once
// (model/findings.h) and hands them to each writer, which only renders them to text.
#pragma once

#include <optional>
#include <string>

#include "model/findings.h"
#include "model/summary.h"

namespace fpshim {

struct ReportOutputs {
  std::optional<std::string> report;       // JSON report file
  std::optional<std::string> text;         // text summary file instead of stderr
  bool quiet = false;                      // no text summary
  std::optional<std::string> source_root;  // where findings are located (default: the build's cwd)
  std::optional<bool> github;              // --github/--no-github; unset: on when GITHUB_ACTIONS=true
  std::optional<std::string> gitlab_codequality;  // GitLab Code Quality JSON file
  std::optional<std::string> junit;               // JUnit XML file
};

// Writes every report `outputs` names. Returns 0, or kExitSetupError if one could not be written
// (said on stderr).
int write_reports(const Summary& summary, const ReportOutputs& outputs);

// Writes `text` to `path` atomically: PATH.tmp, synced, renamed over PATH; "-" is stdout. On failure
// says why in `error` and leaves PATH as it was.
bool write_atomically(const std::string& path, const std::string& text, std::string& error);

}  // namespace fpshim
