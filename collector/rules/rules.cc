#include "rules/rules.h"

#include <algorithm>
#include <bit>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "fpshim/wire.h"
#include "rules/json_checker.h"

namespace fpshim {

using nlohmann::json;

namespace {

constexpr std::string_view kOperationNames[] = {"read", "write", "list", "stat", "exec", "link", "connect"};
static_assert(std::size(kOperationNames) == std::bit_width(unsigned(kAllOperations)), "a name for every wire::Op");
constexpr std::string_view kImportanceNames[] = {"low", "medium", "high", "critical"};
constexpr std::string_view kMatchKindNames[] = {"path", "subtree", "basename", "glob", "regex"};
constexpr std::string_view kExcludeKindNames[] = {"exe", "exe_glob", "exe_regex"};
constexpr std::string_view kProcPidNames[] = {"any", "not_self", "not_self_or_descendant"};
constexpr std::string_view kStrengthNames[] = {"strong", "weak"};
constexpr std::string_view kWithinNames[] = {"process", "build"};
constexpr int64_t kMaxWeakSources = 1000;
static_assert(std::size(kMatchKindNames) == size_t(MatchKind::regex) + 1, "a name for every MatchKind, in order");
static_assert(std::size(kExcludeKindNames) == size_t(ExcludeKind::exe_regex) + 1,
              "a name for every ExcludeKind, in order");

// The fields an entry may have: its kind names, then the fields every kind shares.
template <size_t N>
std::vector<std::string_view> kinds_and(const std::string_view (&kinds)[N],
                                        std::initializer_list<std::string_view> shared) {
  std::vector<std::string_view> fields(std::begin(kinds), std::end(kinds));
  fields.insert(fields.end(), shared);
  return fields;
}


template <size_t N>
std::optional<size_t> index_of(const std::string_view (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; i++)
    if (names[i] == s) return i;
  return std::nullopt;
}

bool is_identifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// The anchor an entry begins with: '~' for "~/..." (a regex after its optional '^'), a path in any
// home directory; '.' for "./..." (not a regex, where '.' is any character), a path in the build's
// working directory; 0 for none.
char anchor_of(MatchKind kind, std::string_view text) {
  if (kind == MatchKind::basename) return 0;
  if (kind == MatchKind::regex) return strip_anchors(text).starts_with("~/") ? '~' : 0;
  if (text.starts_with("~/")) return '~';
  return text.starts_with("./") ? '.' : 0;
}

bool has_dotdot_component(std::string_view path) {
  for (size_t at = path.find(".."); at != std::string_view::npos; at = path.find("..", at + 1))
    if ((at == 0 || path[at - 1] == '/') && (at + 2 == path.size() || path[at + 2] == '/')) return true;
  return false;
}

bool under_proc_self(std::string_view path) {
  for (std::string_view dir : {"/proc/self", "/proc/thread-self"})
    if (path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/')) return true;
  return false;
}

// Walks the parsed document, turning it into Rules and reporting every problem with its position.
class Checker : public JsonChecker {
 public:
  Checker(std::string_view text, std::string_view file, const SourceJson& src, std::vector<RulesError>& errors,
          std::vector<std::string> homes, std::string workdir)
      : JsonChecker(text, file, src, errors), homes_(std::move(homes)), workdir_(std::move(workdir)) {}

  Rules top(const json& doc) {
    Rules rules;
    const json* recipes = schema_and_list(doc, "the rules file", "recipes");
    if (!recipes) return rules;
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < recipes->size(); i++) {
      const json& recipe = (*recipes)[i];
      std::string ptr = pointer_append("/recipes", i);
      if (recipe.is_object() && recipe.contains("name") && recipe["name"].is_string()) {
        auto [it, fresh] = names.emplace(recipe["name"].get<std::string>(), src_.value_offset(ptr + "/name"));
        if (!fresh) {
          LineColumn first = line_column(text_, it->second);
          value_error(ptr + "/name", fmt::format("duplicate recipe name \"{}\" (first defined at {}:{})", it->first,
                                                 first.line, first.column));
        }
      }
      if (auto parsed = parse_recipe(recipe, ptr)) rules.recipes.push_back(std::move(*parsed));
    }
    return rules;
  }

 private:
  std::vector<std::string> homes_;
  std::string workdir_;  // absolute, not "/"; empty if unknown

  std::optional<uint32_t> operations(const json& v, const std::string& ptr) {
    if (!is(v, json::value_t::array, ptr, "\"operations\"", "an array")) return std::nullopt;
    if (v.empty()) {
      value_error(ptr, "\"operations\" must not be empty");
      return std::nullopt;
    }
    uint32_t ops = 0;
    bool ok = true;
    for (size_t i = 0; i < v.size(); i++) {
      std::string item = pointer_append(ptr, i);
      if (!is(v[i], json::value_t::string, item, "an operation", "a string")) {
        ok = false;
        continue;
      }
      auto index = index_of(kOperationNames, v[i].get<std::string>());
      if (!index) {
        value_error(item, fmt::format("unknown operation \"{}\" (expected one of {})", v[i].get<std::string>(),
                                      join_names(kOperationNames)));
        ok = false;
        continue;
      }
      ops |= 1u << *index;
    }
    return ok ? std::optional(ops) : std::nullopt;
  }

  std::optional<MitreRef> mitre_ref(const json& obj, const std::string& ptr, std::string_view name) {
    const json* v = field(obj, ptr, name, "\"mitre\"");
    if (!v) return std::nullopt;
    return mitre_object(*v, pointer_append(ptr, name), fmt::format("\"{}\"", name));
  }

  std::optional<MitreRef> mitre_object(const json& v, const std::string& sub, const std::string& what) {
    if (!is(v, json::value_t::object, sub, what, "an object")) return std::nullopt;
    fields(v, sub, what, {"id", "name"});
    auto id = string_field(v, sub, "id", what);
    auto title = string_field(v, sub, "name", what);
    if (!id || !title) return std::nullopt;
    return MitreRef{*id, *title};
  }

  // "technique": one {"id", "name"} object, or a non-empty array of them (the main one first).
  std::vector<MitreRef> techniques(const json& mitre, const std::string& ptr) {
    const json* v = field(mitre, ptr, "technique", "\"mitre\"");
    std::string sub = ptr + "/technique";
    if (!v) return {};
    if (!v->is_array()) {
      if (!v->is_object()) {
        value_error(sub, "\"technique\" must be an object or an array of objects");
        return {};
      }
      auto one = mitre_object(*v, sub, "\"technique\"");
      return one ? std::vector<MitreRef>{*one} : std::vector<MitreRef>{};
    }
    if (v->empty()) value_error(sub, "\"technique\" must not be an empty array");
    std::vector<MitreRef> out;
    for (size_t i = 0; i < v->size(); i++)
      if (auto t = mitre_object((*v)[i], pointer_append(sub, i), "a technique")) out.push_back(std::move(*t));
    return out;
  }

  // "weak": {"sources": N, "within": "process" | "build"}, when the recipe's weak entries fire it.
  void weak_rule(const json& v, const std::string& ptr, Recipe& r) {
    if (!is(v, json::value_t::object, ptr, "\"weak\"", "an object")) return;
    fields(v, ptr, "\"weak\"", {"sources", "within"});
    if (const json* n = field(v, ptr, "sources", "\"weak\"")) {
      if (!n->is_number_integer() || n->get<int64_t>() < 1 || n->get<int64_t>() > kMaxWeakSources)
        value_error(ptr + "/sources", fmt::format("\"sources\" must be a whole number from 1 to {}", kMaxWeakSources));
      else r.weak_sources = uint32_t(n->get<int64_t>());
    }
    if (auto within = string_field(v, ptr, "within", "\"weak\"")) {
      if (auto index = index_of(kWithinNames, *within)) r.weak_within = Within(*index);
      else
        value_error(ptr + "/within",
                    fmt::format("\"within\" must be one of {}, not \"{}\"", join_names(kWithinNames), *within));
    }
  }

  std::optional<Recipe> parse_recipe(const json& v, const std::string& ptr) {
    if (!is(v, json::value_t::object, ptr, "a recipe", "an object")) return std::nullopt;
    fields(v, ptr, "recipe",
           {"name", "enabled", "title", "description", "importance", "mitre", "guidance", "operations", "match",
            "exclude", "weak"});
    size_t errors_before = errors_.size();
    Recipe r;
    if (auto name = string_field(v, ptr, "name", "recipe")) {
      r.name = *name;
      if (!is_identifier(r.name))
        value_error(ptr + "/name", fmt::format("recipe name \"{}\" must match [a-z0-9_]+", r.name));
    }
    if (const json* enabled = field(v, ptr, "enabled", "recipe", false))
      if (is(*enabled, json::value_t::boolean, ptr + "/enabled", "\"enabled\"", "a boolean"))
        r.enabled = enabled->get<bool>();
    r.title = string_field(v, ptr, "title", "recipe").value_or("");
    r.description = string_field(v, ptr, "description", "recipe").value_or("");
    if (auto importance = string_field(v, ptr, "importance", "recipe")) {
      if (auto index = index_of(kImportanceNames, *importance)) r.importance = Importance(*index);
      else
        value_error(ptr + "/importance",
                    fmt::format("importance must be one of {}, not \"{}\"", join_names(kImportanceNames), *importance));
    }
    if (const json* mitre = field(v, ptr, "mitre", "recipe");
        mitre && is(*mitre, json::value_t::object, ptr + "/mitre", "\"mitre\"", "an object")) {
      fields(*mitre, ptr + "/mitre", "\"mitre\"", {"tactic", "technique"});
      r.tactic = mitre_ref(*mitre, ptr + "/mitre", "tactic").value_or(MitreRef{});
      r.techniques = techniques(*mitre, ptr + "/mitre");
      r.technique = r.techniques.empty() ? MitreRef{} : r.techniques.front();
    }
    if (const json* g = field(v, ptr, "guidance", "recipe");
        g && is(*g, json::value_t::object, ptr + "/guidance", "\"guidance\"", "an object")) {
      std::string gp = ptr + "/guidance";
      fields(*g, gp, "\"guidance\"", {"ci", "staging", "production"});
      r.guidance.ci = string_field(*g, gp, "ci", "\"guidance\"").value_or("");
      r.guidance.staging = string_field(*g, gp, "staging", "\"guidance\"").value_or("");
      r.guidance.production = string_field(*g, gp, "production", "\"guidance\"").value_or("");
    }
    if (const json* ops = field(v, ptr, "operations", "recipe", false))
      r.operations = operations(*ops, ptr + "/operations").value_or(kAllOperations);
    if (const json* match = field(v, ptr, "match", "recipe");
        match && is(*match, json::value_t::array, ptr + "/match", "\"match\"", "an array")) {
      if (match->empty()) value_error(ptr + "/match", "\"match\" must not be empty");
      for (size_t i = 0; i < match->size(); i++)
        if (auto entry = match_entry((*match)[i], pointer_append(ptr + "/match", i), r.operations))
          r.match.push_back(std::move(*entry));
    }
    if (const json* exclude = field(v, ptr, "exclude", "recipe", false);
        exclude && is(*exclude, json::value_t::array, ptr + "/exclude", "\"exclude\"", "an array")) {
      for (size_t i = 0; i < exclude->size(); i++)
        if (auto entry = exclusion((*exclude)[i], pointer_append(ptr + "/exclude", i)))
          r.exclude.push_back(std::move(*entry));
    }
    if (const json* weak = field(v, ptr, "weak", "recipe", false)) weak_rule(*weak, ptr + "/weak", r);
    if (errors_.size() != errors_before) return std::nullopt;
    return r;
  }

  // Finds the one kind field of a match or exclude entry; reports none or several.
  // A missing kind is not reported when an unknown field (likely a misspelt kind) already was.
  template <size_t N>
  std::optional<size_t> kind_of(const json& v, const std::string& ptr, std::string_view what,
                                const std::string_view (&kinds)[N], bool had_unknown_fields) {
    std::optional<size_t> found;
    for (size_t k = 0; k < N; k++) {
      if (!v.contains(kinds[k])) continue;
      if (found) {
        error_at(src_.key_offset(pointer_append(ptr, kinds[k])),
                 fmt::format("{} has both \"{}\" and \"{}\" (exactly one of {} is allowed)", what, kinds[*found],
                             kinds[k], join_names(kinds)));
        return std::nullopt;
      }
      found = k;
    }
    if (!found && !had_unknown_fields) value_error(ptr, fmt::format("{} needs one of {}", what, join_names(kinds)));
    return found;
  }

  std::shared_ptr<const Regex> regex(const std::string& source, const std::string& ptr) {
    std::string message;
    auto re = Regex::compile(source, message);
    if (!re) {
      value_error(ptr, fmt::format("invalid regex \"{}\": {}", source, message));
      return nullptr;
    }
    return std::make_shared<const Regex>(std::move(*re));
  }

  std::optional<MatchEntry> match_entry(const json& v, const std::string& ptr, uint32_t recipe_ops) {
    if (!is(v, json::value_t::object, ptr, "a match entry", "an object")) return std::nullopt;
    size_t errors_before = errors_.size();
    fields(v, ptr, "match entry",
           kinds_and(kMatchKindNames,
                     {"operations", "proc_pid", "exclude", "not_under", "args_regex", "strength", "note"}));
    auto kind = kind_of(v, ptr, "match entry", kMatchKindNames, errors_.size() != errors_before);
    if (!kind) return std::nullopt;
    MatchEntry e{MatchKind(*kind), {},    {}, recipe_ops, {},      nullptr, ProcPid::any, {},
                 Strength::strong, false, {}, {},         nullptr, {}};
    std::string_view kind_name = kMatchKindNames[*kind];
    std::string vp = pointer_append(ptr, kind_name);
    auto text = string_field(v, ptr, kind_name, "match entry");
    if (!text) return std::nullopt;
    e.text = *text;
    if (const char anchor = anchor_of(e.kind, e.text)) {
      if (has_dotdot_component(e.text))
        value_error(vp, fmt::format("{} \"{}\" must not climb out of the {} with \"..\"", kind_name, e.text,
                                    anchor == '~' ? "home directory" : "working directory"));
      e.anchored = true;
      if (e.kind == MatchKind::path || e.kind == MatchKind::subtree) e.text = anchor + normalize_path(e.text.substr(1));
      if (e.kind == MatchKind::regex) e.regex = regex(e.text, vp);  // its syntax, once
      if (anchor == '~')
        for (const std::string& home : homes_) e.alternatives.push_back(in_home(e, home, vp));
      else if (!workdir_.empty()) e.alternatives.push_back(in_home(e, workdir_, vp));
    } else {
      absolute_pattern(e, vp);
    }
    if (const json* ops = field(v, ptr, "operations", "match entry", false)) {
      if (auto narrowed = operations(*ops, ptr + "/operations")) {
        if (uint32_t extra = *narrowed & ~recipe_ops)
          value_error(ptr + "/operations", fmt::format("operation \"{}\" is not among the recipe's operations",
                                                       operation_names(extra).front()));
        e.operations = *narrowed & recipe_ops;
      }
    }
    if (auto pid = string_field(v, ptr, "proc_pid", "match entry", false)) {
      auto index = index_of(kProcPidNames, *pid);
      if (!index || *index == 0)
        value_error(ptr + "/proc_pid", fmt::format("proc_pid must be \"not_self\" or \"not_self_or_descendant\", "
                                                   "not \"{}\"",
                                                   *pid));
      else if (!e.prefix.starts_with("/proc/*/"))
        value_error(ptr + "/proc_pid", fmt::format("proc_pid needs a {} under /proc/<pid>/ (its filter prefix \"{}\" "
                                                   "does not begin with \"/proc/*/\"; write the pid as [0-9]+)",
                                                   kind_name, e.prefix));
      else e.proc_pid = ProcPid(*index);
    }
    if (const json* exclude = field(v, ptr, "exclude", "match entry", false);
        exclude && is(*exclude, json::value_t::array, ptr + "/exclude", "\"exclude\"", "an array")) {
      for (size_t i = 0; i < exclude->size(); i++)
        if (auto x = exclusion((*exclude)[i], pointer_append(ptr + "/exclude", i))) e.exclude.push_back(std::move(*x));
    }
    if (const json* dirs = field(v, ptr, "not_under", "match entry", false)) not_under(e, *dirs, ptr + "/not_under");
    if (auto args = string_field(v, ptr, "args_regex", "match entry", false)) {
      if (e.operations != wire::op_exec)
        value_error(ptr + "/args_regex",
                    "args_regex needs an entry whose operations are [\"exec\"] only (the "
                    "arguments are those of the program it runs)");
      e.args_text = *args;
      e.args = regex(*args, ptr + "/args_regex");
    }
    if (auto strength = string_field(v, ptr, "strength", "match entry", false)) {
      if (auto index = index_of(kStrengthNames, *strength)) e.strength = Strength(*index);
      else
        value_error(ptr + "/strength",
                    fmt::format("strength must be one of {}, not \"{}\"", join_names(kStrengthNames), *strength));
    }
    e.note = string_field(v, ptr, "note", "match entry", false).value_or("");
    if (errors_.size() != errors_before) return std::nullopt;
    return e;
  }

  // The directories outside which the entry matches: absolute, or "./" for the working directory
  // (where there is none, the entry matches nothing: anchored without alternatives).
  void not_under(MatchEntry& e, const json& v, const std::string& ptr) {
    if (!is(v, json::value_t::array, ptr, "\"not_under\"", "an array")) return;
    if (v.empty()) value_error(ptr, "\"not_under\" must not be empty");
    for (size_t i = 0; i < v.size(); i++) {
      const std::string item = pointer_append(ptr, i);
      if (!is(v[i], json::value_t::string, item, "a directory", "a string")) continue;
      const std::string dir = v[i].get<std::string>();
      const bool in_workdir = dir == "." || dir.starts_with("./");
      if (!in_workdir && (!dir.starts_with('/') || normalize_path(dir) == "/")) {
        value_error(item, fmt::format("not_under \"{}\" must be an absolute directory other than \"/\", or "
                                      "begin with ./",
                                      dir));
      } else if (in_workdir && has_dotdot_component(dir)) {
        value_error(item, fmt::format("not_under \"{}\" must not climb out of the working directory with \"..\"", dir));
      } else if (!in_workdir) {
        e.not_under.push_back(normalize_path(dir));
      } else if (!workdir_.empty()) {
        e.not_under.push_back(normalize_path(workdir_ + "/" + dir));
      } else {
        e.anchored = true;
        e.alternatives.clear();
      }
    }
  }

  // Checks an absolute path, subtree, glob or regex and sets its filter prefix (and compiled regex).
  void absolute_pattern(MatchEntry& e, const std::string& vp) {
    std::string_view kind_name = kMatchKindNames[size_t(e.kind)];
    switch (e.kind) {
      case MatchKind::path:
      case MatchKind::subtree:
        if (!e.text.starts_with('/'))
          value_error(vp, fmt::format("{} \"{}\" must be absolute or begin with ~/ or ./", kind_name, e.text));
        e.text = normalize_path(e.text);
        e.prefix = e.text;
        if (e.kind == MatchKind::subtree && e.text == "/") value_error(vp, "subtree \"/\" would watch every path");
        break;
      case MatchKind::basename:
        if (e.text.empty() || e.text.find('/') != std::string::npos || e.text == "." || e.text == "..")
          value_error(vp, fmt::format("basename \"{}\" must be a single file name without '/'", e.text));
        break;
      case MatchKind::glob: e.prefix = glob_filter_pattern(e.text); break;
      case MatchKind::regex:
        if (has_top_level_alternation(strip_anchors(e.text)))
          value_error(vp, fmt::format("regex \"{}\" has a top-level '|'; write one entry per alternative "
                                      "or put the alternatives in a group after a literal path",
                                      e.text));
        e.prefix = regex_filter_pattern(e.text);
        e.regex = regex(e.text, vp);
        break;
    }
    if ((e.kind == MatchKind::glob || e.kind == MatchKind::regex) &&
        (e.prefix.size() < 2 || e.prefix[0] != '/' || e.prefix[1] == '*'))
      value_error(vp, fmt::format("{} \"{}\" must begin with a literal absolute path (its literal prefix is \"{}\")",
                                  kind_name, e.text, e.prefix));
    if (e.kind != MatchKind::basename && under_proc_self(e.prefix))
      value_error(vp, fmt::format("{} \"{}\" can never match: the shim reports /proc/self as /proc/<pid>; "
                                  "use a regex such as ^/proc/[0-9]+/...",
                                  kind_name, e.text));
  }

  // The anchored entry `e` in one directory (a home, or the working directory): an absolute entry
  // of the same kind, except that a path or subtree in "/home/*" (any one component) becomes a
  // glob or a regex.
  MatchEntry in_home(const MatchEntry& e, const std::string& home, const std::string& vp) {
    const bool any = home == "/home/*";
    const std::string rest(e.kind == MatchKind::regex ? strip_anchors(e.text).substr(1) : e.text.substr(1));
    MatchEntry alt{e.kind, {}, {}, e.operations, {}, nullptr, ProcPid::any, {}, e.strength, false, {}, {}, nullptr, {}};
    switch (e.kind) {
      case MatchKind::path:
        if (any) alt.kind = MatchKind::glob;
        alt.text = any ? "/home/*" + glob_escape(rest) : home + rest;
        break;
      case MatchKind::subtree:
        if (any) alt.kind = MatchKind::regex;
        alt.text = any ? "/home/[^/]+" + regex_escape(rest) + "(/.*)?" : home + rest;
        break;
      case MatchKind::glob: alt.text = (any ? std::string("/home/*") : glob_escape(home)) + rest; break;
      case MatchKind::regex: alt.text = (any ? std::string("/home/[^/]+") : regex_escape(home)) + rest; break;
      case MatchKind::basename: break;
    }
    absolute_pattern(alt, vp);
    return alt;
  }

  std::optional<Exclusion> exclusion(const json& v, const std::string& ptr) {
    if (!is(v, json::value_t::object, ptr, "an exclude entry", "an object")) return std::nullopt;
    size_t errors_before = errors_.size();
    fields(v, ptr, "exclude entry", kinds_and(kExcludeKindNames, {"reason", "arg1", "paths"}));
    auto kind = kind_of(v, ptr, "exclude entry", kExcludeKindNames, errors_.size() != errors_before);
    auto reason = string_field(v, ptr, "reason", "exclude entry");
    if (!kind) return std::nullopt;
    std::string_view kind_name = kExcludeKindNames[*kind];
    std::string vp = pointer_append(ptr, kind_name);
    auto text = string_field(v, ptr, kind_name, "exclude entry");
    if (!text || !reason) return std::nullopt;
    Exclusion x{ExcludeKind(*kind), *text, *reason, nullptr, std::nullopt, {}};
    if (x.kind == ExcludeKind::exe && !x.text.starts_with('/'))
      value_error(vp, fmt::format("exe \"{}\" must be an absolute path", x.text));
    x.arg1 = string_field(v, ptr, "arg1", "exclude entry", false);
    if (const json* paths = field(v, ptr, "paths", "exclude entry", false);
        paths && is(*paths, json::value_t::array, ptr + "/paths", "\"paths\"", "an array")) {
      if (paths->empty()) value_error(ptr + "/paths", "\"paths\" must not be empty");
      for (size_t i = 0; i < paths->size(); i++) {
        std::string item = pointer_append(ptr + "/paths", i);
        if (!is((*paths)[i], json::value_t::string, item, "a path pattern", "a string")) continue;
        std::string pattern = (*paths)[i].get<std::string>();
        if (!pattern.starts_with('/')) value_error(item, fmt::format("path pattern \"{}\" must be absolute", pattern));
        x.paths.push_back(std::move(pattern));
      }
    }
    if (x.kind == ExcludeKind::exe_regex) x.regex = regex(x.text, vp);
    if (errors_.size() != errors_before) return std::nullopt;
    return x;
  }
};

}  // namespace

std::string_view importance_name(Importance i) { return kImportanceNames[size_t(i)]; }
std::string_view match_kind_name(MatchKind k) { return kMatchKindNames[size_t(k)]; }
std::string_view exclude_kind_name(ExcludeKind k) { return kExcludeKindNames[size_t(k)]; }
std::string_view strength_name(Strength s) { return kStrengthNames[size_t(s)]; }
std::string_view within_name(Within w) { return kWithinNames[size_t(w)]; }

bool Recipe::has_weak_entries() const {
  return std::any_of(match.begin(), match.end(), [](const MatchEntry& e) { return e.strength == Strength::weak; });
}

std::vector<std::string_view> operation_names(uint32_t ops) {
  std::vector<std::string_view> names;
  for (size_t i = 0; i < std::size(kOperationNames); i++)
    if (ops & (1u << i)) names.push_back(kOperationNames[i]);
  return names;
}

std::string RulesError::str() const {
  if (line == 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::vector<std::string> home_directories(std::string_view home) {
  std::vector<std::string> homes = {"/root", "/home/*"};
  if (!home.starts_with('/')) return homes;
  std::string own = normalize_path(home);
  const bool in_home = own.starts_with("/home/") && own.find('/', 6) == std::string::npos && own.size() > 6;
  if (own != "/" && own != "/root" && !in_home) homes.push_back(std::move(own));
  return homes;
}

LoadedRules parse_rules(std::string_view text, std::string_view file_name, std::string_view home,
                        std::string_view workdir) {
  LoadedRules out;
  out.rules.source = std::string(file_name);
  SourceJson src = parse_source_json(text);
  std::string dir = workdir.starts_with('/') ? normalize_path(workdir) : std::string();
  if (dir == "/") dir.clear();
  Checker checker(text, file_name, src, out.errors, home_directories(home), std::move(dir));
  for (const JsonProblem& p : src.problems) checker.error_at(p.offset, p.message);
  if (!src.syntax_error) {
    out.rules = checker.top(src.value);
    out.rules.source = std::string(file_name);
  }
  sort_by_position(out.errors);
  return out;
}

LoadedRules load_rules(const std::string& path, std::string_view home, std::string_view workdir) {
  RulesError error;
  std::optional<std::string> text = read_input_file(path, "rules", error);
  if (text) return parse_rules(*text, path, home, workdir);
  LoadedRules out;
  out.errors.push_back(std::move(error));
  return out;
}

}  // namespace fpshim
