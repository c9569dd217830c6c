// What an exec will run (the exec record's resolved target) and its ABI, which says which shim
// can be loaded into it (variants.h). Raw system calls only: no hook of ours, errno untouched, safe in a vfork child.
#pragma once

#include "path.h"
#include "variants.h"

namespace fpshim {

struct ExecTarget {
  char path[kResolvedMax];  // absolute, lexically normalised; "" if not found
  bool runnable;            // a regular file we may execute: the exec should work
  Abi abi;                  // of the ELF, or of the interpreter of a #! script; kOwnAbi for anything else
};

// `named` relative to `dirfd`, as execve takes it; with `search`, a name without '/' is looked up
// as execvp does, in the PATH of `environ` (the caller's, as glibc uses for execvpe and
// posix_spawnp too). `empty_path`: the file open on `dirfd` (fexecve, execveat AT_EMPTY_PATH).
void find_exec_target(int dirfd, const char* named, bool search, bool empty_path, ExecTarget& out);

}  // namespace fpshim
