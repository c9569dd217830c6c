// The control socket of `fpshim serve`: a SOCK_STREAM socket next to each served uid's data socket
// (serve.ctl), owned by that uid, mode 0600. One request line, one reply, then the daemon closes:
//   status            -> "build <id> processes <n> running <n> records <n> capped <n> state <s> quiet <s>"
//                        per build of the asker's uid, then "ok <n> builds"
//   report <build>    -> the build's report written now: "report <file>" per file, then "ok";
//                        <build> is its id (16 hex digits, <pid>-<nonce>) or its FPSHIM_BUILD name
// An error is one line "error <why>". The asker's uid comes from SO_PEERCRED: it must be the uid
// the socket serves (or root), so one uid never sees another's builds.
#pragma once

#include <string>

namespace fpshim {

inline constexpr char kControlSocket[] = "serve.ctl";

// The control socket next to a data socket.
std::string control_socket_for(const std::string& data_socket);

// Binds a listening control socket at `path` (non-blocking, close-on-exec); -1 with `error`.
int listen_control(const std::string& path, std::string& error);

// Client side: sends `request` and returns the reply, or false with `error` (no daemon, refused).
bool control_request(const std::string& path, const std::string& request, std::string& reply, std::string& error);

}  // namespace fpshim
