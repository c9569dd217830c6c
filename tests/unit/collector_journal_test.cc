#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "model/aggregate.h"
#include "collector_testing.h"
#include "ingest/ingest.h"
#include "ingest/journal.h"
#include "supervise/private_dir.h"
#include "rules/rules.h"
#include "ingest/seq_set.h"

using namespace fpshim;
using namespace fpshim::test;

namespace {

const std::string kRules = rules_json(recipe_json(
    "machine", R"("match": [{"path": "/proc/ioports"}, {"path": "/proc/iomem"}, {"path": "/etc/machine-id"}])"));

Inspection no_inspection(const std::string&) { return Inspection{}; }

// One collector's worth of state over a private directory, as run_collector builds it.
struct Collector {
  const Rules& rules;
  const PrivateDir& dir;
  Stats stats;
  Aggregate aggregate{rules, stats, no_inspection};
  Journal journal;
  Ingest ingest{kBuild, stats};

  Collector(const Rules& r, const PrivateDir& d) : rules(r), dir(d) {
    std::string error;
    REQUIRE(journal.open(dir.journal(), dir.counters(), error));
    unlink(dir.socket().c_str());  // a dead predecessor's socket file
    const int fd = bind_socket(dir.socket(), error);
    REQUIRE(fd >= 0);
    ingest.adopt(fd);
    ingest.set_journal(&journal);
    ingest.set_spool_dir(dir.spool());
    journal.load_counters(stats);
    journal.replay([this](const RecordBytes& r) { ingest.deliver(r.data, r.size, 0, false, aggregate); });
  }

  Summary summary() {
    Summary s;
    aggregate.summarize(s);
    return s;
  }
};

class Sender {
 public:
  explicit Sender(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    addr_.sun_family = AF_UNIX;
    strcpy(addr_.sun_path, path.c_str());
  }
  ~Sender() { close(fd_); }
  void send(const std::string& bytes) {
    REQUIRE(sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_) > 0);
  }

 private:
  int fd_;
  sockaddr_un addr_{};
};

PrivateDir created_dir() {
  PrivateDir dir;
  std::string error;
  REQUIRE(dir.create(error));
  return dir;
}

// One collector over a private directory of its own, both gone at the end of the test.
struct InFreshDir {
  Rules rules = load_rules(kRules.c_str());
  PrivateDir dir = created_dir();
  Collector collector{rules, dir};

  ~InFreshDir() {
    collector.ingest.close();
    dir.remove();
  }
};

RecordSpec numbered(RecordSpec s, uint64_t seq) {
  s.seq = seq;
  return s;
}

uint64_t count_of(const Summary& s, std::string_view path) {
  for (const RecipeSummary& r : s.recipes)
    for (const PathSummary& p : r.paths)
      if (p.path == path) return p.count;
  return 0;
}

}  // namespace

TEST_CASE("SeqSet: duplicates, gaps, out of order, bogus seqs") {
  SeqSet s;
  CHECK(s.empty());
  CHECK(s.missing() == 0);
  for (uint64_t i = 0; i < 200; i++) CHECK(s.insert(i));
  CHECK_FALSE(s.insert(5));
  CHECK_FALSE(s.insert(199));
  CHECK(s.count() == 200);
  CHECK(s.missing() == 0);
  CHECK(s.insert(300));
  CHECK(s.missing() == 100);
  for (uint64_t i = 299; i >= 200; i--) CHECK(s.insert(i));
  CHECK_FALSE(s.insert(250));
  CHECK(s.missing() == 0);
  CHECK(s.highest() == 300);
  CHECK(s.insert(UINT64_MAX - 1));  // far beyond the window: accepted, not tracked
  CHECK(s.highest() == 300);

  SeqSet reverse;
  for (uint64_t i = 1000; i-- > 0;) CHECK(reverse.insert(i));
  CHECK(reverse.count() == 1000);
  CHECK(reverse.missing() == 0);
  for (uint64_t i = 0; i < 1000; i++) CHECK_FALSE(reverse.insert(i));
}

TEST_CASE("SeqSet: a seq seen again with other content conflicts") {
  SeqSet s;
  CHECK(s.insert(1, 0xaaaa) == SeqSet::Seen::fresh);
  CHECK(s.insert(1, 0xaaaa) == SeqSet::Seen::duplicate);
  CHECK(s.insert(1, 0xbbbb) == SeqSet::Seen::conflicting);
  CHECK(s.insert(1, 0xaaaa) == SeqSet::Seen::duplicate);
  CHECK(s.insert(1, 0xbbbb) == SeqSet::Seen::duplicate);  // the conflicting record, delivered again
  CHECK(s.count() == 1);
  CHECK(s.insert(UINT64_MAX - 1, 1) == SeqSet::Seen::fresh);  // beyond the window: untracked
}

TEST_CASE("SeqSet: contents kept by index and, far beyond the seqs seen, apart; both found again") {
  SeqSet s;
  const uint64_t far = 100000;  // far beyond the seqs seen so far: kept apart
  CHECK(s.insert(far, 7) == SeqSet::Seen::fresh);
  for (uint64_t seq = 0; seq < 2 * far; seq++)
    if (seq != far) REQUIRE(s.insert(seq, uint32_t(seq)) == SeqSet::Seen::fresh);
  CHECK(s.insert(far, 7) == SeqSet::Seen::duplicate);
  CHECK(s.insert(far, uint32_t(far)) == SeqSet::Seen::conflicting);  // the index's slot is not its content
  CHECK(s.insert(12345, 12345) == SeqSet::Seen::duplicate);
  CHECK(s.insert(12345, 1) == SeqSet::Seen::conflicting);
  CHECK(s.insert(0, 0) == SeqSet::Seen::duplicate);
  CHECK(s.count() == 2 * far);
  CHECK(s.missing() == 0);
}

TEST_CASE("a forged record that takes a real record's seq does not make it a duplicate") {
  Rules rules = load_rules(kRules.c_str());
  Stats stats;
  Aggregate aggregate(rules, stats, no_inspection);
  auto feed = [&](const RecordSpec& spec) { deliver(aggregate, spec); };
  feed(numbered(hello(10, 1, 100, "/usr/bin/cat", {"cat"}), 0));
  for (uint64_t seq = 1; seq <= 3; seq++) feed(numbered(access(10, 100, "/tmp/harmless"), seq));  // forged
  feed(numbered(access(10, 100, "/proc/ioports"), 2));                                            // the real read
  feed(numbered(access(10, 100, "/tmp/harmless"), 3));  // a true duplicate of a forged one
  RecordSpec spooled = numbered(access(10, 100, "/proc/ioports"), 2);
  spooled.flags = wire::flag_from_spool | wire::flag_unverified;  // the real record again, read from a file
  feed(spooled);
  Summary s;
  aggregate.summarize(s);
  CHECK(s.stats.conflicting == 1);
  CHECK(s.stats.duplicates == 2);
  CHECK(count_of(s, "/proc/ioports") == 1);  // counted once, though it came twice
}

TEST_CASE("content hashes: keyed, and blind to the collector's own flags") {
  RecordSpec a = numbered(access(10, 100, "/proc/ioports"), 1);
  const std::string bytes = encode(a);
  wire::Header h;
  std::vector<wire::Bytes> strings(8);
  const int n = wire::decode(bytes.data(), bytes.size(), &h, strings.data(), uint32_t(strings.size()));
  REQUIRE(n == 3);
  std::span<const wire::Bytes> view(strings.data(), size_t(n));
  const uint32_t plain = content_hash(1, h, view);
  CHECK(content_hash(2, h, view) != plain);
  h.flags |= wire::flag_from_spool | wire::flag_unverified;
  CHECK(content_hash(1, h, view) == plain);
  h.count = 2;
  CHECK(content_hash(1, h, view) != plain);
}

TEST_CASE("lost records are the gaps in each process's seqs; duplicates are dropped") {
  Rules rules = load_rules(kRules.c_str());
  Stats stats;
  Aggregate aggregate(rules, stats, no_inspection);
  auto feed = [&](const RecordSpec& spec) { deliver(aggregate, spec); };
  feed(numbered(hello(10, 1, 100, "/usr/bin/cat", {"cat"}), 0));
  feed(numbered(access(10, 100, "/proc/ioports"), 1));
  feed(numbered(access(10, 100, "/proc/ioports"), 3));
  feed(numbered(access(10, 100, "/proc/ioports"), 1));  // seen before
  feed(numbered(bye(10, 100), 4));
  // A process whose hello and first records never came, and one whose shim counted its own losses.
  feed(numbered(access(20, 200, "/proc/iomem"), 3));
  feed(numbered(hello(30, 1, 300, "/usr/bin/cat", {"cat"}), 0));
  RecordSpec lost;
  lost.kind = wire::Kind::lost;
  lost.pid = 30;
  lost.nonce = 300;
  lost.count = 5;
  feed(numbered(lost, 2));
  Summary s;
  aggregate.summarize(s);
  CHECK(s.stats.records == 7);
  CHECK(s.stats.duplicates == 1);
  CHECK(s.stats.lost == 1 + 3 + 5);
  CHECK(count_of(s, "/proc/ioports") == 2);
}

TEST_CASE("a restarted collector replays the journal and never counts a record twice") {
  Rules rules = load_rules(kRules.c_str());
  PrivateDir dir;
  std::string error;
  REQUIRE(dir.create(error));
  const int pid = getpid();
  std::string spooled = encode(numbered(hello(123, 1, 7, "/bin/cat", {"cat"}), 0)) +
                        encode(numbered(access(123, 7, "/etc/machine-id"), 1)) + encode(numbered(bye(123, 7), 2));
  Summary before;
  {
    Collector first(rules, dir);
    Sender sender(dir.socket());
    sender.send(encode(numbered(hello(pid, getppid(), 5, "/bin/sh", {"sh"}), 0)));
    sender.send(encode(numbered(access(pid, 5, "/proc/ioports", wire::op_read, 0, 1), 1)));
    sender.send(encode(numbered(access(pid, 5, "/proc/iomem"), 2)));
    sender.send("garbage");
    CHECK(first.ingest.drain(first.aggregate) == 4);
    std::ofstream(dir.spool() + "/123-7.spool", std::ios::binary) << spooled;
    first.ingest.claim_spool(first.aggregate);
    first.journal.save_counters(first.stats);
    CHECK(first.journal.healthy());
    before = first.summary();
  }
  // As if it was killed between journaling a claimed spool file and removing it.
  std::ofstream(dir.spool() + "/123-7.claimed", std::ios::binary) << spooled;

  Collector second(rules, dir);
  Sender sender(dir.socket());
  sender.send(encode(numbered(access(pid, 5, "/proc/ioports"), 3)));
  sender.send(encode(numbered(bye(pid, 5), 4)));
  second.ingest.drain(second.aggregate);
  second.ingest.claim_spool(second.aggregate);
  Summary after = second.summary();

  CHECK(before.stats.records == 6);
  CHECK(before.stats.late == 3);
  CHECK(after.stats.records == 8);
  CHECK(after.stats.duplicates == 3);  // the claimed file, read again
  CHECK(after.stats.late == 3);        // the journal kept the from-spool flag
  CHECK(after.stats.malformed == 1);   // from the counters file
  CHECK(after.stats.lost == 0);
  CHECK(count_of(after, "/proc/ioports") == 2);
  CHECK(count_of(after, "/etc/machine-id") == 1);
  CHECK(::access((dir.spool() + "/123-7.claimed").c_str(), F_OK) != 0);
  second.ingest.close();
  dir.remove();
}

TEST_CASE("a spool file claimed while the build runs is read once more before it is removed") {
  InFreshDir fresh;
  Collector& c = fresh.collector;
  const PrivateDir& dir = fresh.dir;
  std::string path = dir.spool() + "/9-9.spool";
  int late_writer = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);  // opened before the claim
  std::string first = encode(numbered(hello(9, 1, 9, "/bin/cat", {"cat"}), 0));
  REQUIRE(write(late_writer, first.data(), first.size()) == ssize_t(first.size()));
  c.ingest.claim_spool(c.aggregate, 60'000'000'000);
  CHECK(c.stats.records == 1);
  std::string second = encode(numbered(access(9, 9, "/proc/ioports"), 1));
  REQUIRE(write(late_writer, second.data(), second.size()) == ssize_t(second.size()));  // after the rename
  close(late_writer);
  CHECK(c.ingest.settle(c.aggregate, false) != 0);  // not due yet
  CHECK(::access((dir.spool() + "/9-9.claimed").c_str(), F_OK) == 0);
  CHECK(c.ingest.settle(c.aggregate, true) == 0);
  CHECK(c.stats.records == 2);
  CHECK(::access((dir.spool() + "/9-9.claimed").c_str(), F_OK) != 0);
}

TEST_CASE("the process log is followed as it grows, never claimed, never late; a record torn at its end is lost") {
  InFreshDir fresh;
  Collector& c = fresh.collector;
  const PrivateDir& dir = fresh.dir;
  c.ingest.follow_log(c.aggregate);  // no log yet
  const std::string log = dir.spool() + "/" + wire::kProcessLog;
  const int writer = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(writer >= 0);
  auto append = [&](const std::string& bytes) {
    REQUIRE(write(writer, bytes.data(), bytes.size()) == ssize_t(bytes.size()));
  };
  const std::string second = encode(numbered(hello(10, 1, 10, "/bin/ls", {"ls"}), 0));
  append(encode(numbered(hello(9, 1, 9, "/bin/cat", {"cat"}), 0)) + second.substr(0, 50));
  c.ingest.follow_log(c.aggregate);
  CHECK(c.stats.records == 1);
  append(second.substr(50) + encode(numbered(bye(10, 10), 1)));
  c.ingest.claim_spool(c.aggregate, 60'000'000'000);
  CHECK(::access(log.c_str(), F_OK) == 0);  // not renamed: a writer may have it open
  c.ingest.follow_log(c.aggregate);
  CHECK(c.stats.records == 3);
  append(encode(numbered(hello(11, 1, 11, "/bin/sh", {"sh"}), 0)).substr(0, 90));  // its writer died
  close(writer);
  c.ingest.finish_log(c.aggregate);
  Summary s = c.summary();
  CHECK(s.stats.records == 3);
  CHECK(s.stats.late == 0);
  CHECK(s.stats.processes == 2);
  CHECK(s.stats.lost == 1);
}

TEST_CASE("a torn spool record counts as lost once") {
  InFreshDir fresh;
  Collector& c = fresh.collector;
  const PrivateDir& dir = fresh.dir;
  std::string torn = encode(numbered(access(9, 9, "/proc/ioports"), 2));
  std::ofstream(dir.spool() + "/9-9.spool", std::ios::binary)
      << encode(numbered(hello(9, 1, 9, "/bin/cat", {"cat"}), 0)) << torn.substr(0, torn.size() - 3);
  c.ingest.claim_spool(c.aggregate);
  Summary s = c.summary();
  CHECK(s.stats.records == 1);
  CHECK(s.stats.lost == 2);  // seq 1 never came; seq 2 was torn
}

TEST_CASE("the journal stops growing at its limit; a successor finds what it missed by the seq gaps") {
  Rules rules = load_rules(kRules.c_str());
  PrivateDir dir = created_dir();
  std::string error;
  const std::string hello_record = encode(numbered(hello(50, 1, 9, "/bin/cat", {"cat"}), 0));
  const std::string first = encode(numbered(access(50, 9, "/proc/ioports"), 1));
  const std::string second = encode(numbered(access(50, 9, "/proc/iomem"), 2));
  {
    Journal journal(hello_record.size() + first.size());
    REQUIRE(journal.open(dir.journal(), dir.counters(), error));
    for (const std::string* r : {&hello_record, &first, &second}) {
      iovec v{const_cast<char*>(r->data()), r->size()};
      journal.append({&v, 1});
    }
    CHECK(journal.unjournaled() == 1);
    CHECK(journal.healthy());
    Stats stats;
    stats.forged_spool = 4;
    journal.save_counters(stats);
    journal.save_tampering({Tampering{"the process log was deleted", 7}});
  }
  struct stat st;
  REQUIRE(stat(dir.journal().c_str(), &st) == 0);
  CHECK(uint64_t(st.st_size) == hello_record.size() + first.size());

  Journal journal;
  REQUIRE(journal.open(dir.journal(), dir.counters(), error));
  Stats stats;
  journal.load_counters(stats);
  CHECK(stats.unjournaled == 1);
  CHECK(stats.forged_spool == 4);  // both branches' counters, side by side in the counters file
  const std::vector<Tampering> tampering = journal.load_tampering();
  REQUIRE(tampering.size() == 1);
  CHECK(tampering[0].what == "the process log was deleted");
  Aggregate aggregate(rules, stats, no_inspection);
  Ingest ingest(kBuild, stats);
  journal.replay([&](const RecordBytes& r) { ingest.deliver(r.data, r.size, 0, false, aggregate); });
  deliver(aggregate, numbered(bye(50, 9), 3));  // from the process log, read again from its start
  Summary s;
  aggregate.summarize(s);
  CHECK(s.stats.lost == 1);
  CHECK(count_of(s, "/proc/ioports") == 1);
  CHECK(count_of(s, "/proc/iomem") == 0);
  dir.remove();
}

TEST_CASE("the private directory names nothing but the socket and the spool") {
  PrivateDir dir = created_dir();
  std::string error;
  {
    Journal journal;
    REQUIRE(journal.open(dir.journal(), dir.counters(), error));
    const std::string record = encode(numbered(hello(50, 1, 9, "/bin/cat", {"cat"}), 0));
    iovec v{const_cast<char*>(record.data()), record.size()};
    journal.append({&v, 1});
  }
  std::vector<std::string> names;
  DIR* d = opendir(dir.path().c_str());
  REQUIRE(d);
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"spool"});  // the socket is bound later, by `fpshim run`
  struct stat st;
  REQUIRE(stat(dir.journal().c_str(), &st) == 0);
  CHECK(st.st_nlink == 0);  // unlinked: reachable only through the descriptor held
  CHECK(st.st_size > 0);
  dir.remove();
}

TEST_CASE("datagrams peeked by a collector killed before it journaled them wait in the queue for its successor") {
  Rules rules = load_rules(kRules.c_str());
  PrivateDir dir = created_dir();
  std::string error;
  const int held = bind_socket(dir.socket(), error);  // the supervisor's descriptor
  REQUIRE(held >= 0);
  const int pid = getpid();
  Sender sender(dir.socket());
  sender.send(encode(numbered(hello(pid, getppid(), 5, "/bin/sh", {"sh"}), 0)));
  sender.send(encode(numbered(access(pid, 5, "/proc/ioports"), 1)));
  sender.send(encode(numbered(access(pid, 5, "/proc/iomem"), 2)));
  // The predecessor, killed as it delivers its first record: after its peek, before it consumed.
  struct Killed : RecordSink {
    void on_record(const wire::Header&, std::span<const wire::Bytes>) override { _exit(0); }
  };
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Stats stats;
    Ingest predecessor{kBuild, stats};
    predecessor.adopt(dup(held));
    Killed killed;
    predecessor.drain(killed);
    _exit(1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  Stats stats;
  Aggregate aggregate{rules, stats, no_inspection};
  Ingest successor{kBuild, stats};
  successor.adopt(dup(held));
  CHECK(successor.drain(aggregate) == 3);
  CHECK(successor.drain(aggregate) == 0);  // taken off the queue once journaled
  char buf[16];
  CHECK(recv(held, buf, sizeof buf, MSG_DONTWAIT) < 0);
  Summary s;
  aggregate.summarize(s);
  CHECK(s.stats.records == 3);
  CHECK(count_of(s, "/proc/ioports") == 1);
  CHECK(count_of(s, "/proc/iomem") == 1);
  successor.close();
  close(held);
  dir.remove();
}
