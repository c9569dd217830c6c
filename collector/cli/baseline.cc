// `fpshim baseline REPORT`: the suppressions file accepting what a report found.
#include "cli/baseline.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/exit_status.h"
#include "base/say.h"
#include "report/outputs.h"
#include "report/report_json.h"
#include "rules/json_checker.h"
#include "rules/json_source.h"
#include "rules/suppressions.h"

namespace fpshim {

namespace {

using Json = nlohmann::ordered_json;  // what is written: keys in the documented order
using nlohmann::json;                 // what is read

// The exact bytes of a report's byte string: NAME_hex when the text had invalid UTF-8 escaped.
std::string bytes_of(const json& text, const json* hex) {
  if (!hex || !hex->is_string()) return text.is_string() ? text.get<std::string>() : "";
  std::string digits = hex->get<std::string>(), out;
  for (size_t i = 0; i + 1 < digits.size(); i += 2) out += char(std::stoi(digits.substr(i, 2), nullptr, 16));
  return out;
}

}  // namespace

std::string baseline_suppressions(const json& report, std::string_view report_name, std::string_view date,
                                  std::string& error) {
  if (!report.is_object() || !report.contains("findings") || !report["findings"].is_array()) {
    error = fmt::format("{} has no \"findings\" array (is it a JSON report of this fpshim?)", report_name);
    return "";
  }
  Json entries = Json::array();
  for (const json& f : report["findings"]) {
    if (!f.is_object() || !f.value("suppressed", json()).is_null() || !f.contains("recipe")) continue;
    Json entry = {{"recipe", f["recipe"].get<std::string>()}};
    if (f.contains("exe"))
      entry["exe"] = glob_literal(bytes_of(f["exe"], f.contains("exe_hex") ? &f["exe_hex"] : nullptr));
    Json paths = Json::array();
    const json texts = f.value("paths", json::array());
    const json* hexes = f.contains("paths_hex") ? &f["paths_hex"] : nullptr;
    for (size_t i = 0; i < texts.size(); i++)
      paths.push_back(glob_literal(bytes_of(texts[i], hexes && i < hexes->size() ? &(*hexes)[i] : nullptr)));
    if (!paths.empty()) entry["path"] = std::move(paths);
    entry["reason"] = fmt::format("baseline of {} on {}: review", report_name, date);
    entries.push_back(std::move(entry));
  }
  Json out = {{"schema", 1}, {"suppressions", std::move(entries)}};
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

int baseline(const std::string& report_path) {
  RulesError read_error;
  std::optional<std::string> text = read_input_file(report_path, "report", read_error, kMaxReportBytes);
  if (!text) {
    say("fpshim: {}\n", read_error.str());
    return kExitSetupError;
  }
  SourceJson src = parse_source_json(*text);
  if (src.syntax_error) {
    for (const JsonProblem& p : src.problems) {
      LineColumn lc = line_column(*text, p.offset);
      say("{}:{}:{}: {}\n", report_path, lc.line, lc.column, p.message);
    }
    return kExitSetupError;
  }
  std::string error;
  std::string out = baseline_suppressions(src.value, report_path, local_date(), error);
  if (out.empty()) {
    say("fpshim: {}\n", error);
    return kExitSetupError;
  }
  if (!write_atomically("-", out, error)) {
    say("fpshim: {}\n", error);
    return kExitSetupError;
  }
  return 0;
}

}  // namespace fpshim
