// Messages from fpshim itself, on stderr.
#pragma once

#include <cstdio>
#include <utility>

#include <fmt/format.h>

namespace fpshim {

// Prints to stderr and never throws (stderr may be closed or a broken pipe).
template <typename... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  std::fputs(fmt::format(format, std::forward<Args>(args)...).c_str(), stderr);
}

}  // namespace fpshim
