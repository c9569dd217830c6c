#include "control.h"

#include <nlohmann/json.hpp>

namespace fpshim {

using json = nlohmann::json;

std::string encode_message(const ControlMessage& m) {
  json j = {{"type", m.type == ControlMessage::Type::root ? "root" : "finish"}, {"started_ns", m.started_ns}};
  if (m.type == ControlMessage::Type::root) {
    j["root_pid"] = m.root_pid;
  } else {
    j["exit_code"] = m.exit_code;
    j["signal"] = m.signal ? json(*m.signal) : json(nullptr);
    j["ended_ns"] = m.ended_ns;
    j["linger_expired"] = m.linger_expired;
    j["collector_restarts"] = m.collector_restarts;
  }
  return j.dump() + "\n";
}

std::vector<ControlMessage> ControlReader::feed(std::string_view bytes) {
  pending_ += bytes;
  std::vector<ControlMessage> out;
  size_t start = 0;
  for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
    json j = json::parse(pending_.substr(start, end - start), nullptr, false);
    if (!j.is_object()) continue;
    try {
      ControlMessage m;
      m.type = j.at("type") == "root" ? ControlMessage::Type::root : ControlMessage::Type::finish;
      m.started_ns = j.at("started_ns").get<uint64_t>();
      if (m.type == ControlMessage::Type::root) {
        m.root_pid = j.at("root_pid").get<pid_t>();
      } else {
        m.exit_code = j.at("exit_code").get<int>();
        if (!j.at("signal").is_null()) m.signal = j.at("signal").get<int>();
        m.ended_ns = j.at("ended_ns").get<uint64_t>();
        m.linger_expired = j.at("linger_expired").get<bool>();
        m.collector_restarts = j.at("collector_restarts").get<uint64_t>();
      }
      out.push_back(m);
    } catch (const json::exception&) {
    }
  }
  pending_.erase(0, start);
  return out;
}

}  // namespace fpshim
