"""The Dockerfiles of examples/, run outside Docker (there is none here): each file is parsed, and each
target's stages are played in order, every instruction as close to what Docker does as this machine
allows, then the report the last step writes is checked.

How an image is stood in for, per stage (the substitution the README documents):
- A stage's file system is a directory of its own (its root, R); a stage FROM another stage starts
  as a copy of that one's root, a stage FROM an image with nothing but R/tmp and R/var/log. Absolute paths under /usr/local,
  /src, /var/log and /tmp in RUN, ENV, WORKDIR and COPY lines are mapped to R + path; every other
  path is this machine's own (/bin/sh, make, cc, /proc, /sys).
- RUN steps that install packages (apt-get, apk) are not run: this machine has the packages
  (tools/setup.sh, tools/test). The RUN step that builds and installs fpshim from /src/fpshim with
  cmake is replaced by installing this build tree the same way: `cmake --install BUILD --prefix
  R/usr/local`. Every other RUN step runs as `/bin/sh -c STEP` in the mapped WORKDIR with the stage's
  ENV lines (mapped) and PATH=R/usr/local/bin:/usr/bin:/bin, and must succeed.
- COPY from the build context copies from the checkout (the context is the repository root), without
  build trees; COPY --from=STAGE copies from that stage's root.
- Alpine's userland is musl; this machine's sh, make and cc are glibc programs, and a glibc program
  cannot even start with the musl shim in LD_PRELOAD (its loader fails on musl's libc.so, exit 127).
  So in Dockerfile.alpine's targets a RUN step runs without a shell (its words split as sh would,
  leading NAME=value words added to the environment), and the example's build (`make ...`) is
  replaced by what its generator does that matters here: a musl-built reader (musl-gcc) reading the
  files the generator reads. fpshim's own steps (`fpshim run`, `fpshim report`: static) run as
  written. They need libfpshim-musl.so in the build tree: without it they are not run, and this test
  says so in its output (see README, "Installing: packages and images").

Bare-preload targets report to the uid's default spool (/var/tmp/fpshim-<uid>/spool), which is
emptied first; ctest runs this test alone among those that use the default directories."""
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile

from harness import FPSHIM, SOURCE, expect, expect_eq, main

BIN = os.path.dirname(os.path.abspath(FPSHIM))
BUILD = os.path.dirname(BIN)
EXAMPLES = os.path.join(SOURCE, "examples")
MAPPED = re.compile(r"(?<![\w.~-])(/usr/local|/src|/var/log|/tmp)(?=/|\s|$|\")")
MUSL_SHIM = os.path.join(BIN, "libfpshim-musl.so")
FINGERPRINTING = ["machine_fingerprint", "os_network_fingerprint"]


def instructions(path):
    """(instruction, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.strip().partition(" ")
        lines.append((word.upper(), rest.strip()))
        current = ""
    return lines


def stages(path):
    """{name: {"from": image or stage, "steps": [(instruction, arguments)]}}, in file order."""
    out, name = {}, None
    for word, rest in instructions(path):
        if word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else f"stage{len(out)}"
            out[name] = {"from": parts[0], "steps": []}
        else:
            out[name]["steps"].append((word, rest))
    return out


class Stage:
    def __init__(self, name, base, work):
        self.name = name
        self.root = os.path.join(work, name)
        self.env = {}
        self.workdir = "/"
        self.log = []
        if isinstance(base, Stage):
            shutil.copytree(base.root, self.root, symlinks=True)
            self.env = dict(base.env)
            self.workdir = base.workdir
        else:
            # What every base image has and the examples write to.
            for d in ("tmp", "var/log"):
                os.makedirs(os.path.join(self.root, d))

    def map(self, text):
        return MAPPED.sub(lambda m: self.root + m.group(1), text)

    def environment(self):
        env = {"PATH": ":".join([self.root + "/usr/local/bin", "/usr/bin", "/bin"])}
        # A sanitized build's fpshim gets the sanitizers' options, as in every other test.
        env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS")})
        env.update({k: self.map(v) for k, v in self.env.items()})
        return env


def copy(src, dst):
    """COPY src dst: a directory's contents into dst, a file into dst (a directory if it ends in /)."""
    ignore = shutil.ignore_patterns(".git", "build", "build-*")
    if os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True, ignore=ignore)
    else:
        if dst.endswith("/"):
            os.makedirs(dst, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


def play(dockerfile, target, work, musl_reader=None):
    """Plays the stages `target` is built from; returns the target's Stage."""
    all_stages = stages(dockerfile)
    expect(target in all_stages, f"no stage {target} in {dockerfile}: {list(all_stages)}")
    chain, name = [], target
    while name in all_stages:
        chain.insert(0, name)
        name = all_stages[name]["from"]
    built = {}

    def build(name):
        if name in built:
            return built[name]
        spec = all_stages[name]
        base = build(spec["from"]) if spec["from"] in all_stages else None
        stage = Stage(name, base, work)
        for word, rest in spec["steps"]:
            step(stage, word, rest, build, musl_reader)
        built[name] = stage
        return stage

    return build(target)


def step(stage, word, rest, build, musl_reader):
    if word == "ENV":
        key, _, value = rest.partition("=")
        stage.env[key.strip()] = value.strip()
    elif word == "WORKDIR":
        stage.workdir = rest
        os.makedirs(stage.map(rest), exist_ok=True)
    elif word == "COPY":
        args = shlex.split(rest)
        source_stage = None
        if args[0].startswith("--from="):
            source_stage = build(args.pop(0).split("=", 1)[1])
        src, dst = args
        src = source_stage.map(src) if source_stage else os.path.join(SOURCE, src)
        copy(src, stage.map(dst))
    elif word == "RUN":
        if re.search(r"\b(apt-get|apk)\b", rest):
            stage.log.append(f"not run (packages): {rest}")
        elif re.search(r"\bcmake -S /src/fpshim\b", rest):
            # The stand-in for building and installing fpshim: this build tree, installed the same way.
            inst = subprocess.run(["cmake", "--install", BUILD, "--prefix", stage.root + "/usr/local"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
            expect_eq(inst.returncode, 0, inst.stdout)
            stage.log.append(f"replaced by cmake --install: {rest}")
        else:
            cwd = stage.map(stage.workdir)
            argv, env = ["/bin/sh", "-c", stage.map(rest)], stage.environment()
            if musl_reader:
                argv, env = without_shell(stage.map(rest), env, musl_reader)
            run = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, timeout=300)
            stage.log.append(f"run: {rest}\n{run.stderr}")
            expect_eq(run.returncode, 0, f"{stage.name}: RUN {rest}\n{run.stdout}{run.stderr}")
    else:
        raise AssertionError(f"{stage.name}: no stand-in for {word} {rest}")


def without_shell(command, env, musl_reader):
    """An Alpine RUN step as argv and environment: no shell, `make ...` replaced by the musl reader."""
    words = shlex.split(command)
    env = dict(env)
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if "make" in words:
        words = words[:words.index("make")] + musl_reader
    program = shutil.which(words[0], path=env["PATH"])
    expect(program, f"no {words[0]} in {env['PATH']}")
    return [program] + words[1:], env


def fresh_default_spool():
    shutil.rmtree(f"/var/tmp/fpshim-{os.getuid()}/spool", ignore_errors=True)


def the_report(stage):
    path = stage.map("/var/log/fpshim-report.json")
    expect(os.path.exists(path), "\n".join(stage.log))
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def recipes(report):
    return sorted(r["name"] for r in report["recipes"])


def check(dockerfile, target, expected_recipes, musl_reader=None):
    work = tempfile.mkdtemp(prefix=f"fpshim-docker-{target}-")
    fresh_default_spool()
    stage = play(os.path.join(EXAMPLES, dockerfile), target, work, musl_reader)
    report = the_report(stage)
    expect_eq(recipes(report), expected_recipes, "\n".join(stage.log))
    shutil.rmtree(work)
    return report


def test_debian_wrapped():
    report = check("Dockerfile", "wrapped", FINGERPRINTING)
    expect_eq(report["build"]["exit_code"], 0)


def test_debian_preloaded():
    report = check("Dockerfile", "preloaded", FINGERPRINTING)
    spool = f"/var/tmp/fpshim-{os.getuid()}/spool"
    expect_eq(sorted(os.listdir(spool)) if os.path.exists(spool) else [], ["lost.ledger"],
              "the spool left by --consume: its loss ledger only")
    expect(len(report.get("builds", [])) >= 2, "one build per RUN step: " + json.dumps(report.get("builds"))[:400])


def test_copied_into_another_image_wrapped():
    check("Dockerfile.copy", "wrapped", FINGERPRINTING)


def test_copied_into_another_image_preloaded():
    check("Dockerfile.copy", "preloaded", FINGERPRINTING)


def test_copied_image_has_nothing_but_the_copied_files():
    """The `yours` stage holds exactly what its COPY lines name: fpshim, the shim directory and the example."""
    work = tempfile.mkdtemp(prefix="fpshim-docker-yours-")
    stage = play(os.path.join(EXAMPLES, "Dockerfile.copy"), "yours", work)
    found = sorted(os.path.relpath(os.path.join(d, f), stage.root) for d, _, files in os.walk(stage.root) for f in files)
    shims = sorted("usr/local/lib/fpshim/" + f for f in os.listdir(BIN) if re.fullmatch(r"libfpshim(-\w+)?\.so", f))
    expect_eq([f for f in found if not f.startswith("src/example/")], sorted(["usr/local/bin/fpshim"] + shims))
    shutil.rmtree(work)


def musl_reader(work):
    """A reader built with musl-gcc, and the files the example's generator reads (it ignores failures, as
    the generator does: /sys/class/dmi/id/product_uuid may be missing)."""
    source = os.path.join(work, "read.c")
    with open(source, "w") as f:
        f.write("#include <stdio.h>\nint main(int argc, char** argv) {\n  for (int i = 1; i < argc; i++) {\n"
                "    FILE* f = fopen(argv[i], \"r\");\n    if (!f) continue;\n    while (getc(f) != EOF) {}\n"
                "    fclose(f);\n  }\n  return 0;\n}\n")
    exe = os.path.join(work, "musl-read")
    subprocess.run(["musl-gcc", "-O2", "-o", exe, source], check=True)
    return [exe, "/sys/class/dmi/id/product_uuid", "/etc/machine-id", "/proc/ioports", "/proc/sys/net/ipv4/ip_forward",
            "/proc/net/route"] + \
        sorted(f"/sys/class/net/{i}/address" for i in os.listdir("/sys/class/net"))


def test_alpine():
    if not os.path.exists(MUSL_SHIM):
        # Not a pass in disguise: the output says what was not run, and the README says when it runs.
        print(f"NOT RUN: Dockerfile.alpine's targets need {MUSL_SHIM}, which this build tree does not have")
        return
    work = tempfile.mkdtemp(prefix="fpshim-docker-musl-")
    reader = musl_reader(work)
    for target in ["wrapped", "preloaded"]:
        report = check("Dockerfile.alpine", target, FINGERPRINTING, reader)
        readers = {os.path.basename(p["exe"]) for r in report["recipes"] for p in r["processes"]}
        expect_eq(readers, {"musl-read"}, f"{target}: the musl reader reads the watched files")
    shutil.rmtree(work)


if __name__ == "__main__":
    main(globals())
