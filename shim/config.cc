#include "config.h"

#include <string.h>

#include "fpshim/wire.h"

namespace fpshim {

constinit Config g_config;

namespace {

const char* find_env(char* const* envp, const char* name) {
  const size_t len = strlen(name);
  for (; envp != nullptr && *envp != nullptr; envp++)
    if ((*envp)[0] == name[0] && strncmp(*envp, name, len) == 0 && (*envp)[len] == '=') return *envp + len + 1;
  return nullptr;
}

// Copies `value` into `out` if it fits with its NUL; else leaves `out` empty.
void copy_value(const char* value, char* out, size_t cap) {
  const size_t len = value != nullptr ? strlen(value) : 0;
  if (len < cap) memcpy(out, value == nullptr ? "" : value, len + 1);
}

uint64_t parse_hex(const char* s) {
  uint64_t v = 0;
  for (int i = 0; s != nullptr && s[i] != '\0' && i < 16; i++) {
    const char c = s[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return 0;
    v = v << 4 | uint64_t(d);
  }
  return v;
}

// Keeps the entry `name`=`value` in c.env, if it fits.
void keep_entry(Config& c, size_t& used, const char* name, const char* value) {
  const size_t nlen = strlen(name), vlen = strlen(value);
  if (c.nenv == Config::kMaxEnv || used + nlen + 1 + vlen + 1 > sizeof c.env_text) return;
  char* entry = c.env_text + used;
  memcpy(entry, name, nlen);
  entry[nlen] = '=';
  memcpy(entry + nlen + 1, value, vlen + 1);
  used += nlen + 1 + vlen + 1;
  c.env[c.nenv++] = entry;
}

}  // namespace

void load_config(char* const* envp) {
  Config& c = g_config;
  const char* socket = find_env(envp, wire::kEnvSocket);
  c.active = socket != nullptr && socket[0] != '\0';
  if (!c.active) {
    c.filter.reject_all();
    return;
  }
  c.socket.sun_family = AF_UNIX;
  const size_t len = strlen(socket);
  if (len < sizeof c.socket.sun_path) {
    memcpy(c.socket.sun_path, socket, len + 1);
    c.socket_len = socklen_t(offsetof(sockaddr_un, sun_path) + len + 1);
  }
  copy_value(find_env(envp, wire::kEnvSpool), c.spool_dir, sizeof c.spool_dir);
  copy_value(find_env(envp, wire::kEnvLib), c.lib, sizeof c.lib);
  c.build_id = parse_hex(find_env(envp, wire::kEnvBuild));
  c.filter.parse(find_env(envp, wire::kEnvFilter));
  size_t used = 0;
  const char* const names[] = {wire::kEnvSocket, wire::kEnvSpool, wire::kEnvBuild, wire::kEnvFilter, wire::kEnvLib};
  for (const char* name : names)
    if (const char* value = find_env(envp, name)) keep_entry(c, used, name, value);
}

}  // namespace fpshim
