// Small text conversions every report uses: times, errno and signal names, byte strings, command lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fpshim {

// "2024-05-01T12:34:56.789Z" from ns since the epoch.
std::string iso_time(uint64_t ns);

// "ENOENT" for ENOENT; "E<n>" for numbers glibc has no name for.
std::string errno_name(int err);

// "SIGTERM" for SIGTERM; "SIG<n>" otherwise.
std::string signal_name(int sig);

bool is_valid_utf8(std::string_view s);

// The string with every byte that is not part of valid UTF-8 written as "\xNN".
std::string escape_invalid_utf8(std::string_view s);

std::string to_hex(std::string_view bytes);

// A command line for humans: arguments single-quoted where a shell would need it, invalid UTF-8
// and control characters written as "\xNN", arguments longer than `max_arg` cut with "...".
std::string shell_command(const std::vector<std::string>& argv, size_t max_arg = 200);

}  // namespace fpshim
