"""The README's deployment sections (wrapper, Dockerfile-style steps, a CI job) and docs/serve.md's
runner block, run as they are written: each ```sh block is read from the document, not copied here,
so a command that stops working there fails this test.

What the test supplies around the commands, and nothing else:
- a scratch copy of the repository's examples/ as the working directory (the commands `cd` into it);
- `fpshim` on PATH (the build's), and the built library wherever a block names
  /usr/local/lib/fpshim/libfpshim.so (where `cmake --install` puts it);
- the CI runner's part: each line of the CI block is a step of its own, with the variables that
  earlier steps appended to $GITHUB_ENV, GITHUB_RUN_ID=4242 and a step summary file; CI_JOB_ID=4242;
- docs/serve.md's `--uid runner` names `nobody`, the only unprivileged user every Debian has.
Everything runs as `nobody` (the serve daemon as root, as the document says), in a private mount
namespace with its own /var/tmp and /var/lib, so the documented default directories are used as
documented and no other test or earlier run is in the way."""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import FPSHIM, SOURCE, expect, expect_eq, main

MARK = "FPSHIM_TEST_PRIVATE_VAR"
NOBODY = pwd.getpwnam("nobody")
BIN = os.path.dirname(os.path.abspath(FPSHIM))
LIB = os.path.join(BIN, "libfpshim.so")
INSTALLED_LIB = "/usr/local/lib/fpshim/libfpshim.so"
PATH = f"{BIN}:/usr/local/bin:/usr/bin:/bin"
SANITIZERS = {k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")}


def enter_private_var():
    """Re-runs this file in a private mount namespace with fresh tmpfs on /var/tmp and /var/lib."""
    if os.environ.get(MARK):
        for d in ("/var/tmp", "/var/lib"):
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777" if d == "/var/tmp" else "mode=755",
                            "fpshim-test", d], check=True)
        return
    expect(os.geteuid() == 0 and shutil.which("unshare"),
           "needs root and unshare: the blocks use the documented default directories and the uid nobody")
    os.execvpe("unshare", ["unshare", "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__)]
               + sys.argv[1:], dict(os.environ, **{MARK: "1"}))


def sh_blocks(document, heading):
    """The ```sh blocks of the section that starts with `heading` (up to the next heading)."""
    lines = open(os.path.join(SOURCE, document), encoding="utf-8").read().splitlines()
    blocks, block, fenced = [], None, False
    for line in lines[lines.index(heading) + 1:]:
        if line.startswith("```"):
            fenced = not fenced
            if line == "```sh":
                block = []
            elif block is not None:
                blocks.append("\n".join(block).replace(INSTALLED_LIB, LIB) + "\n")
                block = None
        elif block is not None:
            block.append(line)
        elif not fenced and line.startswith("#"):
            break
    return blocks


def scratch():
    """A scratch directory holding a copy of examples/, which nobody can write."""
    d = tempfile.mkdtemp(prefix="fpshim-readme-")
    shutil.copytree(os.path.join(SOURCE, "examples"), os.path.join(d, "examples"), symlinks=True)
    subprocess.run(["chown", "-R", f"{NOBODY.pw_uid}:{NOBODY.pw_gid}", d], check=True)
    os.chmod(d, 0o755)
    shutil.rmtree("/tmp/fp-out", ignore_errors=True)
    return d


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY.pw_gid)
    os.setuid(NOBODY.pw_uid)


def run(script, cwd, env, as_root=False):
    full = {"PATH": PATH, "HOME": "/nonexistent"}
    full.update(SANITIZERS)
    full.update(env)
    return subprocess.run(["/bin/bash", "-c", script], cwd=cwd, env=full, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                          preexec_fn=None if as_root else as_nobody)


def recipes(report):
    return sorted(r["name"] for r in report["recipes"])


def test_wrapping_a_command():
    blocks = sh_blocks("README.md", "### Wrapping a command")
    expect_eq(len(blocks), 1, blocks)
    d = scratch()
    proc = run(blocks[0], d, {})
    said = proc.stderr.decode()
    expect_eq(proc.returncode, 0, said)  # make's status, and check-rules' after it
    report = json.load(open(os.path.join(d, "examples/fingerprinting-build/fp.json")))
    expect("machine_fingerprint" in recipes(report), report["recipes"])
    expect("fpshim: " in said and "machine_fingerprint" in said, said)  # the summary on stderr
    expect("/proc/ioports" in proc.stdout.decode(), proc.stdout)  # check-rules shows the pre-filter
    shutil.rmtree(d)


def test_dockerfile_style_steps_and_a_ci_job_with_nothing_but_ld_preload():
    blocks = sh_blocks("README.md", "### Nothing but `LD_PRELOAD`: a Dockerfile `ENV`, a CI job's environment")
    expect_eq(len(blocks), 2, blocks)
    steps, job = blocks

    # Steps of a script: two builds in the spool (each `sh -c` is a root), reported and gated at the end.
    d = scratch()
    proc = run(steps, d, {})
    said = proc.stderr.decode()
    expect_eq(proc.returncode, 3, said)  # the gate: machine_fingerprint is medium
    report = json.load(open(os.path.join(d, "examples/fingerprinting-build/fp.json")))
    expect_eq(len(report["builds"]), 2, report["builds"])
    for b in report["builds"]:
        expect("machine_fingerprint" in [r["name"] for r in b["recipes"]], b)
    expect_eq([b["root"]["argv"][:2] for b in report["builds"]], [["sh", "-c"]] * 2)
    expect_eq((report["stats"]["lost"], report["stats"]["malformed"]), (0, 0))
    left = os.listdir(f"/var/tmp/fpshim-{NOBODY.pw_uid}/spool")
    expect_eq(left, ["lost.ledger"], "--consume empties the spool but for its loss ledger")
    shutil.rmtree(d)

    # A CI job: each line is a step; $GITHUB_ENV carries what the first wrote to the later ones.
    d = scratch()
    github_env = os.path.join(d, "github_env")
    summary = os.path.join(d, "step_summary")
    for f in (github_env, summary):
        open(f, "w").close()
        os.chown(f, NOBODY.pw_uid, NOBODY.pw_gid)
    runner = {"GITHUB_ACTIONS": "true", "GITHUB_ENV": github_env, "GITHUB_STEP_SUMMARY": summary,
              "GITHUB_RUN_ID": "4242"}
    lines = [l for l in job.splitlines() if l.strip()]
    expect_eq(len(lines), 3, lines)
    statuses = []
    for line in lines:
        env = dict(runner)
        env.update(parse_github_env(open(github_env).read()))
        proc = run(line, d, env)
        statuses.append(proc.returncode)
    said = proc.stderr.decode()
    expect_eq(statuses, [0, 0, 3], said)
    expect_eq(set(parse_github_env(open(github_env).read())), {"LD_PRELOAD", "FPSHIM_BUILD"})
    report = json.load(open(os.path.join(d, "fp.json")))
    expect_eq(report["builds"], [])  # one build: the report is that build's
    expect("machine_fingerprint" in recipes(report), report["recipes"])
    expect("::warning " in said or "::error " in said, said)  # the annotations, on stderr
    expect("machine_fingerprint" in open(summary).read(), "the step summary names the recipe")
    shutil.rmtree(d)


def parse_github_env(text):
    """$GITHUB_ENV as the runner reads it: NAME=value lines and NAME<<DELIMITER blocks."""
    out, lines = {}, text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:j])
            i = j + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    return out


def test_a_runner_with_serve():
    blocks = sh_blocks("docs/serve.md", "## On a CI runner")
    expect_eq(len(blocks), 1, blocks)
    lines = [l for l in blocks[0].splitlines() if l.strip() and not l.startswith("#")]
    serve_line, job_env = lines[0], lines[1:]
    expect(serve_line.startswith("fpshim serve --uid runner "), serve_line)
    expect(all(re.match(r"^[A-Z_]+=", l) for l in job_env), job_env)
    d = scratch()
    log = open(os.path.join(d, "serve.log"), "wb")
    serve = subprocess.Popen(["/bin/bash", "-c", "exec " + serve_line.replace("--uid runner", "--uid nobody")],
                             env={"PATH": PATH, **SANITIZERS}, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.time() + 10
        while not os.path.exists(f"/var/tmp/fpshim-{NOBODY.pw_uid}/serve.ctl"):
            expect(serve.poll() is None and time.time() < deadline, open(log.name).read())
            time.sleep(0.05)
        # A job of the runner's user: the block's variables in its environment, and the example's make.
        exports = "".join(f"export {l}\n" for l in job_env)
        proc = run(exports + "cd examples/fingerprinting-build && make -j4 BUILD=/tmp/fp-out\n", d,
                   {"CI_JOB_ID": "4242"})
        expect_eq(proc.returncode, 0, proc.stderr)
        path = f"/var/lib/fpshim/reports/{NOBODY.pw_uid}/{build_id('job-4242')}.json"
        deadline = time.time() + 60  # the block's --grace 10, then the report
        while not os.path.exists(path):
            expect(serve.poll() is None and time.time() < deadline, f"no {path}\n" + open(log.name).read())
            time.sleep(0.2)
        report = json.load(open(path))
        expect("machine_fingerprint" in recipes(report), report["recipes"])
        for ext in ("txt", "sarif"):  # the block's --formats json,txt,sarif
            expect(os.path.exists(path[:-len("json")] + ext), ext)
        expect_eq(os.stat(path).st_uid, NOBODY.pw_uid)
    finally:
        serve.send_signal(signal.SIGTERM)
        expect_eq(serve.wait(timeout=60), 0, open(log.name).read())
        log.close()
    shutil.rmtree(d)


def build_id(name):
    """wire::build_id_of_name: FNV-1a 64 of the name, never 0."""
    h = 0xcbf29ce484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h or 1:016x}"


if __name__ == "__main__":
    enter_private_var()
    main(globals())
