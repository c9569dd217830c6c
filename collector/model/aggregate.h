// The process tree and the recipe hits, built from records as they arrive.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inspect/inspection.h"
#include "rules/match.h"
#include "model/process_tree.h"
#include "model/recipe_hits.h"
#include "ingest/record_sink.h"
#include "rules/rules.h"
#include "model/summary.h"

namespace fpshim {

// Inspects the executable at an absolute path (inspect_executable, or a cache in front of it).
using Inspector = std::function<Inspection(const std::string& path)>;
// The inspection to trust for a live process (pid, nonce) given its inspection by path
// (inspect_running_image); nothing if the process cannot be looked at any more.
using ImageCheck = std::function<std::optional<Inspection>(int32_t pid, uint64_t nonce, std::string_view named,
                                                           const Inspection& by_path)>;
// inspect_running_image with the build's credentials: what `fpshim run` and `fpshim report` use.
ImageCheck running_image_check();

// The executable of a hello (its first string, `named`) as the model records it: the name the
// kernel executed joined to the process's `cwd` and resolved by the inspection. `go`: a Go binary.
struct HelloExe {
  std::string exe;
  bool go = false;
  Inspection inspection;  // of `exe` by path, if it was absolute
};
HelloExe exe_of_hello(const wire::Header& h, std::string_view named, const std::string& cwd, const Inspector& inspect);

// A keyed hash of a record's content (all but the flags the collector sets): what tells a
// duplicate of a record from another record that claims its seq.
uint32_t content_hash(uint64_t key, const wire::Header& h, std::span<const wire::Bytes> strings);

class Aggregate final : public RecordSink {
 public:
  // coverage.unmonitored gives the ancestry of this many processes, and only the parent of the others.
  static constexpr size_t kMaxUnmonitoredAncestries = 1000;
  // Summary::excluded lists at most this many (recipe, reason, executable) groups; stats.excluded
  // counts every excluded record.
  static constexpr size_t kMaxExcludedListed = 1000;

  // Without `check`, a hello is judged by the inspection of its path alone.
  Aggregate(const Rules& rules, Stats& stats, Inspector inspector = {}, ImageCheck check = {});

  // Drops a record already seen (same pid, nonce, seq and content), then counts and files it; one
  // that claims the seq of another with other content is counted as conflicting and kept.
  void on_record(const wire::Header& h, std::span<const wire::Bytes> strings) override;
  void on_torn(const wire::Header& h) override;

  // The build's root command, started by fpshim: ancestry walks stop at it. `command` is how it
  // was named; `path` where posix_spawnp found it.
  void set_root(int32_t pid, int32_t ppid, uint64_t started_ns, const std::string& path,
                const std::vector<std::string>& command);
  void set_root_pid(int32_t pid) { tree_.set_root_pid(pid); }
  void set_root_exit(int status, uint64_t end_ns) { tree_.set_root_exit(status, end_ns); }

  const ProcessTree& tree() const { return tree_; }
  const std::vector<RecipeHits>& hits() const { return hits_; }  // by recipe index

  // The fired recipes, the processes, the coverage and this side's share of the stats.
  void summarize(Summary& out);

 private:
  void on_hello(Process& p, const wire::Header& h, std::span<const wire::Bytes> strings);
  void on_access(const Process& p, const wire::Header& h, std::string_view resolved, std::string_view spelled);
  void on_exec(Process& p, const wire::Header& h, std::span<const wire::Bytes> strings);
  ProcessRef ref(const Process& p) const;
  std::vector<ProcessRef> ancestry_refs(const Process& p) const;
  // One recipe's summary: the listed paths (with the weak threshold and why it fired), the folded
  // buckets, the processes that reached them and the excluded accesses, parts that share a
  // RecipeScan (aggregate.cc). Excluded and below-threshold accesses go into `out`.
  struct RecipeScan;
  RecipeSummary summarize_recipe(uint32_t index, Summary& out) const;
  void summarize_paths(RecipeScan& scan, RecipeSummary& rs, Summary& out) const;
  void explain(const RecipeScan& scan, const std::set<std::string_view>& strong, RecipeSummary& rs) const;
  void summarize_excluded(const RecipeScan& scan, Summary& out) const;
  void summarize_folded(RecipeScan& scan, RecipeSummary& rs) const;
  void summarize_reaching_processes(const RecipeScan& scan, RecipeSummary& rs) const;
  void summarize_processes(Summary& out) const;

  const Rules& rules_;
  Stats& stats_;
  Inspector inspect_;
  ImageCheck check_;
  ProcessTree tree_;
  std::vector<RecipeHits> hits_;  // by recipe index
  MatchCache matches_;
  uint64_t content_key_;         // of content_hash, random per collector
  std::vector<EntryRef> fired_;  // scratch: per recipe one record fired, the first entry that matched
};

}  // namespace fpshim
