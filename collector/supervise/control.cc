#include "supervise/control.h"

#include <fmt/format.h>

#include <charconv>

namespace fpshim {

namespace {

// The words of one line, parsed in order; any failure spoils the whole line.
class Words {
 public:
  explicit Words(std::string_view line) : rest_(line) {}

  template <class Number>
  Number number() {
    const std::string_view w = next();
    Number v{};
    const auto [end, err] = std::from_chars(w.data(), w.data() + w.size(), v);
    ok_ = ok_ && !w.empty() && err == std::errc() && end == w.data() + w.size();
    return v;
  }
  std::string_view word() { return next(); }
  bool ok() const { return ok_ && rest_.empty(); }

 private:
  std::string_view next() {
    const size_t space = rest_.find(' ');
    const std::string_view w = rest_.substr(0, space);
    rest_ = space == std::string_view::npos ? std::string_view() : rest_.substr(space + 1);
    return w;
  }

  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace

// "root STARTED_NS ROOT_PID" or "finish STARTED_NS EXIT_CODE SIGNAL|- ENDED_NS LINGER_EXPIRED RESTARTS STOPPED".
std::string encode_message(const ControlMessage& m) {
  if (m.type == ControlMessage::Type::root) return fmt::format("root {} {}\n", m.started_ns, m.root_pid);
  return fmt::format("finish {} {} {} {} {:d} {} {}\n", m.started_ns, m.exit_code,
                     m.signal ? std::to_string(*m.signal) : "-", m.ended_ns, m.linger_expired, m.collector_restarts,
                     m.collector_stopped);
}

std::vector<ControlMessage> ControlReader::feed(std::string_view bytes) {
  pending_ += bytes;
  std::vector<ControlMessage> out;
  size_t start = 0;
  for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
    Words w(std::string_view(pending_).substr(start, end - start));
    ControlMessage m;
    const std::string_view type = w.word();
    m.started_ns = w.number<uint64_t>();
    if (type == "root") {
      m.type = ControlMessage::Type::root;
      m.root_pid = w.number<pid_t>();
    } else if (type == "finish") {
      m.type = ControlMessage::Type::finish;
      m.exit_code = w.number<int>();
      Words signal_word = w;
      if (signal_word.word() == "-") w = signal_word;
      else m.signal = w.number<int>();
      m.ended_ns = w.number<uint64_t>();
      m.linger_expired = w.number<int>() != 0;
      m.collector_restarts = w.number<uint64_t>();
      m.collector_stopped = w.number<uint64_t>();
    } else {
      continue;
    }
    if (w.ok()) out.push_back(m);
  }
  pending_.erase(0, start);
  return out;
}

}  // namespace fpshim
