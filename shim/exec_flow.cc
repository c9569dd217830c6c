#include "exec_flow.h"

#include <string.h>

#include "config.h"
#include "hook.h"
#include "report.h"
#include "sys.h"

namespace fpshim {

namespace {

// The target is spelled as named when the name is its path, else by its resolved path.
void observe_exec(const ExecCall& c, const ExecTarget& t, bool failed) {
  if (c.named == nullptr && !c.empty_path) return;
  const bool as_named = !c.empty_path && !(c.search && strchr(c.named, '/') == nullptr);
  const int dirfd = as_named ? c.dirfd : AT_FDCWD;
  const char* path = as_named ? c.named : t.path;
  if (path == nullptr || path[0] == '\0' || !candidate<BaselineScan>(dirfd, path)) return;
  if (worth_resolving(dirfd, path)) observe(Call{c.fn, dirfd, path, wire::op_exec, 0}, failed, -1);
}

report::ExecText text(const ExecCall& c, const ExecTarget& t, uint32_t flags, int result, pid_t child) {
  return report::ExecText{c.named != nullptr ? c.named : "", t.path, c.argv, uint32_t(child), result, flags};
}

}  // namespace

ShimEnv shim_env(const ExecTarget& t, char* lib, size_t cap, bool& keep) {
  keep = t.abi == kOwnAbi;
  if (!keep && variant_path(g_config.lib, t.abi, lib, cap)) keep = sys::faccessat(AT_FDCWD, lib, R_OK) == 0;
  return ShimEnv{keep && t.abi != kOwnAbi ? lib : g_config.lib, g_config.env, g_config.nenv};
}

void before_exec(const ExecCall& c, const ExecTarget& t, uint32_t env_flags) {
  const int saved = errno;
  if (t.runnable) observe_exec(c, t, false);
  report::flush();
  report::exec(text(c, t, env_flags, 0, 0));
  errno = saved;
}

void after_failed_exec(const ExecCall& c, const ExecTarget& t, uint32_t env_flags, int err) {
  report::exec(text(c, t, env_flags, err, 0));
  errno = err;
  observe_exec(c, t, true);
  errno = err;
}

void after_spawn(const ExecCall& c, const ExecTarget& t, uint32_t env_flags, int result, pid_t child) {
  const int saved = errno;
  errno = result;
  observe_exec(c, t, result != 0);
  report::exec(text(c, t, env_flags, result, result == 0 ? child : 0));
  errno = saved;
}

}  // namespace fpshim
