"""The GitHub Action's scripts (action/main.js, action/post.js) run with node as the runner runs them:
INPUT_* and STATE_* in the environment, GITHUB_ENV, GITHUB_STATE, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
pointed at temporary files. Run mode builds the bundled example under the real fpshim; preload mode sets
LD_PRELOAD for later steps; the post step's `fpshim report` command line is checked with a stand-in fpshim
that has the verb (the real one does not have it yet)."""
import json
import os
import shutil
import stat
import subprocess
import tempfile
from harness import FPSHIM, SOURCE, expect, expect_eq, main

NODE = shutil.which("node") or shutil.which("nodejs")
ACTION = os.path.join(SOURCE, "action")


class Runner:
    """One job's files, as the runner sets them up."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fpshim-action-")
        self.files = {}
        for name in ("GITHUB_ENV", "GITHUB_STATE", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
            self.files[name] = os.path.join(self.dir, name.lower())
            open(self.files[name], "w").close()
        self.temp = os.path.join(self.dir, "runner-temp")
        self.workspace = os.path.join(self.dir, "workspace")
        os.makedirs(self.temp)
        shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), self.workspace)

    def env(self, inputs, path, state=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "STATE_", "FPSHIM_"))}
        env.update(self.files)
        env.update(GITHUB_ACTIONS="true", RUNNER_TEMP=self.temp, GITHUB_WORKSPACE=self.workspace, PATH=path)
        env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
        env.update({f"STATE_{k}": v for k, v in (state or {}).items()})
        return env

    def step(self, script, inputs, path, state=None):
        return subprocess.run([NODE, os.path.join(ACTION, script)], cwd=self.workspace, env=self.env(inputs, path, state),
                              capture_output=True, text=True, timeout=900)  # main.js may build fpshim: minutes on 2 busy CPUs

    def read(self, name):
        with open(self.files[name], encoding="utf-8") as f:
            return f.read()

    def pairs(self, name):
        return dict(line.split("=", 1) for line in self.read(name).splitlines() if "=" in line)


def path_with_fpshim():
    return os.path.dirname(os.path.abspath(FPSHIM)) + ":" + os.environ.get("PATH", "/usr/bin:/bin")


def fake_fpshim(directory, verbs_help="fpshim report --spool DIR", status=0):
    """A stand-in fpshim (with a libfpshim.so beside it) that records its argv and LD_PRELOAD."""
    bindir = os.path.join(directory, "fake")
    os.makedirs(bindir, exist_ok=True)
    log = os.path.join(bindir, "calls.jsonl")
    script = os.path.join(bindir, "fpshim")
    with open(script, "w") as f:
        f.write(f"""#!/usr/bin/python3
import json, os, sys
if sys.argv[1:] == ["--help"]:
    print("usage: fpshim run [OPTIONS] [--] COMMAND\\n       {verbs_help}")
    sys.exit(0)
with open({log!r}, "a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "LD_PRELOAD": os.environ.get("LD_PRELOAD")}}) + "\\n")
sys.exit({status})
""")
    os.chmod(script, os.stat(script).st_mode | stat.S_IEXEC)
    open(os.path.join(bindir, "libfpshim.so"), "w").close()
    return script, log


def calls(log):
    with open(log) as f:
        return [json.loads(line) for line in f]


def test_run_mode_builds_the_example_and_reports():
    r = Runner()
    step = r.step("main.js", {"run": "make -j4 BUILD=out"}, path_with_fpshim())
    expect_eq(step.returncode, 0, step.stdout + step.stderr)
    fpshim = os.path.realpath(FPSHIM)
    expect(f"[command]{fpshim} run --github --report {r.temp}/fpshim/report.json -- bash -e -o pipefail -c "
           "'make -j4 BUILD=out'" in step.stdout, step.stdout)
    outputs = r.pairs("GITHUB_OUTPUT")
    expect_eq(outputs["exit-code"], "0")
    expect_eq(outputs["mode"], "run")
    expect_eq(outputs["fpshim"], fpshim)
    expect_eq(outputs["library"], os.path.join(os.path.dirname(fpshim), "libfpshim.so"))
    expect_eq(outputs["report"], os.path.join(r.temp, "fpshim", "report.json"))
    report = json.load(open(outputs["report"]))
    expect_eq(sorted(x["name"] for x in report["recipes"]), ["machine_fingerprint", "os_network_fingerprint"])
    expect_eq(r.pairs("GITHUB_STATE")["mode"], "run")
    expect_eq(r.read("GITHUB_ENV"), "")  # run mode leaves later steps alone
    summary = r.read("GITHUB_STEP_SUMMARY")
    expect(summary.startswith("## fpshim: fingerprinting detected\n"), summary[:300])
    expect("The build `bash -e -o pipefail -c 'make -j4 BUILD=out'` exited with 0." in summary, summary[:300])
    expect("`machine_fingerprint`: Machine fingerprinting" in summary, summary)
    expect("`cat /proc/ioports` ← `sh scripts/gen-build-info.sh`" in summary, summary)
    expect("- **Location:** `scripts/gen-build-info.sh` line" in summary, summary)
    warnings = [line for line in step.stderr.splitlines() if line.startswith("::warning file=scripts/gen-build-info.sh,")]
    expect(1 <= len(warnings) <= 10, step.stderr)
    expect(os.path.exists(os.path.join(r.workspace, "out", "app")), "the build ran in the workspace")

    post = r.step("post.js", {"run": "make -j4 BUILD=out"}, path_with_fpshim(), state=r.pairs("GITHUB_STATE"))
    expect_eq(post.returncode, 0, post.stdout + post.stderr)
    expect("nothing left to do" in post.stdout, post.stdout)
    shutil.rmtree(r.dir)


def test_run_mode_fails_the_step_with_the_build():
    r = Runner()
    step = r.step("main.js", {"run": "echo building; exit 3", "working-directory": r.temp}, path_with_fpshim())
    expect_eq(step.returncode, 3, step.stdout + step.stderr)
    expect("building" in step.stdout, step.stdout)
    expect_eq(r.pairs("GITHUB_OUTPUT")["exit-code"], "3")
    expect("::error title=fpshim::fpshim run exited with 3" in step.stdout, step.stdout)
    expect("## fpshim: no fingerprinting detected" in r.read("GITHUB_STEP_SUMMARY"), r.read("GITHUB_STEP_SUMMARY"))
    shutil.rmtree(r.dir)


def test_run_mode_passes_the_gate_and_sarif_inputs():
    r = Runner()
    fake, log = fake_fpshim(r.dir, status=1)
    inputs = {"run": "make", "sarif": "out.sarif", "fail-on": "medium", "suppress": "fpshim-suppress.json",
              "source-root": ".", "report": "r.json"}
    step = r.step("main.js", inputs, os.path.dirname(fake) + ":/usr/bin:/bin")
    expect_eq(step.returncode, 1, step.stdout + step.stderr)
    w = r.workspace
    expect_eq(calls(log)[0]["argv"], ["run", "--github", "--report", f"{w}/r.json", "--sarif", f"{w}/out.sarif",
                                      "--fail-on", "medium", "--suppress", f"{w}/fpshim-suppress.json",
                                      "--source-root", w, "--", "bash", "-e", "-o", "pipefail", "-c", "make"])
    expect_eq(r.pairs("GITHUB_OUTPUT")["sarif"], f"{w}/out.sarif")
    bad = r.step("main.js", {"run": "make", "fail-on": "sometimes"}, os.path.dirname(fake) + ":/usr/bin:/bin")
    expect_eq(bad.returncode, 1)
    expect("::error title=fpshim::fail-on must be none, low, medium, high or critical" in bad.stdout, bad.stdout)
    expect_eq(len(calls(log)), 1)
    shutil.rmtree(r.dir)


def test_preload_mode_sets_ld_preload_and_post_reports_from_the_spool():
    r = Runner()
    step = r.step("main.js", {"sarif": "fpshim.sarif", "fail-on": "medium"}, path_with_fpshim())
    expect_eq(step.returncode, 0, step.stdout + step.stderr)
    library = os.path.join(os.path.dirname(os.path.realpath(FPSHIM)), "libfpshim.so")
    env = r.pairs("GITHUB_ENV")
    expect_eq(env["LD_PRELOAD"], library)
    expect(os.path.isabs(env["LD_PRELOAD"]) and os.path.isfile(env["LD_PRELOAD"]), env)
    expect_eq(env["FPSHIM_SPOOL"], os.path.join(r.temp, "fpshim-spool"))
    expect(os.path.isdir(env["FPSHIM_SPOOL"]))
    state = r.pairs("GITHUB_STATE")
    expect_eq((state["mode"], state["spool"], state["library"]), ("preload", env["FPSHIM_SPOOL"], library))

    # A later step with what GITHUB_ENV set: the shim is loaded, the program works as before, and what it
    # read lands in the spool.
    later = subprocess.run(["sh", "-c", "head -c 8 /proc/ioports | wc -c"], env={**os.environ, **env},
                           capture_output=True)
    expect_eq((later.returncode, later.stdout.strip()), (0, b"8"), later.stderr)

    post = r.step("post.js", {"sarif": "fpshim.sarif", "fail-on": "medium"}, path_with_fpshim(), state=state)
    expect_eq(post.returncode, 3, post.stdout + post.stderr)  # the gate: a medium finding
    summary = r.read("GITHUB_STEP_SUMMARY")
    expect("## fpshim: fingerprinting detected" in summary and "/proc/ioports" in summary, summary)
    sarif = json.load(open(os.path.join(r.workspace, "fpshim.sarif")))
    expect_eq([x["ruleId"] for x in sarif["runs"][0]["results"]], ["machine_fingerprint"])
    shutil.rmtree(r.dir)


def test_post_step_runs_fpshim_report_when_the_verb_exists():
    r = Runner()
    fake, log = fake_fpshim(r.dir, status=4)
    inputs = {"sarif": "fpshim.sarif", "fail-on": "high", "suppress": "s.json"}
    path = os.path.dirname(fake) + ":/usr/bin:/bin"
    step = r.step("main.js", inputs, path)
    expect_eq(step.returncode, 0, step.stdout + step.stderr)
    expect("has no `fpshim report`" not in step.stdout, step.stdout)
    state = r.pairs("GITHUB_STATE")
    lib = os.path.join(os.path.dirname(fake), "libfpshim.so")
    expect_eq(r.pairs("GITHUB_ENV")["LD_PRELOAD"], lib)
    post = subprocess.run([NODE, os.path.join(ACTION, "post.js")], cwd=r.workspace, capture_output=True, text=True,
                          env={**r.env(inputs, path, state), "LD_PRELOAD": lib + ":/other.so", "FPSHIM_LIB": lib})
    expect_eq(post.returncode, 4, post.stdout + post.stderr)
    w = r.workspace
    expect_eq(calls(log), [{"argv": ["report", "--spool", state["spool"], "--github", "--report",
                                     f"{r.temp}/fpshim/report.json", "--sarif", f"{w}/fpshim.sarif", "--fail-on", "high",
                                     "--suppress", f"{w}/s.json", "--source-root", w],
                            "LD_PRELOAD": "/other.so"}])
    expect("::error title=fpshim::fpshim report exited with 4" in post.stdout, post.stdout)
    shutil.rmtree(r.dir)


def test_main_builds_fpshim_from_the_action_checkout_when_none_is_installed():
    r = Runner()
    step = r.step("main.js", {"run": "make -j4 BUILD=out", "build-jobs": "2", "install-dependencies": "false"},
                  "/usr/bin:/bin")
    expect_eq(step.returncode, 0, step.stdout[-3000:] + step.stderr[-3000:])
    built = os.path.join(r.temp, "fpshim-build", "bin", "fpshim")
    expect(f"fpshim: using {built} (built from {SOURCE})" in step.stdout, step.stdout[-3000:])
    expect_eq(r.pairs("GITHUB_OUTPUT")["library"], os.path.join(r.temp, "fpshim-build", "bin", "libfpshim.so"))
    expect("`machine_fingerprint`" in r.read("GITHUB_STEP_SUMMARY"))
    shutil.rmtree(r.dir)


if __name__ == "__main__":
    main(globals())
