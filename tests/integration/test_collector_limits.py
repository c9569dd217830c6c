"""The collector stays bounded when a build reaches more distinct watched paths than a recipe lists:
the rest is folded into counts per rule entry, and both reports say so. The same for the process
tree, when a build forges more exec records than it holds."""
import json
import os
from harness import PYTHON, SOURCE, expect, expect_eq, fpshim, main

LISTED = 4096  # RecipeHits::kMaxPaths

# Senders forked by a Python program under `fpshim run`: each speaks include/fpshim/wire.h itself
# (hello, access records, bye) with blocking sends, from its own pid as the kernel checks.
SENDER = r"""
import os, socket, struct, sys, time
HEADER = struct.Struct("<IHHIIQQQQiiiIiiII")
MAGIC, HELLO, ACCESS, BYE, OP_READ = 0x31535046, 1, 2, 3, 1

def record(kind, seq, nonce, strings, op=0, result=0, count=0):
    body = b"".join(struct.pack("<I", len(s)) + s for s in strings)
    return HEADER.pack(MAGIC, 1, kind, HEADER.size + len(body), len(strings), build, time.time_ns(), nonce, seq,
                       os.getpid(), os.getppid(), os.getpid(), op, 0, result, count, 0) + body

def send(first, count):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(os.environ["FPSHIM_SOCKET"])
    nonce = time.time_ns()
    s.send(record(HELLO, 0, nonce, [b"/usr/bin/sender", b"/", b"sender", str(first).encode()]))
    for i in range(count):
        path = b"/sys/class/dmi/id/p%d" % (first + i)
        failed = (first + i) % 10 == 0
        s.send(record(ACCESS, i + 1, nonce, [path, path, b"open"], OP_READ, 2 if failed else 0, 1))
    s.send(record(BYE, count + 1, nonce, []))

build = int(os.environ["FPSHIM_BUILD"], 16)
senders, per_sender, one_by_one = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "one-by-one"
failures = 0
children = []
for n in range(senders):
    pid = os.fork()
    if pid == 0:
        send(n * per_sender, per_sender)
        os._exit(0)
    children.append(pid)
    if one_by_one:
        failures += os.waitpid(children.pop(), 0)[1] != 0
sys.exit(failures + sum(os.waitpid(pid, 0)[1] != 0 for pid in children))
"""


def run_senders(senders, per_sender, one_by_one=False):
    mode = "one-by-one" if one_by_one else "together"
    run = fpshim([PYTHON, "-c", SENDER, str(senders), str(per_sender), mode], timeout=60)
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(run.report["stats"]["lost"], 0, run.report["stats"])
    return run


def test_paths_beyond_the_limit_are_folded_exactly():
    senders, per_sender = 2, 3000
    total = senders * per_sender
    run = run_senders(senders, per_sender, one_by_one=True)
    recipe = run.recipe("machine_fingerprint")
    expect_eq(len(recipe["paths"]), LISTED)
    expect_eq(recipe["hits"], total)
    expect_eq(len(recipe["folded"]), 1, recipe["folded"])
    folded = recipe["folded"][0]
    expect_eq(folded["entry"]["subtree"], "/sys/class/dmi")
    expect_eq(folded["paths"], total - LISTED)
    expect_eq(folded["paths_exact"], True)
    expect_eq(folded["records"], total - LISTED)
    expect_eq(folded["count"], total - LISTED)
    expect_eq(folded["count_is_lower_bound"], False)
    listed_failed = sum(p["failed"] for p in recipe["paths"])
    expect_eq(folded["failed"] + listed_failed, total // 10)
    expect_eq(folded["errors"], ["ENOENT"])
    expect_eq(folded["operations"], ["read"])
    expect_eq(folded["processes"], 1)  # the first sender's 3000 paths and 1096 of the second's are listed
    expect_eq(len(folded["examples"]), 5)
    senders_listed = [p for p in recipe["processes"] if p["exe"] == "/usr/bin/sender"]
    expect_eq(len(senders_listed), senders)
    stats = run.report["stats"]
    expect_eq(stats["folded_paths"], total - LISTED)
    expect_eq(stats["folded_records"], total - LISTED)
    expect(f"... and {total - LISTED} more paths folded (entry subtree /sys/class/dmi): {total - LISTED} accesses"
           in run.text, run.text)


def test_many_distinct_paths_keep_the_report_small():
    senders, per_sender = 4, 25_000
    total = senders * per_sender
    run = run_senders(senders, per_sender)
    folded = run.recipe("machine_fingerprint")["folded"][0]
    expect_eq(folded["records"], total - LISTED)
    expect_eq(folded["paths_exact"], False)
    expect(abs(folded["paths"] - (total - LISTED)) <= 0.05 * total, folded)
    expect(folded["paths"] <= folded["records"], folded)
    expect_eq(folded["processes"], senders)
    expect(run.report["stats"]["collector_peak_rss_kb"] < 128 * 1024, run.report["stats"])
    expect(len(str(run.report)) < 3_000_000, len(str(run.report)))
    expect("... and about " in run.text, run.text)


MAX_PROCESSES = 100_000  # ProcessTree::kMaxProcesses
LISTED_PROCESSES, LISTED_UNMONITORED = 10_000, 1_000  # kMaxListedProcesses, kMaxListedUnmonitored

# bench/forge_execs.py appends forged exec records to the process log; then a real reader runs.
FORGER = os.path.join(SOURCE, "bench", "forge_execs.py")


def test_forged_exec_records_beyond_the_tree_limit_are_counted_not_kept():
    forged = MAX_PROCESSES + 10_000
    script = f"{PYTHON} {FORGER} {forged} && cat /proc/ioports >/dev/null"
    run = fpshim(["sh", "-c", script], timeout=280)
    expect_eq(run.returncode, 0, run.stderr)
    report, stats = run.report, run.report["stats"]
    # The tree holds its limit, and the report lists part of it; every other process is counted.
    expect_eq(len(report["processes"]), LISTED_PROCESSES)
    expect_eq(len(report["processes"]) + report["processes_unlisted"], MAX_PROCESSES)
    coverage = report["coverage"]
    expect_eq(len(coverage["unmonitored"]), LISTED_UNMONITORED)
    expect_eq(coverage["monitored"] + len(coverage["unmonitored"]) + coverage["unmonitored_unlisted"], MAX_PROCESSES)
    expect_eq(sum(1 for u in coverage["unmonitored"] if u["ancestry"]), LISTED_UNMONITORED)
    # Folded: hellos from processes outside the tree and exec records that found no room (a program
    # beyond the limit that says hello counts twice): every forged one beyond the limit, plus at most
    # sh's, python3's and cat's records.
    listed_and_folded = MAX_PROCESSES + stats["processes_folded"]
    expect(forged <= listed_and_folded <= forged + 8, (len(report["processes"]), stats["processes_folded"]))
    expect("the process tree is incomplete" in run.text, run.text)
    expect_eq(report["complete"], False)
    expect("processes_folded" in [g["reason"] for g in report["incomplete"]], report["incomplete"])
    expect(stats["collector_peak_rss_kb"] < 512 * 1024, stats)
    expect(len(json.dumps(report)) < 16_000_000, len(json.dumps(report)))


def test_a_reader_beyond_the_tree_limit_still_counts():
    # Forged hellos fill the tree before the real reader starts (the collector reads the process log
    # every second; the reader's access comes on the socket at once).
    script = f"{PYTHON} {FORGER} {MAX_PROCESSES} hello && sleep 3 && cat /proc/ioports >/dev/null"
    run = fpshim(["sh", "-c", script], timeout=280)
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(len(run.report["processes"]) + run.report["processes_unlisted"], MAX_PROCESSES)
    expect(run.report["stats"]["processes_folded"] >= 1, run.report["stats"])
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 1)
    readers = [p["exe"] for p in run.processes("machine_fingerprint")]
    expect_eq(readers, ["(processes beyond the limit of 100000 in the process tree)"])


if __name__ == "__main__":
    main(globals())
