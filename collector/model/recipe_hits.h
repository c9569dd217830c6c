// The accesses that fired one recipe. Each distinct path is kept with a tally per process, within
// fixed limits; past them, accesses are folded into one bucket per match entry that keeps counts, a
// count of the distinct paths, and a few examples. Memory stays bounded whatever the build does.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fpshim/wire.h"
#include "model/hashing.h"
#include "model/process_tree.h"
#include "rules/rules.h"

namespace fpshim {

class RecipeHits {
 public:
  // Distinct paths listed one by one. A build that fingerprints reaches tens to a few hundred
  // watched paths (all of DMI plus every attribute of a dozen interfaces is about 300), so any such
  // build is listed in full, while a walk of /sys or a stream of generated names stops growing
  // here: about 1 MiB of memory and 2 MB of JSON per recipe.
  static constexpr size_t kMaxPaths = 4096;
  // Bytes of those paths and their spellings (a path may be up to 64 KiB long).
  static constexpr size_t kMaxPathBytes = size_t(4) << 20;
  // (path, process) tallies, about 100 bytes each: 10,000 test programs that each read six DMI
  // files still fit.
  static constexpr size_t kMaxTallies = size_t(1) << 16;
  // Distinct folded paths are counted exactly up to this many per recipe (a set of 64-bit hashes,
  // 1 MiB), and estimated beyond.
  static constexpr size_t kMaxExactFolded = size_t(1) << 16;
  static constexpr size_t kFoldedExamples = 5;
  static constexpr size_t kMaxSpellings = 8;

  // One (path, process) or one (fold bucket, process).
  struct Tally {
    uint64_t count = 0;
    uint64_t failed = 0;
    uint64_t records = 0;
    uint64_t first_ns = UINT64_MAX;
    uint64_t last_ns = 0;
    uint32_t operations = 0;
    uint32_t spellings = 0;       // bit i: the process spelled the path as KeptPath::spellings[i]
    uint64_t unverified = 0;      // records that came from a file, not the socket (wire::flag_unverified)
    bool strong = false;          // some access came through a strong entry (MatchEntry::strength)
    std::vector<int32_t> errors;  // ascending

    void add(const wire::Header& h, uint64_t count);
  };

  struct KeptPath {
    std::string path;
    std::vector<std::string> spellings;  // the first kMaxSpellings distinct ones
    bool partly_folded = false;          // too many (path, process) pairs: some records are in a bucket
  };

  struct PathTally {
    uint32_t path;  // index into paths()
    const Process* process;
    Tally tally;
  };

  struct Bucket {
    uint32_t entry;  // index into Recipe::match
    std::unordered_map<const Process*, Tally> by_process;
    std::vector<std::string> examples;  // the first kFoldedExamples distinct paths folded
    uint64_t unlisted_records = 0;      // records of paths not listed one by one
    uint64_t exact_paths = 0;           // distinct paths among them, while paths_exact
    bool paths_exact = true;
    DistinctEstimate estimate;

    // Distinct paths folded here that are not listed one by one.
    uint64_t paths() const {
      return paths_exact ? exact_paths : std::clamp(estimate.estimate(), exact_paths, unlisted_records);
    }
  };

  explicit RecipeHits(const Recipe& recipe) : bucket_of_entry_(recipe.match.size(), kNoBucket) {
    for (const MatchEntry& e : recipe.match) weak_entry_.push_back(e.strength == Strength::weak);
  }

  // An access that fired the recipe through `entry`, the first of its entries that matched;
  // `path_hash` is hash_bytes(path).
  void add(const Process& p, const wire::Header& h, std::string_view path, std::string_view spelled, uint64_t path_hash,
           uint32_t entry);

  bool empty() const { return paths_.empty() && buckets_.empty(); }
  const std::vector<KeptPath>& paths() const { return paths_; }
  const std::vector<PathTally>& tallies() const { return tallies_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  static constexpr uint32_t kNoBucket = UINT32_MAX;

  uint32_t keep_path(std::string_view path, uint64_t path_hash);
  uint32_t spelling_bit(KeptPath& kept, std::string_view spelled);
  Bucket& bucket(uint32_t entry);
  Bucket& fold(const Process& p, const wire::Header& h, uint64_t count, uint32_t entry);
  void count_folded_path(Bucket& b, std::string_view path, uint64_t path_hash);

  std::vector<KeptPath> paths_;
  HashIndex path_index_;  // by path hash
  size_t path_bytes_ = 0;
  std::vector<PathTally> tallies_;
  HashIndex tally_index_;  // by (path, process)
  std::vector<Bucket> buckets_;
  std::vector<uint32_t> bucket_of_entry_;
  std::vector<bool> weak_entry_;            // by entry index
  BoundedHashSet folded_{kMaxExactFolded};  // (entry, path) hashes
};

}  // namespace fpshim
