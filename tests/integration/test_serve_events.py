"""fpshim serve --events: alert events written as the access records arrive, before the build ends,
one per (build, process, path, recipe), with the fields `fpshim run --events` writes; the build's
summary event at its end. Same set-up as test_serve.py: root, a private mount namespace, a fresh
/var/tmp (enter_private_var_tmp)."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FPSHIM, expect, expect_eq, main  # noqa: E402
import test_serve  # noqa: E402
from test_serve import MARK, Serve, build_id, start_build, workdir  # noqa: E402


def enter_private_var_tmp():
    """test_serve's, re-executing this file (not test_serve.py) in the private mount namespace."""
    if os.environ.get(MARK):
        return test_serve.enter_private_var_tmp()
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return test_serve.enter_private_var_tmp()  # says why it skips, and exits
    env = dict(os.environ, **{MARK: "1"})
    os.execvpe("unshare", ["unshare", "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__)]
               + sys.argv[1:], env)

# sh stats /proc/ioports and reads it (two records of one process: one event), then cat reads it
# (another process: another event, its parent sh), then the build waits on a fifo, so that it
# cannot have ended when the test looks at the events file.
SH = os.path.basename(os.path.realpath("/bin/sh"))  # dash, bash: the executable the kernel ran
SCRIPT = "[ -e /proc/ioports ]; read x < /proc/ioports; /bin/cat /proc/ioports >/dev/null; {wait}read y < /proc/ioports"


def events_of(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    expect(text == "" or text.endswith("\n"), f"a torn last line in {path}")
    return [json.loads(line) for line in text.splitlines()]


def alerts(events, build, path="/proc/ioports", rule="machine_fingerprint"):
    return [e for e in events if e["event"]["kind"] == "alert" and e["fpshim"]["build"]["id"] == build
            and e["rule"]["id"] == rule and e["file"]["path"] == path]


def wait_events(path, predicate, timeout=15, what="events"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        events = events_of(path)
        if predicate(events):
            return events
        time.sleep(0.05)
    raise AssertionError(f"{what} never came: {json.dumps(events_of(path), indent=1)[:4000]}")


def flat_keys(obj, prefix=""):
    """The dotted field names of an event (arrays are leaves)."""
    out = set()
    for k, v in obj.items():
        name = prefix + k
        if isinstance(v, dict):
            out |= flat_keys(v, name + ".")
        else:
            out.add(name)
    return out


def run_events(work, script):
    """The events `fpshim run --events` writes for the same script."""
    out = os.path.join(work, "run-events.jsonl")
    proc = subprocess.run([FPSHIM, "run", "--quiet", "--events", out, "--", "/bin/sh", "-c", script], cwd=work,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60)
    expect_eq(proc.returncode, 0, f"fpshim run: {proc.stderr}")
    return events_of(out)


def test_alerts_are_written_while_the_build_runs():
    work = workdir()
    events_file = os.path.join(work, "live-events.jsonl")
    serve = Serve(work, extra=["--events", events_file])
    fifo = os.path.join(work, "go")
    os.mkfifo(fifo, 0o600)
    name = "live-job"
    bid = build_id(name)
    proc = None
    try:
        proc = start_build(name, SCRIPT.format(wait=f"read z < {fifo}; "), 0, work)
        events = wait_events(events_file, lambda ev: len(alerts(ev, bid)) >= 2, what="the alerts of sh and cat")
        # Live: the build waits on the fifo, so it has not ended and has no report yet.
        expect(proc.poll() is None, "the build ended before the test released it")
        expect(not os.path.exists(serve.report_path(0, name)), "a report before the build ended")
        expect(not any(e["event"]["dataset"] == "fpshim.build" for e in events), "a summary before the build ended")
        by_name = {e["process"]["name"]: e for e in alerts(events, bid)}
        expect_eq(sorted(by_name), sorted(["cat", SH]), "the processes that reached /proc/ioports")
        cat, sh = by_name["cat"], by_name[SH]
        for e in (cat, sh):
            expect_eq(e["rule"]["id"], "machine_fingerprint")
            expect_eq(e["threat"]["technique"]["id"], ["T1082", "T1016"])
            expect_eq(e["file"], {"path": "/proc/ioports", "name": "ioports", "directory": "/proc"})
            expect_eq(e["fpshim"]["build"]["id"], bid)
            expect_eq(e["event"]["outcome"], "success")
        expect_eq(cat["process"]["args"], ["/bin/cat", "/proc/ioports"])
        expect_eq(cat["event"]["action"], "read")
        expect_eq(cat["process"]["parent"]["pid"], proc.pid)
        expect_eq(cat["process"]["parent"]["name"], SH)
        expect_eq(cat["process"]["parent"]["args"][:2], ["/bin/sh", "-c"])
        expect_eq(sh["process"]["pid"], proc.pid)
        # sh's first record of the path is the stat: its event says that op, its read gives no second event.
        expect_eq(sh["event"]["action"], "stat")

        os.chmod(fifo, 0o600)
        with open(fifo, "w") as f:
            f.write("go\n")
        expect_eq(proc.wait(timeout=30), 0, "the build")
        report = serve.wait_report(0, name)
        ioports = [p for r in report["recipes"] if r["name"] == "machine_fingerprint" for p in r["paths"]
                   if p["path"] == "/proc/ioports"][0]
        # sh reached the path three times in two kinds of records (stat, read), cat once.
        expect(ioports["count"] >= 4, f"the report's count of /proc/ioports: {ioports}")
        expect_eq(sorted(ioports["operations"]), ["read", "stat"], "the report's operations of /proc/ioports")
        events = wait_events(events_file, lambda ev: any(e["event"]["dataset"] == "fpshim.build"
                                                         and e["fpshim"]["build"]["id"] == bid for e in ev),
                             what="the build's summary event")
        expect_eq(len(alerts(events, bid)), 2, "one alert per process for /proc/ioports (sh's second and third "
                  "accesses, of another op and after the wait, give none)")
        summary = [e for e in events if e["event"]["dataset"] == "fpshim.build"][-1]
        expect_eq(summary["fpshim"]["live"]["events"], len([e for e in events if e["event"]["kind"] == "alert"
                                                            and e["fpshim"]["build"]["id"] == bid]), "live count")
        expect_eq(summary["fpshim"]["live"]["past_cap"], 0, "past the cap")
        expect(not os.path.exists(serve.report_path(0, name, "events.jsonl")), "a per-build events file unasked")

        # The same access under `fpshim run --events`: the same fields, and the same finding.
        ran = run_events(work, SCRIPT.format(wait=""))
        run_cat = [e for e in ran if e["event"]["kind"] == "alert" and e["file"]["path"] == "/proc/ioports"
                   and e["process"]["name"] == "cat"]
        expect_eq(len(run_cat), 1, "fpshim run's alert for cat")
        run_cat = run_cat[0]
        expect_eq(sorted(flat_keys(cat)), sorted(flat_keys(run_cat)), "the live event's fields against run's")
        for field in ("rule", "threat", "file", "log"):
            expect_eq(cat[field], run_cat[field], field)
        # event.action and fpshim.access differ by design: run's are of the path's accesses by every
        # process of the recipe (sh's stat too), the live event's of the access that fired it.
        for field in ("kind", "category", "type", "outcome", "module", "dataset", "severity"):
            expect_eq(cat["event"][field], run_cat["event"][field], f"event.{field}")
        for field in ("executable", "name", "args", "args_count", "command_line"):
            expect_eq(cat["process"][field], run_cat["process"][field], f"process.{field}")
        expect_eq(cat["fpshim"]["finding"]["fingerprint"], run_cat["fpshim"]["finding"]["fingerprint"], "fingerprint")
        expect_eq(cat["fpshim"]["finding"]["location"], run_cat["fpshim"]["finding"]["location"], "location")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


def test_events_to_an_unwritable_place_refuse_to_start():
    work = workdir()
    out = subprocess.run([FPSHIM, "serve", "--state", os.path.join(work, "state"), "--reports",
                          os.path.join(work, "reports"), "--events", os.path.join(work, "no", "such", "dir", "e.jsonl")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    expect_eq(out.returncode, 2, f"serve with an unwritable --events: {out.stderr}")
    expect("cannot open the events file" in out.stderr, out.stderr)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    enter_private_var_tmp()
    main(globals())
