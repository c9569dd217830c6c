#include "config.h"

#include <string.h>
#include <sys/auxv.h>

#include "default_filter.h"
#include "default_filter_image.h"
#include "filter_image.h"
#include "fpshim/wire.h"
#include "path.h"
#include "variants.h"

namespace fpshim {

constinit Filter g_unloaded_filter;
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

// FPSHIM_BUILD: 16 hex digits as `fpshim run` sets it, or any other name (a CI step's), which
// wire::build_id_of_name() turns into the id the collector computes from the same name.
uint64_t parse_build(const char* s) {
  if (s == nullptr || s[0] == '\0') return 0;
  uint64_t v = 0;
  int i = 0;
  for (; s[i] != '\0' && i < 16; i++) {
    const char c = s[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return wire::build_id_of_name(s);
    v = v << 4 | uint64_t(d);
  }
  return i == 16 && s[i] == '\0' ? v : wire::build_id_of_name(s);
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

// The LD_PRELOAD entry that names this library (a variant's name as its last component), copied
// into `out`: what exec'd children get back when nothing but LD_PRELOAD told us where we are.
void preload_entry(const char* preload, char* out, size_t cap) {
  for (const char* p = preload; p != nullptr && *p != '\0';) {
    const char* end = p;
    while (*end != '\0' && *end != ':' && *end != ' ') end++;
    const size_t len = size_t(end - p);
    if (is_variant(p, len) && len < cap) {
      memcpy(out, p, len);
      out[len] = '\0';
      return;
    }
    p = *end != '\0' ? end + 1 : end;
  }
}

// "/var/tmp/fpshim-<uid>/<leaf>" (wire::kDefaultDir), the documented default of a bare preload.
void default_path(const char* leaf, char* out, size_t cap) {
  char buf[128];
  size_t len = strlen(wire::kDefaultDir);
  memcpy(buf, wire::kDefaultDir, len);
  buf[len++] = '-';
  len += format_decimal(getauxval(AT_UID), buf + len);
  buf[len++] = '/';
  const size_t leaf_len = strlen(leaf);
  if (len + leaf_len < sizeof buf && len + leaf_len < cap) {
    memcpy(out, buf, len);
    memcpy(out + len, leaf, leaf_len + 1);
  }
}

constinit Filter g_parsed_filter;  // FPSHIM_FILTER, when no image of it is at hand

// The pre-filter `spec` names, parsed ahead of time where it can be: the library's image of the
// default filter when FPSHIM_FILTER is unset, empty or the default filter's text; the build's
// filter image (FPSHIM_FILTER_IMAGE, `fpshim run`) when it checks out for `spec`; else `spec` parsed
// here (`fpshim env --rules FILE`, a refused image, i386 under `fpshim run`).
const Filter* filter_in_force(const char* spec, const char* image) {
  if (spec == nullptr || spec[0] == '\0' || strcmp(spec, kDefaultFilter) == 0) return &kDefaultFilterImage;
  if (const Filter* mapped = map_filter_image(image, spec)) return mapped;
  g_parsed_filter.parse(spec);
  return &g_parsed_filter;
}

}  // namespace

void load_config(char* const* envp) {
  Config& c = g_config;
  c.active = true;
  const char* socket = find_env(envp, wire::kEnvSocket);
  // Nothing but LD_PRELOAD (a Dockerfile ENV, a CI job's environment): the documented defaults,
  // the socket of a `fpshim serve` for this uid, else the spool next to it.
  char default_socket[sizeof c.socket.sun_path] = {};
  if (socket == nullptr || socket[0] == '\0') {
    default_path(wire::kDefaultSocket, default_socket, sizeof default_socket);
    socket = default_socket;
  }
  c.socket.sun_family = AF_UNIX;
  const size_t len = strlen(socket);
  if (len < sizeof c.socket.sun_path) {
    memcpy(c.socket.sun_path, socket, len + 1);
    c.socket_len = socklen_t(offsetof(sockaddr_un, sun_path) + len + 1);
  }
  if (const char* spool = find_env(envp, wire::kEnvSpool); spool != nullptr && spool[0] != '\0')
    copy_value(spool, c.spool_dir, sizeof c.spool_dir);
  else default_path(wire::kDefaultSpool, c.spool_dir, sizeof c.spool_dir);
  // Given the path of any variant (FPSHIM_LIB names the x86-64 one), ours is next to it.
  char given[sizeof c.lib] = {};
  if (const char* lib = find_env(envp, wire::kEnvLib); lib != nullptr && lib[0] != '\0')
    copy_value(lib, given, sizeof given);
  else preload_entry(find_env(envp, "LD_PRELOAD"), given, sizeof given);
  variant_path(given, kOwnAbi, c.lib, sizeof c.lib);
  c.build_id = parse_build(find_env(envp, wire::kEnvBuild));
  const Filter* filter = filter_in_force(find_env(envp, wire::kEnvFilter), find_env(envp, wire::kEnvFilterImage));
  __atomic_store_n(&c.filter, filter, __ATOMIC_RELEASE);  // whole: parsed or checked before
  size_t used = 0;
  const char* const names[] = {wire::kEnvSocket, wire::kEnvSpool,       wire::kEnvBuild,
                               wire::kEnvFilter, wire::kEnvFilterImage, wire::kEnvLib};
  for (const char* name : names)
    if (const char* value = find_env(envp, name)) keep_entry(c, used, name, value);
}

}  // namespace fpshim
