// What a run found, in the form both reports are written from.
#pragma once

#include <cstdint>
#include <compare>
#include <optional>
#include <string>
#include <vector>

#include "ingest/stats.h"
#include "rules/rules.h"
#include "inspect/unmonitored.h"

namespace fpshim {

struct ProcessRef {
  int32_t pid = 0;
  bool known = false;  // it said hello, so exe and argv are known
  std::string exe;
  std::vector<std::string> argv;
  std::string cwd;  // its working directory when it started, where it said hello
};

struct PathSummary {
  std::string path;
  uint64_t count = 0;
  bool count_is_lower_bound = false;
  uint64_t failed = 0;
  std::vector<int> errors;  // errno values, ascending
  uint32_t operations = 0;  // wire::Op bits
  std::vector<std::string> spellings;
  uint64_t first_seen_ns = 0;
  uint64_t last_seen_ns = 0;
  uint64_t unverified = 0;  // records that came from files the build can write: the kernel did not check their pid
};

// The accesses that fired a recipe through one match entry but are not listed path by path: the
// recipe had reached its limit of distinct paths (or of path-process pairs; see RecipeHits).
struct FoldedSummary {
  const MatchEntry* entry = nullptr;
  uint32_t entry_index = 0;           // in Recipe::match
  uint64_t paths = 0;                 // distinct paths folded that are not listed in RecipeSummary::paths
  bool paths_exact = true;            // false: `paths` is an estimate (about 2% off)
  std::vector<std::string> examples;  // a few of those paths, sorted
  uint64_t records = 0;
  uint64_t count = 0;
  bool count_is_lower_bound = false;
  uint64_t failed = 0;
  std::vector<int> errors;  // errno values, ascending
  uint32_t operations = 0;  // wire::Op bits
  uint64_t processes = 0;
  uint64_t first_seen_ns = 0;
  uint64_t last_seen_ns = 0;
  uint64_t unverified = 0;  // records that came from files the build can write
};

struct ProcessSummary {
  ProcessRef process;
  std::vector<std::string> paths;    // the recipe's listed paths this process reached (not the folded ones)
  std::vector<ProcessRef> ancestry;  // parent first, up to the build's root command
};

// Why a recipe fired: its strong sources, or the weak ones of a process (or the whole build) that
// reached the recipe's threshold (Recipe::weak_sources), in the words every writer shows.
struct FiredBecause {
  static constexpr size_t kMaxListed = 10;  // paths (and weak groups) named; the rest counted
  uint64_t strong_paths = 0;                // distinct strong paths
  std::vector<std::string> strong;          // the first kMaxListed of them, sorted
  struct WeakGroup {
    std::optional<ProcessRef> process;  // the process that reached the threshold (within "process")
    uint64_t paths = 0;                 // its distinct weak paths
    std::vector<std::string> examples;  // the first kMaxListed of them, sorted
  };
  std::vector<WeakGroup> weak;  // at most kMaxListed
  uint64_t weak_groups = 0;     // all of them
  uint64_t folded_paths = 0;    // past the recipe's limits: counted without the threshold
  std::string text;             // "1 strong source: /etc/machine-id"
};

struct RecipeSummary {
  const Recipe* recipe = nullptr;
  FiredBecause because;
  uint64_t hits = 0;
  std::vector<PathSummary> paths;
  std::vector<FoldedSummary> folded;  // by entry index
  std::vector<ProcessSummary> processes;
  uint64_t first_seen_ns = 0;
  uint64_t last_seen_ns = 0;
};

// Accesses a recipe matched but an exclusion took out (rules.json `exclude`, with its reason), by
// recipe, reason and executable: listed so that nothing is dropped in silence.
struct ExcludedSummary {
  static constexpr size_t kMaxExamples = 5;
  const Recipe* recipe = nullptr;
  std::string reason;
  std::string exe;
  uint64_t paths = 0;                 // distinct listed paths
  std::vector<std::string> examples;  // the first kMaxExamples of them, sorted
  uint64_t count = 0;
  uint64_t processes = 0;
};

// Weak accesses of a recipe that are no finding: their process (or build) reached neither the
// recipe's number of weak sources nor a strong one. Counted, with examples.
struct BelowThreshold {
  static constexpr size_t kMaxExamples = 5;
  const Recipe* recipe = nullptr;
  uint64_t paths = 0;
  std::vector<std::string> examples;  // sorted
  uint64_t count = 0;
  uint64_t processes = 0;
};

// One process image of the build (exec keeps the pid but starts a new image).
struct ProcessEntry {
  ProcessRef process;
  int32_t ppid = 0;
  uint64_t started_ns = 0;
  uint64_t ended_ns = 0;  // 0 if unknown
  std::optional<int> exit_status;
  Unmonitored reason = Unmonitored::none;  // none: monitored
  std::optional<std::string> execed_from;  // the exe of the image this one replaced
};

struct UnmonitoredProcess {
  ProcessRef process;
  Unmonitored reason = Unmonitored::none;
  std::string detail;
  std::optional<ProcessRef> parent;
  std::vector<ProcessRef> ancestry;  // parent first, up to the build's root command
};

struct Coverage {
  uint64_t monitored = 0;
  std::vector<UnmonitoredProcess> unmonitored;  // in start order
};

struct BuildInfo {
  uint64_t id = 0;
  std::vector<std::string> command;
  std::string cwd;
  uint64_t started_ns = 0;
  uint64_t finished_ns = 0;
  int exit_code = 0;          // -1 if unknown (fpshim's supervisor went away; a spool root that sent no bye)
  std::optional<int> signal;  // the signal the command died of
  bool linger_expired = false;
  std::vector<ProcessRef> still_running;  // at the linger cutoff
  bool supervisor_gone = false;           // `fpshim run` went away before it said how the build ended
};

// What names a build: its FPSHIM_BUILD id, or (id 0) the first image of its root process.
struct BuildKey {
  uint64_t build_id = 0;
  int32_t root_pid = 0;
  uint64_t root_nonce = 0;

  bool operator==(const BuildKey&) const = default;
  auto operator<=>(const BuildKey&) const = default;
  // 16 hex digits of the build id, else "<pid>-<nonce>" of the root's first image.
  std::string str() const;
};

// One build among several in a spool (model/builds.h): `fpshim report` lists each.
struct BuildPart {
  BuildKey key;
  std::string id;         // key.str()
  uint64_t build_id = 0;  // FPSHIM_BUILD's id, 0 if the processes carried none
  ProcessRef root;        // its root command
  std::string cwd;
  uint64_t started_ns = 0;
  uint64_t ended_ns = 0;           // 0: unknown (a root that only said hello sends no bye, or still runs)
  uint64_t last_seen_ns = 0;       // the latest start or end of any of its processes
  std::optional<int> exit_status;  // the root's
  uint64_t processes = 0;
  uint64_t unmonitored = 0;
  struct Fired {
    const Recipe* recipe = nullptr;
    uint64_t paths = 0;  // distinct listed paths its processes reached
  };
  std::vector<Fired> recipes;  // by importance, then name
};

struct Summary {
  BuildInfo build;
  std::vector<RecipeSummary> recipes;   // fired ones, by importance (critical first), then name
  uint64_t processes_seen = 0;          // distinct processes that sent any record
  std::vector<ProcessEntry> processes;  // every process image, in start order
  Coverage coverage;
  Stats stats;
  std::vector<ExcludedSummary> excluded;        // by importance and name of the recipe, then reason, exe
  std::vector<BelowThreshold> below_threshold;  // by importance and name of the recipe
  std::vector<BuildPart> builds;                // `fpshim report` of a spool with several builds; empty otherwise
  std::vector<Tampering> tampering;             // what the collector saw the build do to its records, in time order
};

}  // namespace fpshim
