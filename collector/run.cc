#include "run.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "aggregate.h"
#include "child_env.h"
#include "descendants.h"
#include "filter.h"
#include "ingest.h"
#include "locate.h"
#include "report_json.h"
#include "report_text.h"
#include "rules.h"

extern char** environ;

namespace fpshim {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// Prints to stderr and never throws (stderr may be closed or a broken pipe).
template <typename... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  std::fputs(fmt::format(format, std::forward<Args>(args)...).c_str(), stderr);
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
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
  LoadedRules loaded = load_rules(file);
  for (const RulesError& e : loaded.errors) say("{}\n", e.str());
  if (!loaded.ok()) {
    say("fpshim: {} error(s) in the rules; nothing was run\n", loaded.errors.size());
    return std::nullopt;
  }
  return std::move(loaded.rules);
}

// Runs the command and collects records until it and every descendant are gone (or the linger
// time after the command's exit runs out).
class Supervisor {
 public:
  Supervisor(Ingest& ingest, Aggregate& aggregate, BuildInfo& build, double linger_seconds)
      : ingest_(ingest), aggregate_(aggregate), build_(build), linger_ns_(uint64_t(linger_seconds * 1e9)) {}

  // Blocks the signals the loop reads from a signalfd. Call before spawning.
  bool prepare(std::string& error) {
    signal(SIGCHLD, SIG_DFL);  // an inherited SIG_IGN would make the kernel reap our children
    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGCHLD);
    for (int sig : kForwarded) sigaddset(&handled, sig);
    sigset_t blocked = handled;
    sigaddset(&blocked, SIGPIPE);  // a closed stderr must not kill us before we exit with the build's status
    sigprocmask(SIG_BLOCK, &blocked, &original_mask_);
    signal_fd_ = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) {
      error = fmt::format("signalfd: {}", strerror(errno));
      return false;
    }
    // Orphaned descendants become our children, so wait() sees the whole build finish.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return true;
  }

  // The signals stay blocked: fpshim is about to exit with the build's status, and a late SIGINT or
  // SIGPIPE still pending must not replace it.
  ~Supervisor() {
    if (signal_fd_ >= 0) close(signal_fd_);
  }

  // Starts the command; on failure reports it like a shell and sets the exit code to 127 or 126.
  bool spawn(const std::vector<std::string>& env) {
    std::vector<char*> argv, envp;
    for (const std::string& a : build_.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setsigmask(&attr, &original_mask_);
    int rc = posix_spawnp(&root_, argv[0], nullptr, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      say("fpshim: {}: {}\n", build_.command[0], strerror(rc));
      build_.exit_code = rc == ENOENT ? 127 : 126;
      return false;
    }
    aggregate_.set_root_pid(root_);
    return true;
  }

  void loop() {
    uint64_t deadline = 0;
    for (;;) {
      int timeout = -1;
      if (root_done_) {
        uint64_t now = now_ns();
        if (now >= deadline || stop_lingering_) {
          build_.linger_expired = true;
          break;
        }
        timeout = int(std::min<uint64_t>((deadline - now) / 1'000'000 + 1, 1000));
      }
      pollfd fds[] = {{ingest_.fd(), POLLIN, 0}, {signal_fd_, POLLIN, 0}};
      if (poll(fds, 2, timeout) < 0 && errno != EINTR) break;
      if (fds[0].revents & POLLIN) ingest_.drain(aggregate_, 4096);
      if (fds[1].revents & POLLIN) read_signals();
      bool was_done = root_done_;
      bool children_left = reap();
      if (root_done_ && !was_done) deadline = now_ns() + linger_ns_;
      if (root_done_ && !children_left) break;
    }
  }

 private:
  void read_signals() {
    signalfd_siginfo si;
    while (read(signal_fd_, &si, sizeof si) == ssize_t(sizeof si)) {
      if (si.ssi_signo == SIGCHLD) continue;  // reap() runs after every wake-up
      // Terminal-generated signals (SI_KERNEL) already reached the whole foreground group; pass on
      // only those sent to fpshim itself.
      // Once the command is gone, such a signal means: stop waiting for its leftovers.
      bool sent_to_us = si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE || si.ssi_code == SI_TKILL;
      if (!sent_to_us) continue;
      if (root_done_) stop_lingering_ = true;
      else kill(root_, int(si.ssi_signo));
    }
  }

  // Reaps whatever exited; returns whether any child is left.
  bool reap() {
    for (;;) {
      int status;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid == 0) return true;
      if (pid < 0) return errno == EINTR;
      if (pid != root_) continue;
      root_done_ = true;
      if (WIFSIGNALED(status)) {
        build_.signal = WTERMSIG(status);
        build_.exit_code = 128 + WTERMSIG(status);
      } else {
        build_.exit_code = WEXITSTATUS(status);
      }
    }
  }

  Ingest& ingest_;
  Aggregate& aggregate_;
  BuildInfo& build_;
  uint64_t linger_ns_;
  sigset_t original_mask_{};
  int signal_fd_ = -1;
  pid_t root_ = 0;
  bool root_done_ = false;
  bool stop_lingering_ = false;
};

int write_reports(const Summary& summary, const RunOptions& options) {
  int status = 0;
  if (options.report) {
    std::string error;
    if (!write_json_report(summary, *options.report, error)) {
      say("fpshim: {}\n", error);
      status = kExitSetupError;
    }
  }
  if (options.quiet) return status;
  if (options.text) {
    std::FILE* f = std::fopen(options.text->c_str(), "we");
    if (!f) {
      say("fpshim: cannot write {}: {}\n", *options.text, strerror(errno));
      return kExitSetupError;
    }
    try {
      write_text_report(summary, f);
    } catch (const std::exception& e) {
      say("fpshim: cannot write {}: {}\n", *options.text, e.what());
      status = kExitSetupError;
    }
    if (std::fclose(f) != 0) status = kExitSetupError;
  } else {
    try {
      write_text_report(summary, stderr);
    } catch (const std::exception&) {  // stderr closed or gone: the exit status still tells
    }
  }
  return status;
}

}  // namespace

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

  Summary summary;
  BuildInfo& build = summary.build;
  build.id = random_build_id();
  build.command = options.command;
  if (char* cwd = getcwd(nullptr, 0)) {
    build.cwd = cwd;
    free(cwd);
  }

  Stats stats;
  Aggregate aggregate(*rules, stats);
  Ingest ingest(build.id, stats);
  std::string error;
  if (!ingest.open(error)) {
    say("fpshim: {}\n", error);
    return kExitSetupError;
  }
  std::vector<std::string> env = child_environment(
      environ, {*library, ingest.socket_path(), ingest.spool_dir(), fmt::format("{:016x}", build.id),
                compile_filter(*rules)});

  Supervisor supervisor(ingest, aggregate, build, options.linger_seconds);
  if (!supervisor.prepare(error)) {
    say("fpshim: {}\n", error);
    return kExitSetupError;
  }
  build.started_ns = now_ns();
  if (supervisor.spawn(env)) supervisor.loop();
  if (build.linger_expired) build.still_running = live_descendants(getpid());
  while (ingest.drain(aggregate) > 0) {
  }
  ingest.ingest_spool(aggregate);
  build.finished_ns = now_ns();
  ingest.close();

  aggregate.summarize(summary);
  int report_status = write_reports(summary, options);
  return build.exit_code == 0 ? report_status : build.exit_code;
}

int check_rules(const std::optional<std::string>& rules_path) {
  std::optional<Rules> rules = load_checked_rules(rules_path);
  if (!rules) return kExitSetupError;
  size_t enabled = 0;
  for (const Recipe& r : rules->recipes) enabled += r.enabled;
  fmt::print("{}: {} recipe(s), {} enabled\n", rules->source, rules->recipes.size(), enabled);
  for (const Recipe& r : rules->recipes) {
    fmt::print("  {:<28} {:<8} {:>3} match, {:>2} exclude  {}{}\n", r.name, importance_name(r.importance),
               r.match.size(), r.exclude.size(), fmt::join(operation_names(r.operations), ","),
               r.enabled ? "" : "  (disabled)");
  }
  fmt::print("filter: {}\n", compile_filter(*rules));
  return 0;
}

}  // namespace fpshim
