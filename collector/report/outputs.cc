#include "report/outputs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/exit_status.h"
#include "base/say.h"
#include "report/github.h"
#include "report/gitlab_codequality.h"
#include "report/junit.h"
#include "report/report_json.h"
#include "report/report_text.h"

namespace fpshim {

bool write_atomically(const std::string& path, const std::string& text, std::string& error) {
  const bool to_stdout = path == "-";
  std::string tmp = path + ".tmp";
  int fd = to_stdout ? STDOUT_FILENO : open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = fmt::format("cannot write {}: {}", tmp, strerror(errno));
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  if (to_stdout) {
    if (done == text.size()) return true;
    error = fmt::format("cannot write to stdout: {}", strerror(errno));
    return false;
  }
  bool ok = done == text.size() && fsync(fd) == 0;
  int saved = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp.c_str(), path.c_str()) == 0) return true;
  error = fmt::format("cannot write {}: {}", path, strerror(ok ? errno : saved));
  unlink(tmp.c_str());
  return false;
}

int write_reports(const Summary& summary, const ReportOutputs& outputs) {
  const Findings findings = find(summary, {outputs.source_root.value_or("")});
  // Each format rendered from the findings, to the file its option names.
  struct FileFormat {
    const std::optional<std::string>& file;
    std::string (*render)(const Findings&);
  };
  const FileFormat formats[] = {
      {outputs.gitlab_codequality, render_gitlab_codequality},
      {outputs.junit, render_junit},
  };
  int status = 0;
  for (const FileFormat& format : formats) {
    std::string error;
    if (format.file && !write_atomically(*format.file, format.render(findings), error)) {
      say("fpshim: {}\n", error);
      status = kExitSetupError;
    }
  }
  if (outputs.report) {
    std::string error;
    if (!write_json_report(summary, *outputs.report, error)) {
      say("fpshim: {}\n", error);
      status = kExitSetupError;
    }
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
  if (outputs.quiet) return status;
  if (outputs.text) {
    std::FILE* f = std::fopen(outputs.text->c_str(), "we");
    if (!f) {
      say("fpshim: cannot write {}: {}\n", *outputs.text, strerror(errno));
      return kExitSetupError;
    }
    try {
      write_text_report(summary, f);
    } catch (const std::exception& e) {
      say("fpshim: cannot write {}: {}\n", *outputs.text, e.what());
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

}  // namespace fpshim
