#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "fpshim/wire.h"
#include "shim/exec_env.h"

namespace {

const char* const kEntries[] = {"FPSHIM_SOCKET=/run/fp/s", "FPSHIM_BUILD=00000000000000ab"};
const fpshim::ShimEnv kShim{"/opt/fp/libfpshim.so", kEntries, 2};

struct Child {
  std::vector<std::string> env;  // empty and `unchanged`: envp passed as it was
  bool unchanged = false;
  uint32_t flags = 0;
};

Child child_env(std::vector<std::string> in, bool keep_shim = true, const fpshim::ShimEnv& shim = kShim) {
  std::vector<char*> envp;
  for (std::string& s : in) envp.push_back(s.data());
  envp.push_back(nullptr);
  Child c;
  fpshim::with_child_env(envp.data(), shim, keep_shim, [&](char* const* env, uint32_t flags) {
    c.unchanged = env == envp.data();
    c.flags = flags;
    for (size_t i = 0; env[i] != nullptr; i++) c.env.emplace_back(env[i]);
    return 0;
  });
  return c;
}

bool has(const Child& c, const std::string& entry) {
  for (const std::string& e : c.env)
    if (e == entry) return true;
  return false;
}

size_t count_prefix(const Child& c, const std::string& prefix) {
  size_t n = 0;
  for (const std::string& e : c.env) n += e.rfind(prefix, 0) == 0;
  return n;
}

}  // namespace

TEST_CASE("exec env: an intact environment is passed as it is") {
  const Child c = child_env(
      {"PATH=/bin", "LD_PRELOAD=/opt/fp/libfpshim.so:/usr/lib/other.so", kEntries[0], kEntries[1]});
  CHECK(c.unchanged);
  CHECK(c.flags == 0);
}

TEST_CASE("exec env: an empty environment gets everything back") {
  const Child c = child_env({});
  CHECK_FALSE(c.unchanged);
  CHECK(c.flags == fpshim::wire::flag_env_restored);
  CHECK(c.env.size() == 3);
  CHECK(has(c, "LD_PRELOAD=/opt/fp/libfpshim.so"));
  CHECK(has(c, kEntries[0]));
  CHECK(has(c, kEntries[1]));
}

TEST_CASE("exec env: ours goes first, the user's entries stay, copies of ours go") {
  const Child c = child_env({"HOME=/root",
                             "LD_PRELOAD=/usr/lib/a.so /opt/fp/libfpshim.so:/other/libfpshim.so /usr/lib/b.so",
                             kEntries[0], kEntries[1]});
  CHECK(c.flags == fpshim::wire::flag_env_restored);
  CHECK(has(c, "LD_PRELOAD=/opt/fp/libfpshim.so:/usr/lib/a.so:/usr/lib/b.so"));
  CHECK(has(c, "HOME=/root"));
  CHECK(count_prefix(c, "LD_PRELOAD=") == 1);
  CHECK(c.env.size() == 4);
}

TEST_CASE("exec env: a changed or missing FPSHIM variable is put back, once") {
  const Child c = child_env(
      {"LD_PRELOAD=/opt/fp/libfpshim.so", "FPSHIM_SOCKET=/elsewhere", "FPSHIM_SOCKET=/again", "X=1"});
  CHECK(c.flags == fpshim::wire::flag_env_restored);
  CHECK(count_prefix(c, "FPSHIM_SOCKET=") == 1);
  CHECK(has(c, kEntries[0]));
  CHECK(has(c, kEntries[1]));
  CHECK(has(c, "X=1"));
}

TEST_CASE("exec env: several LD_PRELOAD entries become one, built from the last (what ld.so reads)") {
  const Child c = child_env(
      {"LD_PRELOAD=/first.so", "LD_PRELOAD=/opt/fp/libfpshim.so /last.so", kEntries[0], kEntries[1]});
  CHECK(count_prefix(c, "LD_PRELOAD=") == 1);
  CHECK(has(c, "LD_PRELOAD=/opt/fp/libfpshim.so:/last.so"));
}

TEST_CASE("exec env: a target of the other ELF class gets no libfpshim.so") {
  Child c = child_env({"LD_PRELOAD=/opt/fp/libfpshim.so:/usr/lib/a.so", kEntries[0]}, false);
  CHECK(c.flags == fpshim::wire::flag_preload_dropped);
  CHECK(has(c, "LD_PRELOAD=/usr/lib/a.so"));
  CHECK(c.env.size() == 2);  // FPSHIM_* left as they were

  c = child_env({"LD_PRELOAD=/opt/fp/libfpshim.so", "PATH=/bin"}, false);
  CHECK(count_prefix(c, "LD_PRELOAD") == 0);
  CHECK(c.env == std::vector<std::string>{"PATH=/bin"});

  c = child_env({"PATH=/bin"}, false);
  CHECK(c.unchanged);
  CHECK(c.flags == fpshim::wire::flag_preload_dropped);
}

TEST_CASE("exec env: without the library's path LD_PRELOAD is left alone") {
  const fpshim::ShimEnv no_lib{"", kEntries, 2};
  const Child c = child_env({"PATH=/bin"}, true, no_lib);
  CHECK(c.unchanged);
}

TEST_CASE("exec env: an environment too large for the stack is passed on") {
  std::vector<std::string> huge(fpshim::kMaxChildEnv + 1, "A=1");
  const Child c = child_env(huge);
  CHECK(c.unchanged);
}

TEST_CASE("exec env: a null envp counts as empty") {
  Child c;
  fpshim::with_child_env(nullptr, kShim, true, [&](char* const* env, uint32_t flags) {
    c.flags = flags;
    for (size_t i = 0; env[i] != nullptr; i++) c.env.emplace_back(env[i]);
    return 0;
  });
  CHECK(c.env.size() == 3);
  CHECK(c.flags == fpshim::wire::flag_env_restored);
}
