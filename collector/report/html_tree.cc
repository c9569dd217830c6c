#include "report/html_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "inspect/unmonitored.h"
#include "report/html.h"
#include "report/phrases.h"

namespace fpshim {

namespace {

constexpr size_t kMaxTreeNodes = 600;          // process images drawn in the tree
constexpr size_t kMaxTreeNodesForHits = 1200;  // ... when the ones that reached paths need more room
constexpr size_t kMaxTouchedPerProcess = 12;   // paths listed beside a process in the tree
constexpr size_t kIndentLevels = 12;           // deeper levels of the tree are drawn without indent

}  // namespace

// The build's process images as a tree: an exec'd image under the one it replaced, a child under
// the image of its parent that was current when it started. Capped: the images that reached watched
// paths or ran unmonitored, with their ancestors, first; then the others in start order.
void write_process_tree(const Summary& s, std::string& out) {
  const std::vector<ProcessEntry>& ps = s.processes;
  const size_t n = ps.size();
  std::vector<long> parent(n, -1);
  std::vector<bool> exec(n, false);
  std::map<int32_t, size_t> latest;
  for (size_t i = 0; i < n; i++) {
    auto same = latest.find(ps[i].process.pid);
    if (ps[i].execed_from && same != latest.end()) {
      parent[i] = long(same->second), exec[i] = true;
    } else if (auto up = latest.find(ps[i].ppid); up != latest.end() && up->second != i) {
      parent[i] = long(up->second);
    }
    latest[ps[i].process.pid] = i;
  }

  // What each image reached: (path, recipe) pairs, matched by pid and command line.
  std::multimap<int32_t, size_t> by_pid;
  for (size_t i = 0; i < n; i++) by_pid.emplace(ps[i].process.pid, i);
  struct Touched {
    std::vector<std::pair<std::string, std::string>> paths;  // (path, the recipes it fired), first reach first
    std::map<std::string, size_t> index;
  };
  std::map<size_t, Touched> touched;
  for (const RecipeSummary& r : s.recipes) {
    for (const ProcessSummary& p : r.processes) {
      auto [lo, hi] = by_pid.equal_range(p.process.pid);
      if (lo == hi) continue;
      size_t match = std::prev(hi)->second;
      for (auto it = lo; it != hi; ++it)
        if (ps[it->second].process.exe == p.process.exe && ps[it->second].process.argv == p.process.argv)
          match = it->second;
      Touched& t = touched[match];
      for (const std::string& path : p.paths) {
        auto [it, fresh] = t.index.try_emplace(path, t.paths.size());
        if (fresh) t.paths.emplace_back(path, r.recipe->name);
        else t.paths[it->second].second += ", " + r.recipe->name;
      }
    }
  }

  std::vector<bool> keep(n, false);
  size_t kept = 0;
  auto keep_with_ancestors = [&](size_t i, size_t budget) {
    std::vector<size_t> need;
    for (long k = long(i); k >= 0 && !keep[size_t(k)]; k = parent[size_t(k)]) need.push_back(size_t(k));
    if (kept + need.size() > budget) return;
    for (size_t k : need) keep[k] = true;
    kept += need.size();
  };
  for (const auto& [i, paths] : touched) keep_with_ancestors(i, kMaxTreeNodesForHits);
  for (size_t i = 0; i < n; i++)
    if (ps[i].reason != Unmonitored::none) keep_with_ancestors(i, kMaxTreeNodesForHits);
  for (size_t i = 0; i < n && kept < kMaxTreeNodes; i++)
    if (!keep[i] && (parent[i] < 0 || keep[size_t(parent[i])])) keep[i] = true, kept++;

  std::vector<std::vector<size_t>> children(n);
  std::vector<size_t> hidden(n, 0), roots;
  size_t hidden_roots = 0;
  for (size_t i = 0; i < n; i++) {
    if (parent[i] < 0) {
      if (keep[i]) roots.push_back(i);
      else hidden_roots++;
    } else if (keep[i]) children[size_t(parent[i])].push_back(i);
    else if (keep[size_t(parent[i])]) hidden[size_t(parent[i])]++;
  }

  out += "<section id=\"tree\"><h2>Process tree</h2>\n";
  out += fmt::format("<p>{} of the build ({} monitored, {} unmonitored){}.</p>\n",
                     plural(n, "process image", "process images"), s.coverage.monitored, s.coverage.unmonitored.size(),
                     kept < n ? fmt::format("; {} drawn, those that reached watched paths or ran unmonitored first, "
                                            "{} left out (see the JSON report)",
                                            kept, n - kept)
                              : std::string());
  out +=
      "<p class=\"legend\"><span class=\"mark\">&#9673; reached watched paths</span> "
      "<span class=\"unmon\"><span class=\"mark\">&#9675; unmonitored</span></span></p>\n";
  if (n == 0) out += "<p>No process said hello.</p>\n";

  auto node = [&](size_t i, size_t depth) {
    const ProcessEntry& e = ps[i];
    auto hit = touched.find(i);
    std::string cls = hit != touched.end() ? "hit" : e.reason != Unmonitored::none ? "unmon" : "";
    out += cls.empty() ? "<li>" : "<li class=\"" + cls + "\">";
    out += "<span class=\"node\">";
    if (cls == "hit") out += "<span class=\"mark\" title=\"reached watched paths\">&#9673;</span> ";
    if (cls == "unmon") out += "<span class=\"mark\" title=\"unmonitored\">&#9675;</span> ";
    if (exec[i]) out += "<span class=\"muted\">exec</span> ";
    out += process_html(e.process);
    if (e.exit_status) out += fmt::format(" <span class=\"muted\">exit {}</span>", *e.exit_status);
    if (e.reason != Unmonitored::none)
      out += fmt::format(" <span class=\"muted\">unmonitored: {}</span>", unmonitored_name(e.reason));
    if (depth > kIndentLevels) out += fmt::format(" <span class=\"muted\">(depth {})</span>", depth);
    out += "</span>";
    if (hit != touched.end()) {
      out += "<ul class=\"touched\">";
      const auto& paths = hit->second.paths;
      for (size_t k = 0; k < paths.size() && k < kMaxTouchedPerProcess; k++)
        out += fmt::format("<li><code>{}</code> <span class=\"muted\">{}</span></li>", html_escape(paths[k].first),
                           html_escape(paths[k].second));
      if (paths.size() > kMaxTouchedPerProcess)
        out += fmt::format("<li class=\"muted\">... and {} more</li>", paths.size() - kMaxTouchedPerProcess);
      out += "</ul>";
    }
  };
  auto more = [&](size_t count) {
    if (count)
      out += fmt::format("<li class=\"muted\">... and {} not drawn</li>\n", plural(count, "process", "processes"));
  };

  // Depth-first without recursion: a build can nest deeper than the stack would like.
  out += "<ul class=\"tree\">\n";
  struct Frame {
    size_t node;
    size_t next = 0;
  };
  for (size_t root : roots) {
    std::vector<Frame> stack;
    node(root, 0);
    stack.push_back({root});
    while (!stack.empty()) {
      Frame& top = stack.back();
      const std::vector<size_t>& kids = children[top.node];
      if (top.next == 0 && (!kids.empty() || hidden[top.node]))
        out += stack.size() > kIndentLevels ? "\n<ul class=\"flat\">\n" : "\n<ul>\n";
      if (top.next < kids.size()) {
        size_t child = kids[top.next++];
        node(child, stack.size());
        stack.push_back({child});
        continue;
      }
      if (!kids.empty() || hidden[top.node]) {
        more(hidden[top.node]);
        out += "</ul>";
      }
      out += "</li>\n";
      stack.pop_back();
    }
  }
  more(hidden_roots);
  out += "</ul>\n</section>\n";
}

}  // namespace fpshim
