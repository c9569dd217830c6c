// The GitLab Code Quality report: the Code Climate fields GitLab reads, one issue per finding.
#include "report/gitlab_codequality.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/as_text.h"

namespace fpshim {

namespace {

constexpr size_t kMaxPaths = 10;  // named in one description

std::string_view severity(Importance i) {
  switch (i) {
    case Importance::critical: return "blocker";
    case Importance::high: return "critical";
    case Importance::medium: return "major";
    case Importance::low: return "minor";
  }
  return "info";
}

}  // namespace

std::string render_gitlab_codequality(const Findings& findings) {
  nlohmann::ordered_json issues = nlohmann::ordered_json::array();
  for (const Finding& f : findings.items) {
    if (f.suppressed) continue;
    std::vector<std::string> names = f.path_names();
    std::string paths;
    for (size_t i = 0; i < names.size() && i < kMaxPaths; i++) paths += (i ? ", " : "") + names[i];
    if (names.size() > kMaxPaths) paths += fmt::format(" and {} more", names.size() - kMaxPaths);
    std::string who = f.exe.empty() ? "accesses folded past the recipe's limits" : f.exe;
    std::string description = fmt::format("fpshim {}: {} read {} (process chain: {})", f.recipe->title, who, paths,
                                          f.chain());
    nlohmann::ordered_json issue;
    issue["type"] = "issue";
    issue["description"] = escape_invalid_utf8(description);  // JSON strings must be valid UTF-8
    issue["check_name"] = "fpshim/" + f.recipe->name;
    issue["fingerprint"] = f.fingerprint;
    issue["severity"] = severity(f.importance());
    issue["categories"] = {"Security"};
    issue["location"] = {{"path", escape_invalid_utf8(f.location.uri)}, {"lines", {{"begin", f.location.line}}}};
    issue["content"] = {{"body", escape_invalid_utf8(f.recipe->guidance.ci)}};
    issues.push_back(std::move(issue));
  }
  return issues.dump(2) + "\n";
}

}  // namespace fpshim
