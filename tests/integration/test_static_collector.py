"""One file to copy: the fpshim command is linked statically (FPSHIM_STATIC, the default unless the
build is sanitized) and runs the bundled example from a directory where it is alone with the shims,
with neither the source tree nor the build tree visible (a private mount namespace hides them), so it
finds libfpshim.so next to itself and uses the rules built into it."""
import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import FPSHIM, SOURCE, expect, expect_eq, main

BIN = os.path.dirname(os.path.abspath(FPSHIM))
BUILD = os.path.dirname(BIN)


def configured(name):
    cache = open(os.path.join(BUILD, "CMakeCache.txt"), encoding="utf-8").read()
    m = re.search(rf"^{name}:\w+=(.*)$", cache, re.M)
    return m.group(1) if m else ""


def is_static():
    return configured("FPSHIM_STATIC").upper() in ("ON", "1", "TRUE", "YES") and not configured("FPSHIM_SANITIZE")


def readelf(*args):
    return subprocess.run(["readelf", "-W"] + list(args) + [FPSHIM], stdout=subprocess.PIPE, text=True,
                          check=True).stdout


def test_linked_statically():
    if not is_static():
        # A sanitized build (FPSHIM_SANITIZE) links dynamically: sanitizer runtimes cannot be static.
        # Then the command must say so too, and the rest of this file checks the copy all the same.
        expect("NEEDED" in readelf("-d"), "a dynamic build should have NEEDED entries")
        return
    expect_eq(re.findall(r"\(NEEDED\).*", readelf("-d")), [], "NEEDED entries of a static fpshim")
    expect("INTERP" not in readelf("-l"), "a static fpshim has no program interpreter")


def test_a_copy_alone_with_its_shims_runs_the_example():
    alone = tempfile.mkdtemp(prefix="fpshim-alone-")
    shutil.copy(FPSHIM, alone)
    shims = [f for f in os.listdir(BIN) if re.fullmatch(r"libfpshim(-[a-z0-9_]+)?\.so", f)]
    for shim in shims:
        shutil.copy(os.path.join(BIN, shim), alone)
    example = tempfile.mkdtemp(prefix="fpshim-alone-example-")
    shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), example, dirs_exist_ok=True)
    report = os.path.join(example, "report.json")
    # The source tree (which holds the build tree here) is covered by an empty tmpfs, as it would be
    # absent from an image the pair was copied into.
    script = f'mount -t tmpfs fpshim-hidden "$1" && [ -z "$(ls -A "$1")" ] && exec "$2/fpshim" run --report "$3" -- sh -c \'echo "LD_PRELOAD=$LD_PRELOAD" >&2; make -j4 BUILD=out\''
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
            os.path.realpath(SOURCE), alone, report]
    if os.getuid() != 0:
        argv[1:1] = ["--map-root-user"]
    run = subprocess.run(argv, cwd=example, env={"PATH": "/usr/bin:/bin"}, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    expect_eq(run.returncode, 0, run.stdout + run.stderr)
    expect(f"LD_PRELOAD={os.path.realpath(alone)}/libfpshim.so" in run.stderr, run.stderr)
    with open(report, encoding="utf-8") as f:
        fired = sorted(r["name"] for r in json.load(f)["recipes"])
    expect_eq(fired, ["machine_fingerprint", "os_network_fingerprint"], run.stderr)
    expect("Machine fingerprinting" in run.stderr, run.stderr)
    shutil.rmtree(alone)
    shutil.rmtree(example)


def test_check_rules_names_the_built_in_rules_when_no_file_is_found():
    alone = tempfile.mkdtemp(prefix="fpshim-alone-")
    shutil.copy(FPSHIM, alone)
    script = 'mount -t tmpfs fpshim-hidden "$1" && [ -z "$(ls -A "$1")" ] && exec "$2/fpshim" check-rules'
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", os.path.realpath(SOURCE), alone]
    if os.getuid() != 0:
        argv[1:1] = ["--map-root-user"]
    run = subprocess.run(argv, env={"PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=60)
    expect_eq(run.returncode, 0, run.stderr)
    expect(run.stdout.startswith("rules.json built into fpshim: "), run.stdout)
    shipped = subprocess.run([FPSHIM, "check-rules", "--rules", os.path.join(SOURCE, "rules.json")],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
    expect_eq(run.stdout.split("\n", 1)[1], shipped.split("\n", 1)[1], "the built-in rules are the shipped ones")
    shutil.rmtree(alone)


if __name__ == "__main__":
    main(globals())
