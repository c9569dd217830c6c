// fpshim: argument parsing and dispatch.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "base/users.h"
#include "base/version.h"
#include "cli/baseline.h"
#include "cli/env.h"
#include "cli/report.h"
#include "cli/run.h"
#include "cli/serve.h"
#include "report/syslog.h"

namespace {

constexpr std::string_view kUsage = R"(usage: fpshim run [OPTIONS] [--] COMMAND [ARGS...]
       fpshim report [--spool DIR] [--build ID | --root PID] [--consume] [OUTPUT OPTIONS]
       fpshim env [--rules FILE] [--spool DIR | --socket PATH] [--build NAME] [--format sh|github|dockerfile]
       fpshim serve [--rules FILE] [--socket PATH] [--state DIR] [--reports DIR] [--uid USER]... [--grace SECONDS]
                    [--formats json,txt,sarif,html,events] [--max-builds N] [--max-processes N] [--max-build-bytes N]
                    [--events FILE|-] [--syslog[=SOCKET]]
       fpshim status [--socket PATH]
       fpshim report --socket PATH --build ID
       fpshim check-rules [--rules FILE]
       fpshim baseline REPORT > FILE
       fpshim --version | --help

Runs COMMAND (a build) with libfpshim.so preloaded into every process and reports the build steps
that read paths which fingerprint the machine, as listed in the rules. `report` writes the same
reports for the processes that had nothing but LD_PRELOAD (a Dockerfile ENV, a CI job's
environment), from the spool they left; `env` prints what to set for that.

run and report options:
  --rules FILE        rules to use (default: $FPSHIM_RULES, else <prefix>/share/fpshim/rules.json, else
                      the rules.json fpshim was built with; serve wants a file)
  --report FILE       write the JSON report to FILE
  --text FILE         write the text summary to FILE instead of stderr
  --quiet             no text summary
  --html FILE         write a self-contained HTML report to FILE (for a browser; no network needed)
  --source-root DIR   the checkout findings are located in (default: the current directory)
  --linger SECONDS    run: after COMMAND exits, wait at most this long for its descendants (default 30)
  --strict            run: also check what each successful open reached, whatever its path (finds a
                      symlink into /proc, /sys or onto a watched file; one fstat per open)
  --suppress FILE     accepted findings, each with its reason (default: .fpshim-suppressions.json in
                      the source root, if it exists)
  --fail-on LEVEL     none|low|medium|high|critical (default none): exit 3 if the build succeeded but
                      unsuppressed findings at LEVEL or above remain
  --sarif FILE        write the findings as SARIF 2.1.0 (GitHub code scanning) to FILE
  --events FILE       write ECS events, one JSON object per line, to FILE ("-": stdout)
  --syslog[=SOCKET]   send the same events to the local syslog as RFC 5424 messages (default /dev/log)
  --github            GitHub Actions: append a step summary to $GITHUB_STEP_SUMMARY and print
                      ::error/::warning annotations on stderr (default when GITHUB_ACTIONS=true)
  --no-github         neither, even when GITHUB_ACTIONS=true
  --gitlab-codequality FILE  write a GitLab Code Quality report (JSON) to FILE
  --junit FILE        write JUnit XML (one failed test case per finding) to FILE

report and env options:
  --spool DIR         the spool of bare preloads (default /var/tmp/fpshim-<uid>/spool)
  --build ID          report: the build with this FPSHIM_BUILD (name or 16 hex digits) or id;
                      env: FPSHIM_BUILD to set (one per CI step, say)
  --root PID          report: the build whose root process had this pid
  --consume           report: remove what was reported from the spool (a spool later builds share)
  --socket PATH       env: the socket of a `fpshim serve`
  --format FORMAT     env: sh (export lines, default), github ($GITHUB_ENV lines), dockerfile (ENV lines)

serve options (a daemon for a machine that hosts many builds; docs/serve.md):
  --socket PATH       the data socket for our own uid (default /var/tmp/fpshim-<uid>/serve.sock, where a
                      bare preload looks); the control socket serve.ctl is next to it
  --state DIR         journals that survive a restart (default /var/lib/fpshim/state for root, else
                      /var/tmp/fpshim-<uid>/state)
  --reports DIR       reports go to DIR/<uid>/<build id>.<ext> (default /var/lib/fpshim/reports for root,
                      else /var/tmp/fpshim-<uid>/reports)
  --uid USER          root only, repeatable: serve USER (a name in /etc/passwd, or a uid) too, at USER's
                      default socket
  --grace SECONDS     report a build this long after its last process ended and nothing arrived (default 10)
  --idle SECONDS      report a build whose processes did not all say bye after this quiet time (default 3600)
  --keep SECONDS      a reported build stays this long for late records (default 6 x grace, at least 60)
  --formats LIST      the reports written per build: json,txt (default), sarif, html, events
  --max-builds N, --max-processes N, --max-build-bytes N   caps (defaults 1024, 100000 per build, 1 GiB per build)
  --events FILE       append an ECS alert event per first access of (build, process, path, recipe) to
                      FILE ("-": stdout) as the access arrives, and each build's summary event at its end
  --syslog[=SOCKET]   send the same live events to the local syslog
  (--suppress and --fail-on apply to every build's report)
status lists the builds the daemon at --socket holds for your uid; report --socket --build asks it
for that build's report now and prints the files written.

baseline writes a suppressions file accepting every unsuppressed finding of a JSON report.

Exit status: COMMAND's own, 128+N if it died of signal N, 127 if it was not found, 126 if it could
not be executed, 2 if fpshim could not start it (bad rules or suppressions, no libfpshim.so) or write
a report, 3 if COMMAND succeeded but --fail-on found unsuppressed findings (said in the last line).
report: the same for the builds it reports (0, 2 or 3), and 4 if the spool holds no process at all.
)";

int usage_error(std::string_view message) {
  std::fputs(fmt::format("fpshim: {}\n{}", message, kUsage).c_str(), stderr);
  return fpshim::kExitSetupError;
}

// The verbs, as bits, so that an option names every verb it belongs to.
enum Verb : unsigned { kRun = 1, kCheckRules = 2, kReport = 4, kEnv = 8, kServe = 16, kStatus = 32 };
constexpr unsigned kOutputs = kRun | kReport;  // the options of the reports (files)
constexpr unsigned kGate = kOutputs | kServe;  // ... and those that apply to every report serve writes

struct VerbName {
  std::string_view name;
  Verb verb;
};
constexpr VerbName kVerbs[] = {{"run", kRun},     {"check-rules", kCheckRules}, {"report", kReport}, {"env", kEnv},
                               {"serve", kServe}, {"status", kStatus}};

// Every option, once: its name, whether it takes a value, the verbs it belongs to, and what it sets.
struct Option {
  std::string_view name;
  bool takes_value;
  unsigned verbs;
  std::string (*apply)(fpshim::RunOptions&, const std::string& value);  // "" or what is wrong
  bool value_optional = false;  // takes a value only as --name=VALUE (apply gets "" without one)
};

std::string set(std::optional<std::string>& field, const std::string& v) { return (field = v, std::string()); }

std::string seconds(double& field, const std::string& name, const std::string& v) {
  char* end = nullptr;
  field = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(field >= 0))
    return fmt::format("{} wants a number of seconds, not \"{}\"", name, v);
  return std::string();
}

template <typename T>
std::string count(T& field, const std::string& name, const std::string& v) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n == 0) return fmt::format("{} wants a positive number, not \"{}\"", name, v);
  field = T(n);
  return std::string();
}

constexpr Option kOptions[] = {
    {"--rules", true, kRun | kCheckRules | kReport | kEnv | kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return set(o.rules, v); }},
    {"--report", true, kOutputs, [](fpshim::RunOptions& o, const std::string& v) { return set(o.outputs.report, v); }},
    {"--text", true, kOutputs, [](fpshim::RunOptions& o, const std::string& v) { return set(o.outputs.text, v); }},
    {"--source-root", true, kOutputs,
     [](fpshim::RunOptions& o, const std::string& v) { return set(o.outputs.source_root, v); }},
    {"--quiet", false, kOutputs,
     [](fpshim::RunOptions& o, const std::string&) { return (o.outputs.quiet = true, std::string()); }},
    {"--suppress", true, kGate, [](fpshim::RunOptions& o, const std::string& v) { return set(o.outputs.suppress, v); }},
    {"--fail-on", true, kGate,
     [](fpshim::RunOptions& o, const std::string& v) {
       o.outputs.fail_on.reset();
       if (v == "none") return std::string();
       for (auto level : {fpshim::Importance::low, fpshim::Importance::medium, fpshim::Importance::high,
                          fpshim::Importance::critical})
         if (v == fpshim::importance_name(level)) o.outputs.fail_on = level;
       if (o.outputs.fail_on) return std::string();
       return fmt::format("--fail-on wants none, low, medium, high or critical, not \"{}\"", v);
     }},
    {"--sarif", true, kOutputs,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.sarif = v, std::string()); }},
    {"--html", true, kOutputs,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.html = v, std::string()); }},
    {"--events", true, kGate,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.events = v, std::string()); }},
    {"--syslog", false, kGate,
     [](fpshim::RunOptions& o, const std::string& v) {
       o.outputs.syslog = v.empty() ? fpshim::kDefaultSyslogSocket : v;
       return std::string();
     },
     true},
    {"--github", false, kOutputs,
     [](fpshim::RunOptions& o, const std::string&) { return (o.outputs.github = true, std::string()); }},
    {"--no-github", false, kOutputs,
     [](fpshim::RunOptions& o, const std::string&) { return (o.outputs.github = false, std::string()); }},
    {"--gitlab-codequality", true, kOutputs,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.gitlab_codequality = v, std::string()); }},
    {"--junit", true, kOutputs,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.outputs.junit = v, std::string()); }},
    {"--spool", true, kReport | kEnv, [](fpshim::RunOptions& o, const std::string& v) { return set(o.spool, v); }},
    {"--socket", true, kEnv | kServe | kStatus | kReport,
     [](fpshim::RunOptions& o, const std::string& v) { return set(o.socket, v); }},
    {"--build", true, kReport | kEnv, [](fpshim::RunOptions& o, const std::string& v) { return set(o.build, v); }},
    {"--root", true, kReport,
     [](fpshim::RunOptions& o, const std::string& v) {
       char* end = nullptr;
       const long pid = std::strtol(v.c_str(), &end, 10);
       if (v.empty() || *end != '\0' || pid <= 0) return fmt::format("--root wants a process id, not \"{}\"", v);
       o.root_pid = int(pid);
       return std::string();
     }},
    {"--consume", false, kReport,
     [](fpshim::RunOptions& o, const std::string&) { return (o.consume = true, std::string()); }},
    {"--format", true, kEnv,
     [](fpshim::RunOptions& o, const std::string& v) {
       if (v != "sh" && v != "github" && v != "dockerfile")
         return fmt::format("--format wants sh, github or dockerfile, not \"{}\"", v);
       o.format = v;
       return std::string();
     }},
    {"--state", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.serve.state = v, std::string()); }},
    {"--reports", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return (o.serve.reports = v, std::string()); }},
    {"--uid", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) {
       char* end = nullptr;
       const unsigned long n = std::strtoul(v.c_str(), &end, 10);
       if (!v.empty() && *end == '\0') {
         o.serve.uids.push_back(uint32_t(n));
         return std::string();
       }
       const std::optional<fpshim::User> user = fpshim::user_by_name(v);
       if (!user) return fmt::format("--uid: no user \"{}\" in /etc/passwd", v);
       o.serve.uids.push_back(user->uid);
       return std::string();
     }},
    {"--grace", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return seconds(o.serve.grace_seconds, "--grace", v); }},
    {"--idle", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return seconds(o.serve.idle_seconds, "--idle", v); }},
    {"--keep", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return seconds(o.serve.keep_seconds, "--keep", v); }},
    {"--formats", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) {
       o.serve.formats.clear();
       for (size_t start = 0; start <= v.size();) {
         const size_t comma = std::min(v.find(',', start), v.size());
         const std::string f = v.substr(start, comma - start);
         if (f != "json" && f != "txt" && f != "sarif" && f != "html" && f != "events")
           return fmt::format("--formats wants json, txt, sarif, html or events, not \"{}\"", f);
         o.serve.formats.push_back(f);
         start = comma + 1;
       }
       return std::string();
     }},
    {"--max-builds", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return count(o.serve.limits.builds, "--max-builds", v); }},
    {"--max-processes", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) { return count(o.serve.limits.processes, "--max-processes", v); }},
    {"--max-build-bytes", true, kServe,
     [](fpshim::RunOptions& o, const std::string& v) {
       return count(o.serve.limits.build_bytes, "--max-build-bytes", v);
     }},
    {"--strict", false, kRun,
     [](fpshim::RunOptions& o, const std::string&) { return (o.strict = true, std::string()); }},
    {"--linger", true, kRun,
     [](fpshim::RunOptions& o, const std::string& v) {
       char* end = nullptr;
       o.linger_seconds = std::strtod(v.c_str(), &end);
       if (v.empty() || *end != '\0' || !(o.linger_seconds >= 0))
         return fmt::format("--linger wants a number of seconds, not \"{}\"", v);
       return std::string();
     }},
};

const Option* find_option(std::string_view name, Verb verb) {
  for (const Option& o : kOptions)
    if (o.name == name && (o.verbs & verb)) return &o;
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
  if (verb == "baseline") {
    if (argc == 3 && (std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h")) {
      fmt::print("{}", kUsage);
      return 0;
    }
    if (argc != 3 || std::string_view(argv[2]).starts_with("-")) return usage_error("baseline wants one REPORT");
    return fpshim::baseline(argv[2]);
  }
  const VerbName* named = nullptr;
  for (const VerbName& v : kVerbs)
    if (v.name == verb) named = &v;
  if (!named) return usage_error(fmt::format("unknown command \"{}\"", verb));

  fpshim::RunOptions options;
  int i = 2;
  for (; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      i++;
      break;
    }
    if (!arg.starts_with("-")) break;  // the command starts here
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", kUsage);
      return 0;
    }
    std::string_view name = arg.substr(0, arg.find('='));
    const Option* option = find_option(name, named->verb);
    if (!option) return usage_error(fmt::format("unknown option {}", arg));
    std::optional<std::string> value;
    if (name.size() < arg.size()) {
      if (!option->takes_value && !option->value_optional) return usage_error(fmt::format("{} takes no value", name));
      value = std::string(arg.substr(name.size() + 1));
    } else if (option->takes_value) {
      if (i + 1 >= argc) return usage_error(fmt::format("{} needs a value", name));
      value = argv[++i];
    }
    // "--report --quiet" forgot the file name; a file that really begins with "--" is "./--name".
    if (value && value->starts_with("--"))
      return usage_error(fmt::format("{} wants a value, not the option-like \"{}\"", name, *value));
    if (std::string error = option->apply(options, value ? *value : ""); !error.empty()) return usage_error(error);
  }

  if (named->verb != kRun) {
    if (i < argc) return usage_error(fmt::format("{} takes no command", verb));
    if (named->verb == kCheckRules) return fpshim::check_rules(options.rules);
    if (named->verb == kReport)
      return options.socket ? fpshim::report_from_serve(options) : fpshim::report_spool(options);
    if (named->verb == kServe) return fpshim::serve_command(options);
    if (named->verb == kStatus) return fpshim::status_command(options);
    return fpshim::print_env(options);
  }
  for (; i < argc; i++) options.command.emplace_back(argv[i]);
  if (options.command.empty()) return usage_error("run: no command given");
  return fpshim::run_build(options);
}
