// The file actions of a spawn, read from glibc's own representation (spawn_actions.h).
// glibc-specific, and the only place that is: posix_spawn_file_actions_t's public fields
// __used and __actions point to glibc's private `struct __spawn_action` (posix/spawn_int.h),
// whose layout and tags have stayed the same since addchdir_np came in 2.29. An action with a
// tag we do not know stops the walk: nothing is reported from a layout we do not understand.
#include "spawn_actions.h"

#include "hook.h"
#include "lifecycle.h"
#include "path.h"

namespace fpshim {

#if FPSHIM_GLIBC && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 29)

namespace {

struct SpawnAction {
  enum Tag { close_fd, dup2_fd, open_path, chdir_path, fchdir_fd, closefrom_fd, tcsetpgrp_fd } tag;
  union {
    struct {
      int fd;
    } close_action;
    struct {
      int fd;
      int newfd;
    } dup2_action;
    struct {
      int fd;
      char* path;
      int oflag;
      mode_t mode;
    } open_action;
    struct {
      char* path;
    } chdir_action;
    struct {
      int fd;
    } fchdir_action;
  } action;
};

}  // namespace

void observe_spawn_actions(const posix_spawn_file_actions_t* actions, int result) {
  if (actions == nullptr || actions->__used <= 0 || actions->__used > actions->__allocated ||
      actions->__actions == nullptr || !ready())
    return;
  const auto* action = reinterpret_cast<const SpawnAction*>(actions->__actions);
  // The child's working directory after the chdir actions so far; -1: the spawner's.
  char base[kResolvedMax];
  long base_len = -1;
  for (int i = 0; i < actions->__used; i++, action++) {
    switch (action->tag) {
      case SpawnAction::chdir_path: {
        const char* path = action->action.chdir_action.path;
        if (path == nullptr) return;
        base_len = base_len < 0 ? resolve_path(AT_FDCWD, path, base, sizeof base)
                                : normalize_path(base, size_t(base_len), path, base, sizeof base);
        if (base_len < 0) return;
        break;
      }
      case SpawnAction::fchdir_fd:
        base_len = resolve_path(action->action.fchdir_action.fd, nullptr, base, sizeof base);
        if (base_len < 0) return;
        break;
      case SpawnAction::open_path: {
        const char* path = action->action.open_action.path;
        if (path == nullptr) return;
        char resolved[kResolvedMax];
        const long len = base_len < 0 || path[0] == '/'
                             ? resolve_path(AT_FDCWD, path, resolved, sizeof resolved)
                             : normalize_path(base, size_t(base_len), path, resolved, sizeof resolved);
        const int flags = action->action.open_action.oflag;
        observe_resolved("posix_spawn_file_actions_addopen", op_for_open_flags(flags), flags, result, resolved, len,
                         path);
        break;
      }
      case SpawnAction::close_fd:
      case SpawnAction::dup2_fd:
      case SpawnAction::closefrom_fd:
      case SpawnAction::tcsetpgrp_fd: break;
      default: return;
    }
  }
}

#else

void observe_spawn_actions(const posix_spawn_file_actions_t*, int) {}

#endif

}  // namespace fpshim
