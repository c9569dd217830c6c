// One build's report, made from its journal: the same model and writers as `fpshim report`, into
// <reports>/<uid>/<build id>.<ext>, readable by that uid alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "serve/builds_live.h"
#include "serve/live_events.h"
#include "serve/options.h"

namespace fpshim {

// Writes the reports of `b` (its journal written out) for `uid`. Returns write_reports()'s status;
// `files` gets the paths written. With `live` (serve --events/--syslog), the alerts went out as
// they arrived: the build's summary event goes there, and --events/--syslog are not written again
// from the model (the per-build `events` format still is).
int write_build_report(const LiveBuild& b, uint32_t uid, uint32_t gid, const Rules& rules, const ServeOptions& options,
                       std::vector<std::string>& files, LiveEvents* live = nullptr);

}  // namespace fpshim
