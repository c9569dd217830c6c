// libFuzzer target: the shim's parser of FPSHIM_FILTER (shim/filter.cc), which reads whatever the
// environment of a build process holds, and the filter's questions on paths after it.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "shim/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first line is the spec; the lines after it are paths to ask about.
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string spec = input.substr(0, newline);
  static fpshim::Filter filter;
  filter.parse(spec.c_str());
  for (size_t at = newline; at != std::string::npos && at < input.size();) {
    const size_t end = input.find('\n', at + 1);
    std::string path = input.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    path.resize(strlen(path.c_str()));
    (void)filter.maybe_candidate(path.c_str(), [] { return true; });
    (void)filter.maybe_candidate(path.c_str(), [] { return false; });
    (void)filter.matches(path.data(), path.size());
    (void)filter.interesting_dir(path.data(), path.size());
    at = end;
  }
  return 0;
}
