// Every process of the build: the images that reported (hello, bye, exec records) and the programs
// that exec records say were started but that never reported themselves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fpshim/wire.h"
#include "inspect/inspection.h"
#include "ingest/seq_set.h"

namespace fpshim {

// (pid, nonce) names one process image: exec keeps the pid and the shim starts anew with a new nonce.
struct ProcessKey {
  int32_t pid;
  uint64_t nonce;

  bool operator==(const ProcessKey&) const = default;
};

struct ProcessKeyHash {
  size_t operator()(const ProcessKey& k) const { return std::hash<uint64_t>()(k.nonce * 31 + uint32_t(k.pid)); }
};

// One exec record: a program was about to replace the image (child_pid 0) or was spawned.
struct ExecEvent {
  uint64_t seq = 0;
  uint64_t time_ns = 0;
  int32_t child_pid = 0;
  int32_t result = 0;  // errno of a failed exec
  uint32_t flags = 0;  // wire::RecordFlags
  std::string named;   // the target as the program named it
  std::string target;  // the resolved target
  std::vector<std::string> argv;
  Inspection inspection;  // of the target, made when the record arrived
};

struct Process {
  int32_t pid = 0;
  int32_t ppid = 0;
  uint64_t nonce = 0;
  uint64_t build_id = 0;  // FPSHIM_BUILD, as its records carried it
  uint64_t start_ns = 0;
  uint64_t bye_ns = 0;      // the time of its bye, as it said
  int32_t bye_status = -1;  // the exit status its bye carried; -1 if unknown
  bool said_hello = false;
  bool said_bye = false;
  bool go = false;           // the executable it reported in its hello is a Go program
  bool uninspected = false;  // what it ran was gone before it could be inspected
  std::string exe;
  std::string cwd;
  std::vector<std::string> argv;
  SeqSet seqs;
  uint64_t reported_lost = 0;        // the sum of its lost records
  std::optional<uint64_t> torn_seq;  // the highest seq of its records torn in a spool file
  std::vector<ExecEvent> execs;      // by seq

  // Worked out by ProcessTree::resolve():
  bool from_exec_record = false;  // never reported: known only from the exec record that started it
  bool vfork_child = false;       // reported with its parent's nonce (a vfork child before exec)
  bool replaced = false;          // a successful exec replaced this image
  const Process* execed_from = nullptr;
  Unmonitored reason = Unmonitored::none;
  std::string detail;
  uint64_t ended_ns = 0;     // bye, the exec that replaced it, or the root command's end; 0 if unknown
  int32_t exit_status = -1;  // bye_status; for the root command's last image from waitpid (128+N for signal N)

  bool known() const { return said_hello || from_exec_record || vfork_child; }
  bool monitored() const { return reason == Unmonitored::none; }
  // A process that sent nothing after its hello (seq 0) sends no bye either: it has no counts.
  bool counts_exact() const { return said_bye || replaced || seqs.highest() == 0; }
};

class ProcessTree {
 public:
  // The most images the tree holds (those that reported and those only an exec record names), so
  // that forged records cannot grow it without end. Further ones are counted (folded()), not kept.
  static constexpr size_t kMaxProcesses = 100'000;

  // The image a record comes from, created on its first record; null if it is not in the tree and
  // the tree is full.
  Process* process_for(const wire::Header& h);
  // Where the accesses of processes beyond the limit are counted: one stand-in for all of them.
  const Process& beyond_limit() const { return beyond_limit_; }
  // A hello from a process beyond the limit.
  void fold_hello() { folded_hellos_++; }
  // Whether an exec record may be kept: at most kMaxProcesses in all processes. If not, it is
  // counted as a program beyond the limit.
  bool room_for_exec() {
    if (exec_records_ < kMaxProcesses) return ++exec_records_, true;
    folded_exec_records_++;
    return false;
  }
  // Processes beyond the limit: hellos, and programs that exec records name that found no room.
  uint64_t folded() const { return folded_hellos_ + folded_launches_ + folded_exec_records_; }
  const Process* find(ProcessKey key) const;

  // The build's root command, started by fpshim itself (so no exec record names it).
  void set_root(int32_t pid, int32_t ppid, ExecEvent launch);
  // Only where ancestry walks stop (no launch to pair with a hello).
  void set_root_pid(int32_t pid) { root_pid_ = pid; }
  int32_t root_pid() const { return root_pid_; }
  // Its exit status from waitpid, given to the last image of its exec chain.
  void set_root_exit(int status, uint64_t end_ns);

  // Pairs every exec record with the hello of the program it started, adds a process for each
  // program that never reported, and works out why each process was unmonitored. Call after the
  // last record; may be called again after more records.
  void resolve();

  // The newest image of the parent's pid that started no later than `p`.
  const Process* parent_of(const Process& p) const;
  // Parent first, up to and including the root command's process.
  std::vector<const Process*> ancestry(const Process& p) const;
  // Is a process of pid `pid` a descendant of `ancestor` (an image of its pid, or of a child of it,
  // and so on)? Call after resolve().
  bool descends_from(int32_t pid, const Process& ancestor) const;

  // Records that never arrived: per process, seqs below the highest one seen that are missing, or
  // what its lost records said if that is more.
  uint64_t lost_records() const;

  // Every image, in start order.
  std::vector<const Process*> in_start_order() const;

 private:
  struct Launch {
    Process* parent;  // null for the root command
    const ExecEvent* event;
    int32_t pid;
    int32_t ppid;
    bool in_place;
  };

  void forget_resolution();
  void mark_vfork_children();
  std::vector<Launch> launches();
  Process* reported_image(const Launch& launch, const std::unordered_set<const Process*>& claimed);
  Process* add_unreported(const Launch& launch);
  void apply_root_exit(Process* root_image);

  std::unordered_map<ProcessKey, Process, ProcessKeyHash> processes_;
  std::unordered_map<int32_t, std::vector<ProcessKey>> images_;  // by pid
  int32_t root_pid_ = 0;
  int32_t root_ppid_ = 0;
  std::optional<ExecEvent> root_launch_;
  std::optional<std::pair<int, uint64_t>> root_exit_;
  std::unordered_map<const Process*, Process*> replacement_;        // image -> the image its exec started
  std::unordered_map<const Process*, const Process*> vfork_owner_;  // vfork child -> the parent image
  Process beyond_limit_ = stand_in();
  uint64_t folded_hellos_ = 0;
  uint64_t folded_launches_ = 0;
  uint64_t exec_records_ = 0;
  uint64_t folded_exec_records_ = 0;

  static Process stand_in();
};

}  // namespace fpshim
