#include "report/phrases.h"

#include <fmt/format.h>

#include "base/as_text.h"

namespace fpshim {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::string plural(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string outcome(const BuildInfo& b) {
  if (b.exit_code < 0)
    return "ended with an unknown status (fpshim run went away, or the root process reported no exit)";
  if (b.signal) return fmt::format("was killed by {} (exit {})", signal_name(*b.signal), b.exit_code);
  return fmt::format("exited with {}", b.exit_code);
}

std::string techniques_text(const Recipe& recipe) {
  std::vector<std::string> parts;
  for (const MitreRef& t : recipe.techniques) parts.push_back(t.id + " " + t.name);
  return join(parts, ", ");
}

}  // namespace fpshim
