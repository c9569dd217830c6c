#include "cli/env.h"

#include <fmt/format.h>

#include "base/say.h"
#include "cli/locate.h"
#include "fpshim/wire.h"
#include "inspect/inspection.h"
#include "rules/compile_filter.h"

namespace fpshim {

namespace {

// A value for a POSIX shell's single quotes.
std::string sh_quoted(const std::string& v) {
  std::string out = "'";
  for (char c : v) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A value for a Dockerfile ENV line (double quotes, \ and " and $ escaped).
std::string docker_quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '$') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int print_env(const RunOptions& options) {
  std::vector<std::string> tried;
  std::optional<std::string> library = find_shim_library(tried);
  if (!library) {
    say("fpshim: cannot find libfpshim.so (looked at {}); set FPSHIM_LIB\n", fmt::join(tried, ", "));
    return kExitSetupError;
  }
  if (options.spool && options.socket) {
    say("fpshim: env: --spool and --socket are two destinations; give one\n");
    return kExitSetupError;
  }
  // The shim of this system's C library, as its /bin/sh says (libfpshim-musl.so on Alpine).
  const std::string shim = shim_for_program("/bin/sh", *library);
  std::vector<std::pair<std::string, std::string>> vars{{"LD_PRELOAD", shim.empty() ? *library : shim}};
  if (options.rules) {
    std::optional<Rules> rules = load_checked_rules(options.rules);
    if (!rules) return kExitSetupError;
    vars.emplace_back(wire::kEnvFilter, compile_filter(*rules));
  }
  if (options.spool) vars.emplace_back(wire::kEnvSpool, *options.spool);
  if (options.socket) vars.emplace_back(wire::kEnvSocket, *options.socket);
  if (options.build) {
    if (options.build->empty() || options.build->find('\n') != std::string::npos) {
      say("fpshim: env: --build wants a name on one line\n");
      return kExitSetupError;
    }
    vars.emplace_back(wire::kEnvBuild, *options.build);
  }
  for (const auto& [name, value] : vars) {
    if (value.find('\n') != std::string::npos) {
      say("fpshim: env: {} holds a newline, which no format carries\n", name);
      return kExitSetupError;
    }
  }
  for (const auto& [name, value] : vars) {
    if (options.format == "github") fmt::print("{}={}\n", name, value);
    else if (options.format == "dockerfile") fmt::print("ENV {}={}\n", name, docker_quoted(value));
    else fmt::print("export {}={}\n", name, sh_quoted(value));
  }
  return 0;
}

}  // namespace fpshim
