// The builds in a spool: a spool shared by many builds (Dockerfile RUN steps, a CI job's steps, a
// runner's jobs) holds several process trees. A build is every process that carried the same
// FPSHIM_BUILD id, else one process tree: a root is a monitored process whose parent was not
// monitored (a RUN step's `/bin/sh -c`, a CI step's shell), with the images its execs started.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/process_tree.h"
#include "model/recipe_hits.h"
#include "model/summary.h"

namespace fpshim {

// The build `p` belongs to.
BuildKey build_of(const ProcessTree& tree, const Process& p);

// Every build in the tree, in start order, with the recipes each one fired (distinct listed paths
// reached by its processes, per recipe). `recipes[i]` and `rules.recipes[i]` go together.
std::vector<BuildPart> split_builds(const ProcessTree& tree, const Rules& rules,
                                    const std::vector<RecipeHits>& recipes);

// What a report says of the build made of `parts` (in start order): the first part's root command,
// cwd and status; from the earliest start to the latest end; and, when there are several, each listed
// in `s.builds`.
void describe_builds(Summary& s, const std::vector<BuildPart>& parts);

}  // namespace fpshim
