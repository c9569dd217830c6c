// The human summary (stderr by default).
#pragma once

#include <cstdio>

#include "model/findings.h"
#include "model/summary.h"

namespace fpshim {

void write_text_report(const Summary& summary, std::FILE* out);

// The summary's report followed by the suppressions: one line per suppressed finding with its reason,
// then the entries that expired and those that matched nothing.
void write_text_report(const Findings& findings, std::FILE* out);

}  // namespace fpshim
