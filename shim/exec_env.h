// The environment an exec'd child gets: the one the caller passes, with the shim of the child's
// ABI first in LD_PRELOAD (the caller's other entries kept, copies of any variant of ours dropped)
// and the FPSHIM_* entries this process received; or, for a target no shim is found for, the
// caller's without any. Built in the caller's stack frame, never in place: `environ` belongs to the
// program, and a vfork child shares it with its parent.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace fpshim {

struct ShimEnv {
  const char* lib;             // the shim for the child (variants.h); "" leaves LD_PRELOAD alone
  const char* const* entries;  // "NAME=value" entries every child must have
  unsigned nentries;
};

struct EnvPlan {
  size_t slots;         // pointers of the new array, its NULL included; 0: pass envp unchanged
  size_t preload_size;  // bytes of the new LD_PRELOAD entry with its NUL; 0: none
  uint32_t flags;       // wire::flag_env_restored, wire::flag_preload_dropped
};

// An environment with more entries than this is passed on unchanged (the array is on the stack).
inline constexpr size_t kMaxChildEnv = 4096;

// What must change in `envp` (null counts as empty). No allocation, no system call.
EnvPlan plan_child_env(char* const* envp, const ShimEnv& shim, bool keep_shim);

// Fills `out` (plan.slots pointers) and `preload` (plan.preload_size bytes).
void build_child_env(char* const* envp, const ShimEnv& shim, bool keep_shim, const EnvPlan& plan, char** out,
                     char* preload);

// Calls f(env, flags) with the child's environment living in this frame.
template <class F>
auto with_child_env(char* const* envp, const ShimEnv& shim, bool keep_shim, F f) {
  const EnvPlan plan = plan_child_env(envp, shim, keep_shim);
  if (plan.slots == 0) return f(envp, plan.flags);
  char* env[plan.slots];
  char preload[plan.preload_size + 1];
  build_child_env(envp, shim, keep_shim, plan, env, preload);
  return f(static_cast<char* const*>(env), plan.flags);
}

}  // namespace fpshim
