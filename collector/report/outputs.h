// The reports a build asked for, and the one call that writes them all: it finds the findings once
// (model/findings.h) and hands them to each writer, which only renders them to text.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/findings.h"
#include "model/summary.h"

namespace fpshim {

struct ReportOutputs {
  std::optional<std::string> report;       // JSON report file
  std::optional<std::string> text;         // text summary file instead of stderr
  bool quiet = false;                      // no text summary
  std::optional<std::string> source_root;  // where findings are located (default: the build's cwd)
  std::optional<std::string> suppress;     // --suppress FILE (default: .fpshim-suppressions.json in the source root)
  std::shared_ptr<const Suppressions> suppressions;  // loaded (and checked) from it before the build runs
  std::optional<Importance> fail_on;                 // --fail-on LEVEL; unset ("none"): the gate never fails a build
  bool own_status = false;                           // fpshim's status is its own, not the build's (`report`): the
                                                     // gate applies whatever the build's status was
  std::optional<std::string> sarif;                  // SARIF 2.1.0 file for code scanning
  std::optional<std::string> html;                   // self-contained HTML report file
  std::optional<std::string> events;                 // ECS events, one JSON object per line ("-": stdout)
  std::optional<std::string> syslog;                 // the events to this syslog socket as RFC 5424 messages

  // Whether a file output is "-" (stdout); each file output belongs in this list.
  bool writes_stdout() const {
    for (const std::optional<std::string>* file : {&report, &events, &sarif, &html, &gitlab_codequality, &junit})
      if (*file && **file == "-") return true;
    return false;
  }
  std::optional<bool> github;                     // --github/--no-github; unset: on when GITHUB_ACTIONS=true
  std::optional<std::string> gitlab_codequality;  // GitLab Code Quality JSON file
  std::optional<std::string> junit;               // JUnit XML file
};

// Whether every file `outputs` names could be written, checked before a build starts so that it does
// not run for reports that then go nowhere: its directory exists and is writable (the reports are
// renamed into it) and it is not a directory; an existing --text file must be writable (it is
// rewritten in place). False with `error` set ("cannot write FILE: ...") for the first that cannot.
bool outputs_writable(const ReportOutputs& outputs, std::string& error);

// Writes every report `outputs` names, then applies the gate. Returns 0; kExitSetupError if a report
// could not be written (said on stderr); else kExitGate if the build succeeded, `fail_on` is set and
// unsuppressed findings at or above it remain (said in the last line on stderr).
int write_reports(const Summary& summary, const ReportOutputs& outputs);

// Writes all of `text` to `fd` (again after EINTR and short writes); false if a write failed.
bool write_all(int fd, std::string_view text);

// Writes `text` to `path` atomically: PATH.tmp, synced, renamed over PATH; "-" is stdout. On failure
// says why in `error` and leaves PATH as it was.
bool write_atomically(const std::string& path, const std::string& text, std::string& error);

}  // namespace fpshim
