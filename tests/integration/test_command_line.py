"""The command line refuses what would waste a build: every verb's --help prints the help, an output
file that cannot be written stops `fpshim run` before the build starts, an option whose value looks
like another option is refused, and a directory given as the rules file is named as one."""
import os
import subprocess
import tempfile
from harness import FPSHIM, expect, expect_eq, main


def cli(*args):
    return subprocess.run([FPSHIM, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def test_every_verb_has_help():
    for verb in ["run", "report", "env", "serve", "status", "check-rules", "baseline"]:
        for flag in ["--help", "-h"]:
            done = cli(verb, flag)
            expect_eq(done.returncode, 0, f"{verb} {flag}: {done.stderr}")
            expect(b"usage: fpshim run [OPTIONS]" in done.stdout, f"{verb} {flag}: {done.stdout}")
            expect_eq(done.stderr, b"", f"{verb} {flag}")


def refused_before_the_build(*options, fragment):
    marker = tempfile.mktemp(suffix=".ran")
    done = cli("run", *options, "--", "touch", marker)
    expect_eq(done.returncode, 2, done.stderr)
    expect(not os.path.exists(marker), f"the build ran with {options}")
    expect(fragment in done.stderr.decode(), done.stderr)


def test_unwritable_outputs_stop_the_build_before_it_starts():
    out = tempfile.mkdtemp(prefix="fpshim-cli-")
    missing = os.path.join(out, "no-such-dir", "r.json")
    for option in ["--report", "--text", "--sarif", "--html", "--events", "--gitlab-codequality", "--junit"]:
        refused_before_the_build(option, missing, fragment=f"cannot write {missing}: ")
        refused_before_the_build(option, out, fragment=f"cannot write {out}: it is a directory")
    if os.geteuid() != 0:  # root writes anywhere
        locked = os.path.join(out, "locked")
        os.mkdir(locked, 0o500)
        refused_before_the_build("--report", os.path.join(locked, "r.json"), fragment="Permission denied")


def test_writable_outputs_are_left_alone():
    out = tempfile.mkdtemp(prefix="fpshim-cli-")
    report, text = os.path.join(out, "r.json"), os.path.join(out, "t.txt")
    done = cli("run", "--report", report, "--text", text, "--", "true")
    expect_eq(done.returncode, 0, done.stderr)
    expect(os.path.exists(report) and os.path.exists(text), os.listdir(out))
    expect_eq(sorted(os.listdir(out)), ["r.json", "t.txt"], "the check left a file behind")


def test_a_value_that_looks_like_an_option_is_refused():
    refused_before_the_build("--report", "--quiet", fragment='--report wants a value, not the option-like "--quiet"')
    refused_before_the_build("--text=--x", fragment='--text wants a value')


def test_a_directory_as_rules_is_named():
    rules = tempfile.mkdtemp(prefix="fpshim-cli-")
    refused_before_the_build("--rules", rules, fragment=f"{rules}: cannot read the rules file: it is a directory")
    done = cli("check-rules", "--rules", rules)
    expect_eq(done.returncode, 2, done.stderr)
    expect(b"it is a directory" in done.stderr, done.stderr)


if __name__ == "__main__":
    main(globals())
