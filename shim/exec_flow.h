// What every exec and spawn hook does around the real call (hooks_exec.cc, hooks_spawn.cc):
// find the target, give the child our environment (exec_env.h), report the access to the target
// (op exec, if the pre-filter lets it through) and the exec record. Only the stack is used, and
// report.h sends from a vfork child under its own name, so this is vfork-safe.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>

#include "config.h"
#include "exec_env.h"
#include "exec_target.h"
#include "lifecycle.h"

namespace fpshim {

struct ExecCall {
  const char* fn;     // entry point, as reported
  const char* named;  // the target as the caller named it
  char* const* argv;
  char* const* envp;  // what the child would get without us
  int dirfd = AT_FDCWD;
  bool search = false;      // execvp, posix_spawnp: a name without '/' is looked up in PATH
  bool empty_path = false;  // fexecve, execveat(AT_EMPTY_PATH): the file open on dirfd
};

// The shim for a child of target `t`, its path written to `lib`: kept (`keep`) if the variant
// for its ABI is there, else ours, to be dropped.
ShimEnv shim_env(const ExecTarget& t, char* lib, size_t cap, bool& keep);

// The records around an exec that replaces this image: before it (pending counts flushed), and
// after it failed with `err`. errno is kept.
void before_exec(const ExecCall& c, const ExecTarget& t, uint32_t env_flags);
void after_failed_exec(const ExecCall& c, const ExecTarget& t, uint32_t env_flags, int err);

// The records after a spawn: `result` 0 and the child's pid, or the error number. errno is kept.
void after_spawn(const ExecCall& c, const ExecTarget& t, uint32_t env_flags, int result, pid_t child);

// execve and relatives. perform(env) makes the real call; it returns only if the exec failed.
template <class Perform>
int exec_in_place(const ExecCall& c, Perform perform) {
  if (!reporting()) return perform(c.envp);
  ExecTarget t;
  find_exec_target(c.dirfd, c.named, c.search, c.empty_path, t);
  char lib[sizeof g_config.lib];
  bool keep;
  const ShimEnv shim = shim_env(t, lib, sizeof lib, keep);
  return with_child_env(c.envp, shim, keep, [&](char* const* env, uint32_t flags) {
    before_exec(c, t, flags);
    const int r = perform(env);
    after_failed_exec(c, t, flags, errno);
    return r;
  });
}

// posix_spawn and relatives. perform(env, pid) makes the real call; returns 0 or an error number.
template <class Perform>
int spawn(const ExecCall& c, pid_t* pid, Perform perform) {
  if (!reporting()) return perform(c.envp, pid);
  ExecTarget t;
  find_exec_target(c.dirfd, c.named, c.search, c.empty_path, t);
  char lib[sizeof g_config.lib];
  bool keep;
  const ShimEnv shim = shim_env(t, lib, sizeof lib, keep);
  return with_child_env(c.envp, shim, keep, [&](char* const* env, uint32_t flags) {
    pid_t child = 0;
    const int r = perform(env, &child);
    if (r == 0 && pid != nullptr) *pid = child;
    after_spawn(c, t, flags, r, child);
    return r;
  });
}

}  // namespace fpshim
