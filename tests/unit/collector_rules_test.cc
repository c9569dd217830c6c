#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "rules/json_checker.h"
#include "rules/json_source.h"
#include "rules/rules.h"

using namespace fpshim;

namespace {

// One valid recipe; tests swap pieces of it. Line numbers matter: the match entry is on line 12.
const std::string kGood = R"({
  "schema": 1,
  "recipes": [
    {
      "name": "demo",
      "title": "Demo",
      "description": "d",
      "importance": "medium",
      "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"}, "technique": {"id": "T1082", "name": "SID"}},
      "guidance": {"ci": "c", "staging": "s", "production": "p"},
      "match": [
        {"path": "/proc/ioports"}
      ]
    }
  ]
}
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// "LINE:COLUMN" of the first byte of the nth occurrence of `needle`, counted independently of the
// code under test.
std::string position(const std::string& text, const std::string& needle, int nth = 0) {
  size_t at = text.find(needle);
  while (nth-- > 0) at = text.find(needle, at + 1);
  REQUIRE(at != std::string::npos);
  int line = 1, column = 1;
  for (size_t i = 0; i < at; i++) {
    if (text[i] == '\n') line++, column = 1;
    else column++;
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

std::string first_error(const std::string& text) {
  LoadedRules loaded = parse_rules(text, "rules.json");
  REQUIRE_FALSE(loaded.ok());
  return loaded.errors.front().str();
}

}  // namespace

TEST_CASE("the template and the shipped rules load") {
  LoadedRules good = parse_rules(kGood, "rules.json");
  REQUIRE(good.ok());
  REQUIRE(good.rules.recipes.size() == 1);
  const Recipe& r = good.rules.recipes[0];
  CHECK(r.name == "demo");
  CHECK(r.enabled);
  CHECK(r.importance == Importance::medium);
  CHECK(r.technique.id == "T1082");
  CHECK(r.guidance.production == "p");
  CHECK(r.operations == kAllOperations);
  REQUIRE(r.match.size() == 1);
  CHECK(r.match[0].kind == MatchKind::path);
  CHECK(r.match[0].operations == kAllOperations);

  LoadedRules shipped = load_rules(FPSHIM_SOURCE_RULES);
  for (const RulesError& e : shipped.errors) MESSAGE(e.str());
  REQUIRE(shipped.ok());
  REQUIRE(shipped.rules.recipes.size() >= 2);
  CHECK(shipped.rules.recipes[0].name == "machine_fingerprint");
  CHECK(shipped.rules.recipes[1].name == "os_network_fingerprint");
}

TEST_CASE("a missing file is an error without a position") {
  LoadedRules loaded = load_rules("/nonexistent/rules.json");
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].str().starts_with("/nonexistent/rules.json: cannot read the rules file: "));
}

TEST_CASE("an input that is not a bounded regular file is refused before it is read") {
  LoadedRules loaded = load_rules("/dev/zero");
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].str() == "/dev/zero: cannot read the rules file: it is not a regular file");

  loaded = load_rules("/");
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].str() == "/: cannot read the rules file: it is a directory");

  char name[] = "/tmp/fpshim-rules-XXXXXX";
  int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, off_t(kMaxInputFileBytes) + 1) == 0);
  close(fd);
  loaded = load_rules(name);
  unlink(name);
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].str().find("more than the limit of 16 MiB") != std::string::npos);
}

TEST_CASE("nesting is bounded: deep brackets are a syntax error at the first one too many") {
  std::string deep(20000, '[');
  std::string error = first_error(deep);
  CHECK(error == fmt::format("rules.json:1:{}: nested deeper than {} levels", kMaxJsonDepth + 1, kMaxJsonDepth));
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK(first_error(ok).find("nested") == std::string::npos);
}

TEST_CASE("syntax errors point at the offending character") {
  std::string text = replaced(kGood, R"("title": "Demo",)", R"("title": "Demo")");
  CHECK(first_error(text).starts_with("rules.json:7:7: syntax error"));

  text = replaced(kGood, R"("schema": 1,)", R"("schema": tru,)");
  CHECK(first_error(text).starts_with("rules.json:2:13: syntax error"));

  CHECK(first_error("{\"schema\": 1,").starts_with("rules.json:1:14: syntax error"));
}

TEST_CASE("unknown fields point at the key and list the expected ones") {
  std::string text = replaced(kGood, R"({"path": "/proc/ioports"})", R"({"sbutree": "/sys/class/net"})");
  CHECK(first_error(text) ==
        "rules.json:12:10: unknown field \"sbutree\" in match entry (expected one of path, subtree, basename, glob, "
        "regex, operations, proc_pid, exclude, not_under, args_regex, strength, note)");

  text = replaced(kGood, R"("title": "Demo",)", R"("title": "Demo", "colour": "red",)");
  CHECK(first_error(text) == "rules.json:" + position(text, "\"colour\"") +
                                 ": unknown field \"colour\" in recipe (expected one of name, enabled, title, "
                                 "description, importance, mitre, guidance, operations, match, exclude, weak)");

  text = replaced(kGood, R"("schema": 1,)", R"("schema": 1, "version": 2,)");
  CHECK(first_error(text).starts_with("rules.json:2:16: unknown field \"version\" in the top level"));
}

TEST_CASE("an invalid regex reports regerror's text at the value") {
  std::string text = replaced(kGood, R"({"path": "/proc/ioports"})", R"({"regex": "^/sys/(class$"})");
  std::string error = first_error(text);
  CHECK(error.starts_with("rules.json:12:19: invalid regex \"^/sys/(class$\": "));
  CHECK(error.find("Unmatched (") != std::string::npos);  // glibc's regerror text
}

TEST_CASE("wrong types point at the value") {
  std::string text = replaced(kGood, R"("title": "Demo",)", R"("title": "Demo", "enabled": "yes",)");
  CHECK(first_error(text) ==
        "rules.json:" + position(text, "\"yes\"") + ": \"enabled\" must be a boolean, not a string");

  text = replaced(kGood, R"("match": [)", R"("match": {"path": "/x"}, "m": [)");
  CHECK(first_error(text).starts_with("rules.json:11:16: \"match\" must be an array, not an object"));

  text = replaced(kGood, R"({"path": "/proc/ioports"})", R"({"path": 42})");
  CHECK(first_error(text) == "rules.json:12:18: \"path\" must be a string, not a number");
}

TEST_CASE("missing fields point at the object") {
  std::string text = replaced(kGood, R"("title": "Demo",)", "");
  CHECK(first_error(text) == "rules.json:4:5: recipe is missing required field \"title\"");

  text = replaced(kGood, R"({"path": "/proc/ioports"})", R"({"note": "nothing to match"})");
  CHECK(first_error(text) == "rules.json:12:9: match entry needs one of path, subtree, basename, glob, regex");

  text = replaced(kGood, R"("name": "SID"})", R"("nam": "SID"})");
  LoadedRules loaded = parse_rules(text, "rules.json");
  REQUIRE(loaded.errors.size() == 2);
  CHECK(loaded.errors[0].str() ==
        "rules.json:" + position(text, "{\"id\": \"T1082\"") + ": \"technique\" is missing required field \"name\"");
  CHECK(loaded.errors[1].message.starts_with("unknown field \"nam\""));
}

TEST_CASE("duplicate recipe names point at the second name") {
  std::string recipe = kGood.substr(kGood.find("    {\n      \"name\""));
  recipe = recipe.substr(0, recipe.find("\n  ]\n}"));
  std::string text = replaced(kGood, "\n  ]\n}", ",\n" + recipe + "\n  ]\n}");
  CHECK(first_error(text) ==
        "rules.json:" + position(text, "\"demo\"", 1) + ": duplicate recipe name \"demo\" (first defined at 5:15)");
}

TEST_CASE("bad enum values and identifiers") {
  std::string text = replaced(kGood, R"("importance": "medium")", R"("importance": "urgent")");
  CHECK(first_error(text) == "rules.json:8:21: importance must be one of low, medium, high, critical, not \"urgent\"");

  text = replaced(kGood, R"({"path": "/proc/ioports"})",
                  R"({"path": "/proc/ioports", "operations": ["read", "open"]})");
  CHECK(first_error(text) ==
        "rules.json:" + position(text, "\"open\"") +
            ": unknown operation \"open\" (expected one of read, write, list, stat, exec, link, connect)");

  text = replaced(kGood, R"("name": "demo")", R"("name": "Demo-1")");
  CHECK(first_error(text) == "rules.json:5:15: recipe name \"Demo-1\" must match [a-z0-9_]+");

  text = replaced(kGood, R"("schema": 1)", R"("schema": 2)");
  CHECK(first_error(text) == "rules.json:2:13: unsupported schema 2 (this fpshim reads schema 1)");
}

TEST_CASE("pattern rules") {
  auto error_for = [](const std::string& entry) {
    return first_error(replaced(kGood, R"({"path": "/proc/ioports"})", entry));
  };
  CHECK(error_for(R"({"path": "proc/ioports"})")
            .ends_with("path \"proc/ioports\" must be absolute or begin with ~/ or ./"));
  CHECK(error_for(R"({"subtree": "/"})").ends_with("subtree \"/\" would watch every path"));
  CHECK(error_for(R"({"basename": "a/b"})").ends_with("basename \"a/b\" must be a single file name without '/'"));
  CHECK(error_for(R"({"glob": "*/address"})").find("must begin with a literal absolute path") != std::string::npos);
  CHECK(error_for(R"({"glob": "/*/address"})").find("must begin with a literal absolute path") != std::string::npos);
  CHECK(error_for(R"({"regex": ".*/address$"})").find("must begin with a literal absolute path") != std::string::npos);
  CHECK(error_for(R"({"regex": "^/etc/hosts|/etc/passwd$"})").find("top-level '|'") != std::string::npos);
  CHECK(error_for(R"({"path": "/proc/self/net/dev"})").find("can never match") != std::string::npos);
  CHECK(error_for(R"({"path": "/x", "glob": "/y*"})") ==
        "rules.json:12:24: match entry has both \"path\" and \"glob\" (exactly one of path, subtree, basename, glob, "
        "regex is allowed)");

  std::string text = replaced(kGood, R"("match": [)", R"("operations": ["read"], "match": [)");
  text = replaced(text, R"({"path": "/proc/ioports"})", R"({"path": "/proc/ioports", "operations": ["stat"]})");
  CHECK(first_error(text).ends_with("operation \"stat\" is not among the recipe's operations"));

  text = replaced(kGood, "\n        {\"path\": \"/proc/ioports\"}\n", "");
  CHECK(first_error(text) == "rules.json:11:16: \"match\" must not be empty");
}

TEST_CASE("paths are normalised") {
  LoadedRules loaded = parse_rules(replaced(kGood, R"("/proc/ioports")", R"("/proc//./x/../ioports/")"), "r");
  REQUIRE(loaded.ok());
  CHECK(loaded.rules.recipes[0].match[0].text == "/proc/ioports");
}

TEST_CASE("exclusions") {
  std::string with = replaced(kGood, "\n      ]\n", "\n      ],\n      \"exclude\": [EXCLUDE]\n");
  auto load = [&](const std::string& exclude) { return parse_rules(replaced(with, "EXCLUDE", exclude), "rules.json"); };

  LoadedRules ok = load(R"({"exe": "/usr/bin/lspci", "reason": "r"}, {"exe_glob": "/usr/*/x", "reason": "r"},
                          {"exe_regex": "^/opt/.*/tool$", "reason": "r"})");
  REQUIRE(ok.ok());
  REQUIRE(ok.rules.recipes[0].exclude.size() == 3);
  CHECK(ok.rules.recipes[0].exclude[2].kind == ExcludeKind::exe_regex);

  LoadedRules no_reason = load(R"({"exe": "/usr/bin/lspci"})");
  REQUIRE_FALSE(no_reason.ok());
  CHECK(no_reason.errors[0].message == "exclude entry is missing required field \"reason\"");
  CHECK(no_reason.errors[0].line == 14);

  LoadedRules bad_regex = load(R"({"exe_regex": "(", "reason": "r"})");
  REQUIRE_FALSE(bad_regex.ok());
  CHECK(bad_regex.errors[0].message.starts_with("invalid regex \"(\""));
}

TEST_CASE("every error is reported, in source order") {
  std::string text = replaced(kGood, R"("importance": "medium")", R"("importance": "urgent")");
  text = replaced(text, R"({"path": "/proc/ioports"})", R"({"sbutree": "/sys"})");
  text = replaced(text, R"("description": "d",)", R"("description": 7,)");
  LoadedRules loaded = parse_rules(text, "rules.json");
  REQUIRE(loaded.errors.size() == 3);
  CHECK(loaded.errors[0].line == 7);
  CHECK(loaded.errors[1].line == 8);
  CHECK(loaded.errors[2].line == 12);
}

TEST_CASE("duplicate keys are errors") {
  std::string text = replaced(kGood, R"("title": "Demo",)", R"("title": "Demo", "title": "Again",)");
  CHECK(first_error(text) == "rules.json:" + position(text, "\"title\"", 1) + ": duplicate key \"title\"");
}

TEST_CASE("columns count characters, not bytes") {
  std::string text = replaced(kGood, R"("title": "Demo",)", R"("title": "Démo", "x": 1,)");
  CHECK(first_error(text).starts_with("rules.json:6:24: unknown field \"x\""));
}

TEST_CASE("~/ names a path in every home directory: /root, /home/*, the build's own") {
  auto load = [](const std::string& entry, std::string_view home) {
    return parse_rules(replaced(kGood, R"({"path": "/proc/ioports"})", entry), "rules.json", home);
  };
  LoadedRules path = load(R"({"path": "~/.aws/./credentials"})", "/srv/builder/");
  REQUIRE(path.ok());
  const MatchEntry& e = path.rules.recipes[0].match[0];
  CHECK(e.text == "~/.aws/credentials");
  REQUIRE(e.alternatives.size() == 3);
  CHECK(e.alternatives[0].kind == MatchKind::path);
  CHECK(e.alternatives[0].text == "/root/.aws/credentials");
  CHECK(e.alternatives[1].kind == MatchKind::glob);
  CHECK(e.alternatives[1].text == "/home/*/.aws/credentials");
  CHECK(e.alternatives[1].prefix == "/home/*/.aws/credentials");
  CHECK(e.alternatives[2].text == "/srv/builder/.aws/credentials");

  // A home that is /root or one directory of /home is already among them; "/" and relative are not homes.
  CHECK(load(R"({"path": "~/.npmrc"})", "/home/alice").rules.recipes[0].match[0].alternatives.size() == 2);
  CHECK(load(R"({"path": "~/.npmrc"})", "/root").rules.recipes[0].match[0].alternatives.size() == 2);
  CHECK(load(R"({"path": "~/.npmrc"})", "/").rules.recipes[0].match[0].alternatives.size() == 2);
  CHECK(load(R"({"path": "~/.npmrc"})", "").rules.recipes[0].match[0].alternatives.size() == 2);
  CHECK(load(R"({"path": "~/.npmrc"})", "/home/a/b").rules.recipes[0].match[0].alternatives.size() == 3);

  LoadedRules subtree = load(R"({"subtree": "~/.config/gcloud"})", "");
  REQUIRE(subtree.ok());
  const MatchEntry& s = subtree.rules.recipes[0].match[0];
  CHECK(s.alternatives[0].kind == MatchKind::subtree);
  CHECK(s.alternatives[1].kind == MatchKind::regex);
  CHECK(s.alternatives[1].text == "/home/[^/]+/\\.config/gcloud(/.*)?");
  CHECK(s.alternatives[1].prefix == "/home/*/.config/gcloud");

  LoadedRules regex = load(R"({"regex": "^~/\\.ssh/id_(rsa|ed25519)$"})", "/var/lib/ci+1");
  REQUIRE(regex.ok());
  const MatchEntry& r = regex.rules.recipes[0].match[0];
  REQUIRE(r.alternatives.size() == 3);
  CHECK(r.alternatives[0].prefix == "/root/.ssh/id_");
  CHECK(r.alternatives[1].prefix == "/home/*/.ssh/id_");
  CHECK(r.alternatives[2].text == "/var/lib/ci\\+1/\\.ssh/id_(rsa|ed25519)");

  LoadedRules glob = load(R"({"glob": "~/.yarnrc*"})", "/srv/a*b");
  REQUIRE(glob.ok());
  CHECK(glob.rules.recipes[0].match[0].alternatives[2].text == "/srv/a\\*b/.yarnrc*");

  auto error_for = [](const std::string& entry) {
    return first_error(replaced(kGood, R"({"path": "/proc/ioports"})", entry));
  };
  CHECK(error_for(R"({"path": "~/../etc/passwd"})") ==
        "rules.json:12:18: path \"~/../etc/passwd\" must not climb out of the home directory with \"..\"");
  CHECK(error_for(R"({"path": "~alice/.npmrc"})").ends_with("must be absolute or begin with ~/ or ./"));
  CHECK(error_for(R"({"basename": "~/.npmrc"})").ends_with("must be a single file name without '/'"));
}

TEST_CASE("proc_pid: only under /proc/<pid>/, only its two values") {
  auto error_for = [](const std::string& entry) {
    return first_error(replaced(kGood, R"({"path": "/proc/ioports"})", entry));
  };
  LoadedRules ok = parse_rules(replaced(kGood, R"({"path": "/proc/ioports"})",
                                        R"({"regex": "^/proc/[0-9]+/mem$", "proc_pid": "not_self_or_descendant"}, )"
                                        R"({"glob": "/proc/*/maps", "proc_pid": "not_self"})"),
                               "rules.json");
  REQUIRE(ok.ok());
  CHECK(ok.rules.recipes[0].match[0].proc_pid == ProcPid::not_self_or_descendant);
  CHECK(ok.rules.recipes[0].match[1].proc_pid == ProcPid::not_self);
  CHECK(error_for(R"({"path": "/proc/ioports", "proc_pid": "not_self"})") ==
        "rules.json:12:47: proc_pid needs a path under /proc/<pid>/ (its filter prefix \"/proc/ioports\" does not "
        "begin with \"/proc/*/\"; write the pid as [0-9]+)");
  CHECK(error_for(R"({"regex": "^/proc/[0-9]+/mem$", "proc_pid": "other"})") ==
        "rules.json:12:53: proc_pid must be \"not_self\" or \"not_self_or_descendant\", not \"other\"");
  CHECK(error_for(R"({"regex": "^/proc/[0-9]+/mem$", "proc_pid": "any"})").ends_with("not \"any\""));
}

TEST_CASE("an entry's own exclusions, with arg1") {
  LoadedRules ok = parse_rules(
      replaced(
          kGood, R"({"path": "/proc/ioports"})",
          R"({"path": "~/.npmrc", "exclude": [{"exe": "/usr/bin/node", "arg1": "/usr/bin/npm", "reason": "npm"}]})"),
      "rules.json");
  REQUIRE(ok.ok());
  const MatchEntry& e = ok.rules.recipes[0].match[0];
  REQUIRE(e.exclude.size() == 1);
  CHECK(e.exclude[0].arg1 == "/usr/bin/npm");
  CHECK(e.exclude[0].reason == "npm");

  std::string no_reason = replaced(kGood, R"({"path": "/proc/ioports"})",
                                   R"({"path": "/x", "exclude": [{"exe": "/usr/bin/node"}]})");
  CHECK(first_error(no_reason) == "rules.json:12:36: exclude entry is missing required field \"reason\"");
  std::string bad_arg1 = replaced(kGood, R"({"path": "/proc/ioports"})",
                                  R"({"path": "/x", "exclude": [{"exe": "/n", "arg1": 1, "reason": "r"}]})");
  CHECK(first_error(bad_arg1).find("\"arg1\" must be a string") != std::string::npos);
}

TEST_CASE("./ names a path in the build's working directory, and nothing without one") {
  auto load = [](const std::string& entry, std::string_view workdir) {
    return parse_rules(replaced(kGood, R"({"path": "/proc/ioports"})", entry), "rules.json", "", workdir);
  };
  LoadedRules known = load(R"({"glob": "./.git/hooks/*"})", "/src/proj/");
  REQUIRE(known.ok());
  const MatchEntry& e = known.rules.recipes[0].match[0];
  CHECK(e.anchored);
  REQUIRE(e.alternatives.size() == 1);
  CHECK(e.alternatives[0].text == "/src/proj/.git/hooks/*");
  CHECK(e.alternatives[0].prefix == "/src/proj/.git/hooks/*");

  for (std::string_view none : {"", "/", "relative"}) {
    LoadedRules unknown = load(R"({"glob": "./.git/hooks/*"})", none);
    REQUIRE(unknown.ok());
    CHECK(unknown.rules.recipes[0].match[0].anchored);
    CHECK(unknown.rules.recipes[0].match[0].alternatives.empty());
  }
  auto error_for = [](const std::string& entry) {
    return first_error(replaced(kGood, R"({"path": "/proc/ioports"})", entry));
  };
  CHECK(error_for(R"({"subtree": "./../x"})").ends_with("must not climb out of the working directory with \"..\""));
  // In a regex '.' is any character: "./" is no anchor there.
  CHECK(error_for(R"({"regex": "^./x$"})").find("must begin with a literal absolute path") != std::string::npos);
}
