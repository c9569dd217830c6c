#include <doctest/doctest.h>

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "collector/executable_names.h"

using fpshim::ExecutableNames;

namespace {

std::string real(const std::string& p) {
  char out[PATH_MAX];
  REQUIRE(realpath(p.c_str(), out) != nullptr);
  return out;
}

}  // namespace

TEST_CASE("executable names resolve as /proc/self/exe would") {
  char tmpl[] = "/tmp/fpshim-exe-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = real(tmpl);
  std::filesystem::create_symlink(real("/bin/true"), dir + "/link");
  std::ofstream(dir + "/script.sh") << "#!/bin/sh\necho hi\n";
  std::ofstream(dir + "/bare.sh") << "#!/bin/sh";
  std::ofstream(dir + "/plain.txt") << "not a script\n";

  ExecutableNames names;
  CHECK(names.resolve("/", dir + "/link") == real("/bin/true"));        // symlinks resolved
  CHECK(names.resolve(dir, "link") == real("/bin/true"));               // relative to the cwd
  CHECK(names.resolve(dir, "./script.sh") == real("/bin/sh"));          // a script: its interpreter
  CHECK(names.resolve(dir, "bare.sh") == real("/bin/sh"));              // no newline after it
  CHECK(names.resolve(dir, "plain.txt") == dir + "/plain.txt");
  CHECK(names.resolve(dir, "gone") == dir + "/gone");                   // no longer there: as joined
  CHECK(names.resolve("", "relative") == "relative");

  std::filesystem::remove_all(dir);
  CHECK(names.resolve(dir, "link") == real("/bin/true"));  // cached
}
