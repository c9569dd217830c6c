// `fpshim baseline REPORT`: a suppressions file that accepts every finding a JSON report holds
// unsuppressed, for a team adopting fpshim on a build that already does what it reports.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace fpshim {

// The suppressions file (rules/suppressions.h) with one entry per unsuppressed finding of `report`:
// its recipe, its executable and its paths as exact patterns, and the reason
// "baseline of REPORT_NAME on DATE: review". "" and `error` set if the report has no findings array.
std::string baseline_suppressions(const nlohmann::json& report, std::string_view report_name, std::string_view date,
                                  std::string& error);

// Reads the report at `report_path` and prints its baseline on stdout; 0, or kExitSetupError.
int baseline(const std::string& report_path);

}  // namespace fpshim
