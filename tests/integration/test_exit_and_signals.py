"""fpshim exits with the build's status, passes signals on, and says so when a command cannot run."""
import os
import signal
import subprocess
import tempfile
import time
from harness import FPSHIM, expect, expect_eq, fpshim, main, shell


def test_exit_codes_pass_through():
    for code in (0, 1, 3, 42, 255):
        run = fpshim(shell(f"exit {code}"))
        expect_eq(run.returncode, code)
        expect_eq(run.report["build"]["exit_code"], code)


def test_death_by_signal_is_128_plus_n():
    run = fpshim(shell("kill -TERM $$"))
    expect_eq(run.returncode, 128 + signal.SIGTERM)
    run = fpshim(shell("kill -KILL $$"))
    expect_eq(run.returncode, 128 + signal.SIGKILL)


def test_missing_command_is_127():
    run = fpshim(["/nonexistent/tool", "x"])
    expect_eq(run.returncode, 127)
    expect(b"/nonexistent/tool" in run.stderr, run.stderr)


def test_sigterm_to_fpshim_reaches_the_build():
    out = tempfile.mkdtemp()
    marker = os.path.join(out, "got-term")
    script = f"trap 'touch {marker}; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    proc = subprocess.Popen([FPSHIM, "run", "--quiet", "--", "/bin/sh", "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    expect_eq(proc.stdout.readline(), b"ready\n")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    expect_eq(proc.returncode, 7)
    expect(os.path.exists(marker))


def test_sigint_to_fpshim_reaches_the_build():
    script = "trap 'exit 9' INT; echo ready; while :; do sleep 0.05; done"
    proc = subprocess.Popen([FPSHIM, "run", "--quiet", "--", "/bin/sh", "-c", script],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    expect_eq(proc.stdout.readline(), b"ready\n")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    expect_eq(proc.returncode, 9)


def test_waits_for_background_descendants():
    out = tempfile.mkdtemp()
    late = os.path.join(out, "late")
    run = fpshim(shell(f"(sleep 0.5; cat /proc/ioports > /dev/null; touch {late}) & exit 0"))
    expect_eq(run.returncode, 0)
    expect(os.path.exists(late), "fpshim returned before the background job finished")
    run.path("machine_fingerprint", "/proc/ioports")


def test_report_records_the_build():
    start = time.time()
    run = fpshim(["sh", "-c", "exit 5"], cwd="/tmp")
    build = run.report["build"]
    expect_eq(build["command"], ["sh", "-c", "exit 5"])
    expect_eq(build["cwd"], "/tmp")
    expect_eq(build["exit_code"], 5)
    expect_eq(len(build["id"]), 16)
    expect(build["started"] <= build["finished"], build)
    expect(time.time() - start < 60)


if __name__ == "__main__":
    main(globals())
