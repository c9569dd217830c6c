// fpshim's version, as the reports and `fpshim --version` state it (set by CMake for the whole collector).
#pragma once

#ifndef FPSHIM_VERSION
#define FPSHIM_VERSION "unknown"
#endif

namespace fpshim {

inline constexpr const char* kVersion = FPSHIM_VERSION;

}  // namespace fpshim
