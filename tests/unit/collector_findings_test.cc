// The findings model: grouping by (recipe, executable, rule entry), order, fingerprints, and the
// location in the checkout that every CI output points at.
#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "collector_testing.h"
#include "model/findings.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

const std::string kRules = rules_json(
    recipe_json("machine", R"("match": [{"subtree": "/sys/class/dmi"}, {"path": "/proc/ioports"}])") + ", " +
    R"({"name": "crit", "title": "Crit", "description": "d", "importance": "critical",
   "mitre": {"tactic": {"id": "x", "name": "x"}, "technique": {"id": "y", "name": "y"}},
   "guidance": {"ci": "c", "staging": "s", "production": "p"},
   "match": [{"path": "/proc/kcore"}]})");

// A checkout with a script that reads /proc/ioports on its third line, and a Makefile that runs it.
struct Checkout {
  std::filesystem::path root;

  Checkout() {
    char tmpl[] = "/tmp/fpshim-findings-XXXXXX";
    root = mkdtemp(tmpl);
    std::filesystem::create_directories(root / "scripts");
    std::ofstream(root / "scripts/gen.sh") << "#!/bin/sh\necho start\ncat /proc/ioports\n";
    std::ofstream(root / "Makefile") << "all:\n\techo hi\n\tsh scripts/gen.sh > out.h\n";
  }
  ~Checkout() { std::filesystem::remove_all(root); }
};

struct Built {
  Rules rules = load_rules(kRules.c_str());
  Summary summary;

  // cat and head read through sh scripts/gen.sh under make; kcore by a tool the chain does not name.
  Built() {
    const Recipe& machine = rules.recipes[0];
    const Recipe& crit = rules.recipes[1];
    ProcessRef make = proc(10, {"make", "-j4"}, "/usr/bin/make");
    ProcessRef sh = proc(11, {"sh", "scripts/gen.sh"}, "/bin/sh");
    summary.build.command = {"make", "-j4"};
    RecipeSummary m;
    m.recipe = &machine;
    m.paths = {PathSummary{.path = "/proc/ioports", .count = 2},
               PathSummary{.path = "/sys/class/dmi/id/product_uuid", .count = 1},
               PathSummary{.path = "/sys/class/dmi/id/board_serial", .count = 1}};
    m.processes = {
        ProcessSummary{proc(12, {"cat", "/proc/ioports"}, "/bin/cat"), {"/proc/ioports"}, {sh, make}},
        ProcessSummary{proc(13, {"cat", "x"}, "/bin/cat"),
                       {"/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/board_serial"},
                       {sh, make}},
        ProcessSummary{proc(14, {"head", "y"}, "/usr/bin/head"), {"/sys/class/dmi/id/board_serial"}, {sh, make}}};
    RecipeSummary c;
    c.recipe = &crit;
    c.paths = {PathSummary{.path = "/proc/kcore", .count = 1}};
    c.processes = {ProcessSummary{proc(20, {"/opt/tool", "--all"}, "/opt/tool"), {"/proc/kcore"}, {make}}};
    summary.recipes = {c, m};
  }
};

}  // namespace

TEST_CASE("a finding is one recipe, one executable and one rule entry; critical first") {
  Checkout checkout;
  Built b;
  b.summary.build.cwd = checkout.root;
  Findings f = find(b.summary, {});
  REQUIRE(f.items.size() == 4);
  CHECK(f.items[0].recipe->name == "crit");
  // machine: cat over /proc/ioports, cat over the DMI subtree, head over the DMI subtree
  CHECK(f.items[1].exe == "/bin/cat");
  CHECK(f.items[1].entry->text == "/sys/class/dmi");
  CHECK(f.items[1].path_names() ==
        std::vector<std::string>{"/sys/class/dmi/id/board_serial", "/sys/class/dmi/id/product_uuid"});
  CHECK(f.items[1].count == 2);
  CHECK(f.items[2].exe == "/bin/cat");
  CHECK(f.items[2].entry->text == "/proc/ioports");
  CHECK(f.items[3].exe == "/usr/bin/head");
  CHECK(f.unsuppressed() == 4);
  CHECK(f.worst() == Importance::critical);
  CHECK(f.items[2].chain() == "cat /proc/ioports <- sh scripts/gen.sh <- make -j4");
}

TEST_CASE("fingerprints are stable and tell recipe, executable and entry apart") {
  Built b;
  Findings one = find(b.summary, {.source_root = "/nonexistent"});
  Findings two = find(b.summary, {.source_root = "/nonexistent"});
  REQUIRE(one.items.size() == two.items.size());
  for (size_t i = 0; i < one.items.size(); i++) {
    CHECK(one.items[i].fingerprint == two.items[i].fingerprint);
    CHECK(one.items[i].fingerprint.size() == 16);
    for (size_t j = 0; j < i; j++) CHECK(one.items[i].fingerprint != one.items[j].fingerprint);
  }
  // FNV-1a 64 of "a\0": fixed whatever the compiler or library
  CHECK(stable_hash({"a"}) == 0x089be207b544f1e4ull);
}

TEST_CASE("the location is the file in the checkout that the ancestry names, at the line that reads the path") {
  Checkout checkout;
  Built b;
  Findings f = find(b.summary, {.source_root = checkout.root.string()});
  const Finding& ioports = f.items[2];
  CHECK(ioports.location.uri == "scripts/gen.sh");
  CHECK(ioports.location.line == 3);
  CHECK(ioports.location.why == "named by `sh scripts/gen.sh`");
  // The DMI reads are not on a line of the script: the line that started the reader, else 1.
  CHECK(f.items[1].location.uri == "scripts/gen.sh");
  CHECK(f.items[1].location.line >= 1);
  // A tool whose chain names no file but make: the Makefile.
  CHECK(f.items[0].location.uri == "Makefile");
}

TEST_CASE("without a build file the location falls back, and never leaves the checkout") {
  Checkout checkout;
  std::filesystem::remove(checkout.root / "Makefile");
  Built b;
  // An argument that climbs out of the checkout is not a location in it.
  b.summary.recipes[0].processes[0].ancestry = {proc(30, {"sh", "../../etc/passwd", "/etc/hostname"}, "/bin/sh")};
  b.summary.build.command = {"sh", "../../etc/passwd"};
  Findings f = find(b.summary, {.source_root = checkout.root.string() + "/"});
  CHECK(f.source_root == checkout.root.string());
  CHECK(f.items[0].location.uri == "fpshim-build");
  CHECK(f.items[0].location.line == 1);
  for (const Finding& item : f.items) {
    CHECK_FALSE(item.location.uri.empty());
    CHECK(item.location.uri[0] != '/');
    CHECK(item.location.uri.find("..") == std::string::npos);
  }
}
