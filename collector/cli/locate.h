// Finding libfpshim.so and the default rules.json relative to the running fpshim.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fpshim {

// The directory of /proc/self/exe.
std::string self_exe_dir();

// $FPSHIM_LIB if set; else next to the executable; else in the install tree's lib directory.
// Returns the canonical absolute path, or nullopt with the places it looked in `tried`.
std::optional<std::string> find_shim_library(std::vector<std::string>& tried);

// Where posix_spawnp finds `name`: itself (made absolute against `cwd`) if it contains a '/',
// else the first executable file of that name in $PATH. "" if there is none.
std::string find_program(const std::string& name, const std::string& cwd);

// The documented defaults of a bare preload (include/fpshim/wire.h): /var/tmp/fpshim-<uid>/spool and
// /var/tmp/fpshim-<uid>/serve.sock.
std::string default_spool_dir();
std::string default_socket();

// $FPSHIM_RULES if set; else <exe dir>/../share/fpshim/rules.json; else the source tree's rules.json.
std::optional<std::string> find_default_rules(std::vector<std::string>& tried);

}  // namespace fpshim
