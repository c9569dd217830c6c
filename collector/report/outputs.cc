#include "report/outputs.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/exit_status.h"
#include "base/say.h"
#include "base/sha256.h"
#include "report/events.h"
#include "report/github.h"
#include "report/gitlab_codequality.h"
#include "report/html.h"
#include "report/junit.h"
#include "report/report_json.h"
#include "report/report_text.h"
#include "report/sarif.h"
#include "report/syslog.h"

namespace fpshim {

bool write_all(int fd, std::string_view text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

bool write_atomically(const std::string& path, const std::string& text, std::string& error) {
  const bool to_stdout = path == "-";
  std::string tmp = path + ".tmp";
  // A fresh file: whatever the build left at PATH.tmp (a FIFO would block the open, a symlink
  // would send the report elsewhere) is removed first, and the open refuses anything in its place.
  if (!to_stdout) unlink(tmp.c_str());
  int fd = to_stdout ? STDOUT_FILENO : open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("cannot write {}: {}", tmp, strerror(errno));
    return false;
  }
  const bool written = write_all(fd, text);
  if (to_stdout) {
    if (written) return true;
    error = fmt::format("cannot write to stdout: {}", strerror(errno));
    return false;
  }
  bool ok = written && fsync(fd) == 0;
  int saved = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp.c_str(), path.c_str()) == 0) return true;
  error = fmt::format("cannot write {}: {}", path, strerror(ok ? errno : saved));
  unlink(tmp.c_str());
  return false;
}

bool outputs_writable(const ReportOutputs& outputs, std::string& error) {
  for (const std::optional<std::string>* file : {&outputs.report, &outputs.text, &outputs.sarif, &outputs.html,
                                                 &outputs.events, &outputs.gitlab_codequality, &outputs.junit}) {
    if (!*file || **file == "-") continue;
    const std::string& path = **file;
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    struct stat st;
    std::string problem;
    if (path.empty() || path.back() == '/') problem = "no file name";
    else if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) problem = "it is a directory";
    else if (access(dir.c_str(), W_OK | X_OK) != 0) problem = fmt::format("{}: {}", dir, strerror(errno));
    else if (file == &outputs.text && access(path.c_str(), F_OK) == 0 && access(path.c_str(), W_OK) != 0)
      problem = strerror(errno);
    if (problem.empty()) continue;
    error = fmt::format("cannot write {}: {}", path, problem);
    return false;
  }
  return true;
}

namespace {

// The gate: kExitGate and the reason in the last line on stderr when the build succeeded and
// unsuppressed findings at or above --fail-on remain; else `status` unchanged.
int apply_gate(const Findings& findings, const ReportOutputs& outputs, int status) {
  if (status != 0 || !outputs.fail_on || (findings.summary->build.exit_code != 0 && !outputs.own_status)) return status;
  const Importance level = *outputs.fail_on;
  size_t count = findings.unsuppressed_at_or_above(level);
  if (count == 0) return status;
  std::vector<std::string_view> recipes;
  for (const Finding& f : findings.items)
    if (!f.suppressed && f.importance() >= level &&
        std::find(recipes.begin(), recipes.end(), f.recipe->name) == recipes.end())
      recipes.push_back(f.recipe->name);
  say("fpshim: failing the build: {} unsuppressed {} at {} or above ({})\n", count, count == 1 ? "finding" : "findings",
      importance_name(level), fmt::join(recipes, ", "));
  return kExitGate;
}

// The text summary to --text FILE or stderr (none with --quiet); returns `status`, or
// kExitSetupError if the file could not be written.
int write_text_summary(const Findings& findings, const ReportOutputs& outputs, int status) {
  if (outputs.quiet) return status;
  if (outputs.text) {
    std::FILE* f = std::fopen(outputs.text->c_str(), "we");
    if (!f) {
      say("fpshim: cannot write {}: {}\n", *outputs.text, strerror(errno));
      return kExitSetupError;
    }
    try {
      write_text_report(findings, f);
    } catch (const std::exception& e) {
      say("fpshim: cannot write {}: {}\n", *outputs.text, e.what());
      status = kExitSetupError;
    }
    if (std::fclose(f) != 0) status = kExitSetupError;
  } else {
    try {
      write_text_report(findings, stderr);
    } catch (const std::exception&) {  // stderr closed or gone: the exit status still tells
    }
  }
  return status;
}

}  // namespace

int write_reports(const Summary& summary, const ReportOutputs& outputs) {
  const Findings findings = find(summary, {outputs.source_root.value_or(""), outputs.suppressions.get(), ""});
  // Each format rendered from the findings, to the file its option names.
  struct FileFormat {
    const std::optional<std::string>& file;
    std::string (*render)(const Findings&);
  };
  const FileFormat formats[] = {
      {outputs.sarif, render_sarif},   {outputs.html, render_html},
      {outputs.events, render_events}, {outputs.gitlab_codequality, render_gitlab_codequality},
      {outputs.junit, render_junit},   {outputs.report, render_json_report},
  };
  int status = 0;
  std::vector<std::string> digests;  // "FILE sha256 HEX" of each file written
  for (const FileFormat& format : formats) {
    if (!format.file) continue;
    const std::string text = format.render(findings);
    std::string error;
    if (!write_atomically(*format.file, text, error)) {
      say("fpshim: {}\n", error);
      status = kExitSetupError;
    } else if (*format.file != "-") {
      digests.push_back(fmt::format("{} sha256 {}", *format.file, sha256_hex(text)));
    }
  }
  if (outputs.syslog) {
    SyslogSent sent = send_syslog(all_events(findings, this_host()), *outputs.syslog);
    if (!sent.error.empty()) {
      say("fpshim: {}\n", sent.error);
      status = kExitSetupError;
    }
    if (sent.shortened)
      say("fpshim: {} of {} events sent to syslog shortened to fit {} bytes (fpshim.truncated)\n", sent.shortened,
          sent.sent, kSyslogMaxMessage);
  }
  // GitHub: the step summary, and annotations on stderr (the collector's stdout is not the build's, and
  // GitHub reads workflow commands from both); --quiet keeps them off unless --github was given.
  if (github_enabled(outputs.github)) {
    std::string error;
    if (!append_github_summary(findings, error)) say("fpshim: {}\n", error);
    if (!outputs.quiet || outputs.github.value_or(false)) {
      std::string annotations = render_github_annotations(findings);
      std::fputs(annotations.c_str(), stderr);
      std::fflush(stderr);
    }
  }
  status = write_text_summary(findings, outputs, status);
  status = apply_gate(findings, outputs, status);
  // Last, where the summary goes (stderr: the CI log): what the report files hold, so that a file
  // rewritten afterwards (by something the build left running) shows.
  if (!digests.empty() && !outputs.quiet) {
    const std::string line = fmt::format("fpshim: {}\n", fmt::join(digests, "; "));
    if (!outputs.text) say("{}", line);
    else if (std::FILE* f = std::fopen(outputs.text->c_str(), "ae")) {
      std::fputs(line.c_str(), f);
      if (std::fclose(f) != 0) status = kExitSetupError;
    }
  }
  return status;
}

}  // namespace fpshim
