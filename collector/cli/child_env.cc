#include "cli/child_env.h"

#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <unistd.h>

#include "fpshim/wire.h"

namespace fpshim {

namespace {

std::string preload_value(std::string_view existing, const std::string& first, const std::string& library) {
  std::string out = first;
  size_t i = 0;
  while (i < existing.size()) {  // ld.so separates entries with ':' or ' '
    size_t j = existing.find_first_of(": ", i);
    if (j == std::string_view::npos) j = existing.size();
    std::string_view entry = existing.substr(i, j - i);
    if (!entry.empty() && entry != library && entry != first) (out += out.empty() ? "" : ":") += entry;
    i = j + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> child_environment(const char* const* env, const ChildSettings& s) {
  const std::string_view ours[] = {wire::kEnvSocket, wire::kEnvSpool,       wire::kEnvBuild,
                                   wire::kEnvFilter, wire::kEnvFilterImage, wire::kEnvLib};
  std::vector<std::string> out;
  std::string_view preload;
  for (; env && *env; ++env) {
    std::string_view entry = *env;
    std::string_view name = entry.substr(0, entry.find('='));
    if (name == "LD_PRELOAD") {
      preload = entry.substr(std::min(name.size() + 1, entry.size()));
      continue;
    }
    bool replaced = false;
    for (std::string_view o : ours) replaced |= name == o;
    if (!replaced) out.emplace_back(entry);
  }
  out.push_back("LD_PRELOAD=" + preload_value(preload, s.command_shim.value_or(s.library), s.library));
  out.push_back(std::string(wire::kEnvSocket) + "=" + s.socket);
  out.push_back(std::string(wire::kEnvSpool) + "=" + s.spool);
  out.push_back(std::string(wire::kEnvBuild) + "=" + s.build);
  out.push_back(std::string(wire::kEnvFilter) + "=" + s.filter);
  if (!s.filter_image.empty()) out.push_back(std::string(wire::kEnvFilterImage) + "=" + s.filter_image);
  out.push_back(std::string(wire::kEnvLib) + "=" + s.library);
  return out;
}

uint64_t random_build_id() {
  uint64_t id = 0;
  if (getrandom(&id, sizeof id, 0) != sizeof id)  // only before the entropy pool is ready
    id = uint64_t(std::chrono::system_clock::now().time_since_epoch().count()) ^ (uint64_t(getpid()) << 32);
  return id;
}

}  // namespace fpshim
