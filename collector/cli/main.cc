// fpshim: argument parsing and dispatch.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "cli/run.h"

#ifndef FPSHIM_VERSION
#define FPSHIM_VERSION "unknown"
#endif

namespace {

constexpr std::string_view kUsage = R"(usage: fpshim run [OPTIONS] [--] COMMAND [ARGS...]
       fpshim check-rules [--rules FILE]
       fpshim --version | --help

Runs COMMAND (a build) with libfpshim.so preloaded into every process and reports the build steps
that read paths which fingerprint the machine, as listed in the rules.

run options:
  --rules FILE        rules to use (default: $FPSHIM_RULES, else <prefix>/share/fpshim/rules.json)
  --report FILE       write the JSON report to FILE
  --text FILE         write the text summary to FILE instead of stderr
  --quiet             no text summary
  --source-root DIR   the checkout findings are located in (default: the current directory)
  --github            GitHub Actions: append a step summary to $GITHUB_STEP_SUMMARY and print
                      ::error/::warning annotations on stderr (default when GITHUB_ACTIONS=true)
  --no-github         neither, even when GITHUB_ACTIONS=true
  --gitlab-codequality FILE  write a GitLab Code Quality report (JSON) to FILE
  --junit FILE        write JUnit XML (one failed test case per finding) to FILE
  --linger SECONDS    after COMMAND exits, wait at most this long for its descendants (default 30)

Exit status: COMMAND's own, 128+N if it died of signal N, 127 if it was not found, 126 if it could
not be executed, 2 if fpshim could not start it (bad rules, no libfpshim.so) or write a report.
)";

int usage_error(std::string_view message) {
  std::fputs(fmt::format("fpshim: {}\n{}", message, kUsage).c_str(), stderr);
  return fpshim::kExitSetupError;
}

// Every option, once: its name, whether it takes a value, the verbs it belongs to, and what it sets.
struct Option {
  std::string_view name;
  bool takes_value;
  bool run_only;
  std::string (*apply)(fpshim::RunOptions&, const std::string& value);  // "" or what is wrong
};

constexpr Option kOptions[] = {
    {"--rules", true, false, [](fpshim::RunOptions& o, const std::string& v) { return (o.rules = v, std::string()); }},
    {"--report", true, true,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.report = v, std::string()); }},
    {"--text", true, true, [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.text = v, std::string()); }},
    {"--source-root", true, true,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.source_root = v, std::string()); }},
    {"--github", false, true,
     [](fpshim::RunOptions& o, const std::string&) { return (o.outputs.github = true, std::string()); }},
    {"--no-github", false, true,
     [](fpshim::RunOptions& o, const std::string&) { return (o.outputs.github = false, std::string()); }},
    {"--gitlab-codequality", true, true,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.gitlab_codequality = v, std::string()); }},
    {"--junit", true, true, [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.junit = v, std::string()); }},
    {"--quiet", false, true, [](fpshim::RunOptions& o, const std::string&) { return (o.outputs.quiet = true, std::string()); }},
    {"--linger", true, true,
     [](fpshim::RunOptions& o, const std::string& v) {
       char* end = nullptr;
       o.linger_seconds = std::strtod(v.c_str(), &end);
       if (v.empty() || *end != '\0' || !(o.linger_seconds >= 0))
         return fmt::format("--linger wants a number of seconds, not \"{}\"", v);
       return std::string();
     }},
};

const Option* find_option(std::string_view name, std::string_view verb) {
  for (const Option& o : kOptions)
    if (o.name == name && (verb == "run" || !o.run_only)) return &o;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command");
  std::string_view verb = argv[1];
  if (verb == "--help" || verb == "-h" || verb == "help") {
    fmt::print("{}", kUsage);
    return 0;
  }
  if (verb == "--version") {
    fmt::print("fpshim {}\n", FPSHIM_VERSION);
    return 0;
  }
  if (verb != "run" && verb != "check-rules") return usage_error(fmt::format("unknown command \"{}\"", verb));

  fpshim::RunOptions options;
  int i = 2;
  for (; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      i++;
      break;
    }
    if (!arg.starts_with("-")) break;  // the command starts here
    std::string_view name = arg.substr(0, arg.find('='));
    const Option* option = find_option(name, verb);
    if (!option) return usage_error(fmt::format("unknown option {}", arg));
    std::optional<std::string> value;
    if (name.size() < arg.size()) {
      if (!option->takes_value) return usage_error(fmt::format("{} takes no value", name));
      value = std::string(arg.substr(name.size() + 1));
    } else if (option->takes_value) {
      if (i + 1 >= argc) return usage_error(fmt::format("{} needs a value", name));
      value = argv[++i];
    }
    if (std::string error = option->apply(options, value ? *value : ""); !error.empty()) return usage_error(error);
  }

  if (verb == "check-rules") {
    if (i < argc) return usage_error("check-rules takes no command");
    return fpshim::check_rules(options.rules);
  }
  for (; i < argc; i++) options.command.emplace_back(argv[i]);
  if (options.command.empty()) return usage_error("run: no command given");
  return fpshim::run_build(options);
}
