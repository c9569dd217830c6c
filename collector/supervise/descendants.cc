#include "supervise/descendants.h"

#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <unordered_map>

namespace fpshim {

namespace {

// The ppid from /proc/PID/stat; the command name in parentheses may itself contain ") ".
pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return 0;
  return pid_t(std::atoi(stat.c_str() + close + 4));  // ") S PPID"
}

ProcessRef describe(pid_t pid) {
  ProcessRef ref{pid, true, {}, {}, {}};
  std::string dir = "/proc/" + std::to_string(pid);
  char buf[PATH_MAX];
  if (ssize_t n = readlink((dir + "/exe").c_str(), buf, sizeof buf); n > 0) ref.exe.assign(buf, size_t(n));
  std::ifstream in(dir + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t i = 0; i < cmdline.size();) {
    size_t end = cmdline.find('\0', i);
    if (end == std::string::npos) end = cmdline.size();
    ref.argv.push_back(cmdline.substr(i, end - i));
    i = end + 1;
  }
  return ref;
}

}  // namespace

std::vector<ProcessRef> live_descendants(pid_t ancestor) {
  std::unordered_map<pid_t, pid_t> parent;
  if (DIR* proc = opendir("/proc")) {
    while (dirent* e = readdir(proc)) {
      pid_t pid = pid_t(std::atoi(e->d_name));
      if (pid > 0) parent[pid] = parent_of(pid);
    }
    closedir(proc);
  }
  std::vector<ProcessRef> out;
  for (const auto& [pid, ppid] : parent) {
    pid_t up = ppid;
    for (int depth = 0; up > 1 && up != ancestor && depth < 4096; depth++) {
      auto it = parent.find(up);
      up = it == parent.end() ? 0 : it->second;
    }
    if (up == ancestor) out.push_back(describe(pid));
  }
  std::sort(out.begin(), out.end(), [](const ProcessRef& a, const ProcessRef& b) { return a.pid < b.pid; });
  return out;
}

}  // namespace fpshim
