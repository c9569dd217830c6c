#include "executable_names.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

namespace fpshim {

namespace {

std::string real_path(const std::string& path) {
  char out[PATH_MAX];
  return realpath(path.c_str(), out) != nullptr ? std::string(out) : path;
}

// The interpreter a "#!" line at the start of `path` names, or "" if none.
std::string interpreter_of(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return {};
  char head[256];
  const ssize_t n = pread(fd, head, sizeof head, 0);
  close(fd);
  if (n < 3 || head[0] != '#' || head[1] != '!') return {};
  const std::string_view line(head + 2, size_t(n - 2));
  const size_t begin = line.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = line.find_first_of(" \t\n", begin);
  if (end == std::string_view::npos) {
    if (size_t(n) == sizeof head) return {};  // longer than we read
    end = line.size();
  }
  return std::string(line.substr(begin, end - begin));
}

}  // namespace

const std::string& ExecutableNames::resolve(std::string_view cwd, std::string_view executed) {
  std::string joined = executed.starts_with('/') || cwd.empty() ? std::string(executed)
                                                                 : std::string(cwd) + "/" + std::string(executed);
  if (auto it = cache_.find(joined); it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxCached) cache_.clear();
  std::string exe = real_path(joined);
  if (const std::string interpreter = interpreter_of(exe); interpreter.starts_with('/')) exe = real_path(interpreter);
  return cache_.emplace(std::move(joined), std::move(exe)).first->second;
}

}  // namespace fpshim
