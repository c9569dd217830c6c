"""The gate and suppressions on the bundled example build (make -j4 with a code generator that reads
/proc/ioports, MACs, DMI or /etc/machine-id, and /proc/sys/net/ipv4/ip_forward): `--fail-on` turns
unsuppressed findings into exit status 3 with the reason in the last line on stderr
(before the report's SHA-256), a failing build
keeps its own status, suppressions are marked in the JSON report with their reason, expired and
unused entries are reported, and `fpshim baseline` writes a file that accepts exactly what it saw."""
import json
import os
import shutil
import subprocess
import tempfile
from harness import FPSHIM, SOURCE, expect, expect_eq, main

EXIT_GATE = 3
BUILD = ["make", "-j4", "BUILD=out"]
CAT = os.path.realpath(shutil.which("cat"))  # the executable the shim reports (/proc/self/exe)


def copy_example():
    dest = tempfile.mkdtemp(prefix="fpshim-gate-")
    shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), dest, dirs_exist_ok=True)
    return dest


class Result:
    def __init__(self, proc, report):
        self.returncode = proc.returncode
        self.stderr = proc.stderr.decode("utf-8", "replace")
        self.report = report

    def last_stderr_line(self):
        """The last line on stderr before the one with the report files' SHA-256 (which is last)."""
        lines = self.stderr.rstrip("\n").split("\n")
        expect(" sha256 " in lines[-1], f"the digests come last: {lines[-1]}")
        return lines[-2]

    def findings(self, recipe=None, path=None):
        return [f for f in self.report["findings"]
                if (recipe is None or f["recipe"] == recipe) and (path is None or path in f["paths"])]

    def finding(self, recipe, path, exe_basename="cat"):
        found = [f for f in self.findings(recipe, path) if os.path.basename(f["exe"]) == exe_basename]
        expect_eq(len(found), 1, f"findings of {recipe} over {path} by {exe_basename}: {self.report['findings']}")
        return found[0]


def run(src, *options, cmd=BUILD, suppressions=None):
    """`fpshim run` in the example's copy with the text summary on stderr (where the gate line goes)."""
    out = tempfile.mkdtemp(prefix="fpshim-gate-out-")
    report_path = os.path.join(out, "report.json")
    argv = [FPSHIM, "run", "--report", report_path]
    if suppressions is not None:
        path = os.path.join(out, "suppressions.json")
        with open(path, "w", encoding="utf-8") as f:  # entry i on line i + 2
            f.write('{"schema": 1, "suppressions": [\n' + ",\n".join(json.dumps(e) for e in suppressions) + "\n]}\n")
        argv += ["--suppress", path]
    argv += list(options) + ["--"] + list(cmd)
    proc = subprocess.run(argv, cwd=src, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=240)
    report = None
    if os.path.exists(report_path):
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["rm", "-rf", os.path.join(src, "out")])  # the next run builds again
    return Result(proc, report)


def medium_and_above(report):
    return [f for f in report["findings"] if f["importance"] in ("medium", "high", "critical")]


def test_fail_on_medium_fails_a_successful_build_and_says_why_last():
    src = copy_example()
    r = run(src, "--fail-on", "medium")
    expect_eq(r.returncode, EXIT_GATE, r.stderr)
    counted = medium_and_above(r.report)
    expect(len(counted) >= 2, f"the example has several medium findings: {r.report['findings']}")
    expect_eq(r.last_stderr_line(),
              f"fpshim: failing the build: {len(counted)} unsuppressed findings at medium or above "
              "(machine_fingerprint)")
    # The build's own exit status was 0 and is still in the report.
    expect_eq(r.report["build"]["exit_code"], 0)
    # Every finding is in the JSON with what a reviewer needs, none suppressed.
    ioports = r.finding("machine_fingerprint", "/proc/ioports")
    expect_eq(ioports["importance"], "medium")
    expect_eq(ioports["entry"], {"index": ioports["entry"]["index"], "path": "/proc/ioports"})
    expect_eq(len(ioports["fingerprint"]), 16)
    expect_eq(ioports["location"]["uri"], "scripts/gen-build-info.sh")
    expect(isinstance(ioports["location"]["line"], int) and ioports["location"]["line"] >= 1, ioports["location"])
    expect(len(ioports["processes"]) == 1 and ioports["processes"][0] > 0, ioports)
    expect(ioports["suppressed"] is None, ioports)
    expect_eq(r.report["suppressions"], {"file": None, "entries": []})
    # The gate at "low" counts the low ones too; at "critical" nothing of the example fails.
    low = run(src, "--fail-on", "low")
    expect_eq(low.returncode, EXIT_GATE, low.stderr)
    expect_eq(low.last_stderr_line(),
              f"fpshim: failing the build: {len(low.report['findings'])} unsuppressed findings at low or above "
              "(machine_fingerprint, os_network_fingerprint)")
    critical = run(src, "--fail-on", "critical")
    expect_eq(critical.returncode, 0, critical.stderr)
    expect("failing the build" not in critical.stderr, critical.stderr)


def test_fail_on_none_never_changes_the_status():
    src = copy_example()
    for options in ([], ["--fail-on", "none"]):
        r = run(src, *options)
        expect_eq(r.returncode, 0, r.stderr)
        expect(len(r.report["findings"]) >= 3, r.report["findings"])
        expect("failing the build" not in r.stderr, r.stderr)
    failing = run(src, "--fail-on", "none", cmd=["sh", "-c", "make -j4 BUILD=out && exit 7"])
    expect_eq(failing.returncode, 7, failing.stderr)


def test_a_failing_build_keeps_its_own_status():
    src = copy_example()
    r = run(src, "--fail-on", "low", cmd=["sh", "-c", "make -j4 BUILD=out && exit 5"])
    expect_eq(r.returncode, 5, r.stderr)
    expect("failing the build" not in r.stderr, r.stderr)
    expect(len(r.report["findings"]) >= 3, "the findings are still reported")
    expect_eq(r.report["build"]["exit_code"], 5)


def test_one_finding_suppressed_and_one_not():
    src = copy_example()
    reason = "gen-build-info.sh counts I/O ports for the build banner (reviewed in #123)"
    r = run(src, "--fail-on", "medium", suppressions=[
        {"recipe": "machine_fingerprint", "path": "/proc/ioports", "exe": CAT,
         "ancestry": "sh scripts/gen-build-info.sh", "reason": reason},
    ])
    ioports = r.finding("machine_fingerprint", "/proc/ioports")
    expect_eq(ioports["suppressed"], {"reason": reason, "entry": 0, "line": 2})
    forward = r.finding("os_network_fingerprint", "/proc/sys/net/ipv4/ip_forward")
    expect(forward["suppressed"] is None, forward)
    expect_eq(len([f for f in r.report["findings"] if f["suppressed"]]), 1)
    entry = r.report["suppressions"]["entries"][0]
    expect(r.report["suppressions"]["file"].endswith("suppressions.json"), r.report["suppressions"])
    expect_eq((entry["matched"], entry["suppressed"], entry["expired"], entry["unused"]), (1, 1, False, False))
    # The other medium findings still fail the build, one fewer than without the entry.
    counted = [f for f in medium_and_above(r.report) if not f["suppressed"]]
    expect_eq(r.returncode, EXIT_GATE, r.stderr)
    expect_eq(r.last_stderr_line(),
              f"fpshim: failing the build: {len(counted)} unsuppressed findings at medium or above "
              "(machine_fingerprint)")
    expect_eq(len(counted), len(medium_and_above(r.report)) - 1)
    # The text summary says it, with the reason.
    expect("fpshim: 1 finding(s) suppressed:\n" in r.stderr, r.stderr)
    expect(f"  suppressed: [medium] machine_fingerprint by {ioports['exe']} (/proc/ioports): {reason} "
           f"({r.report['suppressions']['file']}:2)\n" in r.stderr, r.stderr)
    # An ancestry the chain does not have suppresses nothing.
    other = run(src, suppressions=[{"recipe": "machine_fingerprint", "path": "/proc/ioports",
                                    "ancestry": "*configure*", "reason": "not this one"}])
    expect(other.finding("machine_fingerprint", "/proc/ioports")["suppressed"] is None)
    expect_eq(other.report["suppressions"]["entries"][0]["unused"], True)


def test_everything_suppressed_passes_the_gate():
    src = copy_example()
    r = run(src, "--fail-on", "low", suppressions=[
        {"recipe": "machine_fingerprint", "path": ["/proc/*", "/sys/class/*", "/sys/class/*/*",
                                                   "/sys/class/*/*/*", "/etc/machine-id"],
         "reason": "the generator's hardware banner, accepted"},
        {"recipe": "os_*", "ancestry": "make *", "reason": "network settings read by the same banner"},
    ])
    expect_eq(r.returncode, 0, r.stderr)
    expect("failing the build" not in r.stderr, r.stderr)
    expect(all(f["suppressed"] for f in r.report["findings"]), r.report["findings"])
    for f in r.report["findings"]:
        expect_eq(f["suppressed"]["entry"], 0 if f["recipe"] == "machine_fingerprint" else 1)
    entries = r.report["suppressions"]["entries"]
    expect_eq([e["matched"] for e in entries], [len(r.findings("machine_fingerprint")),
                                               len(r.findings("os_network_fingerprint"))])
    # Suppressing only the medium ones passes --fail-on medium while the low ones remain.
    medium = run(src, "--fail-on", "medium", suppressions=[{"recipe": "machine_fingerprint", "reason": "accepted"}])
    expect_eq(medium.returncode, 0, medium.stderr)
    expect(any(f["suppressed"] is None for f in medium.report["findings"]), "the low ones stay")


def test_expired_entry_does_not_suppress_and_unused_entry_is_listed():
    src = copy_example()
    r = run(src, "--fail-on", "medium", suppressions=[
        {"recipe": "machine_fingerprint", "path": "/proc/ioports", "reason": "accepted until the rewrite",
         "expires": "2001-02-03"},
        {"recipe": "machine_fingerprint", "exe": "/opt/*/never", "reason": "an old tool we removed"},
        {"recipe": "os_network_fingerprint", "path": "/proc/sys/net/*/*", "reason": "fine",
         "expires": "2999-12-31"},
    ])
    expect_eq(r.returncode, EXIT_GATE, r.stderr)
    expect(r.finding("machine_fingerprint", "/proc/ioports")["suppressed"] is None)
    expect_eq(r.finding("os_network_fingerprint", "/proc/sys/net/ipv4/ip_forward")["suppressed"]["reason"], "fine")
    expired, unused, valid = r.report["suppressions"]["entries"]
    expect_eq((expired["expired"], expired["matched"], expired["suppressed"], expired["unused"]), (True, 1, 0, False))
    expect_eq((unused["expired"], unused["matched"], unused["unused"]), (False, 0, True))
    expect_eq((valid["expired"], valid["matched"], valid["suppressed"]), (False, 1, 1))
    expect(":2 expired on 2001-02-03 and suppresses nothing (1 matching finding(s)): accepted until the rewrite"
           in r.stderr, r.stderr)
    expect(":3 is unused: it matched no finding of this build (recipe machine_fingerprint): an old tool we removed"
           in r.stderr, r.stderr)


def test_errors_in_the_file_stop_before_the_build_with_line_and_column():
    src = copy_example()
    path = os.path.join(src, ".fpshim-suppressions.json")  # the default file, found in the source root
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"schema": 1, "suppressions": [\n  {"recipe": "machine_fingerprint",\n'
                '   "expires": "tomorrow"}\n]}\n')
    r = run(src, "--fail-on", "medium")
    expect_eq(r.returncode, 2, r.stderr)
    expect(r.report is None, "nothing was run")
    expect(f"{path}:2:3: a suppression is missing required field \"reason\"" in r.stderr, r.stderr)
    expect(f"{path}:3:15: \"expires\" must be a date YYYY-MM-DD, not \"tomorrow\"" in r.stderr, r.stderr)
    expect(not os.path.exists(os.path.join(src, "out")), "the build did not run")
    # A valid default file is applied without --suppress.
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"schema": 1, "suppressions": [{"recipe": "*", "reason": "all accepted"}]}, f)
    r = run(src, "--fail-on", "low")
    expect_eq(r.returncode, 0, r.stderr)
    expect_eq(r.report["suppressions"]["file"], os.path.join(src, ".fpshim-suppressions.json"))
    expect(all(f["suppressed"] == {"reason": "all accepted", "entry": 0, "line": 1} for f in r.report["findings"]))


def test_baseline_round_trip():
    src = copy_example()
    first = run(src, "--fail-on", "low")
    expect_eq(first.returncode, EXIT_GATE, first.stderr)
    work = tempfile.mkdtemp(prefix="fpshim-baseline-")
    report = os.path.join(work, "report.json")
    with open(report, "w", encoding="utf-8") as f:
        json.dump(first.report, f)
    proc = subprocess.run([FPSHIM, "baseline", report], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    expect_eq(proc.returncode, 0, proc.stderr)
    baseline = json.loads(proc.stdout)
    expect_eq(baseline["schema"], 1)
    entries = baseline["suppressions"]
    expect_eq(len(entries), len(first.report["findings"]))
    ioports = [e for e in entries if e.get("path") == ["/proc/ioports"]]
    expect_eq(len(ioports), 1, entries)
    expect_eq(ioports[0]["recipe"], "machine_fingerprint")
    expect_eq(ioports[0]["exe"], first.finding("machine_fingerprint", "/proc/ioports")["exe"])
    expect(ioports[0]["reason"].startswith(f"baseline of {report} on 2") and ioports[0]["reason"].endswith(": review"),
           ioports[0]["reason"])
    # Run again with it: everything suppressed, every entry used, the gate passes.
    path = os.path.join(work, "baseline.json")
    with open(path, "wb") as f:
        f.write(proc.stdout)
    again = run(src, "--fail-on", "low", "--suppress", path)
    expect_eq(again.returncode, 0, again.stderr)
    expect(all(f["suppressed"] for f in again.report["findings"]), again.report["findings"])
    expect_eq(len(again.report["findings"]), len(first.report["findings"]))
    expect_eq(sorted(e["suppressed"] for e in again.report["suppressions"]["entries"]), [1] * len(entries))
    expect(not any(e["unused"] for e in again.report["suppressions"]["entries"]))
    # A report without findings (or not a report) is refused.
    with open(report, "w", encoding="utf-8") as f:
        json.dump({"build": {}}, f)
    bad = subprocess.run([FPSHIM, "baseline", report], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    expect_eq(bad.returncode, 2)
    expect_eq(bad.stdout, b"")
    expect(b"has no \"findings\" array" in bad.stderr, bad.stderr)
    shutil.rmtree(work, ignore_errors=True)


main(globals())
