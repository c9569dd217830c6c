// Events in Elastic Common Schema field names, one JSON object per line (docs/outputs/events.md):
// one "alert" event per first access of (process, path, recipe), one per folded bucket, and one
// summary event per build. Each event is rendered on its own, from what a live writer would also
// have at hand, so that `serve` can write them as accesses happen; `run` writes them from the model.
#pragma once

#include <string>
#include <vector>

#include "model/findings.h"
#include "report/report_json.h"

namespace fpshim {

inline constexpr const char* kEcsVersion = "8.11.0";

// The machine and user the events are about, looked up once per report.
struct EventHost {
  std::string name;     // gethostname(2)
  std::string id;       // /etc/machine-id ("" if unreadable)
  std::string kernel;   // uname -r
  std::string arch;     // uname -m
  std::string user_id;  // the collector's uid: the user the build ran as
  std::string user_name;
};

// Reads the host's facts. /etc/machine-id is itself a watched path: fpshim reads it here, in the
// collector, which is not under the shim, so the read is not an access of the build.
EventHost this_host();

// One access: `process` (with its `ancestry`, parent first) reached `path` and fired `finding`'s
// recipe. `build_id` is 16 hex digits.
struct AccessEvent {
  const Finding* finding = nullptr;
  const ProcessRef* process = nullptr;
  const std::vector<ProcessRef>* ancestry = nullptr;
  const PathSummary* path = nullptr;
  std::string build_id;
};

Json access_event(const AccessEvent& access, const EventHost& host);

// One access as a live writer (`fpshim serve --events`) has it, when its record arrives: the
// recipe it fired, the process (from its hello) and its ancestry, the record's path, operations,
// result and time. live_access_event() makes the finding and path summary this one record stands
// for (fingerprint, entry, location and suppression as find() would make them) and renders it
// with access_event(), so both writers give the same fields.
struct LiveAccess {
  const Recipe* recipe = nullptr;
  ProcessRef process;
  std::vector<ProcessRef> ancestry;  // parent first
  std::string path;                  // as the shim resolved it
  std::string spelled;               // as the process named it ("": not told)
  uint32_t op = 0;                   // wire::Op bits
  int32_t result = 0;                // 0, else the errno
  uint64_t count = 1;                // accesses the record stands for
  uint64_t time_ns = 0;              // CLOCK_REALTIME of the record
  std::string build_id;
  std::string source_root;  // where the finding is located ("": the chain's root's cwd)
  const Suppressions* suppressions = nullptr;
  std::string today;  // YYYY-MM-DD for the suppressions' expiry
};

Json live_access_event(const LiveAccess& access, const EventHost& host);
// Accesses folded past the recipe's limits: no process, the bucket's counts and example paths.
Json folded_event(const Finding& finding, const std::string& build_id, const EventHost& host);
// The build: its command and status, the findings counted, coverage and stats.
Json summary_event(const Findings& findings, size_t access_events, const EventHost& host);

// Every event of the findings: accesses and folded buckets by time, then the summary.
std::vector<Json> all_events(const Findings& findings, const EventHost& host);

// A line per event (the --events file).
std::string render_events(const Findings& findings);

// One line of JSON, with invalid UTF-8 replaced (put_bytes keeps byte strings valid; this is a guard).
std::string event_line(const Json& event);

}  // namespace fpshim
