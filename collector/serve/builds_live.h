// The builds of one served uid while they run: which build each record belongs to (its
// FPSHIM_BUILD id, else its process tree, as model/builds.h splits a spool), each build's journal
// on disk, and what tells that a build has ended. Memory per build is its processes' pids and
// seqs at most, never its records: a report is made from the journal (serve/build_report.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingest/record_sink.h"
#include "model/process_tree.h"
#include "model/summary.h"
#include "serve/options.h"
#include "serve/state.h"

namespace fpshim {

class LiveEvents;

struct LiveBuild {
  struct Image {
    uint64_t max_seq = 0;
    uint64_t ended_seq = UINT64_MAX;  // its bye, or the exec that replaced it; UINT64_MAX: running
    bool said_bye = false;
    // An image that sent nothing but its hello sends no bye either (it has no counts to flush): it
    // does not hold its build open, and if it speaks later the build's report is written again.
    bool ended() const { return max_seq == 0 || (ended_seq != UINT64_MAX && ended_seq >= max_seq); }
  };

  BuildKey key;
  std::string id;  // key.str()
  std::string journal_path;
  int journal = -1;
  std::string pending;  // records not yet written to the journal (one write per batch)
  uint64_t bytes = 0;
  uint64_t records = 0;
  uint64_t capped = 0;    // records dropped at a cap (processes, bytes)
  uint64_t torn = 0;      // records torn at the end of a spool file
  uint64_t ledger = 0;    // records the spool's loss ledger counted while this build was open
  uint64_t first_ns = 0;  // CLOCK_REALTIME of its first record
  uint64_t last_ns = 0;   // CLOCK_MONOTONIC when its last record arrived
  std::unordered_map<ProcessKey, Image, ProcessKeyHash> images;
  bool dirty = false;     // records arrived since its last report
  bool reported = false;  // a report was written (kept for late records until `keep` passes)
  uint64_t reported_ns = 0;

  size_t running() const;
};

class UidBuilds final : public RecordSink {
 public:
  // `held` counts the builds of every uid, for the daemon's cap.
  UidBuilds(uint32_t uid, UidState& state, const ServeLimits& limits, size_t& held)
      : uid_(uid), state_(state), limits_(limits), held_(held) {}
  ~UidBuilds();
  UidBuilds(const UidBuilds&) = delete;
  UidBuilds& operator=(const UidBuilds&) = delete;

  void on_record(const wire::Header& h, std::span<const wire::Bytes> strings) override;
  void on_torn(const wire::Header& h) override;
  // Writes out every journal's pending records.
  void on_batch_end() override;

  // Takes back the journals a predecessor left (at start, before any record arrives).
  void recover();
  // Routes the records that waited for their process's hello; after `give_up_ns` one still
  // unknown is a build of its own.
  void route_pending(uint64_t now_mono, uint64_t give_up_ns);

  // The builds whose report is due: records since the last one, quiet for `grace`, and every process
  // ended (or quiet for `idle` anyway).
  std::vector<LiveBuild*> due(uint64_t now_mono, uint64_t grace_ns, uint64_t idle_ns);
  // Forgets reported builds quiet for `keep` (their journals are removed).
  void retire(uint64_t now_mono, uint64_t keep_ns);
  // Credits `n` records from the spool's loss ledger (ingest/loss_ledger.h) to every build that is
  // open (records not yet reported, or a process still running): the ledger does not say whose they
  // were, so each of them may have lost them. Kept beside each journal, so a successor counts them
  // too. Returns how many builds were credited; 0 (none open) leaves them for the next build.
  size_t credit_ledger(uint64_t n);

  // The build named by its id (BuildKey::str()) or by the FPSHIM_BUILD name or hex its processes had.
  LiveBuild* find(const std::string& name);

  const std::map<BuildKey, LiveBuild>& builds() const { return builds_; }
  std::map<BuildKey, LiveBuild>& builds() { return builds_; }
  uint64_t dropped_builds() const { return dropped_builds_; }
  uint64_t dropped_pending() const { return dropped_pending_; }
  uint32_t uid() const { return uid_; }
  // Tells `live` of every record filed (before recover()); nullptr: no live events.
  void set_live(LiveEvents* live) { live_ = live; }

 private:
  struct Pending {
    std::string bytes;
    uint64_t since_ns;
  };

  // The build of a record, or nullptr if it cannot be told yet (a record of an untold process).
  const BuildKey* route(const wire::Header& h, bool give_up);
  // Files the record (already encoded) in its build; creates the build if needed.
  void file(const BuildKey& key, const wire::Header& h, std::string_view bytes, bool replaying);
  LiveBuild* build_for(const BuildKey& key);
  void write_out(LiveBuild& b);

  uint32_t uid_;
  UidState& state_;
  const ServeLimits& limits_;
  size_t& held_;
  std::map<BuildKey, LiveBuild> builds_;
  // Builds without FPSHIM_BUILD: the build of each process image, and of each nonce (a vfork child
  // reports with its parent's), and the newest image per pid (a parent, an exec'd predecessor).
  std::unordered_map<ProcessKey, BuildKey, ProcessKeyHash> image_build_;
  std::unordered_map<uint64_t, BuildKey> nonce_build_;
  std::unordered_map<int32_t, ProcessKey> newest_image_;
  std::vector<Pending> pending_;
  std::vector<LiveBuild*> unwritten_;  // builds with pending records
  std::string scratch_;
  uint64_t dropped_builds_ = 0;
  uint64_t dropped_pending_ = 0;
  LiveEvents* live_ = nullptr;
};

}  // namespace fpshim
