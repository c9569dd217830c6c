#include "cli/locate.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "fpshim/wire.h"

namespace fpshim {

std::string self_exe_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string exe(buf, size_t(n));
  size_t slash = exe.rfind('/');
  return slash == 0 ? "/" : exe.substr(0, slash);
}

namespace {

std::optional<std::string> first_existing(const std::vector<std::string>& candidates, std::vector<std::string>& tried) {
  for (const std::string& c : candidates) {
    tried.push_back(c);
    if (char* real = realpath(c.c_str(), nullptr)) {
      std::string out = real;
      free(real);
      if (access(out.c_str(), R_OK) == 0) return out;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_shim_library(std::vector<std::string>& tried) {
  if (const char* lib = getenv("FPSHIM_LIB"); lib && *lib) return first_existing({lib}, tried);
  std::string dir = self_exe_dir();
  // Next to fpshim (the build tree, a copied pair), then the two install layouts of
  // packaging/CMakeLists.txt: <prefix>/lib/fpshim and the package's /usr/lib/<multiarch>/fpshim.
  std::vector<std::string> candidates = {dir + "/libfpshim.so", dir + "/../lib/fpshim/libfpshim.so"};
#ifdef FPSHIM_MULTIARCH
  candidates.push_back(dir + "/../lib/" FPSHIM_MULTIARCH "/fpshim/libfpshim.so");
#endif
  return first_existing(candidates, tried);
}

namespace {

// `path` made absolute against `cwd`, without "." components or repeated slashes ("..", which
// may cross a symlink, stays).
std::string absolute(const std::string& path, const std::string& cwd) {
  std::string joined = path[0] == '/' ? path : cwd + "/" + path;
  std::string out;
  for (size_t i = 0; i < joined.size();) {
    size_t end = joined.find('/', i);
    if (end == std::string::npos) end = joined.size();
    std::string_view part(joined.data() + i, end - i);
    if (!part.empty() && part != ".") (out += '/') += part;
    i = end + 1;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

std::string find_program(const std::string& name, const std::string& cwd) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return absolute(name, cwd);
  const char* path = getenv("PATH");
  std::string_view dirs = path ? path : "/bin:/usr/bin";
  for (size_t i = 0; i <= dirs.size();) {
    size_t end = dirs.find(':', i);
    if (end == std::string_view::npos) end = dirs.size();
    std::string dir(dirs.substr(i, end - i));
    if (dir.empty()) dir = cwd;
    std::string candidate = dir + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0)
      return absolute(candidate, cwd);
    i = end + 1;
  }
  return "";
}

static std::string default_dir() { return std::string(wire::kDefaultDir) + "-" + std::to_string(getuid()); }
std::string default_spool_dir() { return default_dir() + "/" + wire::kDefaultSpool; }
std::string default_socket() { return default_dir() + "/" + wire::kDefaultSocket; }

std::optional<std::string> find_default_rules(std::vector<std::string>& tried) {
  if (const char* rules = getenv("FPSHIM_RULES"); rules && *rules) return first_existing({rules}, tried);
  std::vector<std::string> candidates = {self_exe_dir() + "/../share/fpshim/rules.json"};
#ifdef FPSHIM_SOURCE_RULES
  candidates.push_back(FPSHIM_SOURCE_RULES);
#endif
  return first_existing(candidates, tried).value_or("");
}

}  // namespace fpshim
