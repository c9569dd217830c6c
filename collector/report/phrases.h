// The words the reports people read (text, markdown, HTML) use for the same things, so that they say
// them alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/summary.h"

namespace fpshim {

std::string join(const std::vector<std::string>& items, std::string_view sep);

// "1 finding", "3 findings".
std::string plural(uint64_t n, std::string_view one, std::string_view many);

// "T1082 System Information Discovery, T1016 System Network Configuration Discovery": every
// technique of the recipe, the main one first.
std::string techniques_text(const Recipe& recipe);

// How the build ended: "exited with 0", "was killed by SIGTERM (exit 143)", or why it is not known.
std::string outcome(const BuildInfo& b);

}  // namespace fpshim
