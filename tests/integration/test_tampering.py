"""Tampering that must show in the report (issue 13, section 2): a build that forges records, forges
spool files, hides what it executed, stops the collector or rewrites the report afterwards is run
under `fpshim run` (or bare LD_PRELOAD and `fpshim report`), and the report is checked to say so."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from harness import FPSHIM, PYTHON, expect, expect_eq, fpshim, main, program, shell

LIB = os.path.join(os.path.dirname(os.path.abspath(FPSHIM)), "libfpshim.so")

# A build step that forges records of its own process: it finds its nonce in the process log (its
# hello is there), sends access records of a harmless path for the next sequence numbers over the
# socket, then reads /proc/ioports, whose real record reuses one of those numbers.
FORGER = r"""
import os, socket, struct, time
HEADER = "=IHHIIQQQQiiiIiiII"
spool = os.environ["FPSHIM_SPOOL"] + "/processes.spool"
data = open(spool, "rb").read()
at = nonce = build = None
pos = 0
while pos + 80 <= len(data):
    fields = struct.unpack_from(HEADER, data, pos)
    if fields[2] == 1 and fields[9] == os.getpid():
        build, nonce = fields[5], fields[7]
    pos += fields[3]
def string(b):
    return struct.pack("=I", len(b)) + b
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for seq in range(1, 41):
    body = string(b"/tmp/harmless") + string(b"/tmp/harmless") + string(b"open")
    header = struct.pack(HEADER, 0x31535046, 1, 2, 80 + len(body), 3, build, time.time_ns(), nonce, seq,
                         os.getpid(), os.getppid(), os.getpid(), 1, 0, 0, 1, 0)
    sock.sendto(header + body, os.environ["FPSHIM_SOCKET"])
open("/proc/ioports").read()
"""


def run_with_report(cmd, *options, timeout=120):
    """`fpshim run --report FILE [options] -- cmd`: (process, report path); the summary stays on stderr."""
    out = tempfile.mkdtemp(prefix="fpshim-tamper-")
    report_path = os.path.join(out, "report.json")
    proc = subprocess.run([FPSHIM, "run", "--report", report_path, *options, "--", *cmd], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return proc, report_path


def last_line(stderr):
    return stderr.decode("utf-8", "replace").rstrip("\n").split("\n")[-1]


def test_the_report_digest_is_the_last_line_and_shows_a_rewrite():
    # A daemon the build leaves behind rewrites the report once fpshim is done with it (--linger 0:
    # fpshim stops waiting for it at once).
    out = tempfile.mkdtemp(prefix="fpshim-tamper-")
    report_path = os.path.join(out, "report.json")
    forged = os.path.join(out, "forged.json")
    with open(forged, "w") as f:
        f.write('{"forged": true}\n')
    daemon = os.path.join(out, "daemon.sh")
    with open(daemon, "w") as f:
        f.write(f"while [ ! -s {report_path} ]; do sleep 0.05; done\nsleep 0.2\n"
                f"cp {forged} {report_path}.new && mv {report_path}.new {report_path}\n")
    proc = subprocess.run([FPSHIM, "run", "--report", report_path, "--linger", "0", "--", "sh", "-c",
                           f"setsid sh {daemon} </dev/null >/dev/null 2>&1 & cat /proc/ioports >/dev/null"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    expect_eq(proc.returncode, 0, proc.stderr)
    line = last_line(proc.stderr)
    expect(line.startswith(f"fpshim: {report_path} sha256 "), line)
    printed = line.split()[-1]
    expect_eq(len(printed), 64, line)
    for _ in range(200):  # until the daemon has replaced the file (it does within a second)
        with open(report_path, "rb") as f:
            now = f.read()
        if now == b'{"forged": true}\n':
            break
        time.sleep(0.05)
    expect_eq(now, b'{"forged": true}\n', "the daemon rewrote the report")
    expect(hashlib.sha256(now).hexdigest() != printed, "the rewrite shows against the printed digest")


def test_the_digest_matches_the_file_written():
    proc, report_path = run_with_report(shell("cat /proc/ioports >/dev/null"))
    expect_eq(proc.returncode, 0, proc.stderr)
    with open(report_path, "rb") as f:
        data = f.read()
    expect_eq(last_line(proc.stderr), f"fpshim: {report_path} sha256 {hashlib.sha256(data).hexdigest()}")
    json.loads(data)


def test_a_fifo_planted_where_the_report_is_written_does_not_hang_fpshim_run():
    out = tempfile.mkdtemp(prefix="fpshim-tamper-")
    report_path = os.path.join(out, "report.json")
    proc = subprocess.run([FPSHIM, "run", "--report", report_path, "--", "sh", "-c",
                           f"mkfifo {report_path}.tmp; cat /proc/ioports >/dev/null"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    expect_eq(proc.returncode, 0, proc.stderr)
    report = json.load(open(report_path))
    expect_eq([p["path"] for r in report["recipes"] for p in r["paths"]], ["/proc/ioports"])


def test_with_a_text_file_the_digest_ends_it():
    run = fpshim(shell("true"))  # --report and --text FILE: stderr stays the build's
    expect_eq(run.stderr, b"")
    expect(run.text.rstrip("\n").split("\n")[-1].startswith("fpshim: ") and " sha256 " in run.text, run.text)


def first_line(run):
    return run.text.split("\n")[0]


def test_records_forged_with_the_seqs_of_real_ones_are_kept_and_said():
    run = fpshim([PYTHON, "-c", FORGER])
    expect_eq(run.returncode, 0, run.stderr)
    expect(run.report["stats"]["conflicting"] >= 1, run.report["stats"])
    expect(run.path("machine_fingerprint", "/proc/ioports")["count"] >= 1, "the real read is counted")
    expect(not run.report["complete"], run.report["incomplete"])
    expect("forged" in [g["reason"] for g in run.report["incomplete"]], run.report["incomplete"])
    expect(first_line(run).startswith("fpshim: INCOMPLETE REPORT: the build forged records"), run.text)


def test_a_record_delivered_twice_is_a_duplicate_not_a_forgery():
    # The collector killed mid-build: its successor reads the spool and process log again.
    run = fpshim(shell("cat /proc/ioports >/dev/null; pkill -KILL -P $PPID -x fpshim-collect; sleep 0.5; "
                       "cat /proc/ioports >/dev/null"))
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(run.report["stats"]["conflicting"], 0)
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 2)


def spool_env(d):
    # Bare LD_PRELOAD, no collector to send to: every record goes to a spool file in `d`.
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LD_PRELOAD": LIB, "FPSHIM_SPOOL": d,
            "FPSHIM_SOCKET": os.path.join(d, "no-collector.sock")}


def spool_report(d):
    out = tempfile.mkdtemp(prefix="fpshim-tamper-report-")
    path = os.path.join(out, "report.json")
    proc = subprocess.run([FPSHIM, "report", "--spool", d, "--report", path, "--text", path + ".txt"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    report = json.load(open(path)) if os.path.exists(path) else None
    text = open(path + ".txt").read() if os.path.exists(path + ".txt") else ""
    shutil.rmtree(out, ignore_errors=True)
    return proc, report, text


def ioports(report):
    for r in report["recipes"]:
        for p in r["paths"]:
            if p["path"] == "/proc/ioports":
                return p
    raise AssertionError(f"/proc/ioports not reported: {report['recipes']}")


def test_records_from_spool_files_are_marked_unverified():
    d = tempfile.mkdtemp(prefix="fpshim-tamper-spool-")
    subprocess.run(["/bin/sh", "-c", "cat /proc/ioports >/dev/null"], env=spool_env(d), check=True, timeout=60)
    proc, report, text = spool_report(d)
    expect_eq(proc.returncode, 0, proc.stderr)
    expect_eq(ioports(report)["unverified"], "unverified: its pid was not checked by the kernel")
    expect(report["stats"]["unverified"] >= 1, report["stats"])
    expect_eq(report["stats"]["forged_spool"], 0)
    expect("/proc/ioports" in text and "(unverified: its pid was not checked by the kernel)" in text, text)
    shutil.rmtree(d)


def test_records_over_the_socket_are_verified():
    run = fpshim(shell("cat /proc/ioports >/dev/null"))
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["unverified"], None)


def test_a_spool_file_whose_records_claim_another_pid_is_forged():
    d = tempfile.mkdtemp(prefix="fpshim-tamper-spool-")
    subprocess.run(["/bin/sh", "-c", "cat /proc/ioports >/dev/null"], env=spool_env(d), check=True, timeout=60)
    spooled = [f for f in os.listdir(d) if f.endswith(".spool") and f != "processes.spool"]
    expect(spooled, os.listdir(d))
    # The same records under another process's name: a build passing its reads off as someone else's.
    pid, rest = spooled[0].split("-", 1)
    shutil.copy(os.path.join(d, spooled[0]), os.path.join(d, f"{int(pid) + 1}-{rest}"))
    proc, report, text = spool_report(d)
    expect_eq(proc.returncode, 0, proc.stderr)
    expect(report["stats"]["forged_spool"] >= 1, report["stats"])
    expect("forged" in [g["reason"] for g in report["incomplete"]], report["incomplete"])
    expect(text.startswith("fpshim: INCOMPLETE REPORT: the build forged records"), text)
    shutil.rmtree(d)


def gone_copy(name):
    """A copy of a test program that the program itself deletes when it starts."""
    d = tempfile.mkdtemp(prefix="fpshim-tamper-gone-")
    path = os.path.join(d, name)
    shutil.copy(program(name), path)
    return path


def unmonitored_reasons(run, exe_basename):
    return [u["reason"] for u in run.report["coverage"]["unmonitored"]
            if os.path.basename(u["exe"] or "").startswith(exe_basename)]


def test_a_go_program_that_deleted_itself_is_not_counted_monitored():
    # Like `go test`: the binary runs, reads (with raw system calls, as Go does) and is gone at once.
    path = gone_copy("gone_go")
    run = fpshim([path])
    expect_eq(run.returncode, 0, run.stderr)
    reasons = unmonitored_reasons(run, "gone_go")
    expect(reasons and reasons[0] in ("go", "not_inspected"), run.report["coverage"])
    expect("no fingerprinting detected\n" not in run.text, run.text)
    expect(not run.report["complete"], run.report["incomplete"])


def test_a_deleted_go_program_still_running_is_judged_by_its_image():
    # Still running when the collector reads its hello: /proc/<pid>/exe is the deleted Go image.
    path = gone_copy("gone_go")
    # The shell ends once the program has started (it deletes itself first thing): before that,
    # `fpshim run` could end the build before the shell's child had even asked to exec it.
    gone = f"n=0; while [ -e {path} ] && [ $n -lt 3000 ]; do sleep 0.01; n=$((n+1)); done"
    out = tempfile.mkdtemp(prefix="fpshim-tamper-")
    report_path = os.path.join(out, "report.json")
    with open(os.path.join(out, "stderr"), "w+b") as stderr:
        proc = subprocess.Popen([FPSHIM, "run", "--report", report_path, "--linger", "0", "--quiet", "--",
                                 "/bin/sh", "-c", f"exec 3<&0; {path} wait <&3 & {gone}"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
        proc.wait(timeout=120)  # fpshim stops waiting for it at once (--linger 0); it runs on
        proc.stdin.close()      # ... until now
        stderr.seek(0)
        expect_eq(proc.returncode, 0, stderr.read())
    report = json.load(open(report_path))
    reasons = [u["reason"] for u in report["coverage"]["unmonitored"] if "gone_go" in (u["exe"] or "")]
    expect_eq(reasons, ["go"], report["coverage"])


def test_a_static_program_that_deleted_itself_is_a_coverage_gap():
    # Started by a shell, it deletes itself at once. Whether the collector looked at its file before
    # the unlink (then it saw a static program) or after (then it could not look at all) depends on
    # scheduling; either way it is a gap in coverage, never a monitored process. (As the command of
    # `fpshim run` itself it is always inspected before it starts: `fpshim run` reads its ELF header to
    # pick the shim for its ABI.)
    path = gone_copy("gone_static")
    run = fpshim(["/bin/sh", "-c", f"{path}; true"])
    expect_eq(run.returncode, 0, run.stderr)
    reasons = unmonitored_reasons(run, "gone_static")
    expect(reasons in (["not_inspected"], ["static"]), run.report["coverage"])
    gap = [u for u in run.report["coverage"]["unmonitored"] if u["reason"] in ("not_inspected", "static")][0]
    expect("gone" in gap["detail"] or "statically linked" in gap["detail"], gap)
    expect(run.text.splitlines()[0].startswith("fpshim: INCOMPLETE"), run.text)


def test_a_go_program_swapped_for_a_clean_one_while_it_runs_is_judged_by_its_image():
    # Its path holds a harmless dynamic program by the time fpshim looks; the process runs the Go one.
    path = gone_copy("gone_go")
    # The shell ends once the program has started (it deletes itself first thing): before that,
    # `fpshim run` could end the build before the shell's child had even asked to exec it.
    gone = f"n=0; while [ -e {path} ] && [ $n -lt 3000 ]; do sleep 0.01; n=$((n+1)); done"
    out = tempfile.mkdtemp(prefix="fpshim-tamper-")
    report_path = os.path.join(out, "report.json")
    swap = f"exec 3<&0; {path} wait <&3 & sleep 0.2; cp /bin/true {path}.new; mv {path}.new {path}"
    with open(os.path.join(out, "stderr"), "w+b") as stderr:
        proc = subprocess.Popen([FPSHIM, "run", "--report", report_path, "--linger", "0", "--quiet", "--",
                                 "/bin/sh", "-c", swap], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
        proc.wait(timeout=120)
        proc.stdin.close()
        stderr.seek(0)
        expect_eq(proc.returncode, 0, stderr.read())
    report = json.load(open(report_path))
    reasons = [u["reason"] for u in report["coverage"]["unmonitored"] if u["exe"] == path]
    expect_eq(reasons, ["go"], report["coverage"])


def test_a_static_reader_swapped_for_a_dynamic_binary_is_not_a_clean_report():
    # The static reader runs (LD_PRELOAD cannot see it) and its file is replaced at once by a
    # dynamic program, before fpshim inspects the exec's target.
    d = tempfile.mkdtemp(prefix="fpshim-tamper-swap-")
    path = os.path.join(d, "reader")
    shutil.copy(program("fingerprint_static"), path)
    run = fpshim(shell(f"{path} & cp /bin/true {path}.new; mv {path}.new {path}; wait"))
    expect_eq(run.returncode, 0, run.stderr)
    reasons = [u["reason"] for u in run.report["coverage"]["unmonitored"] if u["exe"] == path]
    expect(reasons and reasons[0] in ("static", "no_hello"), run.report["coverage"])
    expect("fpshim: no fingerprinting detected\n" not in run.text, run.text)
    expect(not run.report["complete"], run.report["incomplete"])


def test_a_nested_fpshim_run_reports_its_build_and_the_outer_one_sees_it():
    out = tempfile.mkdtemp(prefix="fpshim-tamper-nested-")
    inner_path = os.path.join(out, "inner.json")
    run = fpshim([FPSHIM, "run", "--report", inner_path, "--quiet", "--", "sh", "-c",
                  "cat /proc/ioports >/dev/null; exit 3"])
    expect_eq(run.returncode, 3, run.stderr)  # the inner build's status, through both
    inner = json.load(open(inner_path))
    expect_eq([p["path"] for r in inner["recipes"] for p in r["paths"]], ["/proc/ioports"])
    expect_eq(inner["build"]["exit_code"], 3)
    expect(inner["complete"], inner["incomplete"])
    inner_cats = [p["pid"] for p in inner["processes"] if p["exe"].endswith("/cat")]
    expect_eq(len(inner_cats), 1, inner["processes"])
    # The outer report has the inner build's processes and what they read, through the inner
    # collector (so unverified).
    outer_cat = [p for p in run.report["processes"] if p["exe"].endswith("/cat")]
    expect_eq([p["pid"] for p in outer_cat], inner_cats, run.report["processes"])
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 1)
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["unverified"],
              "unverified: its pid was not checked by the kernel")
    process = run.process_by_exe("machine_fingerprint", "cat")[0]
    expect(any(a["exe"].endswith("/fpshim") for a in process["ancestry"]), process["ancestry"])


def test_a_stopped_collector_is_continued_and_said():
    # The build stops its own collector (a sibling: the child of the same `fpshim run`), then reads.
    run = fpshim(shell("for p in $(pgrep -P $PPID -x fpshim-collect); do kill -STOP $p; done; "
                       "cat /proc/ioports >/dev/null; sleep 2; cat /proc/ioports >/dev/null"), timeout=120)
    expect_eq(run.returncode, 0, run.stderr)
    expect(run.report["stats"]["collector_stopped"] >= 1, run.report["stats"])
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 2)
    expect("collector_stopped" in [g["reason"] for g in run.report["incomplete"]], run.report["incomplete"])
    expect(first_line(run).startswith("fpshim: INCOMPLETE REPORT: ") and "collector was stopped" in first_line(run),
           run.text)


def test_a_collector_stopped_as_the_build_ends_does_not_hang_fpshim_run():
    # Stopped just before the build ends, it is found stopped during the final drain and replaced.
    run = fpshim(shell("cat /proc/ioports >/dev/null; for p in $(pgrep -P $PPID -x fpshim-collect); do kill -STOP $p; done"),
                 timeout=120)
    expect_eq(run.returncode, 0, run.stderr)
    expect(run.report["stats"]["collector_stopped"] >= 1, run.report["stats"])
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 1)


def test_a_full_disk_under_the_journal_is_said():
    # The build fills the filesystem of fpshim's private directory (a 2 MiB tmpfs, in a mount
    # namespace of our own): the collector cannot journal what it receives any more.
    tmp = tempfile.mkdtemp(prefix="fpshim-tamper-full-")
    out = tempfile.mkdtemp(prefix="fpshim-tamper-")
    report_path = os.path.join(out, "report.json")
    # Full to the last page; then 40 processes, whose records fill more than the journal's last page.
    build = ("dd if=/dev/zero of=$FPSHIM_SPOOL/../fill bs=4k 2>/dev/null; "
             "for i in $(seq 40); do cat /proc/ioports >/dev/null; done")
    proc = subprocess.run(["unshare", "-m", "sh", "-c",
                           f"mount -t tmpfs -o size=2m fpshim-full {tmp} && TMPDIR={tmp} exec {FPSHIM} run "
                           f"--report {report_path} -- sh -c '{build}'"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    expect_eq(proc.returncode, 0, proc.stderr)
    report = json.load(open(report_path))
    expect_eq(report["stats"]["journal_error"], "ENOSPC")
    expect("not_journaled" in [g["reason"] for g in report["incomplete"]], report["incomplete"])
    first = proc.stderr.decode().split("\n")[0]
    expect(first.startswith("fpshim: INCOMPLETE REPORT: ") and "No space left on device" in first, first)
    expect_eq([p["path"] for r in report["recipes"] for p in r["paths"]], ["/proc/ioports"])


# Holds the collector (the child of `fpshim run` pid argv[1]) in a ptrace stop, which SIGCONT does not
# end, until it is killed; writes "held" or the errno of the attach to argv[2].
TRACER = r"""
import ctypes, os, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_SEIZE, PTRACE_INTERRUPT = 0x4206, 0x4207
pid = int(subprocess.run(["pgrep", "-P", sys.argv[1], "-x", "fpshim-collect"], capture_output=True).stdout.split()[0])
if libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0 or libc.ptrace(PTRACE_INTERRUPT, pid, None, None) != 0:
    open(sys.argv[2], "w").write(os.strerror(ctypes.get_errno()))
    sys.exit(0)
open(sys.argv[2], "w").write("held")
while True:
    time.sleep(1)
"""


def test_a_collector_held_in_a_trace_stop_is_replaced():
    out = tempfile.mkdtemp(prefix="fpshim-tamper-")
    said = os.path.join(out, "tracer")
    tracer = os.path.join(out, "tracer.py")
    with open(tracer, "w") as f:
        f.write(TRACER)
    pidfile = os.path.join(out, "tracer.pid")
    try:
        run = fpshim(shell(f"cat /proc/ioports >/dev/null; setsid {PYTHON} {tracer} $PPID {said} </dev/null >/dev/null "
                           f"2>&1 & echo $! >{pidfile}; while [ ! -s {said} ]; do sleep 0.05; done"), "--linger", "0",
                     timeout=180)
    finally:
        if os.path.exists(pidfile):
            subprocess.run(["pkill", "-F", pidfile])
    expect_eq(run.returncode, 0, run.stderr)
    outcome = open(said).read()
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 1)
    if outcome == "held":
        expect(run.report["stats"]["collector_stopped"] >= 1, run.report["stats"])
        expect("collector_stopped" in [g["reason"] for g in run.report["incomplete"]], run.report["incomplete"])
    else:  # a collector that is not dumpable cannot be traced at all: then nothing was held
        expect_eq(outcome, os.strerror(1), "the attach failed for want of permission (EPERM)")


def test_a_complete_report_says_no_fingerprinting_detected_first():
    run = fpshim(shell("true"))
    expect(run.report["complete"], run.report["incomplete"])
    expect("INCOMPLETE" not in run.text and "fpshim: no fingerprinting detected\n" in run.text, run.text)


def test_a_process_that_went_dark_makes_the_report_incomplete():
    # It reads, then is killed before it can say bye: its counts may be missing.
    run = fpshim(shell(f"{PYTHON} -c 'import os, signal; open(\"/proc/ioports\").read(); "
                       "os.kill(os.getpid(), signal.SIGKILL)'; true"))
    expect_eq(run.returncode, 0, run.stderr)
    expect("went_dark" in [g["reason"] for g in run.report["incomplete"]], run.report["incomplete"])
    expect(first_line(run).startswith("fpshim: INCOMPLETE REPORT: ") and "went dark" in first_line(run), run.text)


def test_descendants_left_running_make_the_report_incomplete():
    events = os.path.join(tempfile.mkdtemp(prefix="fpshim-tamper-"), "events.jsonl")
    run = fpshim(shell("sleep 30 </dev/null >/dev/null 2>&1 &"), "--linger", "0", "--events", events)
    summary = [json.loads(line) for line in open(events)][-1]["fpshim"]
    expect(not summary["complete"] and summary["incomplete"][0]["reason"] == "still_running", summary)
    expect_eq(run.returncode, 0, run.stderr)
    expect("still_running" in [g["reason"] for g in run.report["incomplete"]], run.report["incomplete"])
    expect(first_line(run).startswith("fpshim: INCOMPLETE REPORT: ") and "still running" in first_line(run), run.text)
    expect("no fingerprinting detected" not in run.text, run.text)


if __name__ == "__main__":
    main(globals())
