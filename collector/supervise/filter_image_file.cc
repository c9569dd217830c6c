// Writing the build's filter image, and checking it at the end (filter_image_file.h).
#include "supervise/filter_image_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "shim/filter_image.h"

namespace fpshim {

std::string filter_image(const std::string& spec) {
  auto filter = std::make_unique<Filter>();  // all zero, padding included: value-initialised
  filter->parse(spec.c_str());
  std::string out(filter_image_size(spec.size()), '\0');
  FilterImageHeader header = {};
  std::memcpy(header.magic, kFilterImageMagic, sizeof header.magic);
  header.layout = Filter::layout();
  header.size = out.size();
  header.spec_length = spec.size();
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + kFilterImageOffset, filter.get(), sizeof(Filter));
  std::memcpy(out.data() + kFilterImageOffset + sizeof(Filter), spec.data(), spec.size());
  return out;
}

bool write_filter_image(const std::string& path, const std::string& bytes, std::string& error) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
  bool ok = fd >= 0;
  for (size_t done = 0; ok && done < bytes.size();) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += size_t(n);
  }
  if (!ok) error = fmt::format("cannot write the filter image {}: {}", path, std::strerror(errno));
  if (fd >= 0 && close(fd) != 0 && ok) {
    error = fmt::format("cannot write the filter image {}: {}", path, std::strerror(errno));
    ok = false;
  }
  return ok;
}

std::optional<std::string> filter_image_tampering(const std::string& path, const std::string& bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return fmt::format("the filter image {} was removed or replaced ({})", path, std::strerror(errno));
  std::string now;
  char buf[65536];
  ssize_t n;
  while (now.size() <= bytes.size() && ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0) now.append(buf, size_t(n));
  close(fd);
  if (now == bytes) return std::nullopt;
  if (now.size() != bytes.size())
    return fmt::format("the filter image {} was rewritten ({} bytes instead of {})", path, now.size(), bytes.size());
  return fmt::format("the filter image {} was rewritten", path);
}

}  // namespace fpshim
