// The user database as /etc/passwd holds it (see users.h for why not getpwnam/getpwuid).
#include "base/users.h"

#include <pwd.h>

#include <cstdio>

namespace fpshim {

namespace {

// The first entry for which `wanted` says yes; fgetpwent_r parses the file and nothing else.
template <typename Wanted>
std::optional<User> first_user(Wanted wanted) {
  std::FILE* file = std::fopen("/etc/passwd", "re");
  if (!file) return std::nullopt;
  std::optional<User> found;
  passwd entry, *read = nullptr;
  char buf[4096];
  while (!found && fgetpwent_r(file, &entry, buf, sizeof buf, &read) == 0 && read)
    if (wanted(*read)) found = User{read->pw_name, read->pw_uid, read->pw_gid, read->pw_dir ? read->pw_dir : ""};
  std::fclose(file);
  return found;
}

}  // namespace

std::optional<User> user_by_name(std::string_view name) {
  return first_user([&](const passwd& p) { return name == p.pw_name; });
}

std::optional<User> user_by_uid(uint32_t uid) {
  return first_user([&](const passwd& p) { return p.pw_uid == uid; });
}

}  // namespace fpshim
