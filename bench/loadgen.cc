// loadgen SENDERS RECORDS_PER_SENDER DISTINCT_PATHS: a load generator for the collector.
//
// Run it under the collector: fpshim run --quiet --report out.json -- loadgen 8 125000 1000
// It reads FPSHIM_SOCKET and FPSHIM_BUILD, forks SENDERS processes (the collector checks that a
// record's pid is the kernel-verified sender pid, so each sender is a real process) and releases
// them at once. Each sends a hello, RECORDS_PER_SENDER access records and a bye, with blocking
// sends (no MSG_DONTWAIT: nothing is spooled, a full queue just makes the sender wait), then
// leaves with _exit() (the shim in this process must not speak for it).
// Access records are built exactly per include/fpshim/wire.h: kind access, op read, count 1, open
// flags O_RDONLY, result 0, strings (resolved, spelled, "open"). Record k (counted over all senders)
// names path k % DISTINCT_PATHS: /proc/ioports when DISTINCT_PATHS is 1, else /sys/class/dmi/id/p<k>
// (inside the subtree /sys/class/dmi of the shipped rules, so every record is a hit).
// Prints: records, seconds (release to last sender reaped), records_per_second, sender_maxrss_kb,
// t0_monotonic (CLOCK_MONOTONIC seconds at the release, for a caller timing end to end).
// For `fpshim serve` (bench/servebench.py), two switches in the environment:
//   LOADGEN_BUILD_EACH=1  FPSHIM_BUILD is a name, and sender i is a build of its own, named
//                         "<FPSHIM_BUILD>-<i>" (its id wire::build_id_of_name of that)
//   LOADGEN_HOLD=1        each sender sends its hello and records, then holds its build open (no bye);
//                         once all have sent, loadgen prints "held" and waits for EOF on its stdin,
//                         then the senders send their byes and leave
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fpshim/wire.h"

namespace w = fpshim::wire;

namespace {

uint64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

double monotonic_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

struct Record {
  alignas(8) char buf[4096];
  uint32_t size = 0;
  w::Header h{};

  void begin(w::Kind kind) {
    h = w::Header{};
    h.magic = w::kMagic;
    h.version = w::kVersion;
    h.kind = uint16_t(kind);
    size = sizeof(w::Header);
  }
  void add(const char* s, size_t len) {
    uint32_t l = uint32_t(len);
    memcpy(buf + size, &l, sizeof l);
    memcpy(buf + size + sizeof l, s, len);
    size += w::encoded_size(l);
    h.nstrings++;
  }
  void add(const char* s) { add(s, strlen(s)); }
  void finish() {
    h.size = size;
    memcpy(buf, &h, sizeof h);
  }
};

struct Sender {
  int fd;
  uint64_t build_id;
  uint64_t nonce;
  uint64_t seq = 0;
  int pid, ppid, tid;

  void stamp(Record& r) {
    r.h.build_id = build_id;
    r.h.time_ns = realtime_ns();
    r.h.proc_nonce = nonce;
    r.h.seq = seq++;
    r.h.pid = pid;
    r.h.ppid = ppid;
    r.h.tid = tid;
  }
  void send(const Record& r) {
    for (;;) {
      if (::send(fd, r.buf, r.size, MSG_NOSIGNAL) == ssize_t(r.size)) return;
      if (errno == EINTR) continue;
      fprintf(stderr, "loadgen: send: %s\n", strerror(errno));
      _exit(3);
    }
  }
};

[[noreturn]] void run_sender(int index, long per_sender, long distinct, const char* sock_path, uint64_t build_id,
                             const char* exe, const char* cwd, int release_fd, int sent_fd, int hold_fd) {
  char go;
  while (read(release_fd, &go, 1) < 0 && errno == EINTR) {
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, sock_path, sizeof addr.sun_path - 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    fprintf(stderr, "loadgen: connect %s: %s\n", sock_path, strerror(errno));
    _exit(3);
  }
  Sender s{fd, build_id, realtime_ns(), 0, getpid(), getppid(), int(syscall(SYS_gettid))};
  Record r;

  char idx[32];
  snprintf(idx, sizeof idx, "%d", index);
  r.begin(w::Kind::hello);
  s.stamp(r);
  r.add(exe);
  r.add(cwd);
  r.add("loadgen-sender");
  r.add(idx);
  r.finish();
  s.send(r);

  char path[64];
  for (long i = 0; i < per_sender; i++) {
    long k = (long(index) * per_sender + i) % distinct;
    int len = distinct == 1 ? snprintf(path, sizeof path, "/proc/ioports")
                            : snprintf(path, sizeof path, "/sys/class/dmi/id/p%ld", k);
    r.begin(w::Kind::access);
    s.stamp(r);
    r.h.op = w::op_read;
    r.h.open_flags = O_RDONLY;
    r.h.result = 0;
    r.h.count = 1;
    r.add(path, size_t(len));
    r.add(path, size_t(len));
    r.add("open");
    r.finish();
    s.send(r);
  }

  if (hold_fd >= 0) {
    char one = 1;
    if (write(sent_fd, &one, 1) != 1) _exit(3);
    while (read(hold_fd, &go, 1) < 0 && errno == EINTR) {
    }
  }
  r.begin(w::Kind::bye);
  s.stamp(r);
  r.h.result = 0;
  r.finish();
  s.send(r);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: loadgen SENDERS RECORDS_PER_SENDER DISTINCT_PATHS\n");
    return 2;
  }
  int senders = atoi(argv[1]);
  long per_sender = atol(argv[2]);
  long distinct = atol(argv[3]);
  const char* sock = getenv(w::kEnvSocket);
  const char* build = getenv(w::kEnvBuild);
  if (senders <= 0 || per_sender < 0 || distinct <= 0) return 2;
  if (!sock || !build) {
    fprintf(stderr, "loadgen: run me under `fpshim run` (FPSHIM_SOCKET and FPSHIM_BUILD are not set)\n");
    return 2;
  }
  const bool each = getenv("LOADGEN_BUILD_EACH") && *getenv("LOADGEN_BUILD_EACH") == '1';
  const bool hold = getenv("LOADGEN_HOLD") && *getenv("LOADGEN_HOLD") == '1';
  uint64_t build_id = strtoull(build, nullptr, 16);
  // exe and cwd for the hellos, found without a path-taking call the shim in this process would see
  // (readlink("/proc/self/exe") passes its pre-filter and would add a record per sender).
  static char cwd[1024], exe[2048];
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "/");
  if (argv[0][0] == '/') snprintf(exe, sizeof exe, "%s", argv[0]);
  else snprintf(exe, sizeof exe, "%s/%s", cwd, argv[0]);

  int release[2], sent[2] = {-1, -1}, held[2] = {-1, -1};
  if (pipe(release) != 0) return 1;
  if (hold && (pipe(sent) != 0 || pipe(held) != 0)) return 1;
  for (int i = 0; i < senders; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("loadgen: fork");
      return 1;
    }
    if (pid == 0) {
      close(release[1]);
      if (hold) {
        close(sent[0]);
        close(held[1]);
      }
      if (each) {
        char name[256];
        snprintf(name, sizeof name, "%s-%d", build, i);
        build_id = w::build_id_of_name(name);
      }
      run_sender(i, per_sender, distinct, sock, build_id, exe, cwd, release[0], sent[1], held[0]);
    }
  }
  close(release[0]);
  double t0 = monotonic_s();
  close(release[1]);  // every sender's read() returns 0: go
  if (hold) {
    close(sent[1]);
    close(held[0]);
    char c;
    for (int n = 0; n < senders;) {
      ssize_t got = read(sent[0], &c, 1);
      if (got == 1) n++;
      else if (got == 0 || errno != EINTR) break;
    }
    printf("held\n");
    fflush(stdout);
    char buf[256];
    for (;;) {
      const ssize_t got = read(0, buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EINTR)) break;
    }
    close(held[1]);  // every sender's read() returns 0: bye
  }
  int bad = 0, status;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bad++;
  double secs = monotonic_s() - t0;
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  long records = long(senders) * (per_sender + 2);
  printf("records %ld\nseconds %.3f\nrecords_per_second %.0f\nsender_maxrss_kb %ld\nt0_monotonic %.6f\n", records, secs,
         double(records) / secs, ru.ru_maxrss, t0);
  return bad ? 1 : 0;
}
