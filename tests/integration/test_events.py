"""ECS events (--events) from the bundled example build, checked field by field against the JSON
report of the same run; and the same events sent with --syslog to a real rsyslogd that the test starts
on a socket of its own and that writes the RFC 5424 fields to a file."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from harness import SOURCE, expect, expect_eq, fpshim, main

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
SEVERITY = {"critical": 2, "error": 3, "warning": 4, "notice": 5, "info": 6}
LOCAL0 = 16


def copy_example():
    dest = tempfile.mkdtemp(prefix="fpshim-events-")
    shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), dest, dirs_exist_ok=True)
    return dest


def read_events(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    expect(lines, "no events written")
    return [json.loads(line) for line in lines]  # every line is one JSON document


def example_with_events(*options):
    src = copy_example()
    events_path = os.path.join(src, "events.jsonl")
    run = fpshim(["make", "-j4", "BUILD=out"], "--events", events_path, *options, cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    events = read_events(events_path)
    shutil.rmtree(src)
    return run, events


def the_ioports_event(events):
    found = [e for e in events if e.get("file", {}).get("path") == "/proc/ioports"]
    expect_eq(len(found), 1, [e["message"] for e in found])
    return found[0]


def test_one_event_per_process_path_and_recipe():
    run, events = example_with_events()
    alerts, summary = events[:-1], events[-1]
    expect_eq(summary["event"]["kind"], "event")
    expect(all(e["event"]["kind"] == "alert" for e in alerts), [e["event"]["kind"] for e in alerts])

    # The (recipe, pid, exe, path) of every event are exactly the report's processes and their paths.
    expected = sorted((r["name"], p["pid"], p["exe"], path) for r in run.report["recipes"] for p in r["processes"]
                      for path in p["paths"])
    actual = sorted((e["rule"]["id"], e["process"]["pid"], e["process"]["executable"], e["file"]["path"]) for e in alerts)
    expect_eq(actual, expected)
    expect_eq(len(set(e["event"]["id"] for e in alerts)), len(alerts), "event ids are unique")
    stamps = [e["@timestamp"] for e in alerts]
    expect_eq(stamps, sorted(stamps), "events are in time order")

    for e in alerts:
        recipe = run.recipe(e["rule"]["id"])
        path = run.path(e["rule"]["id"], e["file"]["path"])
        expect_eq(e["ecs"]["version"], "8.11.0")
        expect_eq(e["event"]["category"], ["file"])
        expect_eq(e["event"]["type"], ["access"])
        expect_eq(e["event"]["module"], "fpshim")
        expect_eq(e["event"]["dataset"], "fpshim.access")
        expect_eq(e["event"]["action"], ",".join(path["operations"]))
        expect_eq(e["event"]["outcome"], "failure" if path["failed"] == path["count"] else "success", path)
        expect_eq(e["@timestamp"], path["first_seen"])
        expect_eq(e["rule"]["name"], recipe["title"])
        expect_eq(e["threat"]["framework"], "MITRE ATT&CK")
        # ECS fields hold arrays: a recipe with several techniques lists them all, the main one first.
        ids = [t["id"] for t in recipe["techniques"]]
        expect_eq(e["threat"]["technique"]["id"], ids if len(ids) > 1 else ids[0])
        expect_eq(e["threat"]["tactic"]["id"], recipe["tactic"]["id"])
        expect_eq(e["log"]["level"], {"medium": "warning", "low": "info"}[recipe["importance"]])
        expect_eq(e["event"]["severity"], {"medium": 47, "low": 21}[recipe["importance"]])
        expect_eq(e["fpshim"]["finding"]["importance"], recipe["importance"])
        expect_eq(e["fpshim"]["suppressed"], False)
        expect_eq(e["fpshim"]["access"]["count"], path["count"])
        expect_eq(e["fpshim"]["access"]["errors"], path["errors"])
        expect_eq(e["fpshim"]["build"]["id"], run.report["build"]["id"])
        expect_eq(e["host"]["name"], socket.gethostname())
        expect_eq(e["host"]["os"]["type"], "linux")
        expect_eq(e["user"]["id"], str(os.getuid()))
        expect_eq(e["fpshim"]["ancestry"][-1]["args"], ["make", "-j4", "BUILD=out"])
        expect_eq(e["process"]["parent"], e["fpshim"]["ancestry"][0])
        expect_eq(e["file"]["name"], os.path.basename(e["file"]["path"]))
        expect_eq(e["file"]["directory"], os.path.dirname(e["file"]["path"]))
    if os.path.exists("/etc/machine-id"):
        expect_eq(alerts[0]["host"]["id"], open("/etc/machine-id").read().strip())


def test_the_ioports_read():
    run, events = example_with_events()
    e = the_ioports_event(events)
    cat = [p for p in run.processes("machine_fingerprint") if p["argv"] == ["cat", "/proc/ioports"]][0]
    expect_eq(e["rule"]["id"], "machine_fingerprint")
    expect_eq(e["rule"]["ruleset"], "fpshim")
    expect_eq(e["threat"]["technique"]["id"], ["T1082", "T1016"])
    expect_eq(e["threat"]["technique"]["name"], ["System Information Discovery", "System Network Configuration Discovery"])
    expect_eq(e["threat"]["technique"]["reference"], ["https://attack.mitre.org/techniques/T1082/",
                                                     "https://attack.mitre.org/techniques/T1016/"])
    expect_eq(e["threat"]["tactic"], {"id": "TA0007", "name": "Discovery",
                                      "reference": "https://attack.mitre.org/tactics/TA0007/"})
    expect_eq(e["event"]["action"], "read")
    expect_eq(e["event"]["outcome"], "success")
    expect_eq(e["file"], {"path": "/proc/ioports", "name": "ioports", "directory": "/proc"})
    expect_eq(e["process"]["name"], "cat")
    expect_eq(e["process"]["pid"], cat["pid"])
    expect_eq(e["process"]["executable"], cat["exe"])
    expect_eq(e["process"]["args"], ["cat", "/proc/ioports"])
    expect_eq(e["process"]["command_line"], "cat /proc/ioports")
    parent = e["process"]["parent"]
    expect_eq(parent["pid"], cat["ancestry"][0]["pid"])
    expect_eq(parent["executable"], cat["ancestry"][0]["exe"])
    expect_eq(parent["name"], os.path.basename(cat["ancestry"][0]["exe"]))
    expect_eq(parent["args"], ["sh", "scripts/gen-build-info.sh"])
    expect_eq(parent["command_line"], "sh scripts/gen-build-info.sh")
    expect_eq([a["pid"] for a in e["fpshim"]["ancestry"]], [a["pid"] for a in cat["ancestry"]])
    expect_eq(e["fpshim"]["finding"]["location"]["uri"], "scripts/gen-build-info.sh")
    expect(e["message"].startswith("Machine fingerprinting: cat read /proc/ioports (cat /proc/ioports <- sh scripts/"),
           e["message"])
    expect(e["message"].endswith("<- make -j4 BUILD=out)"), e["message"])


def test_summary_counts_match_the_report():
    run, events = example_with_events()
    s = events[-1]
    alerts = events[:-1]
    expect_eq(s["event"]["dataset"], "fpshim.build")
    expect_eq(s["event"]["outcome"], "success")
    expect_eq(s["process"]["args"], ["make", "-j4", "BUILD=out"])
    expect_eq(s["process"]["exit_code"], 0)
    expect_eq(s["@timestamp"], run.report["build"]["finished"])
    f = s["fpshim"]
    expect_eq(f["build"]["id"], run.report["build"]["id"])
    expect_eq(f["events"], len(alerts))
    expect_eq([(r["id"], r["hits"], r["paths"], r["processes"]) for r in f["recipes"]],
              [(r["name"], r["hits"], len(r["paths"]), len(r["processes"])) for r in run.report["recipes"]])
    fingerprints = {e["fpshim"]["finding"]["fingerprint"] for e in alerts}
    expect_eq(f["findings"]["total"], len(fingerprints))
    expect_eq(f["findings"]["suppressed"], 0)
    expect_eq(sum(r["findings"] for r in f["recipes"]), len(fingerprints))
    expect_eq(f["findings"]["worst"], "medium")
    if "findings" in run.report:  # the JSON report's own list of findings, where it has one
        expect_eq(f["findings"]["total"], len(run.report["findings"]))
    expect_eq(f["coverage"]["monitored"], run.report["coverage"]["monitored"])
    expect_eq(f["coverage"]["unmonitored"], len(run.report["coverage"]["unmonitored"]))
    expect_eq(f["stats"], run.report["stats"])
    expect_eq(f["processes_seen"], run.report["processes_seen"])
    expect(s["message"].startswith(f"build `make -j4 BUILD=out` exited 0: {len(fingerprints)} findings (0 suppressed) "
                                   "from 2 recipes;"), s["message"])


def test_events_to_stdout():
    src = copy_example()
    run = fpshim(["sh", "-c", "cat /proc/ioports >/dev/null; true"], "--events", "-", cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    events = [json.loads(line) for line in run.stdout.decode().splitlines()]
    expect_eq([e["event"]["dataset"] for e in events], ["fpshim.access", "fpshim.build"])
    expect_eq(events[0]["process"]["parent"]["args"], ["sh", "-c", "cat /proc/ioports >/dev/null; true"])
    expect_eq(events[0]["fpshim"]["ancestry"], [events[0]["process"]["parent"]])
    shutil.rmtree(src)


class Rsyslogd:
    """rsyslogd in the foreground on a unix socket of the test's own (not /dev/log), writing each
    message's RFC 5424 fields, separated by '|', to a file."""

    def __init__(self, rules=None):
        """`rules`: the configuration after the input, given the directory; by default the fields file."""
        self.dir = tempfile.mkdtemp(prefix="fpshim-rsyslog-")
        self.socket = os.path.join(self.dir, "log.sock")
        self.out = os.path.join(self.dir, "messages")
        conf = os.path.join(self.dir, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write(f"""global(workDirectory="{self.dir}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{self.socket}" UseSpecialParser="off" IgnoreTimestamp="off" ParseHostname="on")
""")
            f.write(rules(self.dir) if rules else f"""template(name="fields" type="string"
         string="%pri%|%syslogfacility-text%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")
action(type="omfile" file="{self.out}" template="fields")
""")
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(self.dir, "pid")],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None:
                raise AssertionError(f"rsyslogd exited: {self.proc.stdout.read()}")
            expect(time.monotonic() < deadline, "rsyslogd did not create its socket")
            time.sleep(0.05)

    def lines(self, count, name="messages"):
        """The first `count` lines of a file it writes; waits for rsyslogd to write them."""
        path = os.path.join(self.dir, name)
        deadline = time.monotonic() + 10
        while True:
            lines = open(path, encoding="utf-8").read().splitlines() if os.path.exists(path) else []
            if len(lines) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        expect_eq(len(lines), count, lines[-3:])
        return lines

    def messages(self, count):
        """The first `count` messages, split into their fields."""
        return [line.split("|", 8) for line in self.lines(count)]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def test_syslog_to_a_real_rsyslogd():
    rsyslog = Rsyslogd()
    try:
        run, events = example_with_events(f"--syslog={rsyslog.socket}")
        messages = rsyslog.messages(len(events))
        for event, (pri, facility, timestamp, host, app, procid, msgid, sd, msg) in zip(events, messages):
            expect_eq(json.loads(msg), event)  # the JSON body intact, in the same order
            expect_eq(app, "fpshim")
            expect_eq(facility, "local0")
            expect_eq(int(pri), LOCAL0 * 8 + SEVERITY[event["log"]["level"]])
            expect_eq(timestamp, event["@timestamp"])
            expect_eq(host, socket.gethostname())
            expect(procid.isdigit(), procid)
            expect_eq(msgid, "summary" if event["event"]["kind"] == "event" else "finding")
            expect_eq(sd, "-")
        expect_eq(json.loads(messages[-1][8])["fpshim"]["events"], len(events) - 1)
        expect("shortened" not in run.stderr.decode(), run.stderr)
    finally:
        rsyslog.stop()


def test_oversized_events_are_shortened_not_cut_by_the_daemon():
    rsyslog = Rsyslogd()
    src = tempfile.mkdtemp(prefix="fpshim-events-")
    try:
        pad = "x" * 20000
        # One parent with a 20 kB argument: its args go, its command line is cut, the JSON stays whole.
        events_path = os.path.join(src, "events.jsonl")
        run = fpshim(["sh", "-c", "cat /proc/ioports >/dev/null; true", "sh", pad], "--events", events_path,
                     f"--syslog={rsyslog.socket}", cwd=src)
        expect_eq(run.returncode, 0, run.stderr)
        full = read_events(events_path)[0]
        expect_eq(full["process"]["parent"]["args"][-1], pad)  # the file keeps everything
        # The build's command (the summary's process.args) has it too: both events are shortened.
        expect("2 of 2 events sent to syslog shortened to fit 8000 bytes" in run.stderr.decode(), run.stderr)
        # Twelve nested shells with such an argument: only the identifying fields are left.
        script = 'if [ "$1" -gt 0 ]; then /bin/sh -c "$S" sh $(($1 - 1)) "$2"; else cat /proc/ioports >/dev/null; fi; :'
        run = fpshim(["/bin/sh", "-c", script, "sh", "11", pad[:3000]], f"--syslog={rsyslog.socket}", cwd=src,
                     env=dict(os.environ, S=script))
        expect_eq(run.returncode, 0, run.stderr)

        messages = rsyslog.messages(4)
        cut = json.loads(messages[0][8])
        expect(len(messages[0][8]) < 8000, len(messages[0][8]))
        expect_eq(cut["fpshim"]["truncated"], "cut")
        expect_eq(cut["file"]["path"], "/proc/ioports")
        expect("args" not in cut["process"]["parent"], cut["process"]["parent"].keys())
        expect(cut["process"]["parent"]["command_line"].endswith("..."), cut["process"]["parent"]["command_line"][-20:])
        expect_eq(cut["process"]["command_line"], "cat /proc/ioports")  # short strings stay whole
        expect_eq(cut["process"]["name"], "cat")
        summary = json.loads(messages[1][8])
        expect_eq(summary["event"]["dataset"], "fpshim.build")
        expect_eq(summary["fpshim"]["truncated"], "cut")
        expect_eq(summary["fpshim"]["findings"]["total"], 1)
        expect_eq(len(summary["process"]["command_line"]), 1027)  # 1024 bytes and "..."

        minimal = json.loads(messages[2][8])
        expect_eq(minimal["fpshim"]["truncated"], "minimal")
        expect_eq(minimal["file"]["path"], "/proc/ioports")
        expect_eq(minimal["rule"]["id"], "machine_fingerprint")
        expect_eq(minimal["process"]["name"], "cat")
        expect("ancestry" not in minimal["fpshim"], minimal["fpshim"].keys())
        expect_eq(messages[2][6], "finding")
    finally:
        rsyslog.stop()
        shutil.rmtree(src, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_example_rsyslog_snippet():
    """examples/logging/rsyslog-fpshim.conf as it is, but for its paths: the events land as JSON Lines in
    its file, and the alerts are forwarded (to the same rsyslogd over TCP, into a ruleset of its own)."""
    port = free_port()
    with open(os.path.join(SOURCE, "examples", "logging", "rsyslog-fpshim.conf")) as f:
        snippet = f.read()

    def rules(d):
        expect('target="logs.example.net" port="6514"' in snippet and "/var/log/fpshim/" in snippet)
        mine = snippet.replace("/var/log/fpshim/", d + "/").replace('target="logs.example.net" port="6514"',
                                                                    f'target="127.0.0.1" port="{port}"')
        with open(os.path.join(d, "snippet.conf"), "w") as out:
            out.write(mine)
        return f"""module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="received")
include(file="{d}/snippet.conf")
ruleset(name="received") {{
  action(type="omfile" file="{d}/received" template="RSYSLOG_SyslogProtocol23Format")
}}
"""

    rsyslog = Rsyslogd(rules)
    try:
        run, events = example_with_events(f"--syslog={rsyslog.socket}")
        jsonl = rsyslog.lines(len(events), "events.jsonl")
        expect_eq([json.loads(line) for line in jsonl], events)
        received = rsyslog.lines(len(events) - 1, "received")  # the summary is not forwarded
        for line, event in zip(received, events):
            head, body = line.split(" - ", 1)
            expect(head.endswith(f" {socket.gethostname()} fpshim {head.split()[4]} finding"), head)
            expect_eq(json.loads(body), event)
    finally:
        rsyslog.stop()


def test_syslog_without_a_daemon_is_an_error():
    src = tempfile.mkdtemp(prefix="fpshim-events-")
    missing = os.path.join(src, "no-such.sock")
    run = fpshim(["sh", "-c", "cat /proc/ioports >/dev/null; true"], f"--syslog={missing}", cwd=src)
    expect_eq(run.returncode, 2, run.stderr)
    expect(f"cannot send to syslog at {missing}: No such file or directory" in run.stderr.decode(), run.stderr)
    shutil.rmtree(src)


if __name__ == "__main__":
    main(globals())
