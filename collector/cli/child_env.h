// The environment every build process gets (docs/design.md, "Environment given to every build process").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fpshim {

struct ChildSettings {
  std::string library;  // absolute path of libfpshim.so
  std::string socket;
  std::string spool;
  std::string build;  // 16 lowercase hex digits
  std::string filter;
  std::string filter_image;  // the file of `filter` parsed (supervise/filter_image_file.h), or "" for none
  // The shim for the command's own ABI (shim_for_program: a variant next to `library`, or "" for
  // none, when LD_PRELOAD keeps only the user's entries); unset: `library`.
  std::optional<std::string> command_shim = std::nullopt;
};

// `env` (NULL-terminated, like environ) with any earlier FPSHIM_* settings of ours replaced, and
// LD_PRELOAD set to the command's shim first, then the user's entries (minus the library itself).
std::vector<std::string> child_environment(const char* const* env, const ChildSettings& settings);

// A random 64-bit build id from getrandom(2).
uint64_t random_build_id();

}  // namespace fpshim
