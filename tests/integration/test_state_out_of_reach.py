"""What a hostile build can reach of fpshim's own state: not the collector's or the supervisor's memory
or descriptors (both are non-dumpable), not the journal (an unlinked file only they hold); and what it
can reach, the process log, it cannot change unseen: deleting, replacing or truncating it is reported
with the time it was seen, also after the build kills the collector."""
import json
import os
import subprocess
import tempfile
from harness import FPSHIM, PYTHON, expect, expect_eq, fpshim, main

NOBODY = 65534

# Runs as the build, with the uid of fpshim itself, and says what it could reach.
PROBE = r"""
import json, os
supervisor = os.getppid()
collector = None
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    if "(fpshim-collect)" in stat and int(stat.rsplit(")", 1)[1].split()[1]) == supervisor:
        collector = int(pid)

def attempt(what, action):
    try:
        action()
        return f"{what}: reached"
    except PermissionError:
        return f"{what}: denied"

def read_mem(pid):
    open(f"/proc/{pid}/mem", "rb").close()  # the open is the check (ptrace access mode attach)

private = os.path.dirname(os.environ["FPSHIM_SOCKET"])
print(json.dumps({
    "collector": collector is not None,
    "pids": {"collector": collector, "supervisor": supervisor},
    "attempts": [attempt("collector mem", lambda: read_mem(collector)),
                 attempt("collector fd", lambda: os.listdir(f"/proc/{collector}/fd")),
                 attempt("collector environ", lambda: open(f"/proc/{collector}/environ").read()),
                 attempt("supervisor mem", lambda: read_mem(supervisor)),
                 attempt("supervisor fd", lambda: os.listdir(f"/proc/{supervisor}/fd"))],
    "private_dir": sorted(os.listdir(private)),
}))
open("/proc/ioports").read()
"""


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def test_the_build_cannot_reach_the_collectors_memory_descriptors_or_journal():
    out = tempfile.mkdtemp(prefix="fpshim-reach-")
    os.chmod(out, 0o777)
    report = os.path.join(out, "report.json")
    # fpshim and its build as an ordinary uid: root could read any process's memory.
    done = subprocess.run([os.path.abspath(FPSHIM), "run", "--report", report, "--quiet", "--", PYTHON, "-c", PROBE],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          preexec_fn=as_nobody, cwd="/", timeout=120)
    expect_eq(done.returncode, 0, done.stderr)
    seen = json.loads(done.stdout)
    expect(seen["collector"], seen)
    expect_eq(seen["attempts"], ["collector mem: denied", "collector fd: denied", "collector environ: denied",
                                 "supervisor mem: denied", "supervisor fd: denied"])
    # The journal, the counters and the inspections have no name in the private directory. (The filter
    # image is there for the build's processes to map; what the build does to it is reported:
    # test_filter_image.)
    expect_eq(seen["private_dir"], ["filter.image", "sock", "spool"])
    with open(report) as f:
        reached = [p["path"] for r in json.load(f)["recipes"] for p in r["paths"]]
    # The attempts themselves are reported (recipe proc_pid: another process's memory and environment),
    # denied as they were; the listings of /proc/<pid>/fd are not accesses of a watched path.
    collector, supervisor = seen["pids"]["collector"], seen["pids"]["supervisor"]
    expect_eq(sorted(reached), sorted([f"/proc/{collector}/mem", f"/proc/{collector}/environ",
                                       f"/proc/{supervisor}/mem", "/proc/ioports"]))


# Deletes the process log, then truncates the new one, and kills the collector: each with time for
# the collector, which reads the log every second, to have read it before.
TAMPER = r"""
import os, subprocess, time
log = os.path.join(os.environ["FPSHIM_SPOOL"], "processes.spool")
def cat(path):
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
cat("/proc/ioports")
time.sleep(2.5)
os.unlink(log)
time.sleep(2.5)
cat("/proc/iomem")
time.sleep(2.5)
os.truncate(log, 0)
time.sleep(2.5)
subprocess.run(["pkill", "-KILL", "-P", str(os.getppid()), "-x", "fpshim-collect"], check=True)
time.sleep(0.5)
cat("/proc/interrupts")
"""


def test_the_process_log_deleted_or_truncated_is_reported_and_followed():
    run = fpshim([PYTHON, "-c", TAMPER])
    expect_eq(run.returncode, 0, run.stderr)
    tampering = run.report["tampering"]
    whats = [t["what"] for t in tampering]
    expect_eq(len(whats), 2, whats)
    expect(whats[0] in ("the process log was deleted", "the process log was replaced by another file"), whats)
    expect(whats[1].startswith("the process log was truncated from ") and whats[1].endswith(" to 0 bytes"), whats)
    expect(all(t["seen"] >= run.report["build"]["started"] for t in tampering), tampering)
    expect("TAMPERING: the process log was truncated" in run.text, run.text)
    # The one completeness answer counts it: the report is incomplete, and its first line says why.
    expect_eq(run.report["complete"], False)
    tampered = [g for g in run.report["incomplete"] if g["reason"] == "tampered"]
    expect_eq([g["count"] for g in tampered], [2], run.report["incomplete"])
    expect(run.text.startswith("fpshim: INCOMPLETE REPORT: ") and "tampered with its records 2 times" in
           run.text.split("\n", 1)[0], run.text)
    expect_eq(run.report["stats"]["collector_restarts"], 1)
    # The new log was followed: every cat is in the tree, each with the path it read.
    cats = sorted(p["argv"][1] for p in run.report["processes"] if p["argv"][:1] == ["cat"])
    expect_eq(cats, ["/proc/interrupts", "/proc/iomem", "/proc/ioports"])
    expect_eq(run.paths("machine_fingerprint"), ["/proc/interrupts", "/proc/iomem", "/proc/ioports"])


if __name__ == "__main__":
    main(globals())
