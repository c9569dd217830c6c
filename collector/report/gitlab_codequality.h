// GitLab Code Quality report (artifacts:reports:codequality): a JSON array of Code Climate issues.
#pragma once

#include <string>

#include "model/findings.h"

namespace fpshim {

// One issue per unsuppressed finding: description, check_name (the recipe), fingerprint, severity
// (low: minor, medium: major, high: critical, critical: blocker) and location {path, lines.begin}
// from the finding's place in the checkout. Suppressed findings are left out: GitLab has no field
// for them and would count them. UTF-8 without a byte-order mark; "[]" when nothing was found.
std::string render_gitlab_codequality(const Findings& findings);

}  // namespace fpshim
