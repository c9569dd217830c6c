// The JSON report.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/findings.h"
#include "model/summary.h"

namespace fpshim {

// The largest JSON report `fpshim baseline` reads: well above what the collector's limits (paths per
// recipe, the process tree) let a report grow to.
inline constexpr size_t kMaxReportBytes = size_t(256) << 20;

// The report lists at most this many process images in `processes` (`processes_unlisted` counts the
// others) and unmonitored ones in `coverage.unmonitored` (`coverage.unmonitored_unlisted`), so that its
// size stays bounded whatever the build forges; the counts (`coverage.monitored`, stats) are whole.
inline constexpr size_t kMaxListedProcesses = 10'000;
inline constexpr size_t kMaxListedUnmonitored = 1'000;

using Json = nlohmann::ordered_json;  // keys stay in the order written, as documented

// The report of the findings (and of findings.summary): every summary field, then `findings` (one
// object per finding, suppressed ones marked with their reason) and `suppressions` (the file and how
// each entry fared).
Json report_json(const Findings& findings);
// The same for a summary's findings found with the default options (no suppressions).
Json report_json(const Summary& summary);

// The report as the file holds it (report/outputs.cc writes it atomically, as every file output).
std::string render_json_report(const Findings& findings);

// Byte strings (paths, argv, exe) in JSON: valid UTF-8 goes in as is; otherwise obj[name] gets the
// text with each invalid byte written as "\xNN" and obj[name + "_hex"] the exact bytes in hex.
void put_bytes(Json& obj, std::string_view name, std::string_view bytes);
// The same for an array of byte strings; NAME_hex, if present, holds every element in hex.
void put_bytes_array(Json& obj, std::string_view name, const std::vector<std::string>& items);

}  // namespace fpshim
