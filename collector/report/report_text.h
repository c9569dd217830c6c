// The human summary (stderr by default).
#pragma once

#include <cstdio>

#include "model/summary.h"

namespace fpshim {

void write_text_report(const Summary& summary, std::FILE* out);

}  // namespace fpshim
