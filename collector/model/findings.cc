#include "model/findings.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "base/as_text.h"
#include "fpshim/wire.h"
#include "rules/match.h"

namespace fpshim {

namespace {

// Build files a tool's name points at when no argument names a file (make → its Makefile).
struct ToolFile {
  std::string_view tool;
  std::string_view file;
};
constexpr ToolFile kToolFiles[] = {
    {"make", "Makefile"},     {"gmake", "Makefile"},    {"cmake", "CMakeLists.txt"},
    {"npm", "package.json"},  {"yarn", "package.json"}, {"pnpm", "package.json"},
    {"node", "package.json"}, {"pip", "setup.py"},      {"pip3", "setup.py"},
    {"cargo", "Cargo.toml"},  {"go", "go.mod"},         {"ninja", "build.ninja"},
};
// When the ancestry names nothing in the checkout: the first of these that exists, else the last.
constexpr std::string_view kFallbackFiles[] = {"Makefile",       "CMakeLists.txt", "package.json", "setup.py",
                                               "pyproject.toml", "Dockerfile",     "fpshim-build"};
constexpr size_t kMaxScannedBytes = 1 << 20;

std::string basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// `path` (absolute, or relative to `root`) as a path relative to `root` with "." and ".." folded;
// "" if it leaves the root.
std::string inside(const std::string& root, std::string_view path) {
  std::string joined = path.starts_with('/') ? std::string(path) : root + "/" + std::string(path);
  std::vector<std::string_view> parts;
  std::string_view rest = joined;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return "";
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  std::string normal;
  for (std::string_view p : parts) (normal += '/') += p;
  std::string prefix = root == "/" ? "/" : root + "/";
  if (!normal.starts_with(prefix) || normal.size() <= prefix.size()) return "";
  return normal.substr(prefix.size());
}

bool is_source_file(const std::string& root, const std::string& relative) {
  struct stat st;
  std::string full = root + "/" + relative;
  if (stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::ifstream in(full, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return !(in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F');
}

// The line of the file that led to the reads, by the best evidence on it: a path written out,
// else a shell glob that matches one ("/sys/class/net/*/address"), else a program the file started
// or one of its arguments' names as a word ("cat"); the first line of the best kind, 1 if none.
int line_mentioning(const std::string& file, const std::vector<std::string>& paths,
                    const std::vector<std::string>& words) {
  auto is_word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
  auto has_word = [&](const std::string& line, const std::string& word) {
    for (size_t at = line.find(word); at != std::string::npos; at = line.find(word, at + 1))
      if ((at == 0 || !is_word_char(line[at - 1])) &&
          (at + word.size() == line.size() || !is_word_char(line[at + word.size()])))
        return true;
    return false;
  };
  auto has_glob_of = [&](const std::string& line) {
    constexpr std::string_view kSeparators = " \t\"'`$(){}<>|;&=";
    for (size_t start = 0; start < line.size();) {
      size_t end = line.find_first_of(kSeparators, start);
      if (end == std::string::npos) end = line.size();
      std::string token = line.substr(start, end - start);
      start = end + 1;
      if (!token.starts_with('/') || token.find_first_of("*?[") == std::string::npos) continue;
      for (const std::string& path : paths)
        if (fnmatch(token.c_str(), path.c_str(), FNM_PATHNAME) == 0) return true;
    }
    return false;
  };
  std::ifstream in(file, std::ios::binary);
  std::string line;
  size_t read = 0;
  int best_line = 1, best = 3;  // 0 path, 1 glob, 2 word, 3 nothing
  for (int n = 1; best > 0 && read < kMaxScannedBytes && std::getline(in, line); n++) {
    read += line.size() + 1;
    int kind = 3;
    for (const std::string& path : paths)
      if (!path.empty() && line.find(path) != std::string::npos) kind = 0;
    if (kind > 1 && best > 1 && has_glob_of(line)) kind = 1;
    for (size_t w = 0; kind > 2 && best > 2 && w < words.size(); w++)
      if (!words[w].empty() && has_word(line, words[w])) kind = 2;
    if (kind < best) best = kind, best_line = n;
  }
  return best_line;
}

// `arg` as the process meant it: a relative name is relative to the process's working directory.
std::string as_named_by(const ProcessRef& p, const std::string& arg) {
  return arg.starts_with('/') || p.cwd.empty() ? arg : p.cwd + "/" + arg;
}

}  // namespace

// The file in the checkout that the chain names, nearest to the reader first: an argument that is a
// file inside `root` (a script, setup.py), else the build file of a known tool (make: Makefile).
SourceLocation locate(const Finding& f, const std::string& root, const BuildInfo& build) {
  const std::vector<std::string>& command = build.command;
  std::vector<ProcessRef> chain;
  if (!f.processes.empty()) {
    chain.push_back(f.processes.front()->process);
    for (const ProcessRef& a : f.processes.front()->ancestry) chain.push_back(a);
  }
  if (chain.empty() || !chain.back().known || chain.back().argv != command)
    chain.push_back({0, true, "", command, build.cwd});
  std::vector<std::string> needles = f.path_names();
  for (size_t i = 0; i < chain.size(); i++) {
    const ProcessRef& p = chain[i];
    std::string found;
    for (size_t a = 0; a < p.argv.size() && found.empty(); a++) {
      std::string rel = inside(root, as_named_by(p, p.argv[a]));
      // The watched file itself (`cat watched/x` inside the checkout) is what was read, not where.
      const bool read_itself = std::find(needles.begin(), needles.end(), root + "/" + rel) != needles.end();
      if (!rel.empty() && !read_itself && is_source_file(root, rel)) found = rel;
    }
    if (found.empty() && !p.argv.empty()) {
      // A tool's build file in the directory it ran in (inside the checkout), else at the root.
      std::string dir = p.cwd.empty() ? "" : inside(root, p.cwd);
      std::string tool = basename_of(p.argv[0]);
      for (const ToolFile& t : kToolFiles) {
        if (tool != t.tool) continue;
        for (std::string candidate : {dir.empty() ? "" : dir + "/" + std::string(t.file), std::string(t.file)})
          if (found.empty() && !candidate.empty() && is_source_file(root, candidate)) found = candidate;
      }
    }
    if (found.empty()) continue;
    // What the file says that led to the read: the paths, else the programs it started.
    std::vector<std::string> words;
    for (size_t below = 0; below < i; below++)
      for (const std::string& arg : chain[below].argv) words.push_back(basename_of(arg));
    return {found, line_mentioning(root + "/" + found, needles, words), "named by `" + shell_command(p.argv, 60) + "`"};
  }
  for (std::string_view file : kFallbackFiles)
    if (file == kFallbackFiles[std::size(kFallbackFiles) - 1] || is_source_file(root, std::string(file)))
      return {std::string(file), 1, "fallback: the ancestry names no file in the checkout"};
  return {};
}

const MatchEntry* entry_of(const Recipe& recipe, const std::string& path) {
  for (const MatchEntry& e : recipe.match)
    if (path_matches(e, path)) return &e;
  return recipe.match.empty() ? nullptr : &recipe.match.front();
}

namespace {

// The command line a suppression's argv and ancestry patterns are matched against.
std::string command_line(const ProcessRef& p) {
  std::string out;
  for (const std::string& a : p.argv) (out += out.empty() ? "" : " ") += a;
  return out;
}

bool glob(const std::string& pattern, const std::string& text, int flags) {
  return fnmatch(pattern.c_str(), text.c_str(), flags) == 0;
}

Finding new_finding(const Recipe& recipe, const std::string& exe, const MatchEntry* entry) {
  Finding f;
  f.recipe = &recipe;
  f.exe = exe;
  f.entry = entry;
  return f;
}

}  // namespace

std::string describe(const ProcessRef& p, size_t max_arg) {
  if (!p.known) return fmt::format("[pid {}]", p.pid);
  if (p.argv.empty()) return escape_invalid_utf8(p.exe);
  return shell_command(p.argv, max_arg);
}

uint64_t stable_hash(std::initializer_list<std::string_view> parts) {
  uint64_t h = wire::kFnvBasis;
  for (std::string_view part : parts) h = wire::fnv1a("", 1, wire::fnv1a(part.data(), part.size(), h));
  return h;
}

std::vector<std::string> Finding::path_names() const {
  std::vector<std::string> out;
  for (const PathSummary* p : paths) out.push_back(p->path);
  if (folded) out.insert(out.end(), folded->examples.begin(), folded->examples.end());
  return out;
}

std::string Finding::chain(size_t max_arg) const {
  if (processes.empty()) return "processes not listed one by one (folded)";
  const ProcessSummary& first = *processes.front();
  std::string out = describe(first.process, max_arg);
  for (const ProcessRef& a : first.ancestry) out += " <- " + describe(a, max_arg);
  return out;
}

size_t Findings::unsuppressed() const {
  return size_t(std::count_if(items.begin(), items.end(), [](const Finding& f) { return !f.suppressed; }));
}

std::optional<Importance> Findings::worst() const {
  std::optional<Importance> worst;
  for (const Finding& f : items)
    if (!f.suppressed && (!worst || f.importance() > *worst)) worst = f.importance();
  return worst;
}

size_t Findings::unsuppressed_at_or_above(Importance level) const {
  return size_t(std::count_if(items.begin(), items.end(),
                              [level](const Finding& f) { return !f.suppressed && f.importance() >= level; }));
}

bool matches(const Suppression& s, const Finding& f) {
  if (!glob(s.recipe, f.recipe->name, 0)) return false;
  if (s.exe && !glob(*s.exe, f.exe, FNM_PATHNAME)) return false;
  if (!s.paths.empty()) {
    for (const std::string& path : f.path_names()) {
      auto any = [&path](const std::string& pattern) { return glob(pattern, path, FNM_PATHNAME); };
      if (std::none_of(s.paths.begin(), s.paths.end(), any)) return false;
    }
  }
  if (!s.argv && !s.ancestry) return true;
  if (f.processes.empty()) return false;
  for (const ProcessSummary* p : f.processes) {
    if (s.argv && !glob(*s.argv, command_line(p->process), 0)) return false;
    if (s.ancestry) {
      auto named = [&s](const ProcessRef& a) { return glob(*s.ancestry, command_line(a), 0); };
      if (!named(p->process) && std::none_of(p->ancestry.begin(), p->ancestry.end(), named)) return false;
    }
  }
  return true;
}

void suppress(Findings& findings, const Suppressions& suppressions, const std::string& today) {
  findings.suppressions = &suppressions;
  findings.suppression_use.assign(suppressions.entries.size(), {});
  for (size_t e = 0; e < suppressions.entries.size(); e++)
    findings.suppression_use[e].expired = suppressions.entries[e].expired(today);
  for (Finding& f : findings.items) {
    f.suppressed.reset();
    for (size_t e = 0; e < suppressions.entries.size(); e++) {
      const Suppression& s = suppressions.entries[e];
      if (!matches(s, f)) continue;
      SuppressionUse& use = findings.suppression_use[e];
      use.matched++;
      if (use.expired || f.suppressed) continue;
      f.suppressed = Suppressed{e, s.reason};
      use.suppressed++;
    }
  }
}

std::optional<Suppressed> suppression_of(const Finding& f, const Suppressions& suppressions, const std::string& today) {
  for (size_t e = 0; e < suppressions.entries.size(); e++) {
    const Suppression& s = suppressions.entries[e];
    if (!s.expired(today) && matches(s, f)) return Suppressed{e, s.reason};
  }
  return std::nullopt;
}

Findings find(const Summary& summary, const FindingOptions& options) {
  Findings out;
  out.summary = &summary;
  out.source_root = options.source_root.empty() ? summary.build.cwd : options.source_root;
  while (out.source_root.size() > 1 && out.source_root.back() == '/') out.source_root.pop_back();
  for (const RecipeSummary& r : summary.recipes) {
    const Recipe& recipe = *r.recipe;
    std::map<std::string_view, const PathSummary*> by_path;
    for (const PathSummary& p : r.paths) by_path.emplace(p.path, &p);
    // (exe, entry) → finding, in the order the processes are listed
    std::map<std::pair<std::string, const MatchEntry*>, size_t> index;
    std::vector<Finding> found;
    for (const ProcessSummary& ps : r.processes) {
      for (const std::string& path : ps.paths) {
        auto listed = by_path.find(path);
        if (listed == by_path.end()) continue;
        const MatchEntry* entry = entry_of(recipe, path);
        auto [it, fresh] = index.try_emplace({ps.process.exe, entry}, found.size());
        if (fresh) found.push_back(new_finding(recipe, ps.process.exe, entry));
        Finding& f = found[it->second];
        if (std::find(f.paths.begin(), f.paths.end(), listed->second) == f.paths.end())
          f.paths.push_back(listed->second);
        if (std::find(f.processes.begin(), f.processes.end(), &ps) == f.processes.end()) f.processes.push_back(&ps);
      }
    }
    for (const FoldedSummary& fs : r.folded) {
      Finding f = new_finding(recipe, "", fs.entry);
      f.folded = &fs;
      f.count = fs.count;
      f.count_is_lower_bound = fs.count_is_lower_bound;
      f.unverified = fs.unverified > 0;
      f.first_seen_ns = fs.first_seen_ns;
      f.last_seen_ns = fs.last_seen_ns;
      found.push_back(std::move(f));
    }
    for (Finding& f : found) {
      f.because = &r.because;
      for (const PathSummary* p : f.paths) {
        f.count += p->count;
        f.count_is_lower_bound |= p->count_is_lower_bound;
        f.unverified |= p->unverified > 0;
        if (f.first_seen_ns == 0 || (p->first_seen_ns && p->first_seen_ns < f.first_seen_ns))
          f.first_seen_ns = p->first_seen_ns;
        f.last_seen_ns = std::max(f.last_seen_ns, p->last_seen_ns);
      }
      std::sort(f.paths.begin(), f.paths.end(),
                [](const PathSummary* a, const PathSummary* b) { return a->path < b->path; });
      f.fingerprint = fmt::format("{:016x}", stable_hash({recipe.name, f.exe, f.entry ? f.entry->text : ""}));
      f.location = locate(f, out.source_root, summary.build);
      out.items.push_back(std::move(f));
    }
  }
  // Critical first; then by recipe, executable and the entry's place in the recipe.
  auto key = [](const Finding& f) {
    return std::tuple(-int(f.importance()), std::string_view(f.recipe->name), std::string_view(f.exe),
                      f.entry ? f.entry - f.recipe->match.data() : 0);
  };
  std::stable_sort(out.items.begin(), out.items.end(),
                   [&key](const Finding& a, const Finding& b) { return key(a) < key(b); });
  if (options.suppressions) suppress(out, *options.suppressions, options.today.empty() ? local_date() : options.today);
  return out;
}

}  // namespace fpshim
