// The process table and the recipe hits, built from records as they arrive.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "match.h"
#include "record_sink.h"
#include "rules.h"
#include "summary.h"

namespace fpshim {

struct ProcessKey {
  int32_t pid;
  uint64_t nonce;

  bool operator==(const ProcessKey&) const = default;
};

struct ProcessKeyHash {
  size_t operator()(const ProcessKey& k) const { return std::hash<uint64_t>()(k.nonce * 31 + uint32_t(k.pid)); }
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct Process {
  int32_t pid = 0;
  int32_t ppid = 0;
  uint64_t nonce = 0;
  uint64_t start_ns = 0;  // the nonce: when the shim started in the process
  uint64_t end_ns = 0;
  int32_t exit_status = -1;
  bool said_hello = false;
  bool said_bye = false;
  std::string exe;
  std::string cwd;
  std::vector<std::string> argv;
};

class Aggregate final : public RecordSink {
 public:
  Aggregate(const Rules& rules, Stats& stats) : rules_(rules), stats_(stats), hits_(rules.recipes.size()) {}

  void on_record(const wire::Header& h, std::span<const wire::Bytes> strings) override;

  // The build's root command: ancestry walks stop at it.
  void set_root_pid(int32_t pid) { root_pid_ = pid; }

  const Process* find(ProcessKey key) const;
  // Parent first, up to and including the root command's process.
  std::vector<ProcessRef> ancestry(const Process& p) const;
  size_t process_count() const { return processes_.size(); }

  // The fired recipes, the process counts, and this side's share of the stats.
  void summarize(Summary& out) const;

 private:
  static constexpr size_t kMaxSpellings = 8;
  static constexpr size_t kMaxCachedPaths = 1 << 16;

  // One (recipe, path, process).
  struct Tally {
    uint64_t count = 0;
    uint64_t failed = 0;
    uint64_t records = 0;
    uint32_t operations = 0;
    uint64_t first_ns = UINT64_MAX;
    uint64_t last_ns = 0;
    std::vector<int32_t> errors;
    std::vector<std::string> spellings;
  };
  using ByProcess = std::unordered_map<ProcessKey, Tally, ProcessKeyHash>;
  struct RecipeHits {
    StringMap<ByProcess> paths;
  };

  Process& process_for(const wire::Header& h);
  void on_hello(Process& p, const wire::Header& h, std::span<const wire::Bytes> strings);
  void on_access(const Process& p, const wire::Header& h, std::string_view resolved, std::string_view spelled);
  const std::vector<EntryRef>& entries_for(std::string_view path);
  ProcessRef ref(const Process& p) const;
  const Process* parent_of(const Process& p) const;
  bool superseded(const Process& p) const;
  RecipeSummary summarize_recipe(uint32_t index, Stats& stats) const;

  const Rules& rules_;
  Stats& stats_;
  int32_t root_pid_ = 0;
  std::unordered_map<ProcessKey, Process, ProcessKeyHash> processes_;
  std::unordered_map<int32_t, std::vector<ProcessKey>> images_;  // by pid, in arrival order
  std::vector<RecipeHits> hits_;                                  // by recipe index
  StringMap<std::vector<EntryRef>> path_cache_;
  std::vector<uint32_t> fired_;  // scratch: recipes one record fired
};

}  // namespace fpshim
