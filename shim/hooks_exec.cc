// The exec family (exec_flow.h does the work). Those without an environment argument pass a copy
// of `environ` with ours put back, so execv becomes execve and execvp execvpe; the variadic ones
// collect their arguments into a stack array, as glibc's do.
//
// vfork safety: nothing here or in exec_flow allocates, locks, or writes `environ` or the
// caller's arrays; the child's environment and argv are arrays in this frame, the target is
// checked with raw system calls, and a vfork child's records go out under its own name (the process
// log, a transient socket) without touching the shared repeat table, seq counter or socket (report.h).
#include <stdarg.h>
#include <unistd.h>

#include "exec_flow.h"
#include "hook.h"
#include "real.h"

using namespace fpshim;

namespace {

// Arguments of execl and relatives after `first`, up to the null that ends them.
size_t count_args(const char* first, va_list ap) {
  size_t n = 0;
  for (const char* a = first; a != nullptr; a = va_arg(ap, const char*)) n++;
  return n;
}

// Fills `argv` with the n arguments and their null; `ap` is left after the null.
void collect_args(char** argv, size_t n, const char* first, va_list* ap) {
  argv[0] = const_cast<char*>(first);
  for (size_t i = 1; i <= n; i++) argv[i] = va_arg(*ap, char*);
}

}  // namespace

// Declares `argv`: the variadic arguments from `first` and their null, in a stack array. Leaves `ap`
// open just after the null (execle finds its environment there); the caller va_ends it.
#define FPSHIM_STACK_ARGV(argv, first, ap)           \
  va_list ap;                                        \
  va_start(ap, first);                               \
  const size_t argv##_count = count_args(first, ap); \
  va_end(ap);                                        \
  char* argv[argv##_count + 1];                      \
  va_start(ap, first);                               \
  collect_args(argv, argv##_count, first, &ap)

FPSHIM_DEFINE(int, execve, (const char* path, char* const* argv, char* const* envp)) {
  return exec_in_place(ExecCall{"execve", path, argv, envp},
                       [&](char* const* env) { return real::execve()(path, argv, env); });
}

FPSHIM_DEFINE(int, execv, (const char* path, char* const* argv)) {
  return exec_in_place(ExecCall{"execv", path, argv, environ},
                       [&](char* const* env) { return real::execve()(path, argv, env); });
}

FPSHIM_DEFINE(int, execvp, (const char* file, char* const* argv)) {
  return exec_in_place(ExecCall{"execvp", file, argv, environ, AT_FDCWD, true},
                       [&](char* const* env) { return real::execvpe()(file, argv, env); });
}

FPSHIM_DEFINE(int, execvpe, (const char* file, char* const* argv, char* const* envp)) {
  return exec_in_place(ExecCall{"execvpe", file, argv, envp, AT_FDCWD, true},
                       [&](char* const* env) { return real::execvpe()(file, argv, env); });
}

FPSHIM_DEFINE(int, execl, (const char* path, const char* arg, ...)) {
  FPSHIM_STACK_ARGV(argv, arg, ap);
  va_end(ap);
  return exec_in_place(ExecCall{"execl", path, argv, environ},
                       [&](char* const* env) { return real::execve()(path, argv, env); });
}

FPSHIM_DEFINE(int, execlp, (const char* file, const char* arg, ...)) {
  FPSHIM_STACK_ARGV(argv, arg, ap);
  va_end(ap);
  return exec_in_place(ExecCall{"execlp", file, argv, environ, AT_FDCWD, true},
                       [&](char* const* env) { return real::execvpe()(file, argv, env); });
}

// The environment follows the null that ends the arguments.
FPSHIM_DEFINE(int, execle, (const char* path, const char* arg, ...)) {
  FPSHIM_STACK_ARGV(argv, arg, ap);
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return exec_in_place(ExecCall{"execle", path, argv, envp},
                       [&](char* const* env) { return real::execve()(path, argv, env); });
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
FPSHIM_DEFINE(int, execveat, (int dirfd, const char* path, char* const* argv, char* const* envp, int flags)) {
  const bool empty = (flags & AT_EMPTY_PATH) && path != nullptr && path[0] == '\0';
  return exec_in_place(ExecCall{"execveat", path, argv, envp, dirfd, false, empty},
                       [&](char* const* env) { return real::execveat()(dirfd, path, argv, env, flags); });
}
#endif

FPSHIM_DEFINE(int, fexecve, (int fd, char* const* argv, char* const* envp)) {
  return exec_in_place(ExecCall{"fexecve", "", argv, envp, fd, false, true},
                       [&](char* const* env) { return real::fexecve()(fd, argv, env); });
}
