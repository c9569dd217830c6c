"""What every integration test needs: run a command under `fpshim run`, read its report, and a tiny
runner that calls each test_* function and ends with the plain 'N passed, N failed' line."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

FPSHIM = os.environ.get("FPSHIM_BIN", "build/bin/fpshim")
PROGRAMS = os.environ.get("FPSHIM_PROGRAMS", "build/tests/programs")
SOURCE = os.environ.get("FPSHIM_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# The system interpreter, not a version-manager shim script in front of it.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")


def program(name):
    return os.path.join(PROGRAMS, name)


class Run:
    def __init__(self, proc, report, text):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.report = report
        self.text = text

    def recipe_names(self):
        return sorted(r["name"] for r in self.report["recipes"])

    def recipe(self, name):
        for r in self.report["recipes"]:
            if r["name"] == name:
                return r
        raise AssertionError(f"recipe {name} did not fire; fired: {self.recipe_names()}\n{self.text}")

    def path(self, recipe, path):
        for p in self.recipe(recipe)["paths"]:
            if p["path"] == path:
                return p
        raise AssertionError(f"{path} not in {recipe}: {[p['path'] for p in self.recipe(recipe)['paths']]}")

    def paths(self, recipe):
        return sorted(p["path"] for p in self.recipe(recipe)["paths"])

    def processes(self, recipe):
        return self.recipe(recipe)["processes"]

    def process_by_exe(self, recipe, exe_basename):
        found = [p for p in self.processes(recipe) if os.path.basename(p["exe"]) == exe_basename]
        if not found:
            raise AssertionError(f"no {exe_basename} among {[p['exe'] for p in self.processes(recipe)]}")
        return found


def fpshim(cmd, *options, cwd=None, env=None, stdin=None, timeout=120, rules=None):
    """Runs `fpshim run [options] -- cmd` with a JSON and a text report in a fresh directory."""
    out = tempfile.mkdtemp(prefix="fpshim-test-")
    report_path = os.path.join(out, "report.json")
    text_path = os.path.join(out, "report.txt")
    argv = [FPSHIM, "run", "--report", report_path, "--text", text_path]
    if rules:
        argv += ["--rules", rules]
    argv += list(options) + ["--"] + list(cmd)
    proc = subprocess.run(argv, cwd=cwd, env=env, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    report = None
    if os.path.exists(report_path):
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
    text = open(text_path, encoding="utf-8", errors="replace").read() if os.path.exists(text_path) else ""
    shutil.rmtree(out, ignore_errors=True)
    return Run(proc, report, text)


def rules_firing_on_one_weak_access():
    """The shipped rules, every recipe firing on a single weak access: for the tests of how the shim
    reaches a path (a door, a link, a descriptor), not of how much one access to it says."""
    with open(os.path.join(SOURCE, "rules.json"), encoding="utf-8") as f:
        rules = json.load(f)
    for recipe in rules["recipes"]:
        recipe["weak"] = {"sources": 1, "within": "process"}
    fd, path = tempfile.mkstemp(prefix="fpshim-rules-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(rules, f)
    return path


def plain(cmd, cwd=None, env=None, timeout=120):
    """Runs cmd without fpshim, for byte-for-byte comparison."""
    return subprocess.run(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def identical(cmd, **kw):
    """Runs cmd with fpshim (quiet) and without; exit code, stdout and stderr must match byte for byte."""
    traced = fpshim(cmd, "--quiet", **kw)
    untraced = plain(cmd, **kw)
    expect_eq(traced.returncode, untraced.returncode, f"exit code of {cmd}")
    expect_eq(traced.stdout, untraced.stdout, f"stdout of {cmd}")
    expect_eq(traced.stderr, untraced.stderr, f"stderr of {cmd}")
    return traced


def same_as_plain(cmd, env=None, rules=None):
    """Runs cmd under `fpshim run` (in `env`, with `rules`) and alone: exit code, stdout and stderr
    must match byte for byte. Returns the fpshim run."""
    run = fpshim(cmd, env=env, rules=rules)
    untraced = plain(cmd)
    expect_eq((run.returncode, run.stdout, run.stderr), (untraced.returncode, untraced.stdout, untraced.stderr),
              f"{cmd} behaves differently under fpshim")
    return run


def shell(script):
    return ["/bin/sh", "-c", script]


def expect(condition, message=""):
    if not condition:
        raise AssertionError(message)


def expect_eq(actual, expected, message=""):
    if actual != expected:
        raise AssertionError(f"{message}\n  expected: {expected!r}\n  actual:   {actual!r}")


def main(namespace):
    tests = [(name, fn) for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception:
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)
