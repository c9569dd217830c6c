"""The shims of the other ABIs: programs built by musl-gcc and by gcc -m32 (tests/CMakeLists.txt) run
under libfpshim-musl.so and libfpshim-i386.so, reach the report through every door their C library
has, and behave byte for byte as without fpshim; a process that execs a program of another ABI hands
it the matching shim (glibc -> musl -> glibc, glibc <-> i386), under `fpshim run` and under nothing
but LD_PRELOAD; without the matching shim next to libfpshim.so the child is named unmonitored."""
import os
import shutil
import subprocess
import tempfile

from harness import FPSHIM, expect, expect_eq, fpshim, main, program, same_as_plain
from test_bare_preload import DEFAULT_SPOOL, NOBODY, fresh_default_dir, report, step, workdir

BIN = os.path.dirname(os.path.abspath(FPSHIM))
ABIS = ["musl", "i386"]


def doors_of(name):
    listed = subprocess.run([program(name), "--list"], stdout=subprocess.PIPE, check=True, text=True).stdout
    return [line.split() for line in listed.splitlines()]


def unmonitored(run):
    return run.report["coverage"]["unmonitored"]


def test_the_shims_and_programs_of_every_abi_are_built():
    for abi in ABIS:
        expect(os.path.exists(os.path.join(BIN, f"libfpshim-{abi}.so")), abi)
        expect(os.path.exists(program(f"doors-{abi}")), abi)
    # glibc-only doors (statx, canonicalize_file_name, glibc's aliases, renameat2, and the dlsym doors:
    # libc.so.6's handle, and musl's dlsym is not interposed) are all that musl lacks.
    native = {d for d, _ in doors_of("doors")}
    expect_eq(native - {d for d, _ in doors_of("doors-musl")},
              {"statx", "syscall_statx", "canonicalize_file_name", "__open", "__open64", "__open_nocancel",
               "__open64_nocancel", "_IO_fopen", "_IO_file_fopen", "_IO_file_open", "__statfs", "renameat2",
               "__connect", "dlsym_open", "dlvsym_open", "dlsym_fopen", "dlsym_dlsym_open", "dlsym_stat"})
    expect_eq({d for d, _ in doors_of("doors-i386")}, native)


def dynamic_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], stdout=subprocess.PIPE, check=True, text=True).stdout
    names = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
    return {n for n in names if not n.startswith("GLIBC_")}


def test_the_musl_shim_hooks_what_musl_exports():
    # musl's loader is its libc.so: the interpreter of a musl-gcc program.
    headers = subprocess.run(["readelf", "-l", program("doors-musl")], stdout=subprocess.PIPE, check=True,
                             text=True).stdout
    musl_libc = headers.split("program interpreter: ")[1].split("]")[0]
    exported = dynamic_symbols(musl_libc)
    musl_hooks = dynamic_symbols(os.path.join(BIN, "libfpshim-musl.so"))
    glibc_hooks = dynamic_symbols(os.path.join(BIN, "libfpshim.so"))
    expect_eq(musl_hooks - exported, set(), "hooks of functions musl does not have")
    # The one deliberate exception: dlsym, whose interposition reads glibc's link maps (libc.h,
    # README "Limits of LD_PRELOAD").
    not_interposed_on_musl = {"dlsym"}
    expect_eq((glibc_hooks & exported) - musl_hooks, not_interposed_on_musl,
              "musl exports these, the musl shim does not hook them")
    expect_eq(dynamic_symbols(os.path.join(BIN, "libfpshim-i386.so")), glibc_hooks)


def test_every_door_reaches_the_report_from_musl_and_i386_processes():
    for abi in ABIS:
        name = f"doors-{abi}"
        for door, op in doors_of(name):
            if op == "list":
                path, reported_path, recipe = ("/sys/class/dmi/*" if door == "glob" else "/sys/class/dmi",
                                               "/sys/class/dmi", "machine_fingerprint")
            elif op == "connect":  # an SSH agent's socket that is not there: an attempt
                path, reported_path, recipe = "/tmp/ssh-fpshim-abis/agent.1", "/tmp/ssh-fpshim-abis/agent.1", \
                    "ssh_private_keys"
            else:
                path, reported_path, recipe = "/proc/ioports", "/proc/ioports", "machine_fingerprint"
            run = same_as_plain([program(name), door, path])
            expect(op in run.path(recipe, reported_path)["operations"], (abi, door, run.text))
            expect_eq(run.process_by_exe(recipe, name)[0]["argv"][1], door)
            expect_eq(unmonitored(run), [], (abi, door))


def test_a_32_bit_process_reports_what_the_64_bit_one_does():
    args = []
    for door, _ in doors_of("doors"):
        args += [door, "/sys/class/net" if door in ("nftw", "ftw", "fts_open") else "/proc/ioports"]
    reports = {}
    for name in ("doors", "doors-i386"):
        run = same_as_plain([program(name)] + args)
        reports[name] = {r["name"]: {p["path"]: (p["operations"], p.get("count"), p.get("result"))
                                     for p in r["paths"]} for r in run.report["recipes"]}
        expect_eq([p["argv"] for p in run.processes("machine_fingerprint")], [[program(name)] + args])
    expect_eq(reports["doors-i386"], reports["doors"])


def test_fault_matrix_rows_for_musl_and_i386():
    """The rows of test_fault_matrix whose programs build for every C library: vfork, posix_spawn(p),
    system, popen and execvp children; opens from a signal handler; exit from a thread."""
    doors = [("vfork", "machine_fingerprint", "/proc/iomem"),
             ("posix_spawn", "os_network_fingerprint", "/proc/net/route"),
             ("posix_spawnp", "machine_fingerprint", "/proc/devices"),
             ("system", "machine_fingerprint", "/etc/machine-id"),
             ("popen", "machine_fingerprint", "/sys/class/dmi/id/product_uuid"),
             ("execvp", "os_network_fingerprint", "/proc/net/arp")]
    for abi in ABIS:
        spawners = f"spawners-{abi}"
        run = same_as_plain([program(spawners)] + [mode for mode, _, _ in doors])
        for mode, recipe, path in doors:
            run.path(recipe, path)
        for recipe in run.recipe_names():
            for proc in run.processes(recipe):
                expect(spawners in [os.path.basename(a["exe"]) for a in proc["ancestry"]], (abi, proc))
        expect_eq(unmonitored(run), [], abi)

        run = fpshim([program(f"sighandler-{abi}")])
        expect_eq(run.returncode, 0, abi)
        handled = int(run.stderr.decode().split()[-1])
        expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], handled, abi)

        run = same_as_plain([program(f"thread_exit-{abi}")])
        expect_eq(run.returncode, 3, abi)
        run.path("machine_fingerprint", "/proc/ioports")


def test_chains_across_abis_are_monitored_end_to_end():
    chains = [
        ["chain", "chain-musl", "doors"],  # glibc -> musl -> glibc
        ["chain", "doors-i386"],  # glibc -> i386
        ["chain-i386", "doors"],  # i386 -> glibc
        ["chain-musl", "chain-i386", "doors-musl"],  # musl -> i386 -> musl
    ]
    for chain in chains:
        run = same_as_plain([program(p) for p in chain] + ["stat", "/proc/ioports"])
        expect_eq(unmonitored(run), [], chain)
        expect_eq([os.path.basename(p["exe"]) for p in run.processes("machine_fingerprint")], [chain[-1]])


def test_a_script_gets_the_shim_of_its_interpreter():
    d = tempfile.mkdtemp(prefix="fpshim-abis-")
    script = os.path.join(d, "musl-script")
    with open(script, "w") as f:
        f.write(f"#!{program('doors-musl')}\n")
    os.chmod(script, 0o755)
    run = same_as_plain([program("chain"), script])
    expect_eq(run.returncode, 0)
    expect_eq(unmonitored(run), [])
    lonely = tempfile.mkdtemp(prefix="fpshim-abis-")
    shutil.copy(os.path.join(BIN, "libfpshim.so"), lonely)
    run = same_as_plain([program("chain"), script], env=dict(os.environ, FPSHIM_LIB=os.path.join(lonely, "libfpshim.so")))
    expect_eq([u["reason"] for u in unmonitored(run)], ["elf_class"])
    shutil.rmtree(d)
    shutil.rmtree(lonely)


def test_without_the_matching_shim_the_child_runs_unmonitored_and_unchanged():
    lonely = tempfile.mkdtemp(prefix="fpshim-abis-")
    shutil.copy(os.path.join(BIN, "libfpshim.so"), lonely)
    env = dict(os.environ, FPSHIM_LIB=os.path.join(lonely, "libfpshim.so"))
    for abi in ABIS:
        run = same_as_plain([program("chain"), program(f"doors-{abi}"), "stat", "/proc/ioports"], env=env)
        expect_eq([u["reason"] for u in unmonitored(run)], ["elf_class"], abi)
        expect("machine_fingerprint" not in run.recipe_names(), run.text)
    shutil.rmtree(lonely)


def test_nothing_but_ld_preload_hands_each_child_its_shim():
    fresh_default_dir()
    d = workdir()
    cmd = (f"{program('chain-musl')} {program('doors')} stat /proc/ioports && "
           f"{program('doors-i386')} access /sys/class/dmi/id/product_uuid && "
           f"{program('chain-i386')} {program('doors-musl')} readlink /sys/class/dmi/id")
    untraced = subprocess.run(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    traced = step(cmd, d)
    expect_eq((traced.returncode, traced.stdout, traced.stderr),
              (untraced.returncode, untraced.stdout, untraced.stderr))
    expect(os.path.isdir(DEFAULT_SPOOL))
    proc, data = report()
    expect_eq(proc.returncode, 0, proc.stderr)
    builds = data.get("builds") or [data]
    reached = {}
    for b in builds:
        for r in b["recipes"]:
            for p in r["paths"]:
                reached.setdefault(p["path"], set()).update(os.path.basename(q["exe"]) for q in r["processes"])
    expect("doors" in reached.get("/proc/ioports", set()), reached)
    expect("doors-i386" in reached.get("/sys/class/dmi/id/product_uuid", set()), reached)
    expect("doors-musl" in reached.get("/sys/class/dmi/id", set()), reached)
    for b in builds:
        expect_eq(b["coverage"]["unmonitored"], [], b["coverage"])
    # The Alpine form: the musl shim named directly, in a musl process (as nobody, without a glibc
    # program in between, which the musl shim cannot be loaded into).
    fresh_default_dir()
    traced = subprocess.run([program("doors-musl"), "stat", "/proc/ioports"], cwd=d, user=NOBODY.pw_uid,
                            group=NOBODY.pw_gid, extra_groups=[], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PATH": "/usr/bin:/bin", "LD_PRELOAD": os.path.join(BIN, "libfpshim-musl.so")})
    expect_eq((traced.returncode, traced.stderr), (0, b""))
    proc, data = report()
    expect_eq(proc.returncode, 0, proc.stderr)
    expect("/proc/ioports" in str(data), data)
    fresh_default_dir()
    shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main(globals())
