#include "cli/run.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/say.h"
#include "base/users.h"
#include "builtin_rules.h"
#include "cli/child_env.h"
#include "cli/locate.h"
#include "fpshim/wire.h"
#include "inspect/inspection.h"
#include "ingest/ingest.h"
#include "rules/compile_filter.h"
#include "rules/rules.h"
#include "rules/suppressions.h"
#include "supervise/collector_process.h"
#include "supervise/filter_image_file.h"
#include "supervise/private_dir.h"
#include "supervise/supervisor.h"

extern char** environ;

namespace fpshim {

// The build's home directory, one of those "~/" in the rules stands for: $HOME, which the build
// inherits, else the uid's home in the password database.
static std::string build_home() {
  if (const char* home = std::getenv("HOME"); home && home[0] == '/') return home;
  if (std::optional<User> user = user_by_uid(getuid())) return user->home;
  return {};
}

// The build's working directory, the one "./" in the rules stands for: where fpshim runs.
static std::string working_directory() {
  char buf[4096];
  return getcwd(buf, sizeof buf) ? std::string(buf) : std::string();
}

std::optional<Rules> load_checked_rules(const std::optional<std::string>& path) {
  std::string file;
  if (path) {
    file = *path;
  } else {
    std::vector<std::string> tried;
    auto found = find_default_rules(tried);
    if (!found) {
      say("fpshim: no rules file found (looked at {}); use --rules FILE\n", fmt::join(tried, ", "));
      return std::nullopt;
    }
    file = *found;
  }
  LoadedRules loaded = file.empty() ? parse_rules(kBuiltinRules, "rules.json built into fpshim", build_home(),
                                                  working_directory())
                                    : load_rules(file, build_home(), working_directory());
  for (const RulesError& e : loaded.errors) say("{}\n", e.str());
  if (!loaded.ok()) {
    say("fpshim: {} error(s) in the rules; nothing was run\n", loaded.errors.size());
    return std::nullopt;
  }
  return std::move(loaded.rules);
}

// The suppressions `--suppress` names, else the default file in the source root if there is one;
// false (said on stderr) if the file has errors.
bool load_checked_suppressions(ReportOutputs& outputs, const std::string& cwd) {
  std::string file;
  if (outputs.suppress) {
    file = *outputs.suppress;
  } else {
    file = outputs.source_root.value_or(cwd) + "/" + std::string(kDefaultSuppressionsFile);
    if (access(file.c_str(), F_OK) != 0) return true;
  }
  LoadedSuppressions loaded = load_suppressions(file);
  for (const RulesError& e : loaded.errors) say("{}\n", e.str());
  if (!loaded.ok()) {
    say("fpshim: {} error(s) in the suppressions; nothing was run\n", loaded.errors.size());
    return false;
  }
  outputs.suppressions = std::make_shared<const Suppressions>(std::move(loaded.suppressions));
  return true;
}

int run_build(const RunOptions& options) {
  if (options.command.empty()) {
    say("fpshim: run: no command given (fpshim run [OPTIONS] -- COMMAND [ARGS...])\n");
    return kExitSetupError;
  }
  std::optional<Rules> rules = load_checked_rules(options.rules);
  if (!rules) return kExitSetupError;
  std::vector<std::string> tried;
  std::optional<std::string> library = find_shim_library(tried);
  if (!library) {
    say("fpshim: cannot find libfpshim.so (looked at {}); set FPSHIM_LIB\n", fmt::join(tried, ", "));
    return kExitSetupError;
  }
  set_shim_directory(library->substr(0, library->rfind('/')));

  BuildInfo build;
  build.id = random_build_id();
  build.command = options.command;
  if (char* cwd = getcwd(nullptr, 0)) {
    build.cwd = cwd;
    free(cwd);
  }
  ReportOutputs outputs = options.outputs;
  if (!load_checked_suppressions(outputs, build.cwd)) return kExitSetupError;
  if (std::string why; !outputs_writable(outputs, why)) {
    say("fpshim: {}; nothing was run\n", why);
    return kExitSetupError;
  }
  PrivateDir dir;
  std::string error;
  auto fail = [&dir](const std::string& why) {
    say("fpshim: {}\n", why);
    dir.remove();
    return kExitSetupError;
  };
  if (!dir.create(error)) return fail(error);
  // The filter parsed once for every process of the build (supervise/filter_image_file.h). Where it
  // cannot be written (a full disk), each process parses the text, as without the image.
  const std::string filter = compile_filter(*rules) + (options.strict ? ":S" : "");
  std::string image = filter_image(filter);
  if (!write_filter_image(dir.filter_image(), image, error)) {
    say("fpshim: {}; each process parses the filter itself\n", error);
    image.clear();
  }
  std::vector<std::string> env = child_environment(
      environ, {*library, dir.socket(), dir.spool(), fmt::format("{:016x}", build.id), filter,
                image.empty() ? "" : dir.filter_image(),
                shim_for_program(find_program(options.command[0], build.cwd), *library)});

  int socket = bind_socket(dir.socket(), error);
  if (socket < 0) return fail(error);
  CollectorSetup setup{&*rules,
                       options.command,
                       find_program(options.command[0], build.cwd),
                       outputs,
                       dir,
                       build.id,
                       build.cwd,
                       getpid(),
                       socket,
                       "",
                       0,
                       image};
  // Inside a watched build (its spool in our environment): the outer run sees this build's records
  // through its spool.
  const char* outer_spool = getenv(wire::kEnvSpool);
  const bool nested = outer_spool && outer_spool[0] == '/';
  if (nested) {
    setup.outer_spool = outer_spool;
    const char* outer_build = getenv(wire::kEnvBuild);
    const std::string name = outer_build ? outer_build : "";
    setup.outer_build = name.empty() ? 0
                        : name.size() == 16 && name.find_first_not_of("0123456789abcdef") == std::string::npos
                            ? std::stoull(name, nullptr, 16)
                            : wire::build_id_of_name(name.c_str());
  }
  Supervisor supervisor(build, options.linger_seconds, options.outputs.quiet,
                        [&setup](int control_fd, int ready_fd) { return run_collector(setup, control_fd, ready_fd); });
  if (options.outputs.writes_stdout()) supervisor.keep_stdout_for_reports();
  if (nested && setup.root_exe.starts_with('/')) supervisor.spawn_past_the_shim(setup.root_exe);
  if (!supervisor.prepare(error) || !supervisor.start_collector(error)) return fail(error);
  build.started_ns = now_ns();
  if (supervisor.spawn(env)) supervisor.wait_for_build();
  int report_status = supervisor.finish();
  dir.remove();
  return build.exit_code == 0 ? report_status : build.exit_code;
}

int check_rules(const std::optional<std::string>& rules_path) {
  std::optional<Rules> rules = load_checked_rules(rules_path);
  if (!rules) return kExitSetupError;
  size_t enabled = 0;
  for (const Recipe& r : rules->recipes) enabled += r.enabled;
  fmt::print("{}: {} recipe(s), {} enabled\n", rules->source, rules->recipes.size(), enabled);
  for (const Recipe& r : rules->recipes) {
    size_t exclusions = r.exclude.size();  // the recipe's and its entries' own
    for (const MatchEntry& e : r.match) exclusions += e.exclude.size();
    fmt::print("  {:<28} {:<8} {:>3} match, {:>2} exclude  {}{}\n", r.name, importance_name(r.importance),
               r.match.size(), exclusions, fmt::join(operation_names(r.operations), ","),
               r.enabled ? "" : "  (disabled)");
  }
  fmt::print("home directories (~/): {}; working directory (./): {}\n", fmt::join(home_directories(build_home()), ", "),
             working_directory());
  fmt::print("filter: {}\n", compile_filter(*rules));
  return 0;
}

}  // namespace fpshim
