#include "inspect/inspection_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include <nlohmann/json.hpp>

namespace fpshim {

namespace {

using json = nlohmann::json;

bool stat_file(const std::string& path, struct stat& st) { return stat(path.c_str(), &st) == 0; }

}  // namespace

InspectionCache::~InspectionCache() {
  if (log_fd_ >= 0) close(log_fd_);
}

void InspectionCache::keep_log(const std::string& path) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;  // a line torn by a crash
    try {
      Entry e;
      e.id = FileId{j.at("dev").get<dev_t>(), j.at("ino").get<ino_t>(), j.at("size").get<off_t>(),
                    j.at("mtime_ns").get<int64_t>(), j.at("mode").get<mode_t>()};
      e.result.readable = j.at("readable").get<bool>();
      e.result.reason = Unmonitored(j.at("reason").get<int>());
      e.result.detail = j.at("detail").get<std::string>();
      e.result.image = j.at("image").get<std::string>();
      e.result.dev = j.value("image_dev", uint64_t(0));
      e.result.ino = j.value("image_ino", uint64_t(0));
      remember(j.at("path").get<std::string>(), e, false);
    } catch (const json::exception&) {
    }
  }
  log_fd_ = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

void InspectionCache::remember(const std::string& path, const Entry& e, bool log) {
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_.insert_or_assign(path, e);
  if (!log || log_fd_ < 0) return;
  json j = {{"path", path},
            {"dev", e.id.dev},
            {"ino", e.id.ino},
            {"size", e.id.size},
            {"mtime_ns", e.id.mtime_ns},
            {"mode", e.id.mode},
            {"readable", e.result.readable},
            {"reason", int(e.result.reason)},
            {"detail", e.result.detail},
            {"image", e.result.image},
            {"image_dev", e.result.dev},
            {"image_ino", e.result.ino}};
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (write(log_fd_, line.data(), line.size()) < 0) {
    // Only a restarted collector would miss it, and only for a file deleted meanwhile.
  }
}

Inspection InspectionCache::inspect(const std::string& path) {
  struct stat st;
  auto cached = entries_.find(path);
  if (!stat_file(path, st)) {
    if (cached != entries_.end()) return cached->second.result;  // inspected while it was there
    Inspection missing;
    missing.gone = errno == ENOENT;
    return missing;
  }
  FileId id{st.st_dev, st.st_ino, st.st_size, int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
            st.st_mode};
  if (cached != entries_.end() && cached->second.id == id) return cached->second.result;
  Entry e{id, inspect_executable(path, who_)};
  remember(path, e, true);
  return e.result;
}

}  // namespace fpshim
