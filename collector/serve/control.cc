// The control socket of `fpshim serve` and its client (serve/control.h).
#include "serve/control.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace fpshim {

namespace {

bool address(const std::string& path, sockaddr_un& addr, std::string& error) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    error = fmt::format("socket path too long: {}", path);
    return false;
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

std::string control_socket_for(const std::string& data_socket) {
  const size_t slash = data_socket.rfind('/');
  return (slash == std::string::npos ? std::string(".") : data_socket.substr(0, slash)) + "/" + kControlSocket;
}

int listen_control(const std::string& path, std::string& error) {
  sockaddr_un addr;
  if (!address(path, addr, error)) return -1;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
    error = fmt::format("cannot listen on {}: {}", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  return fd;
}

bool control_request(const std::string& path, const std::string& request, std::string& reply, std::string& error) {
  sockaddr_un addr;
  if (!address(path, addr, error)) return false;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = fmt::format("cannot reach fpshim serve at {}: {}", path, strerror(errno));
    if (fd >= 0) close(fd);
    return false;
  }
  const std::string line = request + "\n";
  bool ok = write(fd, line.data(), line.size()) == ssize_t(line.size());
  char buf[4096];
  for (ssize_t n; ok && (n = read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    else reply.append(buf, size_t(n));
  }
  if (!ok) error = fmt::format("fpshim serve at {} did not answer: {}", path, strerror(errno));
  close(fd);
  return ok;
}

}  // namespace fpshim
