// connect() to a Unix socket by its path: an SSH agent's socket, say, whose keys the build can use
// without reading a file. The path is reported with the operation `connect`. Any other address
// family goes straight on to libc after one compare (connect is hot in networked programs); an
// abstract Unix address (its name begins with a NUL) names no path and goes on too.
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hook.h"
#include "real.h"

using namespace fpshim;

namespace {

constexpr size_t kSunPath = sizeof(sockaddr_un::sun_path);

bool unix_address(const struct sockaddr* addr, socklen_t len) {
  return addr != nullptr && len > sizeof(sa_family_t) && addr->sa_family == AF_UNIX;
}

// The socket's path, NUL-terminated in `out` (sun_path need not be, and `len` bounds it); false for
// an abstract address.
bool socket_path(const struct sockaddr* addr, socklen_t len, char (&out)[kSunPath + 1]) {
  const char* name = reinterpret_cast<const struct sockaddr_un*>(addr)->sun_path;
  size_t n = len - offsetof(struct sockaddr_un, sun_path);
  if (n > kSunPath) n = kSunPath;
  if (n == 0 || name[0] == '\0') return false;
  size_t i = 0;
  for (; i < n && name[i] != '\0'; i++) out[i] = name[i];
  out[i] = '\0';
  return true;
}

void observe_connect(const char* fn, const char* path, bool failed) {
  const int saved = errno;
  if (worth_resolving(AT_FDCWD, path)) observe(Call{fn, AT_FDCWD, path, wire::op_connect, 0}, failed, -1);
  errno = saved;
}

template <class Scan, class Real>
int connect_unix(const char* fn, Real real, int fd, const struct sockaddr* addr, socklen_t len) {
  char path[kSunPath + 1];
  if (!socket_path(addr, len, path) || !candidate<Scan>(AT_FDCWD, path)) return real(fd, addr, len);
  const int r = real(fd, addr, len);
  observe_connect(fn, path, r != 0);
  return r;
}

}  // namespace

FPSHIM_PATH_HOOK(int, connect, (int fd, const struct sockaddr* addr, socklen_t len), (fd, addr, len)) {
  if (__builtin_expect(!unix_address(addr, len), 1)) return real::connect()(fd, addr, len);
  return observed([=] { return connect_unix<Scan>("connect", real::connect(), fd, addr, len); });
}

#if FPSHIM_GLIBC
// glibc's alias, exported beside connect (tests/libc_exports/doors.txt).
FPSHIM_PATH_HOOK(int, __connect, (int fd, const struct sockaddr* addr, socklen_t len), (fd, addr, len)) {
  if (__builtin_expect(!unix_address(addr, len), 1)) return real::__connect()(fd, addr, len);
  return observed([=] { return connect_unix<Scan>("__connect", real::__connect(), fd, addr, len); });
}
#endif
