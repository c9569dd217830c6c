#include "rules/compile_filter.h"

#include <algorithm>
#include <vector>

#include "fpshim/wire.h"

namespace fpshim {

static std::string escape_entry(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') out += "%25";
    else if (c == ':') out += "%3A";
    else out += c;
  }
  return out;
}

static bool has_wildcard(std::string_view pattern) {
  return wire::find_wildcard(pattern.data(), pattern.size()) != pattern.size();
}

std::string compile_filter(const Rules& rules) {
  std::vector<std::string> prefixes, names;
  for (const Recipe& recipe : rules.recipes) {
    if (!recipe.enabled) continue;
    for (const MatchEntry& e : recipe.match) {
      if (e.kind == MatchKind::basename && !e.anchored) names.push_back(e.text);  // anchored: matches nothing
      else if (!e.anchored) prefixes.push_back(e.prefix);
      for (const MatchEntry& home : e.alternatives) prefixes.push_back(home.prefix);
    }
  }
  // Sorted, a prefix comes before the patterns it covers; a pattern with a wildcard covers none.
  std::sort(prefixes.begin(), prefixes.end());
  std::vector<std::string> kept;
  for (std::string& p : prefixes) {
    auto covers = [&](const std::string& k) { return !has_wildcard(k) && p.starts_with(k); };
    if (std::none_of(kept.begin(), kept.end(), covers)) kept.push_back(std::move(p));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  std::string filter = "v1";
  for (const std::string& p : kept) filter += (has_wildcard(p) ? ":G" : ":P") + escape_entry(p);
  for (const std::string& n : names) filter += ":B" + escape_entry(n);
  return filter;
}

}  // namespace fpshim
