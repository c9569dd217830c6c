#include <doctest/doctest.h>

#include <string.h>

#include <string>
#include <vector>

#include "shim/filter.h"
#include "shim/path.h"

using fpshim::Filter;

namespace {

// Filter is large (fixed arrays): keep test instances off the stack.
Filter& parsed(const char* spec, bool* ok = nullptr) {
  static Filter f;
  const bool r = f.parse(spec);
  if (ok != nullptr) *ok = r;
  return f;
}

bool matches(const Filter& f, const std::string& p) { return f.matches(p.c_str(), p.size()); }
bool interesting(const Filter& f, const std::string& d) { return f.interesting_dir(d.c_str(), d.size()); }
bool candidate(const Filter& f, const std::string& p, bool cwd_interesting) {
  return f.maybe_candidate(p.c_str(), [&] { return cwd_interesting; });
}

}  // namespace

TEST_CASE("filter: prefixes are plain string prefixes") {
  const Filter& f = parsed("v1:P/sys/class/dmi/id:P/proc/ioports:P/etc/hosts");
  CHECK(matches(f, "/proc/ioports"));
  CHECK(matches(f, "/sys/class/dmi/id/product_uuid"));
  CHECK(matches(f, "/etc/hosts.allow"));
  CHECK_FALSE(matches(f, "/proc/iomem"));
  CHECK_FALSE(matches(f, "/sys/class/dmi"));
  CHECK_FALSE(matches(f, "/usr/include/stdio.h"));
  CHECK_FALSE(matches(f, "/"));
}

TEST_CASE("filter: escapes, empty entries and basenames") {
  bool ok = false;
  const Filter& f = parsed("v1:P/a%3Ab:P/c%25d::Bauthorized_keys:Bx%3ay", &ok);
  CHECK(ok);
  CHECK(matches(f, "/a:b/c"));
  CHECK_FALSE(matches(f, "/a%3Ab"));
  CHECK(matches(f, "/c%d"));
  CHECK(matches(f, "/root/.ssh/authorized_keys"));
  CHECK(matches(f, "/authorized_keys"));
  CHECK_FALSE(matches(f, "/root/.ssh/authorized_keys2"));
  CHECK(matches(f, "/tmp/x:y"));
}

TEST_CASE("filter: 'v1' alone matches nothing") {
  bool ok = false;
  const Filter& f = parsed("v1", &ok);
  CHECK(ok);
  CHECK_FALSE(matches(f, "/proc/ioports"));
  CHECK_FALSE(candidate(f, "/proc/ioports", false));
  CHECK_FALSE(candidate(f, "x", false));
  CHECK_FALSE(interesting(f, "/"));
}

TEST_CASE("filter: a filter never parsed lets every path through") {
  static Filter f;
  CHECK(candidate(f, "/usr/include/stdio.h", false));
  CHECK(candidate(f, "foo.c", false));
  CHECK(f.quick_verdict<fpshim::BaselineScan>("foo.c", [] { return false; }) == Filter::Verdict::look_further);
}

TEST_CASE("filter: bad input lets everything through") {
  for (const char* bad : {"", "v2:P/x", "v1x", "P/x", "v1:Q/x", "v1:Prelative", "v1:P/x%", "v1:P/x%4", "v1:P/x%zz",
                          "v1:P/x%00", "v1:Ba/b", "v1:P"}) {
    CAPTURE(bad);
    bool ok = true;
    const Filter& f = parsed(bad, &ok);
    CHECK_FALSE(ok);
    CHECK(matches(f, "/usr/include/stdio.h"));
    CHECK(candidate(f, "/usr/include/stdio.h", false));
    CHECK(candidate(f, "foo.c", false));
    CHECK(interesting(f, "/usr"));
  }
  bool ok = true;
  CHECK(matches(parsed(nullptr, &ok), "/x"));
  CHECK_FALSE(ok);
}

TEST_CASE("filter: the prefix '/' covers everything") {
  const Filter& f = parsed("v1:P/");
  CHECK(matches(f, "/usr/lib"));
  CHECK(candidate(f, "relative", false));
}

TEST_CASE("filter: entries beyond the fixed limits widen the filter") {
  std::string spec = "v1";
  for (unsigned i = 0; i < Filter::kMaxEntries + 10; i++) spec += ":P/proc/p" + std::to_string(i);
  spec += ":P/sys/last";
  const Filter& f = parsed(spec.c_str());
  CHECK(matches(f, "/proc/p0"));
  CHECK(matches(f, "/sys/anything"));  // /sys/last did not fit: all of /s... passes
  CHECK(matches(f, "/srv/anything"));
  CHECK_FALSE(matches(f, "/usr/lib"));
  CHECK(candidate(f, "/sys/last", false));
  CHECK(interesting(f, "/sys"));

  const std::string long_entry = "v1:P/usr/" + std::string(Filter::kMaxText + 10, 'x');
  const Filter& g = parsed(long_entry.c_str());
  CHECK(matches(g, "/usr/bin/ls"));
  CHECK_FALSE(matches(g, "/tmp/x"));

  std::string names = "v1";
  for (unsigned i = 0; i < Filter::kMaxEntries + 1; i++) names += ":Bn" + std::to_string(i);
  CHECK(matches(parsed(names.c_str()), "/tmp/any"));
}

TEST_CASE("filter: G entries match any one component for a '*' component") {
  const Filter& f = parsed("v1:G/proc/*/net/:G/proc/*/task/*/net/:P/proc/ioports:G/sys/x*y/*");
  CHECK(matches(f, "/proc/42/net/dev"));
  CHECK(matches(f, "/proc/42/task/43/net/tcp"));
  CHECK(matches(f, "/proc/self/net/dev"));
  CHECK_FALSE(matches(f, "/proc/42/maps"));
  CHECK_FALSE(matches(f, "/proc/42/net"));  // the entry ends with a slash: a plain prefix after the wildcard
  CHECK_FALSE(matches(f, "/proc//net/dev"));
  CHECK(matches(f, "/proc/ioports"));
  CHECK(matches(f, "/sys/x*y/anything"));  // '*' inside a component is a character
  CHECK_FALSE(matches(f, "/sys/xay/anything"));
  CHECK(interesting(f, "/proc"));
  CHECK(interesting(f, "/proc/42"));
  CHECK(interesting(f, "/proc/42/task/43"));
  CHECK(interesting(f, "/proc/42/net"));
  CHECK_FALSE(interesting(f, "/proc/42/fd"));
  CHECK(candidate(f, "/proc/1/net/dev", false));

  const Filter& g = parsed("v1:G/*/net/");
  CHECK(matches(g, "/usr/net/x"));
  CHECK(candidate(g, "/usr/net/x", false));
  CHECK(interesting(g, "/tmp"));
  CHECK_FALSE(interesting(g, "/tmp/x"));
}

TEST_CASE("filter: interesting directories are inside or above a prefix") {
  const Filter& f = parsed("v1:P/sys/class/net:P/proc/ioports:P/dev/sd");
  CHECK(interesting(f, "/"));
  CHECK(interesting(f, "/sys"));
  CHECK(interesting(f, "/sys/class"));
  CHECK(interesting(f, "/sys/class/net"));
  CHECK(interesting(f, "/sys/class/net/lo"));
  CHECK(interesting(f, "/proc"));
  CHECK(interesting(f, "/dev"));
  CHECK(interesting(f, "/dev/sda"));  // plain prefix: inside "/dev/sd"
  CHECK_FALSE(interesting(f, "/sys/cl"));
  CHECK_FALSE(interesting(f, "/sys/class/dmi"));
  CHECK_FALSE(interesting(f, "/usr"));
  CHECK_FALSE(interesting(f, "/proc/self"));
  CHECK_FALSE(interesting(f, "/tmp"));
}

template <class Scan>
void check_dotdot_scan() {
  // Every alignment, pairs across block boundaries, strings that end near a page boundary.
  static char page[3 * 4096] __attribute__((aligned(4096)));
  for (size_t base : {size_t(64), size_t(4096 - 80), size_t(2 * 4096 - 40)}) {
    char* buf = page + base;
    for (size_t off = 0; off < 32; off++) {
      for (size_t at = 0; at < 70; at++) {
        memset(buf, 'a', 120);
        buf[off + at] = '.';
        buf[off + at + 1] = '.';
        buf[off + 75] = '\0';
        CHECK(Scan::has_dotdot(buf + off));
        buf[off + at + 1] = '\0';
        CHECK_FALSE(Scan::has_dotdot(buf + off));
        buf[off + at + 1] = '/';
        CHECK_FALSE(Scan::has_dotdot(buf + off));
      }
      memset(buf, '.', 120);
      buf[off] = '\0';
      CHECK_FALSE(Scan::has_dotdot(buf + off));  // dots after the NUL do not count
      buf[off + 1] = '\0';
      CHECK_FALSE(Scan::has_dotdot(buf + off));
    }
  }
  CHECK(Scan::has_dotdot("/usr/../proc"));
  CHECK_FALSE(Scan::has_dotdot("/usr/./proc/.x"));
  CHECK_FALSE(Scan::has_dotdot(""));
}

TEST_CASE("filter: the dot-dot scans find pairs anywhere before the NUL") {
  check_dotdot_scan<fpshim::BaselineScan>();
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) check_dotdot_scan<fpshim::ScanAvx2>();
#endif
}

TEST_CASE("filter: unwatched paths are not candidates") {
  const Filter& f = parsed("v1:P/sys/class/net:P/proc/ioports:P/run/systemd/resolve/resolv.conf:P/s");
  CHECK_FALSE(candidate(f, "/root/.cache/pip/x", false));
  CHECK(candidate(f, "/run/x", false));
  CHECK(candidate(f, "/srv/x", false));  // "P/s" lets every second byte through
  CHECK_FALSE(candidate(f, "/usr/include/stdio.h", false));
  CHECK_FALSE(candidate(f, "/tmp/x.o", false));
  CHECK_FALSE(candidate(f, "foo.c", false));
  CHECK_FALSE(candidate(f, "./include/foo.h", false));
  CHECK(candidate(f, "foo.c", true));
  CHECK(candidate(f, "../foo.c", false));
  CHECK(candidate(f, "/", false));
}

// The property the hooks rely on: whatever a path normalises to, if that matches, the path as
// spelled was a candidate.
TEST_CASE("filter: maybe_candidate is a superset of matches after normalisation") {
  const std::vector<std::string> specs = {
      "v1:P/sys/class/dmi:P/proc/ioports:P/sys/class/net",
      "v1:P/sys/class/net:Bauthorized_keys:Bmachine-id",
      "v1:P/etc/hosts:P/proc/:P/sys/devices/",
      "v1:Baddress",
      "v1:G/proc/*/net/:G/proc/*/task/*/net/:P/proc/net/:P/sys/class/net",
      "v1:G/*/x/",
      "v1:G/home/*/.ssh/id_rsa:G/home/*/.aws/credentials:G/home/*/.config/*/Cookies:P/root/.ssh/id_rsa:"
      "G/proc/*/mem:G/proc/*/task/*/mem:G/proc/*/environ:P/proc/sys/net/",
  };
  const std::vector<std::string> cwds = {"/",          "/usr",  "/sys",       "/sys/class", "/sys/class/net/lo",
                                         "/tmp/build", "/proc", "/root/.ssh", "/etc"};
  const std::vector<std::string> paths = {"/usr/../proc/ioports",
                                          "//sys//class/net",
                                          "/./sys/class",
                                          "/sys/class/net/",
                                          "/proc/ioports",
                                          "/proc/self/net/dev",
                                          "/proc/thread-self/net",
                                          "/proc/self",
                                          "/usr/include/stdio.h",
                                          "/tmp/x.o",
                                          "foo.c",
                                          "net",
                                          "net/lo/address",
                                          "class/net",
                                          "../net",
                                          "../../sys/class/net",
                                          "../../../../../proc/ioports",
                                          "./ioports",
                                          "ioports",
                                          ".",
                                          "..",
                                          "",
                                          "/",
                                          "//",
                                          "/..",
                                          "/../sys/class/dmi/id",
                                          "/sys/class/dmi/id/./x",
                                          "/root/.ssh/authorized_keys",
                                          "authorized_keys",
                                          ".ssh/authorized_keys/",
                                          "/etc/machine-id/.",
                                          "/etc/machine-id/..",
                                          "/etc/hosts",
                                          "hosts",
                                          "/etc/hosts.allow",
                                          "self",
                                          "lo/address",
                                          "/a/b/../address",
                                          "/usr/lib/../../sys/devices/x",
                                          "/sys/devices/virtual/net/lo/address",
                                          "x/..//..//proc/ioports",
                                          "/proc/self/net/dev",
                                          "self/net/dev",
                                          "net/dev",
                                          "42/net/dev",
                                          "../net/dev",
                                          "/proc/thread-self/net/tcp",
                                          "/usr/x/y",
                                          "x/y",
                                          "../x/y",
                                          "task/1/net/x",
                                          "/home/u/.ssh/id_rsa",
                                          "/home/u/work/x.c",
                                          "/home/u//.ssh/id_rsa",
                                          "/home/u/./.ssh/id_rsa",
                                          "/home/./u/.ssh/id_rsa",
                                          "/home/u/x/../.ssh/id_rsa",
                                          "/home/u/.config/x/Cookies",
                                          "/home/u/.config/x/y/Cookies",
                                          "/home/u",
                                          ".ssh/id_rsa",
                                          "u/.ssh/id_rsa",
                                          "/proc/123/mem",
                                          "/proc/self/mem",
                                          "/proc/123/task/4/mem",
                                          "/proc/thread-self/mem",
                                          "/proc/123/stat",
                                          "/proc/sys/net/core/somaxconn",
                                          "/proc/sys/kernel/osrelease",
                                          "/proc/123/root/proc/sys/net/x",
                                          "mem"};
  for (const std::string& spec : specs) {
    const Filter& f = parsed(spec.c_str());
    for (const std::string& cwd : cwds) {
      const bool cwd_interesting = interesting(f, cwd);
      for (const std::string& path : paths) {
        char out[fpshim::kResolvedMax];
        long len = fpshim::normalize_path(cwd.c_str(), cwd.size(), path.c_str(), out, sizeof out);
        REQUIRE(len > 0);
        len = fpshim::rewrite_proc_self(
            out, size_t(len), sizeof out, [] { return 1234; }, [] { return 1240; });
        REQUIRE(len > 0);
        if (f.matches(out, size_t(len))) {
          CAPTURE(spec);
          CAPTURE(cwd);
          CAPTURE(path);
          CHECK(candidate(f, path, cwd_interesting));
        }
      }
    }
  }
}

TEST_CASE("filter: a path that no entry begins like is rejected by the walk, 8 bytes at a time") {
  const Filter& f = parsed("v1:P/etc/hosts:P/etc/machine-id:P/proc/ioports:G/proc/*/net/dev:P/var/lib/dbus/machine-id");
  CHECK_FALSE(candidate(f, "/etc/passwd", false));
  CHECK_FALSE(candidate(f, "/etc/ld.so.cache", false));
  CHECK_FALSE(candidate(f, "/var/tmp/x.o", false));
  CHECK(candidate(f, "/etc/hosts", false));
  CHECK(candidate(f, "/etc/hosts.allow", false));
  CHECK(candidate(f, "/etc/hostname", false));  // ends within the next 8 bytes: the slow path decides
  CHECK(candidate(f, "/var/lib/dbus", false));  // above an entry
  // Spellings whose normal form may start otherwise.
  CHECK(candidate(f, "/etc//hosts", false));
  CHECK(candidate(f, "/etc/./hosts", false));
  CHECK(candidate(f, "/etc/pas/../hosts", false));
  CHECK(candidate(f, "/e/../etc/hosts", false));
  CHECK(candidate(f, "/etc", false));  // shorter than 8 bytes
  CHECK(candidate(f, "/etc/", false));
  // A "*" among the first 8 bytes of a pattern lets every path through that begins like its text before.
  CHECK(candidate(f, "/proc/self/net/dev", false));
  CHECK(candidate(f, "/proc/meminfo", false));
}

TEST_CASE("filter: the walk goes past the first 8 bytes, and lets through what normalising may change") {
  const Filter& f = parsed(
      "v1:P/etc/hosts:P/etc/systemd/resolved.conf:P/root/.config/:P/usr/bin/nmap:P/var/lib/dbus/machine-id:"
      "G/root/.mozilla/firefox/*/");
  for (const char* p : {"/etc/passwd", "/etc/systemd/system/x.service", "/etc/.pwd.lock", "/root/.cache/pip/x",
                        "/usr/include/stdio.h", "/usr/lib/x", "/var/lib/apt/lists/x", "/var/lib/dbus/uuid", "/dev/null",
                        "/dev/tty1", "/proc/cpuinfo", "/proc/sys/kernel/osrelease", "/root/.mozilla/other/x"}) {
    CAPTURE(p);
    CHECK_FALSE(candidate(f, p, false));
  }
  for (const char* p :
       {"/etc/systemd/resolved.conf", "/etc/systemd/resolved.conf.d/x", "/root/.config/x", "/usr/bin/nmap-x",
        "/root/.config", "/usr/bin/nmap", "/var/lib/dbus/machine-id", "/var/lib/dbus/", "/root/.mozilla/firefox/x/y",
        // "//", "/./", "/.." anywhere, and the /proc and /dev links to any path
        "/etc/systemd//resolved.conf", "/etc/systemd/./resolved.conf", "/etc/systemd/x/../resolved.conf",
        "/etc/systemd/resolved/../x", "/var/lib/dbus/.", "/var/lib/./dbus/machine-id", "/dev/fd/3/x", "/dev/stdin",
        "/proc/self/root/etc/hosts", "/proc/thread-self/cwd/x", "/proc/123/fd/4", "/proc/1/root"}) {
    CAPTURE(p);
    CHECK(candidate(f, p, false));
  }
}

TEST_CASE("filter: entries beyond the walk's tables let their first byte through") {
  std::string spec = "v1";
  for (int i = 0; i < 250; i++) spec += ":P/e/" + std::string(40, char('a' + i % 26)) + std::to_string(i);
  const Filter& f = parsed(spec.c_str());
  CHECK(candidate(f, "/e/" + std::string(40, 'a') + "0", false));
  CHECK(candidate(f, "/e/" + std::string(40, 'z') + "x", false));  // first byte passes: the tables are full
  CHECK_FALSE(candidate(f, "/f/x", false));
}

TEST_CASE("filter: the first eight bytes are read safely at the end of a page") {
  const Filter& f = parsed("v1:P/etc/hosts");
  static char page[2 * 4096] __attribute__((aligned(4096)));
  for (const char* p : {"/etc/hosts", "/etc/passwd", "/etc/h"}) {
    const size_t len = strlen(p);
    for (size_t back = len + 1; back <= len + 9; back++) {
      char* s = page + 4096 - back;
      memcpy(s, p, len + 1);
      CAPTURE(p);
      CAPTURE(back);
      CHECK(candidate(f, s, false) == (strcmp(p, "/etc/passwd") != 0));
    }
  }
}

TEST_CASE("filter: strict lets every path through to the slow path, and matches as before") {
  bool ok = false;
  const Filter& f = parsed("v1:P/proc/ioports:G/proc/*/net/:S", &ok);
  CHECK(ok);
  CHECK(f.strict());
  const auto quick = [&](const char* p, bool base) {
    return f.quick_verdict<fpshim::BaselineScan>(p, [&] { return base; }) != Filter::Verdict::no;
  };
  CHECK(quick("/usr/include/stdio.h", false));
  CHECK(quick("stdio.h", false));
  CHECK(matches(f, "/proc/ioports"));
  CHECK_FALSE(matches(f, "/usr/include/stdio.h"));
  REQUIRE(f.literal_count() == 2);
  char text[64];
  f.literal(0, text, sizeof text);
  CHECK(std::string(text) == "/proc/ioports");
  f.literal(1, text, sizeof text);
  CHECK(std::string(text) == "/proc/");
  CHECK_FALSE(parsed("v1:P/proc/ioports").strict());
  parsed("v1:Sx", &ok);
  CHECK_FALSE(ok);
}

TEST_CASE("filter: the walk goes on past a wildcard component") {
  const Filter& f = parsed(
      "v1:G/home/*/.ssh/id_rsa:G/home/*/.aws/credentials:G/home/*/.config/*/Cookies:P/root/.ssh/id_rsa:"
      "G/proc/*/mem:G/proc/*/task/*/mem:G/proc/*/environ:P/proc/sys/net/:G/usr/*");
  for (const char* p :
       {"/home/u/work/x.c", "/home/runner/work/src/main.c", "/home/u/.sshx/id_rsa", "/home/u/.config/x/Preferences",
        "/proc/123/cmdline", "/proc/123/mountinfo", "/proc/sys/kernel/osrelease", "/proc/123/task/4/mountinfo",
        "/proc/self/mountinfo", "/proc/self/task/4/mountinfo"}) {
    CAPTURE(p);
    CHECK_FALSE(candidate(f, p, false));
    CHECK(f.near_miss(p));
    CHECK_FALSE(f.matches(p, strlen(p)));
  }
  for (const char* p : {"/home/u/.ssh/id_rsa", "/home/runner/.aws/credentials", "/home/u/.config/x/Cookies",
                        "/proc/123/mem", "/proc/123/task/4/mem", "/proc/1/environ", "/proc/self/environ",
                        "/proc/self/task/4/mem", "/proc/sys/net/core/somaxconn", "/usr/include/stdio.h"}) {
    CAPTURE(p);
    CHECK(candidate(f, p, false));
    CHECK(f.matches(p, strlen(p)));
  }
  // Above an entry, and the spellings whose normal form may differ at or after the wildcard.
  for (const char* p : {"/home/u", "/home/u/", "/home/u/.ssh", "/home/u/.config/x", "/proc/123", "/proc/123/task/4",
                        "/home//u/.ssh/id_rsa", "/home/./.ssh/id_rsa", "/home/u//.ssh/id_rsa", "/home/u/./.ssh/id_rsa",
                        "/home/u/x/../.ssh/id_rsa", "/home/../root/.ssh/id_rsa",
                        // the /proc links to any path, and /proc/self, /proc/thread-self as they are
                        "/proc/123/root/etc", "/proc/123/cwd", "/proc/123/fd/4", "/proc/123/task/4/root/x",
                        "/proc/self/root/etc/hosts", "/proc/self/fd/3", "/proc/thread-self/mountinfo", "/dev/fd/3"}) {
    CAPTURE(p);
    CHECK(candidate(f, p, false));
  }
  // An entry that names a pid: /proc/self may be that pid.
  const Filter& g = parsed("v1:P/proc/1/environ");
  CHECK(candidate(g, "/proc/self/environ", false));
  CHECK(candidate(g, "/proc/self/mountinfo", false));
  CHECK_FALSE(candidate(g, "/proc/2/mountinfo", false));
}

TEST_CASE("filter: a walk past more wildcards than it keeps lets the path through") {
  const Filter& f = parsed("v1:G/a/*/x:G/a/b/*/x:G/a/b/c/*/x:G/a/b/c/d/*/x:G/a/b/c/d/e/*/x");
  CHECK(candidate(f, "/a/b/c/d/e/f/yyyyyyyy", false));  // five wildcard tails on the way: more than kept
  CHECK(candidate(f, "/a/b/c/d/e/f/x", false));
  CHECK_FALSE(candidate(f, "/a/b/c/y/zzzzzzzz", false));  // three tried in turn
  CHECK(candidate(f, "/a/b/c/y/z", false));               // ends within the 8 bytes after one: above an entry?
  CHECK(candidate(f, "/a/b/c/y/x", false));
  CHECK(candidate(f, "/a/q/x", false));
}
