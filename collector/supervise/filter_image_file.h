// The build's filter image (shim/filter_image.h): the pre-filter parsed once by the collector,
// written into the private directory for every process of the build to map instead of parsing
// FPSHIM_FILTER, and compared at the end with what was written (the build runs as our uid).
#pragma once

#include <optional>
#include <string>

namespace fpshim {

// The file's bytes for the pre-filter `spec`, parsed by the shim's own Filter::parse.
std::string filter_image(const std::string& spec);

// Writes `bytes` to `path` (a new file, 0400). On failure says why in `error`.
bool write_filter_image(const std::string& path, const std::string& bytes, std::string& error);

// What the build did to the file at `path` that held `bytes`, for the report's tampering list, or
// nothing if it still holds them.
std::optional<std::string> filter_image_tampering(const std::string& path, const std::string& bytes);

}  // namespace fpshim
