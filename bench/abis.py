#!/usr/bin/env python3
"""Per-call cost of the i386 and musl shims (bench/RESULTS.md, "Other ABIs"): calls.c built with
gcc -m32 and musl-gcc, each run plain and with its shim in LD_PRELOAD (bare mode: spool, no socket).

    bench/abis.py [BIN]     BIN: the folder holding libfpshim*.so (default build/bin)

Extra syscalls per non-matching call: strace -f -c of N and 2N calls (strace -E gives LD_PRELOAD
to the traced program alone). Extra instructions per call: callgrind inside run_loop, N and 2N
calls; valgrind's launcher is a glibc program, which cannot start with the musl shim in its
environment, so the musl program runs as `ld-musl-x86_64.so.1 --preload SHIM PROGRAM`."""
import glob
import os
import subprocess
import sys
import tempfile

BENCH = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(BENCH, "..", "build", "bin"))
OUT = tempfile.mkdtemp(prefix="fpshim-bench-abis-")
MUSL_LOADER = "/lib/ld-musl-x86_64.so.1"
ABIS = [("x86-64 glibc", ["gcc"], "libfpshim.so", False), ("i386 glibc", ["gcc", "-m32"], "libfpshim-i386.so", False),
        ("x86-64 musl", ["musl-gcc"], "libfpshim-musl.so", True)]
CLASSES = ["open", "openat", "fopen", "opendir", "stat", "access", "close"]
N = 1000


def target(cls):
    return "/usr/include" if cls == "opendir" else "/usr/include/stdio.h"


def shim_env(lib):
    spool = tempfile.mkdtemp(dir=OUT)
    return {"LD_PRELOAD": os.path.join(BIN, lib), "FPSHIM_SPOOL": spool, "FPSHIM_SOCKET": spool + "/none"}


def syscalls(prog, cls, n, lib):
    f = tempfile.mktemp(dir=OUT)
    extra = [a for k, v in (shim_env(lib) if lib else {}).items() for a in ("-E", f"{k}={v}")]
    subprocess.run(["strace", "-f", "-c", "-o", f] + extra + [prog, cls, str(n), target(cls), "1"], check=True,
                   stdout=subprocess.DEVNULL)
    return int(open(f).read().splitlines()[-1].split()[-2])


def instructions(prog, cls, n, lib, musl):
    f = tempfile.mktemp(dir=OUT)
    env = dict(os.environ, **(shim_env(lib) if lib else {}))
    command = [prog, cls, str(n), target(cls), "1"]
    if musl:
        env.pop("LD_PRELOAD", None)
        command = [MUSL_LOADER] + (["--preload", os.path.join(BIN, lib)] if lib else []) + command
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={f}", "--collect-atstart=no",
                    "--toggle-collect=run_loop"] + command, env=env, check=True, capture_output=True)
    return next(int(line.split()[1]) for line in open(f) if line.startswith(("totals:", "summary:")))


def per_call(measure, prog, cls, lib):
    delta = lambda l: measure(prog, cls, 2 * N, l) - measure(prog, cls, N, l)
    return (delta(lib) - delta(None)) / N


print("| ABI | shim | class | extra syscalls per call | extra instructions per call |")
print("|---|---|---|---|---|")
for name, cc, lib, musl in ABIS:
    prog = os.path.join(OUT, "calls-" + lib)
    subprocess.run(cc + ["-O2", os.path.join(BENCH, "calls.c"), "-o", prog], check=True)
    for cls in CLASSES:
        sys_extra = per_call(syscalls, prog, cls, lib)
        instr = per_call(lambda *a: instructions(*a, musl), prog, cls, lib)
        print(f"| {name} | `{lib}` | `{cls}` non-matching | {sys_extra:+.2f} | {instr:+.0f} |", flush=True)
for f in glob.glob(os.path.join(OUT, "*")):
    subprocess.run(["rm", "-rf", f])
os.rmdir(OUT)
