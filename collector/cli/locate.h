// Finding libfpshim.so and the default rules.json relative to the running fpshim.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fpshim {

// The directory of /proc/self/exe.
std::string self_exe_dir();

// $FPSHIM_LIB if set; else next to the executable; else in the install tree's shim directory
// (<prefix>/lib/fpshim, or /usr/lib/<multiarch>/fpshim from the Debian package).
// Returns the canonical absolute path, or nullopt with the places it looked in `tried`.
std::optional<std::string> find_shim_library(std::vector<std::string>& tried);

// Where posix_spawnp finds `name`: itself (made absolute against `cwd`) if it contains a '/',
// else the first executable file of that name in $PATH. "" if there is none.
std::string find_program(const std::string& name, const std::string& cwd);

// The documented defaults of a bare preload (include/fpshim/wire.h): /var/tmp/fpshim-<uid>/spool and
// /var/tmp/fpshim-<uid>/serve.sock.
std::string default_spool_dir();
std::string default_socket();

// The rules file to use when none is given: $FPSHIM_RULES if set (nullopt, with the path in `tried`, if
// it does not exist); else <exe dir>/../share/fpshim/rules.json or the source tree's rules.json, the
// first that exists; else "": the rules built into fpshim (the shipped rules.json it was built with),
// so that a copied fpshim needs no file.
std::optional<std::string> find_default_rules(std::vector<std::string>& tried);

}  // namespace fpshim
