"""The fault matrix: for each way a build can go wrong for fpshim, the build behaves exactly as
without fpshim, and the report holds exactly what happened."""
import glob
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
from harness import FPSHIM, PYTHON, SOURCE, expect, expect_eq, fpshim, identical, main, plain, program, shell

SHIM = os.path.join(os.path.dirname(FPSHIM), "libfpshim.so")


def unmonitored(run):
    return run.report["coverage"]["unmonitored"]


def test_collector_absent_build_unchanged_and_records_spooled():
    spool = tempfile.mkdtemp()
    env = dict(os.environ, LD_PRELOAD=SHIM, FPSHIM_SOCKET=os.path.join(spool, "no-such-socket"),
               FPSHIM_SPOOL=spool, FPSHIM_BUILD="00000000000000ab", FPSHIM_LIB=SHIM,
               FPSHIM_FILTER="v1:P/proc/ioports")
    cmd = shell("cat /proc/ioports | wc -l; echo done >&2; exit 4")
    traced, untraced = plain(cmd, env=env), plain(cmd)
    expect_eq((traced.returncode, traced.stdout, traced.stderr), (untraced.returncode, untraced.stdout, untraced.stderr))
    records = b"".join(open(f, "rb").read() for f in glob.glob(os.path.join(spool, "*.spool")))
    expect(b"/proc/ioports" in records, "the access was not spooled")
    shutil.rmtree(spool)


def test_collector_killed_mid_build_is_restarted_and_loses_nothing():
    script = ("cat /proc/ioports >/dev/null; sleep 0.3; pkill -KILL -P $PPID -x fpshim-collect; "
              "cat /proc/iomem >/dev/null; sleep 0.5; cat /proc/interrupts >/dev/null")
    run = fpshim(shell(script))
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(run.paths("machine_fingerprint"), ["/proc/interrupts", "/proc/iomem", "/proc/ioports"])
    stats = run.report["stats"]
    expect_eq(stats["collector_restarts"], 1, stats)
    expect_eq(stats["lost"], 0, stats)


def test_program_closes_all_descriptors():
    for mode in ("close_range", "closefrom", "loop"):
        run = identical([program("fdsweep"), mode])
        paths = run.paths("machine_fingerprint")
        expect_eq(paths, ["/proc/iomem", "/proc/ioports", "/sys/class/dmi/id/board_serial"], mode)


def test_dup2_onto_the_shim_descriptor():
    run = identical([program("fdsweep"), "dup2"])
    expect_eq(run.paths("machine_fingerprint"), ["/proc/iomem", "/proc/ioports", "/sys/class/dmi/id/board_serial"])


def test_env_i_child_keeps_the_shim():
    run = identical(shell("env -i /bin/cat /proc/ioports > /dev/null"))
    cat = run.process_by_exe("machine_fingerprint", "cat")[0]
    expect_eq(cat["argv"], ["/bin/cat", "/proc/ioports"])
    run = identical([program("spawners"), "execve_empty_env"])
    run.path("machine_fingerprint", "/var/lib/dbus/machine-id")
    expect(run.report["stats"]["env_restored"] >= 1, run.report["stats"])


def test_setgid_target_is_reported_unmonitored():
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)
    target = os.path.join(tmp, "probe-setgid")
    shutil.copy(program("probe"), target)
    os.chown(target, 0, 65534)
    os.chmod(target, 0o2755)
    run = identical(shell(f"{target} open:/proc/ioports"))
    reasons = {(os.path.basename(u["exe"]), u["reason"]) for u in unmonitored(run)}
    expect(("probe-setgid", "setuid") in reasons, unmonitored(run))
    shutil.rmtree(tmp)


def test_static_binary_is_reported_unmonitored_not_clean():
    run = identical(shell(f"{program('fingerprint_static')}; true"))
    expect_eq(run.report["recipes"], [])
    entry = [u for u in unmonitored(run) if u["exe"].endswith("fingerprint_static")]
    expect_eq(len(entry), 1, unmonitored(run))
    expect_eq(entry[0]["reason"], "static")
    expect("unmonitored" in fpshim(shell(f"{program('fingerprint_static')}")).text)


def test_go_binary_is_reported_unmonitored():
    go = shutil.which("go")
    if not go:
        print("  (go not installed: skipped)")
        return
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, GOCACHE=os.path.join(tmp, "cache"), GOPATH=os.path.join(tmp, "gopath"),
               GOFLAGS="-mod=mod", GO111MODULE="off")
    binary = os.path.join(tmp, "fingerprint")
    subprocess.run([go, "build", "-o", binary, os.path.join(SOURCE, "tests/programs/go/fingerprint.go")],
                   env=env, check=True, capture_output=True)
    run = identical(shell(f"{binary}; true"))
    expect_eq([u["reason"] for u in unmonitored(run)], ["go"])
    shutil.rmtree(tmp)


def test_fork_without_exec():
    run = identical([program("spawners"), "fork"])
    procs = run.processes("machine_fingerprint")
    expect_eq(len(procs), 1)
    expect_eq(os.path.basename(procs[0]["exe"]), "spawners")
    expect_eq(os.path.basename(procs[0]["ancestry"][0]["exe"]), "spawners")


def test_vfork_exec_posix_spawn_system_popen():
    doors = [("vfork", "machine_fingerprint", "/proc/iomem"),
             ("posix_spawn", "os_network_fingerprint", "/proc/net/route"),
             ("posix_spawnp", "machine_fingerprint", "/proc/devices"),
             ("system", "machine_fingerprint", "/etc/machine-id"),
             ("popen", "machine_fingerprint", "/sys/class/dmi/id/product_uuid"),
             ("execvp", "os_network_fingerprint", "/proc/net/arp")]
    run = identical([program("spawners")] + [mode for mode, _, _ in doors])
    for mode, recipe, path in doors:
        run.path(recipe, path)
    for recipe in run.recipe_names():
        for proc in run.processes(recipe):
            expect("spawners" in [os.path.basename(a["exe"]) for a in proc["ancestry"]], proc)
    expect_eq(unmonitored(run), [])


def test_64_threads():
    run = fpshim([program("threads"), "64", "500"])
    expect_eq(run.returncode, 0)
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 64 * 500)
    expect_eq(run.path("machine_fingerprint", "/sys/class/dmi/id/product_uuid")["count"], 64 * 500)
    expect_eq(run.report["stats"]["lost"], 0)


def test_signal_handler_opens():
    run = fpshim([program("sighandler")])
    expect_eq(run.returncode, 0)
    handled = int(run.stderr.decode().split()[-1])
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], handled)


def test_exit_from_a_thread():
    run = identical([program("thread_exit")])
    expect_eq(run.returncode, 3)
    run.path("machine_fingerprint", "/proc/ioports")


def test_another_user_cannot_reach_the_socket():
    script = ("import os, socket\n"
              "path = os.environ['FPSHIM_SOCKET']\n"
              "pid = os.fork()\n"
              "if pid == 0:\n"
              "    os.setgid(65534); os.setuid(65534)\n"
              "    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
              "    try:\n"
              "        s.sendto(b'x' * 100, path); print('sent')\n"
              "    except PermissionError:\n"
              "        print('refused')\n"
              "    os._exit(0)\n"
              "os.waitpid(pid, 0)\n")
    run = fpshim([PYTHON, "-c", script])
    expect_eq(run.stdout, b"refused\n")
    expect_eq(run.report["stats"]["malformed"], 0)


def test_garbage_and_truncated_records_are_counted():
    script = ("import os, socket, struct\n"
              "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
              "path = os.environ['FPSHIM_SOCKET']\n"
              "for n in range(50): s.sendto(os.urandom(n * 7 + 1), path)\n"
              "hdr = struct.pack('<IHHII', 0x31535046, 1, 2, 500, 2)\n"
              "for n in range(10): s.sendto(hdr + b'\\0' * (n * 3), path)\n"
              "open('/proc/ioports').read()\n")
    run = fpshim([PYTHON, "-c", script])
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(run.report["stats"]["malformed"], 60)
    run.path("machine_fingerprint", "/proc/ioports")


def test_wrong_elf_class_keeps_output_clean():
    """A 32-bit program whose shim is not next to libfpshim.so (here a copy alone in a directory):
    the shim leaves itself out of its LD_PRELOAD, the loader prints nothing, the report names it.
    (With libfpshim-i386.so there it is monitored: test_abis.)"""
    cc = shutil.which("gcc")
    tmp = tempfile.mkdtemp()
    src = os.path.join(tmp, "t.c")
    with open(src, "w") as f:
        f.write("int main(void){return 0;}\n")
    binary = os.path.join(tmp, "t32")
    expect_eq(subprocess.run([cc, "-m32", src, "-o", binary], capture_output=True).returncode, 0, "gcc -m32")
    shutil.copy(os.path.join(os.path.dirname(os.path.abspath(FPSHIM)), "libfpshim.so"), tmp)
    run = identical(shell(f"{binary}; echo $?"), env=dict(os.environ, FPSHIM_LIB=os.path.join(tmp, "libfpshim.so")))
    expect_eq([u["reason"] for u in unmonitored(run)], ["elf_class"])

if __name__ == "__main__":
    main(globals())
