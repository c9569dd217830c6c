// GitHub Actions: the step summary (markdown appended to $GITHUB_STEP_SUMMARY, always under GitHub's
// 1 MiB per step) and `::error`/`::warning` workflow commands that GitHub turns into annotations.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "model/findings.h"

namespace fpshim {

// GitHub's limit on one step's summary file; over it the upload fails.
inline constexpr size_t kGithubSummaryLimit = 1 << 20;
// GitHub shows at most this many annotations of each kind (error, warning, notice) per step.
inline constexpr size_t kGithubAnnotationsPerKind = 10;

// Whether the GitHub outputs are on: `--github`/`--no-github` if given, else GITHUB_ACTIONS=true.
bool github_enabled(std::optional<bool> option);

// The step summary in markdown, at most `budget` bytes: what does not fit is left out and a last line
// says how much.
std::string render_github_summary(const Findings& findings, size_t budget = kGithubSummaryLimit);

// Appends the summary to the file $GITHUB_STEP_SUMMARY names, keeping the whole file under 1 MiB
// (earlier steps' text in it counts). False with `error` set if it is unset or cannot be written.
bool append_github_summary(const Findings& findings, std::string& error);

// The workflow commands for the unsuppressed findings, most important first: high and critical are
// `::error`, medium and low `::warning`; at most 10 of each, then one `::notice` saying how many
// were left out.
std::string render_github_annotations(const Findings& findings);

// `%`, CR and LF escaped as workflow command data wants; `properties` also escapes `:` and `,`.
std::string github_escape(std::string_view text, bool property);

}  // namespace fpshim
