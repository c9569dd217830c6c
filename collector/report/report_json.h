// The JSON report.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/findings.h"
#include "model/summary.h"

namespace fpshim {

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
