// The ECS events (report/events.h) sent to the local syslog as RFC 5424 messages, one datagram per
// event, over the unix socket (/dev/log by default). Written with a socket directly: glibc's
// syslog(3) speaks RFC 3164. Format and size handling: docs/outputs/events.md, "Syslog".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "report/report_json.h"

namespace fpshim {

inline constexpr const char* kDefaultSyslogSocket = "/dev/log";
inline constexpr int kSyslogFacility = 16;  // local0
// rsyslog's default maxMessageSize is 8096 bytes; longer messages are cut there, and a cut JSON
// document no longer parses. Events longer than this are shortened (see shorten_event) first.
inline constexpr size_t kSyslogMaxMessage = 8000;

// "<PRI>1 TIMESTAMP HOSTNAME fpshim PROCID MSGID - JSON": the RFC 5424 message of one event, with
// the event's @timestamp, host.name, log.level (→ severity) and event.dataset (→ MSGID).
std::string syslog_message(const Json& event, int procid);

// The event made to fit in `limit` bytes of message: first the argument arrays (the command lines
// stay) and long strings are cut to 256 bytes, then all but the identifying fields are dropped; each
// step sets fpshim.truncated. Returns false if even the smallest form does not fit.
bool shorten_event(Json& event, int procid, size_t limit, std::string& message);

struct SyslogSent {
  size_t sent = 0;
  size_t shortened = 0;  // sent in a shortened form
  size_t dropped = 0;    // not sent: too large even shortened, or the socket refused them
  std::string error;     // why not everything went as it is ("" if it did)
};

// Sends every event to the datagram socket at `socket`.
SyslogSent send_syslog(const std::vector<Json>& events, const std::string& socket, size_t limit = kSyslogMaxMessage);

}  // namespace fpshim
