#include "report/outputs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "base/exit_status.h"
#include "base/say.h"
#include "report/report_json.h"
#include "report/report_text.h"

namespace fpshim {

int write_reports(const Summary& summary, const ReportOutputs& outputs) {
  int status = 0;
  if (outputs.report) {
    std::string error;
    if (!write_json_report(summary, *outputs.report, error)) {
      say("fpshim: {}\n", error);
      status = kExitSetupError;
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
