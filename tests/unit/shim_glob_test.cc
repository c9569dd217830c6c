#include <doctest/doctest.h>

#include <string>

#include "shim/path.h"

namespace {

struct Start {
  std::string path;
  bool lists;
  bool operator==(const Start&) const = default;
};

Start glob_start(const char* pattern, bool brace = false, bool noescape = false, size_t cap = 4096) {
  std::string out(cap, '\0');
  bool lists = true;
  const long len = fpshim::glob_start(pattern, brace, noescape, out.data(), cap, &lists);
  if (len < 0) return Start{"<too long>", lists};
  CHECK(out[size_t(len)] == '\0');
  out.resize(size_t(len));
  return Start{out, lists};
}

}  // namespace

TEST_CASE("glob start: the directory before the first wildcard is listed") {
  CHECK(glob_start("/sys/class/net/*") == Start{"/sys/class/net", true});
  CHECK(glob_start("/sys/class/net/*/address") == Start{"/sys/class/net", true});
  CHECK(glob_start("/sys/class/ne?/lo") == Start{"/sys/class", true});
  CHECK(glob_start("/sys/[a-z]*") == Start{"/sys", true});
  CHECK(glob_start("/*") == Start{"/", true});
  CHECK(glob_start("*.c") == Start{".", true});
  CHECK(glob_start("src/*.c") == Start{"src", true});
}

TEST_CASE("glob start: a pattern without wildcards is looked up whole") {
  CHECK(glob_start("/proc/ioports") == Start{"/proc/ioports", false});
  CHECK(glob_start("") == Start{"", false});
}

TEST_CASE("glob start: escapes and braces") {
  CHECK(glob_start("/sys/cl\\*ss/*") == Start{"/sys/cl*ss", true});
  CHECK(glob_start("/sys/cl\\*ss/*", false, true) == Start{"/sys", true});
  CHECK(glob_start("/sys/{class,bus}/x") == Start{"/sys/{class,bus}/x", false});
  CHECK(glob_start("/sys/{class,bus}/x", true) == Start{"/sys", true});
  CHECK(glob_start("/a\\") == Start{"/a\\", false});
}

TEST_CASE("glob start: too long for the buffer") {
  CHECK(glob_start("/sys/class/net/*", false, false, 8).path == "<too long>");
  CHECK(glob_start("/sys/*", false, false, 8) == Start{"/sys", true});
}
