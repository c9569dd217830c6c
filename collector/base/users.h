// Users by name and by uid, read from /etc/passwd itself rather than through glibc's getpwnam and
// getpwuid: those load the host's NSS modules at run time, which a statically linked fpshim (the one
// file copied into any image, glibc or musl) cannot do. Users that only a directory service knows
// (LDAP, sssd) are therefore not found by name; give their uid as a number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fpshim {

struct User {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

// The first entry of /etc/passwd with this name, or with this uid.
std::optional<User> user_by_name(std::string_view name);
std::optional<User> user_by_uid(uint32_t uid);

}  // namespace fpshim
