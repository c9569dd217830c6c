// The one answer to "is this report the whole story": every gap, and what each writer says of it.
#include <doctest/doctest.h>

#include <string>

#include "model/completeness.h"
#include "model/findings.h"
#include "report/junit.h"
#include "report/report_json.h"
#include "report/report_text.h"

using namespace fpshim;

namespace {

std::string text_of(const Summary& s) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  write_text_report(s, f);
  std::fclose(f);
  std::string out(buf, size);
  free(buf);
  return out;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

TEST_CASE("completeness: a clean summary is complete, and only it says no fingerprinting detected") {
  Summary s;
  s.build.command = {"make"};
  CHECK(gaps_of(s).empty());
  const std::string text = text_of(s);
  CHECK(text.find("fpshim: no fingerprinting detected\n") != std::string::npos);
  CHECK(text.find("INCOMPLETE") == std::string::npos);
  CHECK(report_json(s)["complete"] == true);
}

TEST_CASE("completeness: every gap is said in the first line, the gravest first") {
  Summary s;
  s.build.command = {"make"};
  s.stats.lost = 3;
  s.stats.conflicting = 2;
  s.stats.processes_without_bye = 1;
  s.stats.collector_stopped = 1;
  s.stats.journal_errno = 28;  // ENOSPC
  s.build.linger_expired = true;
  s.build.still_running.push_back(ProcessRef{42, true, "/bin/sleep", {"sleep", "30"}, "/"});
  s.build.supervisor_gone = true;
  const std::vector<Gap> gaps = gaps_of(s);
  REQUIRE(gaps.size() == 7);
  CHECK(gaps[0].kind == Gap::Kind::forged);
  const std::string text = text_of(s);
  CHECK(first_line(text) ==
        "fpshim: INCOMPLETE REPORT: the build forged records (2 records claimed the sequence number of another "
        "with other content); 3 records were lost; 1 process went dark (said hello and more, never bye: killed, or "
        "silenced); fpshim run went away before the build ended (killed?); fpshim stopped waiting with 1 process of "
        "the build still running; the collector was stopped or hung 1 time and replaced; the collector could not "
        "write its journal (No space left on device); a restart would have lost records");
  CHECK(text.find("no fingerprinting detected") == std::string::npos);
  const auto j = report_json(s);
  CHECK(j["complete"] == false);
  CHECK(j["incomplete"].size() == 7);
  CHECK(j["incomplete"][0]["reason"] == "forged");
  CHECK(j["stats"]["journal_error"] == "ENOSPC");
  const std::string junit = render_junit(find(s, {}));
  CHECK(junit.find("<failure message=\"incomplete report: the build forged records") != std::string::npos);
  CHECK(junit.find("no recipe fired in what fpshim saw of make") != std::string::npos);
}

TEST_CASE("completeness: the collector's bounds and a tampered process log make the report incomplete") {
  Summary s;
  s.build.command = {"make"};
  s.tampering.push_back(Tampering{"the process log was deleted", 1});
  s.stats.unjournaled = 5;
  s.stats.processes_folded = 2;
  s.stats.capped = 7;
  const std::vector<Gap> gaps = gaps_of(s);
  REQUIRE(gaps.size() == 4);
  CHECK(gaps[0].kind == Gap::Kind::tampered);
  CHECK(gaps[1].kind == Gap::Kind::journal_full);
  CHECK(gaps[2].kind == Gap::Kind::processes_folded);
  CHECK(gaps[3].kind == Gap::Kind::capped);
  const std::string text = text_of(s);
  CHECK(first_line(text) ==
        "fpshim: INCOMPLETE REPORT: the build tampered with its records 1 time (the process log was deleted); the "
        "journal was full (at 256 MiB): 5 records were not journaled; a restart would have lost them; the process "
        "tree was full (at 100000 processes): 2 processes (hellos and execs) beyond it counted, not listed; 7 "
        "records were dropped at the daemon's caps for one build (its journal's size, its processes)");
  CHECK(text.find("no fingerprinting detected") == std::string::npos);
  const auto j = report_json(s);
  CHECK(j["complete"] == false);
  REQUIRE(j["incomplete"].size() == 4);
  CHECK(j["incomplete"][0]["reason"] == "tampered");
  CHECK(j["incomplete"][1]["reason"] == "journal_full");
  CHECK(j["incomplete"][2]["reason"] == "processes_folded");
  CHECK(j["incomplete"][3]["reason"] == "capped");
  CHECK(j["tampering"].size() == 1);
}

TEST_CASE("completeness: unmonitored processes alone keep the coverage wording") {
  Summary s;
  s.build.command = {"make"};
  s.coverage.unmonitored.push_back(UnmonitoredProcess{ProcessRef{7, true, "/work/tool", {"tool"}, "/"},
                                                      Unmonitored::static_binary,
                                                      "statically linked",
                                                      {},
                                                      {}});
  const std::string text = text_of(s);
  CHECK(first_line(text) == "fpshim: INCOMPLETE REPORT: 1 process ran unmonitored");
  CHECK(text.find("no fingerprinting detected in monitored processes; 1 process ran unmonitored") != std::string::npos);
}
