// Leaving. The bye record carries the exit status, and pending counts are sent even when a
// process leaves through _exit or _Exit (dash and forked children do), which run no destructor.
// exit() only notes the status: its handlers and destructors run as usual, ours among the last,
// and that sends bye. A return from main reaches exit() inside libc, so main is wrapped through
// __libc_start_main (which _start calls through the PLT) to note its status. A vfork child's
// _exit sends its own bye, if it sent anything before (report.h).
#include "hook.h"
#include "lifecycle.h"
#include "real.h"
#include "report.h"

using namespace fpshim;

FPSHIM_DEFINE(void, exit, (int status)) {
  if (reporting()) note_exit_status(status);
  real::exit()(status);
  __builtin_unreachable();
}

FPSHIM_DEFINE(void, _exit, (int status)) {
  if (reporting()) report::bye(status & 0xff);
  real::_exit()(status);
  __builtin_unreachable();
}

FPSHIM_DEFINE(void, _Exit, (int status)) {
  if (reporting()) report::bye(status & 0xff);
  real::_Exit()(status);
  __builtin_unreachable();
}

namespace {

using Main = int (*)(int, char**, char**);
using Function = void (*)();

constinit Main g_main = nullptr;

int main_noting_status(int argc, char** argv, char** envp) {
  const int status = g_main(argc, argv, envp);
  if (reporting()) note_main_status(status);
  return status;
}

}  // namespace

FPSHIM_DEFINE_VERSION(int, __libc_start_main, current, "@@GLIBC_2.34",
                      (Main main, int argc, char** argv, Function init, Function fini, Function rtld_fini,
                       void* stack_end)) {
  g_main = main;
  note_main_arguments(argc, argv);
  return real::__libc_start_main_current()(main_noting_status, argc, argv, init, fini, rtld_fini, stack_end);
}

FPSHIM_DEFINE_VERSION(int, __libc_start_main, compat, "@GLIBC_2.2.5",
                      (Main main, int argc, char** argv, Function init, Function fini, Function rtld_fini,
                       void* stack_end)) {
  g_main = main;
  return real::__libc_start_main_compat()(main_noting_status, argc, argv, init, fini, rtld_fini, stack_end);
}
