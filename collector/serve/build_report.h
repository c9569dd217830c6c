// One build's report, made from its journal: the same model and writers as `fpshim report`, into
// <reports>/<uid>/<build id>.<ext>, readable by that uid alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "serve/builds_live.h"
#include "serve/options.h"

namespace fpshim {

// Writes the reports of `b` (its journal written out) for `uid`. Returns write_reports()'s status;
// `files` gets the paths written.
int write_build_report(const LiveBuild& b, uint32_t uid, uint32_t gid, const Rules& rules, const ServeOptions& options,
                       std::vector<std::string>& files);

}  // namespace fpshim
