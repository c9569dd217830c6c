// `fpshim serve --events FILE|-` (and `--syslog`): alert events written as access records arrive,
// not at the build's end (docs/serve.md, "Live events"). Each accepted access record that fires a
// recipe (rules/match.h: fired_entries, then the recipe's exclusions by the process's executable)
// gives one event the first time for (build, process image, path, recipe), rendered by
// report/events.h's live_access_event() with the process's exe, argv and cwd from its hello.
//
// A record whose process's hello has not been read yet (hellos come from the process log, read
// every second; records from the socket at once) waits: the daemon then reads the process log at
// every round instead of every second, and after `wait` (the 5 s a record waits for its hello to be
// routed) the event is written with what is known, the pid alone, as the model does for a process
// that never said hello. Memory per build is bounded: at most `cap` remembered keys (after which
// accesses are only counted, and the build's summary event says so), `kMaxWaiting` waiting records,
// and the hellos of the build's processes (which its journal caps at --max-processes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fpshim/wire.h"
#include "model/aggregate.h"
#include "model/process_tree.h"
#include "model/summary.h"
#include "report/events.h"
#include "report/outputs.h"
#include "rules/match.h"

namespace fpshim {

struct LiveBuild;

class LiveEvents {
 public:
  static constexpr size_t kDefaultCap = 65'536;  // remembered (process, path, recipe) keys per build
  static constexpr size_t kMaxWaiting = 4096;    // records per build waiting for their hello

  // Writes to outputs.events ("-": stdout) and outputs.syslog, whichever are set.
  LiveEvents(const ReportOutputs& outputs, size_t cap = kDefaultCap);
  ~LiveEvents();
  LiveEvents(const LiveEvents&) = delete;
  LiveEvents& operator=(const LiveEvents&) = delete;

  // Opens the events file (appending). False, with `error`, if it cannot.
  bool open(std::string& error);
  bool active() const { return fd_ >= 0 || syslog_; }
  // The rules in use (again after a reload): keys are by recipe name, so they carry over.
  void set_rules(std::shared_ptr<const Rules> rules);

  // A record filed in build `b` of `uid`. `replaying` (a journal taken back at start): learns its
  // process or marks its key as written, writes nothing (it was written before the restart).
  void on_filed(uint32_t uid, const LiveBuild& b, const wire::Header& h, std::string_view bytes, bool replaying);
  // Writes the waiting records older than `wait_ns`; true if some still wait (read the log soon).
  bool poll(uint64_t now_mono, uint64_t wait_ns);
  // The build's report was written: its summary event, with fpshim.live (events written, keys
  // past the cap). Its waiting records are written first.
  void on_report(uint32_t uid, const LiveBuild& b, const Summary& summary);
  // The build was retired: its keys and processes are forgotten.
  void forget(uint32_t uid, const std::string& build_id);

  struct Counts {
    uint64_t written = 0;
    uint64_t past_cap = 0;
  };
  Counts counts(uint32_t uid, const std::string& build_id) const;

 private:
  struct Proc {
    int32_t ppid = 0;
    ProcessRef ref;
  };
  struct Waiting {
    wire::Header h;
    std::string path;
    std::string spelled;
    uint64_t since_mono;
  };
  struct BuildState {
    std::unordered_map<ProcessKey, Proc, ProcessKeyHash> procs;
    std::unordered_map<int32_t, ProcessKey> newest;  // the newest image of each pid that said hello
    std::unordered_set<std::string> keys;            // (pid, nonce, recipe, path) written
    std::vector<Waiting> waiting;
    Counts counts;
  };
  using BuildRef = std::pair<uint32_t, std::string>;  // (uid, build id)

  void on_hello(BuildState& s, const wire::Header& h, std::span<const wire::Bytes> strings);
  // The access's events: `known` false writes it with the pid alone.
  void on_access(const std::string& build_id, BuildState& s, const wire::Header& h, const std::string& path,
                 const std::string& spelled, bool replaying);
  std::vector<ProcessRef> ancestry(const BuildState& s, const Proc& p) const;
  // Is the newest image of `pid` a descendant of process `ancestor`, by the ppids of their hellos?
  bool descends_from(const BuildState& s, int32_t pid, int32_t ancestor) const;
  void write(const Json& event);

  ReportOutputs outputs_;
  size_t cap_;
  int fd_ = -1;
  bool own_fd_ = false;
  bool syslog_ = false;
  EventHost host_;
  std::shared_ptr<const Rules> rules_;
  std::unique_ptr<MatchCache> matches_;
  Inspector inspect_;
  std::map<BuildRef, BuildState> builds_;
  std::vector<EntryRef> fired_;
  uint64_t syslog_dropped_ = 0;
};

}  // namespace fpshim
