#include "model/recipe_hits.h"

#include <algorithm>

namespace fpshim {

void RecipeHits::Tally::add(const wire::Header& h, uint64_t n) {
  count += n;
  records++;
  unverified += (h.flags & wire::flag_unverified) != 0;
  operations |= h.op;
  first_ns = std::min(first_ns, h.time_ns);
  last_ns = std::max(last_ns, h.time_ns);
  if (h.result == 0) return;
  failed += n;
  auto it = std::lower_bound(errors.begin(), errors.end(), h.result);
  if (it == errors.end() || *it != h.result) errors.insert(it, h.result);
}

void RecipeHits::add(const Process& p, const wire::Header& h, std::string_view path, std::string_view spelled,
                     uint64_t path_hash, uint32_t entry) {
  const uint64_t count = std::max<uint32_t>(h.count, 1);
  const uint32_t path_index = keep_path(path, path_hash);
  if (path_index == HashIndex::kNone) {
    count_folded_path(fold(p, h, count, entry), path, path_hash);
    return;
  }
  const uint64_t key = mix64(path_hash ^ reinterpret_cast<uintptr_t>(&p));
  uint32_t t = tally_index_.find(
      key, [&](uint32_t i) { return tallies_[i].path == path_index && tallies_[i].process == &p; });
  if (t == HashIndex::kNone) {
    if (tallies_.size() >= kMaxTallies) {
      paths_[path_index].partly_folded = true;
      fold(p, h, count, entry);
      return;
    }
    t = uint32_t(tallies_.size());
    tallies_.push_back(PathTally{path_index, &p, {}});
    tally_index_.insert(key, t);
  }
  Tally& tally = tallies_[t].tally;
  tally.add(h, count);
  tally.strong |= !weak_entry_[entry];
  tally.spellings |= spelling_bit(paths_[path_index], spelled);
}

uint32_t RecipeHits::keep_path(std::string_view path, uint64_t path_hash) {
  uint32_t i = path_index_.find(path_hash, [&](uint32_t k) { return paths_[k].path == path; });
  if (i != HashIndex::kNone) return i;
  if (paths_.size() >= kMaxPaths || path_bytes_ + path.size() > kMaxPathBytes) return HashIndex::kNone;
  i = uint32_t(paths_.size());
  paths_.push_back(KeptPath{std::string(path), {}, false});
  path_bytes_ += path.size();
  path_index_.insert(path_hash, i);
  return i;
}

uint32_t RecipeHits::spelling_bit(KeptPath& kept, std::string_view spelled) {
  for (size_t i = 0; i < kept.spellings.size(); i++)
    if (kept.spellings[i] == spelled) return 1u << i;
  if (kept.spellings.size() >= kMaxSpellings || path_bytes_ + spelled.size() > kMaxPathBytes) return 0;
  kept.spellings.emplace_back(spelled);
  path_bytes_ += spelled.size();
  return 1u << (kept.spellings.size() - 1);
}

RecipeHits::Bucket& RecipeHits::bucket(uint32_t entry) {
  uint32_t& index = bucket_of_entry_[entry];
  if (index == kNoBucket) {
    index = uint32_t(buckets_.size());
    buckets_.emplace_back().entry = entry;
  }
  return buckets_[index];
}

RecipeHits::Bucket& RecipeHits::fold(const Process& p, const wire::Header& h, uint64_t count, uint32_t entry) {
  Bucket& b = bucket(entry);
  b.by_process[&p].add(h, count);
  return b;
}

void RecipeHits::count_folded_path(Bucket& b, std::string_view path, uint64_t path_hash) {
  b.unlisted_records++;
  b.estimate.add(path_hash);
  switch (folded_.insert(mix64(path_hash + b.entry))) {
    case BoundedHashSet::Insert::fresh:
      b.exact_paths++;
      if (b.examples.size() < kFoldedExamples) b.examples.emplace_back(path);
      break;
    case BoundedHashSet::Insert::present: break;
    case BoundedHashSet::Insert::full: b.paths_exact = false; break;
  }
}

}  // namespace fpshim
