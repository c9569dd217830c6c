"""Nothing but LD_PRELOAD: the Dockerfile `ENV LD_PRELOAD=...` and CI-job deployments. Processes report
to the documented default spool of their uid; `fpshim report` splits it into builds (process trees,
or FPSHIM_BUILD) and writes the same reports as `fpshim run`.

The steps run as `nobody`, whose default spool (/var/tmp/fpshim-65534/spool) no other test uses
(ctest keeps test_serve, which also serves nobody, from running at the same time)."""
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile

from harness import FPSHIM, SOURCE, expect, expect_eq, main, plain

LIB = os.path.join(os.path.dirname(os.path.abspath(FPSHIM)), "libfpshim.so")
NOBODY = pwd.getpwnam("nobody")
DEFAULT_DIR = f"/var/tmp/fpshim-{NOBODY.pw_uid}"
DEFAULT_SPOOL = DEFAULT_DIR + "/spool"
AS_NOBODY = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups"]
PATH = "/usr/local/bin:/usr/bin:/bin"


def fresh_default_dir():
    shutil.rmtree(DEFAULT_DIR, ignore_errors=True)


def workdir():
    """A directory nobody can read and run scripts from."""
    d = tempfile.mkdtemp(prefix="fpshim-bare-")
    os.chmod(d, 0o755)
    return d


def script(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def step(cmd, cwd, extra_env=None, as_nobody=True):
    """One Dockerfile RUN step: `/bin/sh -c CMD` with nothing of fpshim's but LD_PRELOAD."""
    env = {"PATH": PATH, "LD_PRELOAD": LIB}
    # and the sanitizers' options, which a sanitized test program needs with our library preloaded
    env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")})
    env.update(extra_env or {})
    argv = (AS_NOBODY if as_nobody else []) + ["/bin/sh", "-c", cmd]
    return subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def report(*options, as_nobody=True, cwd=None):
    """`fpshim report` (as nobody, whose spool it is); returns (process, JSON report or None)."""
    out = tempfile.mkdtemp(prefix="fpshim-bare-report-")
    os.chmod(out, 0o777)
    path = os.path.join(out, "report.json")
    argv = (AS_NOBODY if as_nobody else []) + [FPSHIM, "report", "--report", path] + list(options)
    proc = subprocess.run(argv, cwd=cwd or out, env={"PATH": PATH}, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    data = json.load(open(path)) if os.path.exists(path) else None
    shutil.rmtree(out, ignore_errors=True)
    return proc, data


def test_the_embedded_filter_is_what_check_rules_prints():
    # With a home among those every filter has (/root, /home/*) and no working directory ("/"):
    # "~/" adds the build's own home and "./" its directory to the filter `fpshim run` compiles,
    # which the embedded one cannot know.
    printed = subprocess.run([FPSHIM, "check-rules", "--rules", os.path.join(SOURCE, "rules.json")],
                             stdout=subprocess.PIPE, check=True, text=True, env=dict(os.environ, HOME="/root"),
                             cwd="/").stdout
    line = [l for l in printed.splitlines() if l.startswith("filter: ")]
    expect_eq(len(line), 1, printed)
    compiled = line[0][len("filter: "):].encode()
    expect(compiled.startswith(b"v1:P/"), compiled[:40])
    with open(LIB, "rb") as f:
        library = f.read()
    expect(b"\0" + compiled + b"\0" in library, "libfpshim.so does not embed the filter check-rules prints")


def test_three_dockerfile_steps_make_three_builds_and_one_fingerprints():
    fresh_default_dir()
    d = workdir()
    script(d, "gen-id.sh", "#!/bin/sh\nhead -c 16 /proc/ioports > /dev/null\n"
                           "cat /sys/class/dmi/id/product_uuid 2>/dev/null || true\necho generated\n")
    steps = ["ls / > /dev/null && echo configured", "./gen-id.sh && echo built", "cat /etc/os-release > /dev/null"]
    for s in steps:
        run = step(s, d)
        expect_eq(run.returncode, 0, run.stderr)
    proc, r = report()
    expect_eq(proc.returncode, 0, proc.stderr)
    text = proc.stderr.decode()
    expect("3 builds in the spool" in text, text)
    builds = r["builds"]
    expect_eq(sorted(b["root"]["argv"][-1] for b in builds), sorted(steps))
    fired = [b for b in builds if b["recipes"]]
    expect_eq(len(fired), 1, builds)
    expect_eq(fired[0]["root"]["argv"], ["/bin/sh", "-c", "./gen-id.sh && echo built"])
    expect_eq([x["name"] for x in fired[0]["recipes"]], ["machine_fingerprint"])
    recipe = [x for x in r["recipes"] if x["name"] == "machine_fingerprint"][0]
    paths = {p["path"]: p for p in recipe["paths"]}
    expect("/proc/ioports" in paths, paths.keys())
    expect("/sys/class/dmi/id/product_uuid" in paths, paths.keys())  # reported even where it does not exist
    reader = [p for p in recipe["processes"] if os.path.basename(p["exe"]) == "head"][0]
    chain = [a["argv"] for a in reader["ancestry"]]
    expect_eq(chain[-1], ["/bin/sh", "-c", "./gen-id.sh && echo built"], chain)
    expect(any("./gen-id.sh" in a for a in chain[0]), chain)
    # Every process of every step was seen, and nothing was lost.
    expect_eq(r["stats"]["lost"], 0)
    expect_eq(r["coverage"]["unmonitored"], [])
    # The directory is the uid's own, closed to others.
    st = os.stat(DEFAULT_SPOOL)
    expect_eq((st.st_uid, stat.S_IMODE(st.st_mode)), (NOBODY.pw_uid, 0o700))

    # One build by its root's pid: the report is that build's alone, as `fpshim run` would write it.
    pid = fired[0]["root"]["pid"]
    proc, one = report("--root", str(pid))
    expect_eq(proc.returncode, 0, proc.stderr)
    expect_eq(one["builds"], [])
    expect_eq(one["build"]["command"], ["/bin/sh", "-c", "./gen-id.sh && echo built"])
    expect_eq([x["name"] for x in one["recipes"]], ["machine_fingerprint"])
    proc, clean = report("--root", str(builds[0]["root"]["pid"]) if builds[0] is not fired[0]
                         else str(builds[1]["root"]["pid"]))
    expect_eq(clean["recipes"], [])
    expect("no fingerprinting detected" in proc.stderr.decode(), proc.stderr)
    shutil.rmtree(d)


def test_named_builds_are_reported_and_consumed_one_by_one():
    fresh_default_dir()
    d = workdir()
    env = subprocess.run([FPSHIM, "env", "--format", "github", "--build", "step-a"], stdout=subprocess.PIPE,
                         check=True, text=True).stdout
    lines = dict(l.split("=", 1) for l in env.splitlines())
    expect_eq(lines, {"LD_PRELOAD": os.path.realpath(LIB), "FPSHIM_BUILD": "step-a"})
    step("cat /proc/ioports > /dev/null; sh -c 'true'", d, {"FPSHIM_BUILD": "step-a"})
    step("cat /etc/os-release > /dev/null", d, {"FPSHIM_BUILD": "step-b"})
    step("true", d, {"FPSHIM_BUILD": "step-b"})  # a second tree of the same named build
    proc, a = report("--build", "step-a")
    expect_eq(proc.returncode, 0, proc.stderr)
    expect_eq([x["name"] for x in a["recipes"]], ["machine_fingerprint"])
    proc, both = report()
    expect_eq(len(both["builds"]), 2, both["builds"])
    b = [x for x in both["builds"] if x["recipes"] == []][0]
    # two trees, one build: the first sh (and its fork) and cat, then the second sh
    expect(b["processes"] >= 3, b)
    expect_eq(b["root"]["argv"], ["/bin/sh", "-c", "cat /etc/os-release > /dev/null"])
    # --consume takes step-a out of the spool; step-b stays for the next report.
    proc, _ = report("--build", "step-a", "--consume")
    expect_eq(proc.returncode, 0, proc.stderr)
    proc, rest = report()
    expect_eq(proc.returncode, 0, proc.stderr)
    expect_eq(rest["builds"], [])
    expect_eq(rest["recipes"], [])
    expect_eq(len(rest["processes"]), b["processes"])
    proc, _ = report("--consume")
    expect_eq(proc.returncode, 0, proc.stderr)
    proc, none = report()
    expect_eq(proc.returncode, 4, proc.stderr)
    expect("nothing was recorded" in proc.stderr.decode(), proc.stderr)
    shutil.rmtree(d)


def test_concurrent_builds_share_the_spool_and_corrupt_nothing():
    fresh_default_dir()
    d = workdir()
    loop = "i=0; while [ $i -lt 25 ]; do cat /proc/ioports > /dev/null; i=$((i+1)); done"
    procs = []
    for n in range(4):
        env = {"PATH": PATH, "LD_PRELOAD": LIB, "FPSHIM_BUILD": f"job-{n}"}
        procs.append(subprocess.Popen(AS_NOBODY + ["/bin/sh", "-c", loop], cwd=d, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for p in procs:
        expect_eq(p.wait(timeout=120), 0)
    proc, r = report()
    expect_eq(proc.returncode, 0, proc.stderr)
    expect_eq(len(r["builds"]), 4)
    for b in r["builds"]:
        expect_eq(b["processes"], 51, b)  # images: the shell, and 25 times its fork and the cat that replaced it
        expect_eq([x["name"] for x in b["recipes"]], ["machine_fingerprint"])
    ioports = [p for p in r["recipes"][0]["paths"] if p["path"] == "/proc/ioports"][0]
    expect_eq(ioports["count"], 100)
    expect_eq((r["stats"]["lost"], r["stats"]["malformed"]), (0, 0))
    shutil.rmtree(d)


def test_an_unwritable_spool_changes_nothing_and_the_report_says_why():
    fresh_default_dir()
    os.mkdir(DEFAULT_DIR, 0o755)  # root's: nobody cannot create its spool in it
    d = workdir()
    script(d, "probe.sh", "#!/bin/sh\ncat /proc/ioports | head -c 1 | wc -c\necho out; echo err >&2; exit 3\n")
    bare = step("./probe.sh", d)
    untraced = plain(AS_NOBODY + ["/bin/sh", "-c", "./probe.sh"], cwd=d, env={"PATH": PATH})
    expect_eq((bare.returncode, bare.stdout, bare.stderr), (untraced.returncode, untraced.stdout, untraced.stderr))
    expect_eq(os.listdir(DEFAULT_DIR), [])
    proc, r = report()
    expect_eq(proc.returncode, 4, proc.stderr)
    expect_eq(r, None)
    said = proc.stderr.decode()
    expect(f"{DEFAULT_SPOOL} does not exist" in said and "LD_PRELOAD" in said and f"uid {NOBODY.pw_uid}" in said, said)
    fresh_default_dir()
    shutil.rmtree(d)


def test_records_that_could_not_be_written_are_counted_in_the_loss_ledger():
    """A step that makes its spool and process log unwritable (as a hostile build may, or a full
    disk does) loses its records; the ledger made with the spool counts them, and the report says so."""
    fresh_default_dir()
    d = workdir()
    first = step("cat /etc/hostname > /dev/null", d)  # makes the spool, its ledger and the process log
    expect_eq(first.returncode, 0, first.stderr)
    expect({"lost.ledger", "processes.spool"} <= set(os.listdir(DEFAULT_SPOOL)), os.listdir(DEFAULT_SPOOL))
    hostile = step(f"chmod 400 {DEFAULT_SPOOL}/processes.spool && chmod 500 {DEFAULT_SPOOL} && "
                   "cat /proc/ioports > /dev/null && echo done", d)
    expect_eq((hostile.returncode, hostile.stdout), (0, b"done\n"), hostile.stderr)
    proc, r = report()
    said = proc.stderr.decode()
    expect_eq(proc.returncode, 0, said)
    # cat's hello, its access record and its bye; the shell's bye (the lost count of sh itself went
    # into the ledger too, as nothing else could take it).
    expect(r["stats"]["lost"] >= 3, r["stats"])
    expect(f"could be neither sent nor written to {DEFAULT_SPOOL}" in said, said)
    os.chmod(DEFAULT_SPOOL, 0o700)
    fresh_default_dir()
    shutil.rmtree(d)


def test_a_spool_of_another_uid_is_refused():
    fresh_default_dir()
    d = workdir()
    step("cat /proc/ioports > /dev/null", d)
    proc, r = report("--spool", DEFAULT_SPOOL, as_nobody=False)  # root reading nobody's spool
    expect_eq(proc.returncode, 2, proc.stderr)
    expect(f"belongs to uid {NOBODY.pw_uid}" in proc.stderr.decode(), proc.stderr)
    fresh_default_dir()
    shutil.rmtree(d)


if __name__ == "__main__":
    main(globals())
