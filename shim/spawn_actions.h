// What a posix_spawn file actions object makes the child open: each posix_spawn_file_actions_addopen
// is an access by the spawning process at spawn time (a child whose stdin is a watched file read
// it), its relative path resolved against the addchdir_np and addfchdir_np actions before it.
#pragma once

#include <spawn.h>

namespace fpshim {

// After a spawn with `actions` returned `result` (0, or the error number: then every open is
// reported as failed with it, not knowing which action failed).
void observe_spawn_actions(const posix_spawn_file_actions_t* actions, int result);

}  // namespace fpshim
