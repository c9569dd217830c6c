// RFC 5424 messages over the local syslog socket, one datagram per event.
#include "report/syslog.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace fpshim {

namespace {

using json = Json;

constexpr size_t kCutStrings = 1024;     // first shortening: strings longer than this are cut
constexpr size_t kMinimalStrings = 256;  // second: only identifying fields, strings this long
constexpr int kSendTimeoutSeconds = 5;   // a syslog daemon that takes no message for this long is stuck

// RFC 5424 severity of an ECS log.level.
int severity_of(const json& event) {
  std::string level = event.contains("log") ? event["log"].value("level", "") : "";
  if (level == "critical") return 2;
  if (level == "error") return 3;
  if (level == "warning") return 4;
  if (level == "notice") return 5;
  return 6;  // info
}

// A header field: PRINTUSASCII only, at most `max` characters; "-" (NILVALUE) if empty or not so.
std::string header_field(const std::string& text, size_t max) {
  if (text.empty() || text.size() > max) return "-";
  for (unsigned char c : text)
    if (c < 33 || c > 126) return "-";
  return text;
}

std::string msgid_of(const json& event) {
  std::string dataset = event.contains("event") ? event["event"].value("dataset", "") : "";
  if (dataset == "fpshim.access") return "finding";
  if (dataset == "fpshim.folded") return "folded";
  if (dataset == "fpshim.build") return "summary";
  return "event";
}

std::string cut(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t at = max;
  while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) at--;
  return s.substr(0, at) + "...";
}

// Argument arrays dropped where a command line says the same, spellings dropped, strings cut.
void trim(json& j, size_t max) {
  if (j.is_string()) {
    j = cut(j.get<std::string>(), max);
  } else if (j.is_array()) {
    for (json& item : j) trim(item, max);
  } else if (j.is_object()) {
    if (j.contains("command_line")) {
      j.erase("args");
      j.erase("args_hex");
    }
    j.erase("spellings");
    j.erase("spellings_hex");
    for (auto& [key, value] : j.items()) trim(value, max);
  }
}

// The fields that identify an event and what it is about; everything else is dropped.
json minimal(const json& event) {
  static const char* const kKept[] = {"/@timestamp",
                                      "/ecs",
                                      "/message",
                                      "/log",
                                      "/event",
                                      "/rule/id",
                                      "/rule/name",
                                      "/threat/technique/id",
                                      "/host/name",
                                      "/host/id",
                                      "/user/id",
                                      "/process/pid",
                                      "/process/executable",
                                      "/process/name",
                                      "/process/parent/pid",
                                      "/process/parent/name",
                                      "/process/exit_code",
                                      "/file/path",
                                      "/file/name",
                                      "/fpshim/build",
                                      "/fpshim/finding/fingerprint",
                                      "/fpshim/suppressed",
                                      "/fpshim/findings",
                                      "/fpshim/events",
                                      "/fpshim/coverage/monitored",
                                      "/fpshim/coverage/unmonitored",
                                      "/fpshim/folded/paths"};
  json out = json::object();
  for (const char* pointer : kKept) {
    json::json_pointer p(pointer);
    if (event.contains(p)) out[p] = event[p];
  }
  return out;
}

}  // namespace

std::string syslog_message(const json& event, int procid) {
  std::string host = event.contains("host") ? event["host"].value("name", "") : "";
  return fmt::format("<{}>1 {} {} fpshim {} {} - {}", kSyslogFacility * 8 + severity_of(event),
                     header_field(event.value("@timestamp", ""), 32), header_field(host, 255), procid, msgid_of(event),
                     event.dump(-1, ' ', false, json::error_handler_t::replace));
}

bool shorten_event(json& event, int procid, size_t limit, std::string& message) {
  message = syslog_message(event, procid);
  if (message.size() <= limit) return true;
  trim(event, kCutStrings);
  event["fpshim"]["truncated"] = "cut";
  message = syslog_message(event, procid);
  if (message.size() <= limit) return true;
  event = minimal(event);
  trim(event, kMinimalStrings);
  event["fpshim"]["truncated"] = "minimal";
  message = syslog_message(event, procid);
  return message.size() <= limit;
}

SyslogSent send_syslog(const std::vector<json>& events, const std::string& socket_path, size_t limit) {
  SyslogSent out;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    out.dropped = events.size();
    out.error = fmt::format("syslog socket path \"{}\" is empty or too long", socket_path);
    return out;
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    out.dropped = events.size();
    out.error = fmt::format("cannot send to syslog at {}: {}", socket_path, strerror(errno));
    if (fd >= 0) close(fd);
    return out;
  }
  timeval timeout{kSendTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const int procid = int(getpid());
  std::string first_error;
  for (const json& original : events) {
    json event = original;
    std::string message;
    const std::string before = syslog_message(event, procid);
    if (!shorten_event(event, procid, limit, message)) {
      out.dropped++;
      if (first_error.empty())
        first_error = fmt::format("an event of {} bytes does not fit in {} even shortened", before.size(), limit);
      continue;
    }
    ssize_t n;
    do n = send(fd, message.data(), message.size(), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      out.dropped++;
      if (first_error.empty())
        first_error = fmt::format("syslog at {} refused an event: {}", socket_path, strerror(errno));
      if (errno == EAGAIN || errno == ECONNREFUSED || errno == ENOTCONN) {  // stuck or gone: the rest would fail too
        out.dropped += size_t(&events.back() - &original);
        break;
      }
      continue;
    }
    out.sent++;
    if (message.size() != before.size()) out.shortened++;
  }
  close(fd);
  if (out.dropped)
    out.error = fmt::format("{} of {} events not sent to syslog ({})", out.dropped, events.size(), first_error);
  return out;
}

}  // namespace fpshim
