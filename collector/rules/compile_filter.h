// The shim's pre-filter (FPSHIM_FILTER, format in include/fpshim/wire.h), compiled from the rules.
#pragma once

#include <string>

#include "rules/rules.h"

namespace fpshim {

// "v1:P<prefix>...:B<name>..." from the enabled recipes: the literal prefixes of path, subtree,
// glob and regex entries (sorted, deduplicated, and without any prefix that a shorter one already
// covers), then the basenames.
std::string compile_filter(const Rules& rules);

}  // namespace fpshim
