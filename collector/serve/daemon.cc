// The loop of `fpshim serve` (serve/daemon.h): per served uid a data socket, a control socket, the
// process log and the spool; signals through a signalfd; builds reported when they end.
#include "serve/daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/exit_status.h"
#include "base/say.h"
#include "base/users.h"
#include "ingest/ingest.h"
#include "ingest/loss_ledger.h"
#include "serve/build_report.h"
#include "serve/builds_live.h"
#include "serve/control.h"
#include "serve/identity.h"
#include "serve/live_events.h"
#include "serve/state.h"

namespace fpshim {

namespace {

constexpr uint64_t kSecond = 1'000'000'000;
// How often the process logs are read and the spools claimed, and how long a claimed spool file
// stays open for a writer that opened it just before the rename (as in `fpshim run`).
constexpr uint64_t kReadFilesEveryNs = kSecond;
constexpr uint64_t kSettleNs = kSecond;
// How long a record waits for its process's hello (in the process log, read every second).
constexpr uint64_t kHelloWaitNs = 5 * kSecond;

uint64_t ns(double seconds) { return uint64_t(seconds * 1e9); }

// One served uid: its directory /var/tmp/fpshim-<uid>/ with the sockets and the spool, its state
// and its builds.
struct Served {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string dir;
  std::string socket_path;
  std::string control_path;
  Stats stats;  // of its socket and files: refused, malformed
  UidState state;
  std::unique_ptr<UidBuilds> builds;
  std::unique_ptr<Ingest> ingest;
  int control = -1;
};

// Is a daemon already receiving on `path`?
bool answered(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const bool yes = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) close(fd);
  return yes;
}

class Daemon {
 public:
  explicit Daemon(const ServeOptions& options) : options_(options) {}

  ~Daemon() {
    for (auto& s : served_) {
      if (s->control >= 0) close(s->control);
      unlink(s->control_path.c_str());
      if (s->ingest) unlink(s->socket_path.c_str());
    }
    if (signals_ >= 0) close(signals_);
  }

  bool start() {
    if (options_.outputs.events || options_.outputs.syslog) {
      live_ = std::make_unique<LiveEvents>(options_.outputs);
      std::string error;
      if (!live_->open(error)) {
        say("fpshim serve: {}\n", error);
        return false;
      }
    }
    if (!reload()) return false;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    signals_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    std::vector<uint32_t> uids{geteuid()};
    for (uint32_t uid : options_.uids)
      if (uid != geteuid()) uids.push_back(uid);
    for (uint32_t uid : uids)
      if (!open_uid(uid)) return false;
    for (auto& s : served_) {
      s->builds->recover();
      read_files(*s, kSettleNs);
      if (!s->builds->builds().empty())
        say("fpshim serve: uid {}: took back {} build(s) from the state and the spool\n", s->uid,
            s->builds->builds().size());
    }
    return true;
  }

  void loop() {
    uint64_t next_files = now_ns(CLOCK_MONOTONIC) + kReadFilesEveryNs;
    size_t first = 0;
    while (!stop_) {
      std::vector<pollfd> fds{{signals_, POLLIN, 0}};
      for (auto& s : served_) {
        fds.push_back({s->ingest->fd(), POLLIN, 0});
        fds.push_back({s->control, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) {
        say("fpshim serve: poll: {}\n", strerror(errno));
        return;
      }
      if (fds[0].revents & POLLIN) on_signals();
      // Round robin: each uid takes at most a batch per round, starting with another uid each time.
      for (size_t k = 0; k < served_.size(); k++) {
        const size_t i = (first + k) % served_.size();
        Served& s = *served_[i];
        if (fds[1 + 2 * i].revents & POLLIN) s.ingest->drain(*s.builds, options_.limits.batch);
        if (fds[2 + 2 * i].revents & POLLIN) answer(s);
      }
      first++;
      const uint64_t now = now_ns(CLOCK_MONOTONIC);
      if (now >= next_files) {
        for (auto& s : served_) read_files(*s, kSettleNs);
        next_files = now + kReadFilesEveryNs;
      } else if (live_ && live_->poll(now, kHelloWaitNs)) {
        // Live events wait for a hello: the process log now, not at the next second.
        for (auto& s : served_) {
          AsUser as(s->uid, s->gid);
          s->ingest->follow_log(*s->builds);
        }
      }
      for (auto& s : served_) {
        {
          AsUser as(s->uid, s->gid);
          s->ingest->settle(*s->builds, false);
        }
        for (LiveBuild* b : s->builds->due(now, ns(options_.grace_seconds), ns(options_.idle_seconds))) report(*s, *b);
        s->builds->retire(now, keep_ns());
      }
    }
  }

  // SIGTERM: what is queued and spooled, then every open build's report. Journals stay, so a
  // successor carries on with builds that were still running.
  void finish() {
    for (auto& s : served_) {
      while (s->ingest->drain(*s->builds) > 0) {
      }
      {
        AsUser as(s->uid, s->gid);
        s->ingest->follow_log(*s->builds);
        s->ingest->claim_spool(*s->builds);
        s->ingest->settle(*s->builds, true);
      }
      s->state.save_log_position(s->ingest->log_position());
      s->builds->route_pending(now_ns(CLOCK_MONOTONIC), 0);
      for (auto& [key, b] : s->builds->builds())
        if (b.dirty) report(*s, b);
    }
  }

 private:
  uint64_t keep_ns() const {
    const double keep = options_.keep_seconds > 0 ? options_.keep_seconds : std::max(60.0, 6 * options_.grace_seconds);
    return ns(keep);
  }

  bool reload() {
    LoadedRules loaded = load_rules(options_.rules);
    for (const RulesError& e : loaded.errors) say("{}\n", e.str());
    if (!loaded.ok()) {
      say("fpshim serve: {} error(s) in {}; {}\n", loaded.errors.size(), options_.rules,
          rules_ ? "the rules in use stay" : "not started");
      return false;
    }
    rules_ = std::make_shared<Rules>(std::move(loaded.rules));
    if (live_) live_->set_rules(rules_);
    say("fpshim serve: rules loaded from {} ({} recipes)\n", options_.rules, rules_->recipes.size());
    return true;
  }

  void on_signals() {
    signalfd_siginfo info;
    while (read(signals_, &info, sizeof info) == ssize_t(sizeof info)) {
      if (info.ssi_signo == SIGHUP) reload();
      else stop_ = true;
    }
  }

  bool open_uid(uint32_t uid) {
    auto s = std::make_unique<Served>();
    s->uid = uid;
    const std::optional<User> user = user_by_uid(uid);
    s->gid = user ? user->gid : uid;
    const bool own = uid == geteuid();
    s->dir = fmt::format("{}-{}", wire::kDefaultDir, uid);
    s->socket_path = own && options_.socket ? *options_.socket : s->dir + "/" + wire::kDefaultSocket;
    s->control_path = control_socket_for(s->socket_path);
    std::string error;
    if (!ensure_dir(s->dir, 0700, uid, s->gid, error) || !s->state.open(options_.state, uid, error)) {
      say("fpshim serve: uid {}: {}\n", uid, error);
      return false;
    }
    int data = -1;
    {
      // Bound with the uid's rights, in its directory: the sockets are its own, mode 0600, so only
      // it (and root) can connect.
      AsUser as(uid, s->gid);
      if (answered(s->socket_path)) {
        say("fpshim serve: uid {}: another fpshim serve receives on {}\n", uid, s->socket_path);
        return false;
      }
      unlink(s->socket_path.c_str());
      unlink(s->control_path.c_str());
      data = bind_socket(s->socket_path, error);
      if (data >= 0) s->control = listen_control(s->control_path, error);
      if (data < 0 || s->control < 0) {
        say("fpshim serve: uid {}: {}\n", uid, error);
        if (data >= 0) close(data);
        return false;
      }
      chmod(s->socket_path.c_str(), 0600);
      chmod(s->control_path.c_str(), 0600);
    }
    s->ingest = std::make_unique<Ingest>(std::nullopt, s->stats);
    s->ingest->set_owner(uid);
    s->ingest->adopt(data);
    s->ingest->set_spool_dir(s->dir + "/" + wire::kDefaultSpool);
    s->ingest->resume_log(s->state.load_log_position());
    s->builds = std::make_unique<UidBuilds>(uid, s->state, options_.limits, held_);
    s->builds->set_live(live_.get());
    say("fpshim serve: uid {}: receiving on {} (control {}), spool {}/{}\n", uid, s->socket_path, s->control_path,
        s->dir, wire::kDefaultSpool);
    served_.push_back(std::move(s));
    return true;
  }

  // The process log and the spool, with the uid's rights; then the log's position, once the
  // records it covers are in their journals.
  void read_files(Served& s, uint64_t settle_ns) {
    const std::string spool = s.dir + "/" + wire::kDefaultSpool;
    uint64_t ledger = 0;
    {
      AsUser as(s.uid, s.gid);
      s.ingest->follow_log(*s.builds);
      s.ingest->claim_spool(*s.builds, settle_ns);
      ledger = read_loss_ledger(spool);
    }
    s.state.save_log_position(s.ingest->log_position());
    s.builds->route_pending(now_ns(CLOCK_MONOTONIC), kHelloWaitNs);
    if (ledger == 0) return;
    // Records the shim could neither send nor spool: counted as lost in every open build (the
    // ledger does not say whose), then taken out of the ledger. A crash between the two counts them
    // again in the successor: more lost than were, never fewer.
    if (const size_t builds = s.builds->credit_ledger(ledger)) {
      say("fpshim serve: uid {}: {} record(s) could be neither sent nor spooled (the loss ledger in {}); "
          "counted as lost in each of the {} open build(s)\n",
          s.uid, ledger, spool, builds);
      AsUser as(s.uid, s.gid);
      take_from_loss_ledger(spool, ledger);
    }
  }

  // Returns the files written.
  std::vector<std::string> report(Served& s, LiveBuild& b) {
    s.builds->on_batch_end();
    std::vector<std::string> files;
    write_build_report(b, s.uid, s.gid, *rules_, options_, files, live_.get());
    b.dirty = false;
    b.reported = true;
    say("fpshim serve: uid {}: build {}: {} records from {} processes{}: {}\n", s.uid, b.id, b.records, b.images.size(),
        b.capped ? fmt::format(", {} dropped at a cap", b.capped) : "", files.empty() ? "no report" : files.front());
    return files;
  }

  // One request on the control socket (serve/control.h).
  void answer(Served& s) {
    for (;;) {
      const int fd = accept4(s.control, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      timeval timeout{0, 500'000};  // a client that does not send its line at once is dropped
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      std::string reply;
      ucred cred{};
      socklen_t len = sizeof cred;
      std::string line;
      char c;
      while (line.size() < 512 && read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
      if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || (cred.uid != s.uid && cred.uid != 0))
        reply = fmt::format("error uid {} may not ask about uid {}'s builds\n", cred.uid, s.uid);
      else reply = handle(s, line);
      if (write(fd, reply.data(), reply.size()) < 0) {
        // the asker went away
      }
      close(fd);
    }
  }

  std::string handle(Served& s, const std::string& line) {
    const uint64_t now = now_ns(CLOCK_MONOTONIC);
    if (line == "status") {
      std::string out;
      for (const auto& [key, b] : s.builds->builds()) {
        const size_t running = b.running();
        out += fmt::format("build {} processes {} running {} records {} capped {} lost {} state {} quiet {:.1f}\n",
                           b.id, b.images.size(), running, b.records, b.capped, b.torn + b.ledger,
                           b.dirty ? (running > 0 ? "live" : "ended") : "reported",
                           now > b.last_ns ? double(now - b.last_ns) / 1e9 : 0.0);
      }
      return out + fmt::format("ok {} builds\n", s.builds->builds().size());
    }
    if (line.starts_with("report ")) {
      {
        AsUser as(s.uid, s.gid);  // what has arrived so far, in the log and the spool
        s.ingest->follow_log(*s.builds);
      }
      s.ingest->drain(*s.builds);
      LiveBuild* b = s.builds->find(line.substr(7));
      if (!b) return fmt::format("error no build {} of uid {}\n", line.substr(7), s.uid);
      std::string out;
      for (const std::string& f : report(s, *b)) out += fmt::format("report {}\n", f);
      return out + "ok\n";
    }
    return fmt::format("error unknown request \"{}\" (status, report BUILD)\n", line);
  }

  const ServeOptions& options_;
  std::shared_ptr<Rules> rules_;
  std::unique_ptr<LiveEvents> live_;  // --events, --syslog: alerts as they arrive
  std::vector<std::unique_ptr<Served>> served_;
  size_t held_ = 0;
  int signals_ = -1;
  bool stop_ = false;
};

}  // namespace

int serve(const ServeOptions& options) {
  if (!options.uids.empty() && geteuid() != 0) {
    say("fpshim serve: --uid needs root (each uid's directory and sockets are made for it)\n");
    return kExitSetupError;
  }
  // A build of the daemon's own uid (serve run as the CI user) cannot read its memory or open its
  // journals through /proc/<pid>/{mem,fd} without CAP_SYS_PTRACE.
  prctl(PR_SET_DUMPABLE, 0);
  Daemon daemon(options);
  if (!daemon.start()) return kExitSetupError;
  say("fpshim serve: ready\n");
  daemon.loop();
  say("fpshim serve: stopping: writing the report of every open build\n");
  daemon.finish();
  return 0;
}

}  // namespace fpshim
