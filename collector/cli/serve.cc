// `fpshim serve`, `fpshim status`, `fpshim report --socket`: defaults and the control requests.
#include "cli/serve.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "base/say.h"
#include "cli/locate.h"
#include "serve/control.h"
#include "serve/daemon.h"

namespace fpshim {

namespace {

// /var/lib/fpshim/<leaf> for root (a system service), else next to the uid's default socket.
std::string default_dir_for(const char* leaf) {
  if (geteuid() == 0) {
    mkdir("/var/lib/fpshim", 0711);
    return fmt::format("/var/lib/fpshim/{}", leaf);
  }
  const std::string socket = default_socket();
  return socket.substr(0, socket.rfind('/')) + "/" + leaf;
}

// Sends one request to the control socket next to --socket; prints the reply. 0 if it ends in "ok".
int ask(const RunOptions& options, const std::string& request) {
  const std::string path = control_socket_for(options.socket.value_or(default_socket()));
  std::string reply, error;
  if (!control_request(path, request, reply, error)) {
    say("fpshim: {}\n", error);
    return kExitSetupError;
  }
  const bool ok = reply.starts_with("ok") || reply.find("\nok") != std::string::npos;
  if (ok) std::fputs(reply.c_str(), stdout);
  else say("fpshim: {}", reply.empty() ? "fpshim serve gave no answer\n" : reply);
  return ok ? 0 : kExitSetupError;
}

}  // namespace

int serve_command(RunOptions& options) {
  ServeOptions& serve_options = options.serve;
  if (options.rules) {
    serve_options.rules = *options.rules;
  } else {
    std::vector<std::string> tried;
    // The daemon reads its rules file again on SIGHUP: the rules built into fpshim will not do.
    auto found = find_default_rules(tried);
    if (!found || found->empty()) {
      say("fpshim: no rules file found (looked at {}); use --rules FILE\n", fmt::join(tried, ", "));
      return kExitSetupError;
    }
    serve_options.rules = *found;
  }
  serve_options.socket = options.socket;
  if (serve_options.state.empty()) serve_options.state = default_dir_for("state");
  if (serve_options.reports.empty()) serve_options.reports = default_dir_for("reports");
  serve_options.outputs = options.outputs;
  return serve(serve_options);
}

int status_command(const RunOptions& options) { return ask(options, "status"); }

int report_from_serve(const RunOptions& options) {
  if (!options.build) {
    say("fpshim: report --socket wants --build ID (`fpshim status` lists them)\n");
    return kExitSetupError;
  }
  return ask(options, "report " + *options.build);
}

}  // namespace fpshim
