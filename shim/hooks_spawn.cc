// Spawning: posix_spawn and posix_spawnp (both versions), system and popen (and their aliases
// __libc_system and _IO_popen). glibc runs their children through its internal execve, which the
// exec hooks never see (and since 2.29 system and popen go through its internal posix_spawn), so
// each is hooked here. The exec record goes out after the call, with the child's pid, and the
// file actions' opens after it (spawn_actions.h).
//
// system is glibc 2.36's own (sysdeps/posix/system.c), re-implemented so that the shell gets our
// environment even when the caller scrubbed `environ`, and so that the record knows the child:
// "sh -c LINE" spawned with the caller's signal mask and SIGINT/SIGQUIT reset to default, while
// the caller ignores SIGINT and SIGQUIT (counted across threads: the last one out restores them)
// and blocks SIGCHLD until the shell is reaped; cancellation kills and reaps the shell; a spawn
// failure returns the status of _exit(127) with errno set; system(NULL) is system("exit 0") == 0.
//
// popen is libc's: a re-implementation would need its own pclose and the list of open popen
// streams glibc closes in each new child. So a caller that scrubbed `environ` is not repaired:
// its shell runs without the shim (the collector sees an exec record and no hello); only a shell
// of another ABI gets its own shim, through `environ` swapped for the call. The child's
// pid is read from /proc/self/task/<tid>/children, before and after; if that does not name
// exactly one new child, no exec record is sent (the shell's hello still names its parent).
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_flow.h"
#include "hook.h"
#include "real.h"
#include "report.h"
#include "spawn_actions.h"
#include "sys.h"

using namespace fpshim;

namespace {

using SpawnActions = const posix_spawn_file_actions_t*;
using SpawnAttr = const posix_spawnattr_t*;

template <class Real>
int spawn_via(const char* fn, bool search, Real real, pid_t* pid, const char* path, SpawnActions actions,
              SpawnAttr attr, char* const* argv, char* const* envp) {
  const int result = spawn(ExecCall{fn, path, argv, envp, AT_FDCWD, search}, pid,
                           [&](char* const* env, pid_t* child) { return real(child, path, actions, attr, argv, env); });
  if (actions != nullptr && reporting()) {
    const int saved = errno;
    observe_spawn_actions(actions, result);
    errno = saved;
  }
  return result;
}

}  // namespace

FPSHIM_DEFINE_VERSION(int, posix_spawn, current, "@@GLIBC_2.15",
                      (pid_t * pid, const char* path, SpawnActions actions, SpawnAttr attr, char* const* argv,
                       char* const* envp)) {
  return spawn_via("posix_spawn", false, real::posix_spawn_current(), pid, path, actions, attr, argv, envp);
}

// The GLIBC_2.2.5 versions run an ENOEXEC target through /bin/sh.
FPSHIM_DEFINE_VERSION(int, posix_spawn, compat, "@GLIBC_2.2.5",
                      (pid_t * pid, const char* path, SpawnActions actions, SpawnAttr attr, char* const* argv,
                       char* const* envp)) {
  return spawn_via("posix_spawn", false, real::posix_spawn_compat(), pid, path, actions, attr, argv, envp);
}

FPSHIM_DEFINE_VERSION(int, posix_spawnp, current, "@@GLIBC_2.15",
                      (pid_t * pid, const char* file, SpawnActions actions, SpawnAttr attr, char* const* argv,
                       char* const* envp)) {
  return spawn_via("posix_spawnp", true, real::posix_spawnp_current(), pid, file, actions, attr, argv, envp);
}

FPSHIM_DEFINE_VERSION(int, posix_spawnp, compat, "@GLIBC_2.2.5",
                      (pid_t * pid, const char* file, SpawnActions actions, SpawnAttr attr, char* const* argv,
                       char* const* envp)) {
  return spawn_via("posix_spawnp", true, real::posix_spawnp_compat(), pid, file, actions, attr, argv, envp);
}

namespace {

constexpr char kShell[] = "/bin/sh";

// SIGINT and SIGQUIT as they were before the first of the running system() calls.
pthread_mutex_t g_system_lock = PTHREAD_MUTEX_INITIALIZER;
int g_system_calls = 0;
struct sigaction g_saved_int, g_saved_quit;

void ignore_interrupts() {
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  pthread_mutex_lock(&g_system_lock);
  if (g_system_calls++ == 0) {
    sigaction(SIGINT, &ignore, &g_saved_int);
    sigaction(SIGQUIT, &ignore, &g_saved_quit);
  }
  pthread_mutex_unlock(&g_system_lock);
}

void restore_interrupts() {
  pthread_mutex_lock(&g_system_lock);
  if (--g_system_calls == 0) {
    sigaction(SIGINT, &g_saved_int, nullptr);
    sigaction(SIGQUIT, &g_saved_quit, nullptr);
  }
  pthread_mutex_unlock(&g_system_lock);
}

// A thread cancelled while it waits for its shell.
void on_system_cancelled(void* shell) {
  const pid_t pid = *static_cast<pid_t*>(shell);
  kill(pid, SIGKILL);
  int state;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  pthread_setcancelstate(state, nullptr);
  restore_interrupts();
}

int run_shell(const char* line) {
  ignore_interrupts();
  sigset_t chld, saved_mask;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &saved_mask);
  sigset_t reset;
  sigemptyset(&reset);
  if (g_saved_int.sa_handler != SIG_IGN) sigaddset(&reset, SIGINT);
  if (g_saved_quit.sa_handler != SIG_IGN) sigaddset(&reset, SIGQUIT);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &saved_mask);
  posix_spawnattr_setsigdefault(&attr, &reset);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(line), nullptr};
  pid_t pid = 0;
  const int ret = spawn(ExecCall{"system", kShell, argv, environ}, &pid, [&](char* const* env, pid_t* child) {
    return real::posix_spawn_current()(child, kShell, nullptr, &attr, argv, env);
  });
  posix_spawnattr_destroy(&attr);
  int status = -1;
  if (ret == 0) {
    pthread_cleanup_push(on_system_cancelled, &pid);
    pid_t waited;
    while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (waited != pid) status = -1;
    pthread_cleanup_pop(0);
  } else {
    status = W_EXITCODE(127, 0);
  }
  restore_interrupts();
  sigprocmask(SIG_SETMASK, &saved_mask, nullptr);
  if (ret != 0) errno = ret;
  return status;
}

// This thread's live children, as "pid pid ... " (empty if unknown); false if they did not fit.
bool read_children(char* out, size_t cap) {
  char path[64] = "/proc/self/task/";
  size_t n = 16;
  n += format_decimal(static_cast<unsigned>(sys::gettid()), path + n);
  memcpy(path + n, "/children", 10);
  out[0] = '\0';
  const int fd = sys::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const long len = sys::read(fd, out, cap - 1);
  sys::close(fd);
  if (len < 0 || size_t(len) >= cap - 1) return false;
  out[len] = '\0';
  return true;
}

// Calls f(pid text, length) for each pid of a children list.
template <class F>
void each_pid(const char* list, F f) {
  for (const char* p = list;;) {
    while (*p == ' ' || *p == '\n') p++;
    const char* end = p;
    while (*end >= '0' && *end <= '9') end++;
    if (end == p) return;
    f(p, size_t(end - p));
    p = end;
  }
}

// The one pid listed in `after` and not in `before`; 0 if there is not exactly one.
pid_t new_child(const char* before, const char* after) {
  pid_t found = 0;
  int fresh = 0;
  each_pid(after, [&](const char* pid, size_t len) {
    bool old = false;
    each_pid(before, [&](const char* other, size_t other_len) {
      old = old || (other_len == len && memcmp(other, pid, len) == 0);
    });
    if (old) return;
    fresh++;
    found = 0;
    for (size_t i = 0; i < len; i++) found = found * 10 + (pid[i] - '0');
  });
  return fresh == 1 ? found : 0;
}

}  // namespace

FPSHIM_DEFINE(int, system, (const char* line)) {
  if (!reporting()) return real::system()(line);
  if (line == nullptr) return run_shell("exit 0") == 0;
  return run_shell(line);
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
// The same function under its GLIBC_PRIVATE name.
FPSHIM_DEFINE(int, __libc_system, (const char* line)) {
  if (!reporting()) return real::__libc_system()(line);
  if (line == nullptr) return run_shell("exit 0") == 0;
  return run_shell(line);
}
#endif

namespace {

// libc's popen starts its shell with `environ`, where this process's shim is. A shell of another
// ABI (a musl program's popen of glibc's /bin/sh, or the reverse) would have a loader that refuses
// it: for that call alone, `environ` points at the shell's environment (exec_env.h), the one place
// the shim writes it. (A setenv racing with popen is undefined behaviour already.)
FILE* popen_with_shell_env(decltype(&::popen) real, const ExecTarget& shell, const char* command, const char* mode,
                           uint32_t& flags) {
  if (shell.abi == kOwnAbi) return real(command, mode);
  char lib[sizeof g_config.lib];
  bool keep;
  const ShimEnv shim = shim_env(shell, lib, sizeof lib, keep);
  return with_child_env(environ, shim, keep, [&](char* const* env, uint32_t env_flags) {
    flags = env_flags;
    char** const saved = environ;
    environ = const_cast<char**>(env);
    FILE* const f = real(command, mode);
    environ = saved;
    return f;
  });
}

FILE* popen_via(const char* fn, decltype(&::popen) real, const char* command, const char* mode) {
  ExecTarget t;
  find_exec_target(AT_FDCWD, kShell, false, false, t);
  char before[4096], after[4096];
  const bool listed = read_children(before, sizeof before);
  uint32_t flags = 0;
  FILE* const f = popen_with_shell_env(real, t, command, mode, flags);
  const int err = errno;
  const pid_t child = f != nullptr && listed && read_children(after, sizeof after) ? new_child(before, after) : 0;
  if (f == nullptr || child != 0) {
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>(command), nullptr};
    after_spawn(ExecCall{fn, kShell, argv, environ}, t, flags, f != nullptr ? 0 : err, child);
  }
  errno = err;
  return f;
}

}  // namespace

FPSHIM_DEFINE(FILE*, popen, (const char* command, const char* mode)) {
  if (!reporting()) return real::popen()(command, mode);
  return popen_via("popen", real::popen(), command, mode);
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
// libio's name for popen.
FPSHIM_DEFINE(FILE*, _IO_popen, (const char* command, const char* mode)) {
  if (!reporting()) return real::_IO_popen()(command, mode);
  return popen_via("_IO_popen", real::_IO_popen(), command, mode);
}
#endif
