#include "exec_env.h"

#include <string.h>

#include "fpshim/wire.h"
#include "variants.h"

namespace fpshim {

namespace {

constexpr char kPreload[] = "LD_PRELOAD=";
constexpr size_t kPreloadLen = sizeof kPreload - 1;
constexpr unsigned kMaxManaged = 16;

// The first byte decides for almost every entry, without a call: this runs for each entry of the
// environment at every exec.
bool is_preload(const char* entry) { return entry[0] == 'L' && strncmp(entry, kPreload, kPreloadLen) == 0; }

// Both "NAME=..." entries have the same NAME.
bool same_name(const char* entry, const char* managed) {
  if (entry[0] != managed[0]) return false;
  const char* eq = strchr(managed, '=');
  const size_t len = eq != nullptr ? size_t(eq - managed) + 1 : strlen(managed);
  return strncmp(entry, managed, len) == 0;
}

bool managed(const ShimEnv& shim, const char* entry) {
  for (unsigned i = 0; i < shim.nentries; i++)
    if (same_name(entry, shim.entries[i])) return true;
  return false;
}

// ld.so splits LD_PRELOAD at spaces and colons.
bool separator(char c) { return c == ' ' || c == ':'; }

// Our library under the path we were given, or any variant of it (another copy would report
// twice, and one of another ABI cannot be loaded).
bool is_ours(const char* token, size_t len, const char* lib) {
  const size_t lib_len = strlen(lib);
  return (len == lib_len && memcmp(token, lib, len) == 0) || is_variant(token, len);
}

// Calls f(token, len) for each entry of an LD_PRELOAD value.
template <class F>
void each_token(const char* value, F f) {
  for (const char* p = value; *p != '\0';) {
    while (separator(*p)) p++;
    const char* begin = p;
    while (*p != '\0' && !separator(*p)) p++;
    if (p != begin) f(begin, size_t(p - begin));
  }
}

struct Scan {
  size_t count = 0;          // entries of envp
  size_t preload_count = 0;  // LD_PRELOAD entries
  const char* preload = "";  // value of the last one (what ld.so uses)
  size_t managed_count = 0;  // entries with a name from shim.entries
  bool entries_ok = true;    // each of shim.entries is there, first of its name, with its value
};

Scan scan(char* const* envp, const ShimEnv& shim) {
  Scan s;
  bool seen[kMaxManaged] = {};
  for (; envp != nullptr && envp[s.count] != nullptr && s.count <= kMaxChildEnv; s.count++) {
    const char* e = envp[s.count];
    if (is_preload(e)) {
      s.preload_count++;
      s.preload = e + kPreloadLen;
      continue;
    }
    for (unsigned i = 0; i < shim.nentries && i < kMaxManaged; i++) {
      if (!same_name(e, shim.entries[i])) continue;
      s.managed_count++;
      if (!seen[i]) s.entries_ok = s.entries_ok && strcmp(e, shim.entries[i]) == 0;
      seen[i] = true;
    }
  }
  for (unsigned i = 0; i < shim.nentries && i < kMaxManaged; i++) s.entries_ok = s.entries_ok && seen[i];
  return s;
}

}  // namespace

EnvPlan plan_child_env(char* const* envp, const ShimEnv& shim, bool keep_shim) {
  const uint32_t dropped = keep_shim ? 0u : uint32_t{wire::flag_preload_dropped};
  const Scan s = scan(envp, shim);
  if (s.count > kMaxChildEnv || shim.lib[0] == '\0') return EnvPlan{0, 0, dropped};

  const size_t lib_len = strlen(shim.lib);
  size_t others = 0, other_bytes = 0, ours = 0, position = 0;
  bool ours_first = false;
  each_token(s.preload, [&](const char* token, size_t len) {
    if (is_ours(token, len, shim.lib)) {
      ours++;
      if (position == 0) ours_first = len == lib_len && memcmp(token, shim.lib, len) == 0;
    } else {
      others++;
      other_bytes += len;
    }
    position++;
  });
  const bool preload_ok = keep_shim ? s.preload_count == 1 && ours_first && ours == 1 : ours == 0;
  const bool entries_ok = !keep_shim || s.entries_ok;
  if (preload_ok && entries_ok) return EnvPlan{0, 0, dropped};

  EnvPlan plan = {};
  const size_t tokens = (keep_shim ? 1 : 0) + others;
  const size_t value_len = (keep_shim ? lib_len : 0) + other_bytes + (tokens != 0 ? tokens - 1 : 0);
  const bool has_preload = tokens != 0;
  plan.preload_size = has_preload ? kPreloadLen + value_len + 1 : 0;
  const size_t kept = s.count - s.preload_count - (keep_shim ? s.managed_count : 0);
  plan.slots = kept + (has_preload ? 1 : 0) + (keep_shim ? shim.nentries : 0) + 1;
  plan.flags = dropped | (keep_shim ? uint32_t{wire::flag_env_restored} : 0u);
  return plan;
}

void build_child_env(char* const* envp, const ShimEnv& shim, bool keep_shim, const EnvPlan& plan, char** out,
                     char* preload) {
  size_t n = 0;
  const char* last_preload = "";
  for (size_t i = 0; envp != nullptr && envp[i] != nullptr; i++) {
    if (is_preload(envp[i])) {
      last_preload = envp[i] + kPreloadLen;
      continue;
    }
    if (keep_shim && managed(shim, envp[i])) continue;
    out[n++] = envp[i];
  }
  if (plan.preload_size != 0) {
    memcpy(preload, kPreload, kPreloadLen);
    size_t len = kPreloadLen;
    auto append = [&](const char* token, size_t token_len) {
      if (len != kPreloadLen) preload[len++] = ':';
      memcpy(preload + len, token, token_len);
      len += token_len;
    };
    if (keep_shim) append(shim.lib, strlen(shim.lib));
    each_token(last_preload, [&](const char* token, size_t token_len) {
      if (!is_ours(token, token_len, shim.lib)) append(token, token_len);
    });
    preload[len] = '\0';
    out[n++] = preload;
  }
  for (unsigned i = 0; keep_shim && i < shim.nentries; i++) out[n++] = const_cast<char*>(shim.entries[i]);
  out[n] = nullptr;
}

}  // namespace fpshim
