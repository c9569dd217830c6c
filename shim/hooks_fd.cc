// Descriptors and the working directory: keep the fd flags, the cwd cache and our socket right.
// The program's calls always go through unchanged: when one closes or replaces our socket, we let
// it (dup2 onto it first moves ours away) and open another when we next send.
#include "hook.h"
#include "lifecycle.h"
#include "real.h"
#include "self.h"
#include "transport.h"

using namespace fpshim;

namespace {

__attribute__((cold, noinline)) void forget_fd(int fd) {
  unflag_fd(fd);
  transport::on_close(fd);
}

}  // namespace

FPSHIM_DEFINE(int, chdir, (const char* path)) {
  const int r = real::chdir()(path);
  if (r == 0 && ready()) cwd_changed();
  return r;
}

FPSHIM_DEFINE(int, fchdir, (int fd)) {
  const int r = real::fchdir()(fd);
  if (r == 0 && ready()) cwd_changed();
  return r;
}

FPSHIM_DEFINE(int, close, (int fd)) {
  if (__builtin_expect(fds_noted(), 0)) forget_fd(fd);
  return real::close()(fd);
}

#if FPSHIM_GLIBC  // glibc only (libc.h)
#include <linux/close_range.h>

// With CLOSE_RANGE_CLOEXEC nothing is closed now (and our socket is close-on-exec already).
FPSHIM_DEFINE(int, close_range, (unsigned first, unsigned last, int flags)) {
  if (!(flags & CLOSE_RANGE_CLOEXEC)) {
    unflag_fds(first, last);
    transport::on_close_range(first, last);
  }
  return real::close_range()(first, last, flags);
}

FPSHIM_DEFINE(void, closefrom, (int low)) {
  if (low >= 0) {
    unflag_fds(unsigned(low), ~0u);
    transport::on_close_range(unsigned(low), ~0u);
  }
  real::closefrom()(low);
}
#endif

FPSHIM_DEFINE(int, dup2, (int oldfd, int newfd)) {
  if (oldfd == newfd) return real::dup2()(oldfd, newfd);
  unflag_fd(newfd);
  const transport::Moved moved = transport::step_aside(newfd);
  const int r = real::dup2()(oldfd, newfd);
  if (moved.to != transport::kNoSocket) {
    const int saved = errno;
    transport::after_step_aside(moved, r < 0);
    errno = saved;
  }
  return r;
}

FPSHIM_DEFINE(int, dup3, (int oldfd, int newfd, int flags)) {
  if (oldfd == newfd) return real::dup3()(oldfd, newfd, flags);
  unflag_fd(newfd);
  const transport::Moved moved = transport::step_aside(newfd);
  const int r = real::dup3()(oldfd, newfd, flags);
  if (moved.to != transport::kNoSocket) {
    const int saved = errno;
    transport::after_step_aside(moved, r < 0);
    errno = saved;
  }
  return r;
}
