"""fpshim serve on a CI runner, with real processes: builds of two uids (root and nobody) that have
nothing but LD_PRELOAD and FPSHIM_BUILD, reports per build, SIGKILL and restart, SIGTERM, a flood
from one build next to another, and isolation between uids.

Needs root (it serves nobody too). It runs in a private mount namespace with a fresh tmpfs on
/var/tmp, so the default sockets and spools it uses (/var/tmp/fpshim-<uid>/) are its own and no
other fpshim on this machine is disturbed; every daemon it starts is stopped before it ends."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FPSHIM, PYTHON, expect, expect_eq, main, program  # noqa: E402

NOBODY = 65534
NOGROUP = 65534
MARK = "FPSHIM_SERVE_TEST_NS"


def enter_private_var_tmp():
    if os.environ.get(MARK):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "fpshim-test", "/var/tmp"], check=True)
        return True
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("skipped: needs root and unshare (a private /var/tmp and the uid nobody)")
        print("0 passed, 0 failed (skipped)")
        sys.exit(0)
    env = dict(os.environ, **{MARK: "1"})
    os.execvpe("unshare", ["unshare", "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__)]
               + sys.argv[1:], env)


LIB = os.path.join(os.path.dirname(os.path.abspath(FPSHIM)), "libfpshim.so")


class Serve:
    """One `fpshim serve` as root, also serving nobody, with its own state and report directories."""

    def __init__(self, work, grace=1, extra=()):
        self.work = work
        self.state = os.path.join(work, "state")
        self.reports = os.path.join(work, "reports")
        self.log = open(os.path.join(work, "serve.log"), "ab")
        self.argv = [FPSHIM, "serve", "--uid", "nobody", "--state", self.state, "--reports", self.reports,
                     "--grace", str(grace)] + list(extra)
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     env={"PATH": "/usr/bin:/bin"})
        deadline = time.time() + 10
        while not os.path.exists(f"/var/tmp/fpshim-{NOBODY}/serve.ctl") or \
                not os.path.exists("/var/tmp/fpshim-0/serve.ctl"):
            expect(self.proc.poll() is None, f"serve died:\n{self.text()}")
            expect(time.time() < deadline, "serve did not start")
            time.sleep(0.05)

    def text(self):
        self.log.flush()
        return open(self.log.name, encoding="utf-8", errors="replace").read()

    def kill(self, sig):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.kill(signal.SIGTERM)
        self.log.close()

    def report_path(self, uid, name, ext="json"):
        return os.path.join(self.reports, str(uid), f"{build_id(name)}.{ext}")

    def wait_report(self, uid, name, timeout=30, predicate=None):
        path = self.report_path(uid, name)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    report = json.load(f)
                if predicate is None or predicate(report):
                    return report
            time.sleep(0.1)
        raise AssertionError(f"no report for {name} of uid {uid} at {path}\n{self.text()}")


def build_id(name):
    """wire::build_id_of_name: FNV-1a 64 of the name, never 0."""
    h = 0xcbf29ce484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h or 1:016x}"


def as_nobody():
    os.setgroups([])
    os.setgid(NOGROUP)
    os.setuid(NOBODY)


def start_build(name, script, uid, cwd):
    """`/bin/sh -c script` with only LD_PRELOAD and FPSHIM_BUILD in its environment, as root or nobody
    (and the sanitizers' options, which a sanitized test program needs with our library preloaded)."""
    env = {"LD_PRELOAD": LIB, "FPSHIM_BUILD": name}
    env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")})
    return subprocess.Popen(["/bin/sh", "-c", script], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=as_nobody if uid == NOBODY else None)


def workdir():
    # Each test starts on a clean /var/tmp (ours alone: enter_private_var_tmp): no spool or process
    # log of an earlier test.
    for name in os.listdir("/var/tmp"):
        if name.startswith("fpshim-"):
            shutil.rmtree(os.path.join("/var/tmp", name), ignore_errors=True)
    work = tempfile.mkdtemp(prefix="fpshim-serve-")
    os.chmod(work, 0o755)
    return work


def recipe(report, name):
    for r in report["recipes"]:
        if r["name"] == name:
            return r
    raise AssertionError(f"{name} did not fire: {[r['name'] for r in report['recipes']]}")


def paths(report):
    return {r["name"]: sorted(p["path"] for p in r["paths"]) for r in report["recipes"]}


def check_exact(report, name, ioports, processes, marker=None):
    """The build's report: the recipes and paths its script reached, its processes, nothing lost."""
    expected = {"os_network_fingerprint": ["/proc/net/route"]}
    if ioports:
        expected["machine_fingerprint"] = ["/proc/ioports"]
    expect_eq(paths(report), expected, f"recipes and paths of {name}")
    for r in report["recipes"]:
        for p in r["paths"]:
            expect_eq(p["count"], 1, f"count of {p['path']} in {name}")
        expect_eq([os.path.basename(q["exe"]) for q in r["processes"]], ["cat"], f"processes of {name}")
    expect_eq(report["build"]["id"], build_id(name), f"build id of {name}")
    if marker:
        expect(marker in " ".join(report["build"]["command"]), f"{name}: command {report['build']['command']}")
        for p in report["processes"]:
            argv = " ".join(p["argv"])
            expect(marker in argv or p["exe"].endswith("cat"), f"{name}: a stranger's process {argv}")
    st = report["stats"]
    expect_eq((st["lost"], st["malformed"], st["refused"], st["capped"], st["processes_without_bye"]), (0, 0, 0, 0, 0),
              f"stats of {name}: {st}")
    expect_eq(st["processes"], processes, f"processes of {name}")


def script_for(marker, ioports, fifo=None):
    first = "/bin/cat /proc/ioports" if ioports else "/bin/cat /dev/null"
    wait = f"read x < {fifo}; " if fifo else ""
    return f": {marker}; {first} >/dev/null; {wait}/bin/cat /proc/net/route >/dev/null"


def test_twenty_builds_two_uids():
    work = workdir()
    serve = Serve(work)
    try:
        builds = []
        for i in range(20):
            uid = 0 if i < 10 else NOBODY
            name = f"job-{i}"
            builds.append((name, uid, i % 2 == 0, start_build(name, script_for(f"marker-{i}", i % 2 == 0), uid, work)))
        for name, uid, ioports, proc in builds:
            expect_eq(proc.wait(timeout=60), 0, f"{name}: {proc.stderr.read()}")
        for i, (name, uid, ioports, proc) in enumerate(builds):
            report = serve.wait_report(uid, name)
            check_exact(report, name, ioports, 5, marker=f"marker-{i}")
            # Every access came over the socket, where the kernel vouches for the sender: no path is
            # marked unverified (only what came through a file the build could write is).
            expect_eq(report["stats"]["late"], 0, f"{name}: {report['stats']}")
            expect_eq([p["unverified"] for r in report["recipes"] for p in r["paths"]],
                      [None] * sum(len(r["paths"]) for r in report["recipes"]), f"{name}: paths vouched for")
            other = NOBODY if uid == 0 else 0
            expect(not os.path.exists(serve.report_path(other, name)), f"{name} reported for uid {other} too")
            st = os.stat(serve.report_path(uid, name))
            expect_eq((st.st_uid, st.st_mode & 0o777), (uid, 0o600), f"owner and mode of {name}'s report")
        st = os.stat(os.path.join(serve.reports, str(NOBODY)))
        expect_eq((st.st_uid, st.st_mode & 0o777), (NOBODY, 0o700), "nobody's report directory")
    finally:
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


def wait_status(serve, uid, predicate, timeout=20):
    """`fpshim status` as `uid` until predicate(lines) holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = subprocess.run([FPSHIM, "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=as_nobody if uid == NOBODY else None)
        if out.returncode == 0 and predicate(out.stdout.splitlines()):
            return out.stdout
        time.sleep(0.2)
    raise AssertionError(f"status of uid {uid} never satisfied the test: {out.stdout}{out.stderr}\n{serve.text()}")


def test_sigkill_mid_build_then_restart():
    work = workdir()
    serve = Serve(work)
    try:
        builds = []
        for i in range(6):
            uid = 0 if i % 2 == 0 else NOBODY
            fifo = os.path.join(work, f"go-{i}")
            os.mkfifo(fifo, 0o666)
            os.chmod(fifo, 0o666)
            name = f"killed-{i}"
            builds.append((name, uid, fifo, start_build(name, script_for(name, True, fifo), uid, work)))
        # Every build has read /proc/ioports and waits: the daemon holds part of each build.
        for uid in (0, NOBODY):
            wait_status(serve, uid, lambda lines: sum(" records " in l and " records 0 " not in l for l in lines) >= 3)
        expect_eq(serve.kill(signal.SIGKILL), -signal.SIGKILL, "serve killed")
        for name, uid, fifo, proc in builds:  # the builds go on while no daemon runs: the shim spools
            with open(fifo, "w") as f:
                f.write("go\n")
            expect_eq(proc.wait(timeout=60), 0, name)
        serve.start()
        for name, uid, fifo, proc in builds:
            report = serve.wait_report(uid, name, predicate=lambda r: len(r["recipes"]) == 2)
            check_exact(report, name, True, 5, marker=name)
            expect(report["stats"]["late"] >= 1, f"{name}: the records spooled while serve was down: {report['stats']}")
    finally:
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


def ledger_count(spool):
    """The count in a spool's loss ledger (wire::kLossLedger): magic, then a native 64-bit count."""
    with open(os.path.join(spool, "lost.ledger"), "rb") as f:
        head = f.read(16)
    expect_eq(head[:8], b"fplost01", "the ledger's magic")
    return int.from_bytes(head[8:16], sys.byteorder)


def test_records_neither_sent_nor_spooled_are_lost_in_the_report():
    """While no daemon runs, a step of the build makes the spool unwritable and reads /proc/ioports:
    those records reach neither the socket nor the spool, and the loss ledger counts them. The next
    daemon takes them from the ledger into the open build's report as lost (the report cannot say
    "no fingerprinting" then), once: a restart does not count them again."""
    work = workdir()
    serve = Serve(work)
    spool = f"/var/tmp/fpshim-{NOBODY}/spool"
    try:
        expect_eq(serve.kill(signal.SIGKILL), -signal.SIGKILL, "serve killed")
        first = start_build("ledgered", ": ledgered; /bin/cat /dev/null", NOBODY, work)
        expect_eq(first.wait(timeout=60), 0, first.stderr.read())
        expect_eq(ledger_count(spool), 0, "the ledger made with the spool")
        hostile = start_build("ledgered", f": ledgered; chmod 400 {spool}/processes.spool && chmod 500 {spool} && "
                              "/bin/cat /proc/ioports > /dev/null", NOBODY, work)
        expect_eq(hostile.wait(timeout=60), 0, hostile.stderr.read())
        lost = ledger_count(spool)
        expect(lost >= 3, f"cat's hello, access and bye at least: {lost}")
        os.chmod(spool, 0o700)  # the daemon takes the spool over (it renames what it claims)
        os.chmod(f"{spool}/processes.spool", 0o600)
        serve.start()
        report = serve.wait_report(NOBODY, "ledgered", predicate=lambda r: r["stats"]["lost"] >= lost)
        expect_eq(report["stats"]["lost"], lost, f"the ledger's count, once: {report['stats']}")
        expect_eq(ledger_count(spool), 0, "taken out of the ledger")
        expect("could be neither sent nor spooled" in serve.text(), serve.text())
        with open(serve.report_path(NOBODY, "ledgered", "txt"), encoding="utf-8") as f:
            text = f.read()
        expect("No fingerprinting detected" not in text, text)
        # A successor replays the journal and the count kept beside it: the same, not twice.
        expect_eq(serve.kill(signal.SIGKILL), -signal.SIGKILL, "serve killed again")
        os.unlink(serve.report_path(NOBODY, "ledgered"))
        serve.start()
        again = serve.wait_report(NOBODY, "ledgered")
        expect_eq(again["stats"]["lost"], lost, f"after a restart: {again['stats']}")
    finally:
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


def test_sigterm_writes_open_reports():
    work = workdir()
    serve = Serve(work, grace=30)
    fifo = os.path.join(work, "go")
    os.mkfifo(fifo, 0o666)
    os.chmod(fifo, 0o666)
    try:
        procs = [start_build(f"open-{uid}", script_for("open", True, fifo), uid, work) for uid in (0, NOBODY)]
        for uid in (0, NOBODY):
            wait_status(serve, uid, lambda lines: any(" records " in l and " records 0 " not in l for l in lines))
        expect_eq(serve.kill(signal.SIGTERM), 0, "serve's status after SIGTERM")
        for uid in (0, NOBODY):
            with open(serve.report_path(uid, f"open-{uid}"), encoding="utf-8") as f:
                report = json.load(f)
            expect_eq(paths(report).get("machine_fingerprint"), ["/proc/ioports"], f"open build of uid {uid}")
        with open(fifo, "w") as f:
            f.write("go\ngo\n")
        for p in procs:
            p.wait(timeout=30)
    finally:
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


FLOOD = int(os.environ.get("FPSHIM_SERVE_FLOOD", "1000000"))


def test_flood_does_not_starve_another_build():
    work = workdir()
    serve = Serve(work, grace=2)
    flood_bin = os.path.join(work, "flood")
    shutil.copy(program("flood"), flood_bin)
    os.chmod(flood_bin, 0o755)
    try:
        started = time.time()
        big = start_build("flood-big", f"{flood_bin} {FLOOD} big", NOBODY, work)
        time.sleep(0.2)
        small = start_build("flood-small", f"{flood_bin} 1000 small", NOBODY, work)
        expect_eq(small.wait(timeout=120), 0, "small build")
        expect_eq(big.wait(timeout=300), 0, "big build")
        sent = time.time() - started

        def total(report):
            r = recipe(report, "machine_fingerprint")
            return sum(p["count"] for p in r["paths"]) + sum(f["count"] for f in r.get("folded", []))

        small_report = serve.wait_report(NOBODY, "flood-small")
        expect_eq(sorted(p["path"] for p in recipe(small_report, "machine_fingerprint")["paths"]),
                  sorted(f"/sys/class/dmi/id/small-{k}" for k in range(1000)), "the small build's paths")
        expect_eq(total(small_report), 1000, "the small build's accesses")
        expect_eq((small_report["stats"]["lost"], small_report["stats"]["capped"]), (0, 0), "small build")
        # What the flood spooled is claimed and journaled, then its report reads the whole journal: on
        # two loaded CPUs that is ~25,000 records/s at worst (FPSHIM_SERVE_FLOOD=10000000: ~7 min).
        # Each of the flood's records names a distinct path (~107 bytes on the wire): past about 10
        # million of them the build reaches --max-build-bytes (1 GiB of journal), and its report says
        # how many the cap dropped. Every record is either in the report or counted there.
        big_report = serve.wait_report(NOBODY, "flood-big", timeout=120 + FLOOD // 25_000,
                                       predicate=lambda r: total(r) + r["stats"]["capped"] == FLOOD)
        expect_eq(big_report["stats"]["lost"], 0, "big build: what the cap dropped is capped, not lost too")
        if FLOOD <= 1_000_000:
            expect_eq(big_report["stats"]["capped"], 0, "big build")
        else:  # what the cap dropped makes the report incomplete, and says so
            expect_eq(big_report["complete"], big_report["stats"]["capped"] == 0, big_report["incomplete"])
        print(f"flood: {FLOOD} records from one build and 1000 from another: sent in {sent:.1f} s "
              f"({FLOOD / sent:.0f} records/s), {big_report['stats']['late']} of them through the spool, "
              f"{big_report['stats']['capped']} dropped at the build's cap; "
              f"the big build's report {time.time() - started - sent:.1f} s later")
    finally:
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


def test_other_uid_cannot_reach_socket_or_reports():
    work = workdir()
    serve = Serve(work)
    try:
        proc = start_build("private-0", script_for("private", True), 0, work)
        expect_eq(proc.wait(timeout=30), 0, "root's build")
        serve.wait_report(0, "private-0")
        probe = ("import socket,sys\n"
                 "for path, kind in (('/var/tmp/fpshim-0/serve.sock', socket.SOCK_DGRAM),"
                 " ('/var/tmp/fpshim-0/serve.ctl', socket.SOCK_STREAM)):\n"
                 "    s = socket.socket(socket.AF_UNIX, kind)\n"
                 "    try:\n"
                 "        s.connect(path); print('connected', path)\n"
                 "    except PermissionError:\n"
                 "        print('denied', path)\n"
                 f"try:\n    open({serve.report_path(0, 'private-0')!r}).read(); print('read report')\n"
                 "except PermissionError:\n    print('denied report')\n")
        out = subprocess.run([PYTHON, "-c", probe], stdout=subprocess.PIPE, text=True, preexec_fn=as_nobody,
                             env={"PATH": "/usr/bin:/bin"})
        expect_eq(out.stdout.split("\n"), ["denied /var/tmp/fpshim-0/serve.sock", "denied /var/tmp/fpshim-0/serve.ctl",
                                          "denied report", ""], "nobody probing root's daemon")
        # nobody's own control socket lists nobody's builds only, and refuses a report of root's.
        out = subprocess.run([FPSHIM, "report", "--socket", f"/var/tmp/fpshim-{NOBODY}/serve.sock", "--build",
                              "private-0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=as_nobody)
        expect(out.returncode != 0 and "no build" in out.stderr, f"nobody asked for root's build: {out}")
        # root asks for its build's report on demand.
        out = subprocess.run([FPSHIM, "report", "--socket", "/var/tmp/fpshim-0/serve.sock", "--build", "private-0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        expect_eq(out.returncode, 0, out.stderr)
        expect(f"report {serve.report_path(0, 'private-0')}" in out.stdout, out.stdout)
    finally:
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


def test_a_build_of_the_daemons_own_uid_cannot_read_its_memory():
    """serve run by the CI user serves builds of its own uid: they cannot open its /proc/<pid>/mem,
    environ or fd/ (the daemon is non-dumpable), so they reach its journals only as files."""
    work = workdir()
    state, reports = os.path.join(work, "own-state"), os.path.join(work, "own-reports")
    for d in (state, reports):
        os.mkdir(d, 0o700)
        os.chown(d, NOBODY, NOGROUP)
    daemon = subprocess.Popen([FPSHIM, "serve", "--state", state, "--reports", reports], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=as_nobody,
                              env={"PATH": "/usr/bin:/bin"})
    try:
        deadline = time.time() + 10
        while not os.path.exists(f"/var/tmp/fpshim-{NOBODY}/serve.ctl"):
            expect(daemon.poll() is None and time.time() < deadline, "serve as nobody did not start")
            time.sleep(0.05)
        probe = ("import os,sys\n"
                 "for name in ('mem', 'environ', 'fd/0'):\n"
                 "    try:\n"
                 "        open(f'/proc/{sys.argv[1]}/{name}', 'rb').close(); print('opened', name)\n"
                 "    except PermissionError:\n"
                 "        print('denied', name)\n")
        out = subprocess.run([PYTHON, "-c", probe, str(daemon.pid)], stdout=subprocess.PIPE, text=True,
                             preexec_fn=as_nobody, env={"PATH": "/usr/bin:/bin"})
        expect_eq(out.stdout.split("\n"), ["denied mem", "denied environ", "denied fd/0", ""],
                  "a process of the daemon's uid probing it")
    finally:
        daemon.send_signal(signal.SIGTERM)
        expect_eq(daemon.wait(timeout=60), 0, daemon.stderr.read())
    shutil.rmtree(work, ignore_errors=True)


def test_sighup_refuses_bad_rules():
    work = workdir()
    rules = os.path.join(work, "rules.json")
    shutil.copy(os.path.join(os.path.dirname(FPSHIM), "..", "..", "rules.json")
                if os.path.exists(os.path.join(os.path.dirname(FPSHIM), "..", "..", "rules.json"))
                else os.environ.get("FPSHIM_SOURCE", ".") + "/rules.json", rules)
    serve = Serve(work, extra=["--rules", rules])
    try:
        with open(rules, "w") as f:
            f.write('{"recipes": [\n  {"name": }\n]}\n')
        serve.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "the rules in use stay" not in serve.text():
            expect(time.time() < deadline, f"no refusal:\n{serve.text()}")
            time.sleep(0.1)
        expect(f"{rules}:2:" in serve.text(), f"FILE:LINE:COLUMN of the error:\n{serve.text()}")
        proc = start_build("after-hup", script_for("after-hup", True), 0, work)
        expect_eq(proc.wait(timeout=30), 0, "build")
        check_exact(serve.wait_report(0, "after-hup"), "after-hup", True, 5)
    finally:
        serve.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    enter_private_var_tmp()
    main(globals())
