#include <doctest/doctest.h>

#include <string.h>

#include <string>

#include "shim/path.h"

namespace {

std::string normalized(const std::string& base, const std::string& path, size_t cap = fpshim::kResolvedMax) {
  std::string out(cap, '\0');
  const long len = fpshim::normalize_path(base.data(), base.size(), path.c_str(), out.data(), cap);
  if (len < 0) return "<too long>";
  CHECK(out[size_t(len)] == '\0');
  out.resize(size_t(len));
  return out;
}

std::string proc_rewritten(std::string path, size_t cap = 256) {
  path.resize(cap, '\0');
  const long len = fpshim::rewrite_proc_self(
      path.data(), strlen(path.c_str()), cap, [] { return 4321; }, [] { return 4325; });
  if (len < 0) return "<too long>";
  return path.substr(0, size_t(len));
}

}  // namespace

TEST_CASE("path: absolute paths are folded") {
  CHECK(normalized("/ignored", "/usr/include/stdio.h") == "/usr/include/stdio.h");
  CHECK(normalized("/", "/sys/./class//net/") == "/sys/class/net");
  CHECK(normalized("/", "//sys//class/net") == "/sys/class/net");
  CHECK(normalized("/", "/./sys/class") == "/sys/class");
  CHECK(normalized("/", "/usr/../proc/ioports") == "/proc/ioports");
  CHECK(normalized("/", "/a/b/c/../../d") == "/a/d");
  CHECK(normalized("/", "/a/..") == "/");
  CHECK(normalized("/", "/") == "/");
  CHECK(normalized("/", "///") == "/");
  CHECK(normalized("/", "/...") == "/...");
  CHECK(normalized("/", "/a/.b/..c") == "/a/.b/..c");
}

TEST_CASE("path: dot-dot never climbs above the root") {
  CHECK(normalized("/", "/..") == "/");
  CHECK(normalized("/", "/../../sys/class") == "/sys/class");
  CHECK(normalized("/tmp", "../../../../proc/ioports") == "/proc/ioports");
  CHECK(normalized("/", "..") == "/");
}

TEST_CASE("path: relative paths start from the base") {
  CHECK(normalized("/sys/class", "net") == "/sys/class/net");
  CHECK(normalized("/sys/class", "net/") == "/sys/class/net");
  CHECK(normalized("/sys/class", "./net/lo/../eth0") == "/sys/class/net/eth0");
  CHECK(normalized("/sys/class", ".") == "/sys/class");
  CHECK(normalized("/sys/class", "") == "/sys/class");
  CHECK(normalized("/sys/class", "..") == "/sys");
  CHECK(normalized("/", "sys") == "/sys");
  CHECK(normalized("/", "") == "/");
}

TEST_CASE("path: the base may already be in the output buffer") {
  char buf[64] = "/sys/class";
  const long len = fpshim::normalize_path(buf, strlen(buf), "net/./lo", buf, sizeof buf);
  CHECK(std::string(buf, size_t(len)) == "/sys/class/net/lo");
}

TEST_CASE("path: a result that does not fit is refused") {
  CHECK(normalized("/", "/abc", 5) == "/abc");
  CHECK(normalized("/", "/abcd", 5) == "<too long>");
  CHECK(normalized("/", "/abcd/..", 5) == "<too long>");  // folding happens as components come
  CHECK(normalized("/", "/abc/../abc", 5) == "/abc");
  CHECK(normalized("/base", "x", 8) == "/base/x");
  CHECK(normalized("/base", "xy", 8) == "<too long>");
  CHECK(normalized("/", std::string(9000, 'a')) == "<too long>");
  CHECK(normalized(std::string(5000, 'a').insert(0, "/"), std::string(4000, 'b')) == "<too long>");
}

TEST_CASE("path: /proc/self and /proc/thread-self name this process and thread") {
  CHECK(proc_rewritten("/proc/self") == "/proc/4321");
  CHECK(proc_rewritten("/proc/self/net/dev") == "/proc/4321/net/dev");
  CHECK(proc_rewritten("/proc/thread-self") == "/proc/4321/task/4325");
  CHECK(proc_rewritten("/proc/thread-self/net/dev") == "/proc/4321/task/4325/net/dev");
  CHECK(proc_rewritten("/proc/selfish") == "/proc/selfish");
  CHECK(proc_rewritten("/proc/1/net") == "/proc/1/net");
  CHECK(proc_rewritten("/sys/proc/self") == "/sys/proc/self");
  CHECK(proc_rewritten("/proc/self/x", 12) == "<too long>");
  CHECK(proc_rewritten("/proc/self/x", 13) == "/proc/4321/x");
}

TEST_CASE("path: decimal formatting") {
  char buf[24];
  CHECK(std::string(buf, fpshim::format_decimal(0, buf)) == "0");
  CHECK(std::string(buf, fpshim::format_decimal(4096, buf)) == "4096");
  CHECK(std::string(buf, fpshim::format_decimal(18446744073709551615ull, buf)) == "18446744073709551615");
}

TEST_CASE("path: how far a relative path climbs") {
  CHECK(fpshim::climb_depth("foo.c") == 0);
  CHECK(fpshim::climb_depth("./a/b/") == 0);
  CHECK(fpshim::climb_depth("..") == 1);
  CHECK(fpshim::climb_depth("../include/foo.h") == 1);
  CHECK(fpshim::climb_depth("../a/../../b") == 2);
  CHECK(fpshim::climb_depth("a/b/../../..//../x") == 2);
  CHECK(fpshim::climb_depth("a/../b/..") == 0);
  CHECK(fpshim::climb_depth("...") == 0);
  CHECK(fpshim::climb_depth("") == 0);
}

TEST_CASE("path: the /proc and /dev links that name another path") {
  auto link = [](const std::string& p) { return p.substr(0, fpshim::proc_link_prefix(p.c_str(), p.size())); };
  CHECK(link("/proc/4321/root/etc/machine-id") == "/proc/4321/root");
  CHECK(link("/proc/4321/root") == "/proc/4321/root");
  CHECK(link("/proc/4321/cwd/ioports") == "/proc/4321/cwd");
  CHECK(link("/proc/4321/fd/7") == "/proc/4321/fd/7");
  CHECK(link("/proc/4321/fd/7/id/product_uuid") == "/proc/4321/fd/7");
  CHECK(link("/proc/4321/task/4325/root/sys") == "/proc/4321/task/4325/root");
  CHECK(link("/proc/4321/task/4325/fd/3") == "/proc/4321/task/4325/fd/3");
  CHECK(link("/dev/stdin") == "/dev/stdin");
  CHECK(link("/dev/stderr/x") == "/dev/stderr");
  CHECK(link("/dev/fd/0") == "/dev/fd/0");
  CHECK(link("/dev/fd/12/a") == "/dev/fd/12");
  // Not links: the directories themselves, other entries, spellings not yet rewritten.
  CHECK(link("/proc/4321/fd").empty());
  CHECK(link("/proc/4321/fdinfo/3").empty());
  CHECK(link("/proc/4321/rootx").empty());
  CHECK(link("/proc/4321/net/dev").empty());
  CHECK(link("/proc/self/root/etc").empty());
  CHECK(link("/proc/ioports").empty());
  CHECK(link("/proc/4321").empty());
  CHECK(link("/dev/fd").empty());
  CHECK(link("/dev/fd/x").empty());
  CHECK(link("/dev/stdinx").empty());
  CHECK(link("/dev/null").empty());
  CHECK(link("/usr/proc/4321/root").empty());
}
