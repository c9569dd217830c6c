// Process start, fork and exit: the constructor, the pthread_atfork child handler, the destructor.
#include "lifecycle.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "config.h"
#include "cwd.h"
#include "fd_flags.h"
#include "libc.h"
#include "report.h"
#include "self.h"
#include "strict.h"
#include "sys.h"

namespace fpshim {

constinit std::atomic<int> g_state{kUninit};

namespace {

constinit std::atomic<int> g_init_owner{0};  // tid of the thread loading the configuration
constinit std::atomic<int> g_exit_status{-1};
int g_argc = 0;
char** g_argv = nullptr;

bool init(char* const* envp) {
  const int tid = own_tid();
  int owner = 0;
  if (!g_init_owner.compare_exchange_strong(owner, tid, std::memory_order_acq_rel)) {
    // Re-entered from our own initialisation (a signal handler): let that call through unseen.
    if (owner == tid) return false;
    int s;
    while ((s = g_state.load(std::memory_order_acquire)) == kUninit) sys::sched_yield();
    return s == kActive;
  }
  load_config(envp);
  if (g_config.active) {
    refresh_cwd();
    if (g_config.filter->strict()) load_strict_targets();
    report::start();
  } else {
    g_cwd_interesting.store(false, std::memory_order_relaxed);
  }
  g_state.store(g_config.active ? kActive : kInert, std::memory_order_release);
  return g_config.active;
}

void on_fork_child() {
  const int saved = errno;
  g_exit_status.store(-1, std::memory_order_relaxed);
  report::after_fork(g_argc, g_argv);
  errno = saved;
}

void start(int argc, char** argv, char** envp) {
  const int saved = errno;
  g_argc = argc;
  g_argv = argv;
  if (g_state.load(std::memory_order_acquire) == kUninit) init(envp);
  if (g_state.load(std::memory_order_acquire) == kActive) {
    pthread_atfork(nullptr, nullptr, on_fork_child);
    report::hello(argc, argv);
  }
  errno = saved;
}

#if FPSHIM_GLIBC
__attribute__((constructor)) void on_load(int argc, char** argv, char** envp) { start(argc, argv, envp); }
#else
// musl calls constructors without arguments, from inside __libc_start_main, whose hook noted them.
__attribute__((constructor)) void on_load() { start(g_argc, g_argv, environ); }
#endif

__attribute__((destructor)) void on_unload() {
  if (g_state.load(std::memory_order_acquire) != kActive) return;
  const int saved = errno;
  report::bye(g_exit_status.load(std::memory_order_relaxed));
  errno = saved;
}

}  // namespace

bool init_slow() { return init(environ); }

void note_main_arguments(int argc, char** argv) {
  if (FPSHIM_GLIBC) return;
  g_argc = argc;
  g_argv = argv;
}

void note_exit_status(int status) {
  if (!borrowing_memory()) note_main_status(status);
}

void note_main_status(int status) { g_exit_status.store(status & 0xff, std::memory_order_relaxed); }

}  // namespace fpshim
