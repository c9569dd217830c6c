// Descriptors and the working directory: keep the fd flags, the cwd cache and our socket right.
#include "hook.h"
#include "lifecycle.h"
#include "real.h"
#include "transport.h"

using namespace fpshim;

FPSHIM_DEFINE(int, chdir, (const char* path)) {
  const int r = real::chdir()(path);
  if (r == 0 && ready()) refresh_cwd();
  return r;
}

FPSHIM_DEFINE(int, fchdir, (int fd)) {
  const int r = real::fchdir()(fd);
  if (r == 0 && ready()) refresh_cwd();
  return r;
}

// Closing our socket is the program's right; we forget it and open another when we next send.
FPSHIM_DEFINE(int, close, (int fd)) {
  unflag_fd(fd);
  transport::on_close(fd);
  return real::close()(fd);
}
