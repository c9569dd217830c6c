#include "model/builds.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

namespace fpshim {

std::string BuildKey::str() const {
  return build_id != 0 ? fmt::format("{:016x}", build_id) : fmt::format("{}-{}", root_pid, root_nonce);
}

BuildKey build_of(const ProcessTree& tree, const Process& p) {
  if (p.build_id != 0) return BuildKey{p.build_id, 0, 0};
  // Up through parents and the images execs replaced, to the first image of the root process.
  const Process* cur = &p;
  std::set<const Process*> seen{cur};
  for (;;) {
    const Process* up = cur->execed_from ? cur->execed_from : tree.parent_of(*cur);
    if (!up || !seen.insert(up).second) break;
    if (up->build_id != 0) return BuildKey{up->build_id, 0, 0};
    cur = up;
  }
  return BuildKey{0, cur->pid, cur->nonce};
}

std::vector<BuildPart> split_builds(const ProcessTree& tree, const Rules& rules,
                                    const std::vector<RecipeHits>& recipes) {
  std::map<BuildKey, size_t> index;
  std::unordered_map<const Process*, size_t> member;
  std::vector<BuildPart> parts;
  std::vector<const Process*> last_image;  // per part: the newest image of its root
  for (const Process* p : tree.in_start_order()) {
    const BuildKey key = build_of(tree, *p);
    auto [it, fresh] = index.try_emplace(key, parts.size());
    if (fresh) {
      BuildPart part;
      part.key = key;
      part.id = key.str();
      part.build_id = key.build_id;
      part.root = ProcessRef{p->pid, p->known(), p->exe, p->argv, p->cwd};
      part.cwd = p->cwd;
      part.started_ns = p->start_ns;
      parts.push_back(std::move(part));
      last_image.push_back(p);
    }
    BuildPart& part = parts[it->second];
    member[p] = it->second;
    part.processes++;
    part.last_seen_ns = std::max({part.last_seen_ns, p->start_ns, p->ended_ns});
    part.unmonitored += !p->monitored();
    // The root's later images (after exec) carry its end and exit status.
    if (p->pid == part.root.pid && (p == last_image[it->second] || p->execed_from == last_image[it->second]))
      last_image[it->second] = p;
  }
  for (size_t i = 0; i < parts.size(); i++) {
    const Process* last = last_image[i];
    parts[i].ended_ns = last->ended_ns;
    if (last->exit_status >= 0) parts[i].exit_status = last->exit_status;
  }
  // Per build and recipe, the distinct listed paths its processes reached: strong ones, and weak ones
  // of a process (or build) that reached the recipe's threshold or a strong path (model/aggregate).
  std::vector<std::map<size_t, std::set<uint32_t>>> fired(parts.size());
  for (size_t r = 0; r < recipes.size() && r < rules.recipes.size(); r++) {
    const Recipe& recipe = rules.recipes[r];
    const bool per_build = recipe.weak_within == Within::build;
    struct Evidence {
      bool strong = false;
      std::set<uint32_t> weak;
    };
    std::map<std::pair<size_t, const Process*>, Evidence> evidence;  // (part, process or null for the build)
    for (const RecipeHits::PathTally& t : recipes[r].tallies()) {
      auto m = member.find(t.process);
      if (m == member.end()) continue;
      Evidence& e = evidence[{m->second, per_build ? nullptr : t.process}];
      if (t.tally.strong) e.strong = true;
      else e.weak.insert(t.path);
    }
    for (const RecipeHits::PathTally& t : recipes[r].tallies()) {
      auto m = member.find(t.process);
      if (m == member.end()) continue;
      const Evidence& e = evidence[{m->second, per_build ? nullptr : t.process}];
      if (t.tally.strong || e.strong || e.weak.size() >= recipe.weak_sources) fired[m->second][r].insert(t.path);
    }
  }
  for (size_t i = 0; i < parts.size(); i++) {
    for (const auto& [r, paths] : fired[i]) parts[i].recipes.push_back({&rules.recipes[r], paths.size()});
    std::sort(parts[i].recipes.begin(), parts[i].recipes.end(),
              [](const BuildPart::Fired& a, const BuildPart::Fired& b) {
                if (a.recipe->importance != b.recipe->importance) return a.recipe->importance > b.recipe->importance;
                return a.recipe->name < b.recipe->name;
              });
  }
  return parts;
}

void describe_builds(Summary& s, const std::vector<BuildPart>& parts) {
  BuildInfo& b = s.build;
  b.exit_code = -1;
  if (parts.empty()) return;
  const BuildPart& first = parts.front();
  b.id = first.build_id;
  b.command = first.root.argv;
  b.cwd = first.cwd;
  b.started_ns = first.started_ns;
  b.finished_ns = first.ended_ns;
  b.exit_code = first.exit_status.value_or(-1);
  if (b.exit_code > 128) b.signal = b.exit_code - 128;
  if (parts.size() == 1) return;
  for (const BuildPart& p : parts) {
    if (p.started_ns != 0 && p.started_ns < b.started_ns) b.started_ns = p.started_ns;
    b.finished_ns = std::max(b.finished_ns, p.ended_ns);
  }
  s.builds = parts;
}

}  // namespace fpshim
