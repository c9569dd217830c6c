#!/usr/bin/env python3
"""The measurements of bench.py's `serve` section, run inside a private mount namespace with a fresh
tmpfs on /var/tmp (so the default sockets, spools and process logs /var/tmp/fpshim-<uid>/ that
`fpshim serve` uses are ours alone and no other fpshim on this machine is disturbed):

    unshare -m --propagation private python3 bench/servebench.py --bin DIR --loadgen PATH [--quick]

Prints one JSON object on stdout. The daemon runs pinned to CPU 0 (taskset -c 0), the senders, this
script and its `fpshim status` calls to CPU 1.
1. Throughput: 16 senders (bench/loadgen with LOADGEN_BUILD_EACH=1: each its own FPSHIM_BUILD, so
   16 builds; every record a distinct watched path), timed from their release until `fpshim status`
   shows every record in its build (polled every 20 ms) and every build's processes ended; then
   SIGTERM, which writes every build's report, and each report's record count is checked.
2. Memory: a fresh daemon, 100 senders (LOADGEN_HOLD=1) that each said hello and sent records and
   hold their build open; VmHWM of the daemon from /proc/<pid>/status once status shows them all.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

UID = os.geteuid()
DIR = f"/var/tmp/fpshim-{UID}"
SOCK = f"{DIR}/serve.sock"


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                out[k] = int(v.split()[0])
    return out


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Daemon:
    def __init__(self, fpshim, work, grace):
        self.fpshim = fpshim
        self.work = work
        self.reports = os.path.join(work, "reports")
        self.log = open(os.path.join(work, "serve.log"), "ab")
        argv = ["taskset", "-c", "0", fpshim, "serve", "--state", os.path.join(work, "state"),
                "--reports", self.reports, "--grace", str(grace), "--formats", "json"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     env={"PATH": "/usr/bin:/bin"})
        deadline = time.time() + 20
        while not os.path.exists(f"{DIR}/serve.ctl"):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"serve did not start:\n{self.text()}")
            time.sleep(0.02)

    def text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def status(self):
        """{build id: (processes, running, records, capped, state)} from `fpshim status`."""
        p = subprocess.run([self.fpshim, "status", "--socket", SOCK], capture_output=True, text=True, timeout=30)
        builds = {}
        for line in p.stdout.splitlines():
            f = line.split()
            if f and f[0] == "build":
                kv = dict(zip(f[2::2], f[3::2]))
                builds[f[1]] = (int(kv["processes"]), int(kv["running"]), int(kv["records"]), int(kv["capped"]),
                                kv["state"])
        return builds

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=300)
        self.log.close()
        return self.proc.returncode


def fresh_var_tmp():
    for name in os.listdir("/var/tmp"):
        if name.startswith("fpshim-"):
            shutil.rmtree(os.path.join("/var/tmp", name), ignore_errors=True)
    work = tempfile.mkdtemp(prefix="fpshim-servebench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    return work


def sender_env(name, hold=False):
    env = dict(os.environ, FPSHIM_SOCKET=SOCK, FPSHIM_BUILD=name, LOADGEN_BUILD_EACH="1")
    env.pop("LD_PRELOAD", None)
    if hold:
        env["LOADGEN_HOLD"] = "1"
    return env


def throughput(args, builds, per):
    work = fresh_var_tmp()
    d = Daemon(args.fpshim, work, grace=3600)  # no report while we time: they are written at SIGTERM
    expected = builds * (per + 2)  # hello, records, bye
    cpu0 = cpu_s(d.proc.pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    gen = subprocess.Popen(["taskset", "-c", "1", args.loadgen, str(builds), str(per), str(builds * per)],
                           env=sender_env("bench-serve"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    polls = 0
    deadline = time.monotonic() + 600
    while True:
        st = d.status()
        polls += 1
        got = sum(b[2] for b in st.values())
        if len(st) == builds and got >= expected and all(b[1] == 0 for b in st.values()):
            t_end = time.monotonic()
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve took in {got} of {expected} records in 600 s:\n{d.text()[-2000:]}")
        time.sleep(0.02)
    cpu1 = cpu_s(d.proc.pid)
    out, err = gen.communicate(timeout=600)
    if gen.returncode != 0:
        raise RuntimeError(f"loadgen failed: {err}")
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    senders_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    kv = {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if len(line.split()) == 2}
    hwm = proc_status(d.proc.pid)
    rc = d.stop()
    per_build = {}
    for f in sorted(os.listdir(os.path.join(d.reports, str(UID)))):
        if f.endswith(".json"):
            with open(os.path.join(d.reports, str(UID), f)) as fh:
                rep = json.load(fh)
            s = rep.get("stats", {})
            per_build[f[:-5]] = {k: s.get(k) for k in ("records", "lost", "capped", "dropped", "torn") if k in s}
    seconds = t_end - kv["t0_monotonic"]
    return {"builds": builds, "records_per_sender": per, "expected": expected, "status_records": got,
            "status": {k: list(v) for k, v in st.items()}, "seconds": seconds, "records_per_second": expected / seconds,
            "senders_seconds": kv["seconds"], "daemon_cpu_s": cpu1 - cpu0, "senders_cpu_s": senders_cpu, "status_polls": polls,
            "daemon_vmhwm_kb": hwm.get("VmHWM"), "serve_rc": rc, "reports": per_build,
            "serve_log": d.text()[-3000:]}


def live_memory(args, builds, per):
    work = fresh_var_tmp()
    d = Daemon(args.fpshim, work, grace=1)
    idle = proc_status(d.proc.pid)
    expected = builds * (per + 1)  # hello and records, no bye yet
    gen = subprocess.Popen(["taskset", "-c", "1", args.loadgen, str(builds), str(per), str(builds * per)],
                           env=sender_env("bench-live", hold=True), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    line = gen.stdout.readline()
    if line.strip() != "held":
        raise RuntimeError(f"loadgen: {line} {gen.stderr.read()}")
    deadline = time.monotonic() + 600
    while True:
        st = d.status()
        got = sum(b[2] for b in st.values())
        if len(st) == builds and got >= expected:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"serve took in {got} of {expected} records:\n{d.text()[-2000:]}")
        time.sleep(0.05)
    time.sleep(2)  # past the grace: a build that wrongly counted as ended would be reported now
    st = d.status()
    live = sum(1 for b in st.values() if b[4] == "live" and b[1] == 1)
    mem = proc_status(d.proc.pid)
    gen.communicate(input="", timeout=600)  # EOF on its stdin: the senders say bye
    rc = d.stop()
    return {"builds": builds, "records_per_sender": per, "expected": expected, "status_records": got,
            "live_builds": live, "vmhwm_kb": mem["VmHWM"], "vmrss_kb": mem["VmRSS"], "idle_vmhwm_kb": idle["VmHWM"],
            "serve_rc": rc}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--per", type=int, default=0, help="records per sender of the throughput run")
    args = ap.parse_args()
    args.fpshim = os.path.join(args.bin, "fpshim")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "fpshim-bench", "/var/tmp"], check=True)
    os.sched_setaffinity(0, {1} if os.cpu_count() and os.cpu_count() > 1 else {0})
    per = args.per or (20_000 if args.quick else 125_000)
    result = {"throughput": throughput(args, 16, per),
              "live": live_memory(args, 100, 1_000 if args.quick else 10_000)}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
