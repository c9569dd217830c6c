"""Every libc door to a watched path that the shim can close is closed: each is reached by a real
program, shows up in the report with the right operation, and behaves exactly as without fpshim."""
import os
import shutil
import socket
import subprocess
import tempfile
from harness import PYTHON, expect, expect_eq, fpshim, main, program, rules_firing_on_one_weak_access, same_as_plain, shell


def doors_by_op():
    """The doors the doors program knows (`doors --list`), grouped by the operation each reports."""
    listed = subprocess.run([program("doors"), "--list"], stdout=subprocess.PIPE, check=True, text=True).stdout
    by_op = {}
    for line in listed.splitlines():
        door, op = line.split()
        by_op.setdefault(op, []).append(door)
    return by_op


DOORS = doors_by_op()
STAT_DOORS = DOORS.get("stat", [])
LIST_DOORS = DOORS.get("list", [])
READ_DOORS = DOORS.get("read", [])
LINK_DOORS = DOORS.get("link", [])
CONNECT_DOORS = DOORS.get("connect", [])


def door_run(door, path):
    return same_as_plain([program("doors"), door, path])


def test_stat_access_and_link_doors():
    for door in STAT_DOORS:
        for path in ("/proc/ioports", "/sys/class/dmi/id/product_uuid"):
            run = door_run(door, path)
            reported = run.path("machine_fingerprint", path)
            expect("stat" in reported["operations"], (door, reported))
            expect_eq(run.process_by_exe("machine_fingerprint", "doors")[0]["argv"][1], door)


def test_walker_doors():
    for door in LIST_DOORS:
        # A listing of /sys/class/net is weak alone (machine_fingerprint); DMI's directory is not.
        path = "/sys/class/dmi/*" if door == "glob" else "/sys/class/dmi"
        run = door_run(door, path)
        reported = run.path("machine_fingerprint", "/sys/class/dmi")
        expect("list" in reported["operations"], (door, reported))


def test_every_door_is_tested():
    expect_eq(sorted(DOORS), ["connect", "link", "list", "read", "stat"], "a door whose operation no test below covers")


def test_raw_syscall_doors():
    for door in READ_DOORS:
        run = door_run(door, "/proc/ioports")
        expect("read" in run.path("machine_fingerprint", "/proc/ioports")["operations"], door)


def test_link_doors():
    # A new name for a watched file (rename and link of /proc files fail: EXDEV, EPERM; an attempt).
    for door in LINK_DOORS:
        run = door_run(door, "/proc/ioports")
        expect_eq(run.path("machine_fingerprint", "/proc/ioports")["operations"], ["link"], door)


def test_connect_doors():
    # A Unix socket reached by its path: an SSH agent's, listening (the build could use its keys),
    # and one that is not there (an attempt). Other families and unwatched sockets: nothing.
    agent_dir = tempfile.mkdtemp(prefix="ssh-", dir="/tmp")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        agent = os.path.join(agent_dir, "agent.42")
        listener.bind(agent)
        listener.listen(8)
        for door in CONNECT_DOORS:
            run = door_run(door, agent)
            reported = run.path("ssh_private_keys", agent)
            expect_eq((reported["operations"], reported["errors"]), (["connect"], []), door)
            run = door_run(door, os.path.join(agent_dir, "agent.absent"))
            expect_eq(run.path("ssh_private_keys", os.path.join(agent_dir, "agent.absent"))["errors"], ["ENOENT"])
            expect_eq(door_run(door, "/run/fpshim-not-watched.sock").report["recipes"], [], door)
    finally:
        listener.close()
        shutil.rmtree(agent_dir)


def test_unwatched_paths_through_every_door_report_nothing():
    for door in STAT_DOORS + READ_DOORS + LINK_DOORS + CONNECT_DOORS:
        run = door_run(door, "/usr/include/stdio.h")
        expect_eq(run.report["recipes"], [], door)


def test_coreutils_and_make_doors():
    one = rules_firing_on_one_weak_access()  # a stat of an interface is weak: here each counts
    run = fpshim(shell("stat /sys/class/net/lo >/dev/null; test -e /sys/class/dmi/id/product_uuid; "
                       "readlink /sys/class/net/lo >/dev/null; realpath /proc/ioports >/dev/null"), rules=one)
    expect_eq(run.returncode, 0)
    run.path("machine_fingerprint", "/sys/class/net/lo")
    run.path("machine_fingerprint", "/sys/class/dmi/id/product_uuid")
    run.path("machine_fingerprint", "/proc/ioports")
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "Makefile"), "w") as f:
        f.write("NICS := $(wildcard /sys/class/net/*)\nall:\n\t@echo $(words $(NICS)) > /dev/null\n")
    run = fpshim(["make", "-s"], cwd=tmp, rules=one)
    expect_eq(run.returncode, 0, run.stderr)
    run.process_by_exe("machine_fingerprint", "make")
    shutil.rmtree(tmp)


def test_python_metadata_doors():
    script = ("import os, glob\n"
              "os.stat('/sys/class/net/lo'); os.lstat('/sys/class/net/lo'); os.access('/proc/ioports', os.R_OK)\n"
              "os.readlink('/sys/class/net/lo'); os.path.realpath('/sys/class/net/lo/address')\n")
    run = fpshim([PYTHON, "-c", script])
    expect_eq(run.returncode, 0, run.stderr)
    expect("stat" in run.path("machine_fingerprint", "/sys/class/net/lo")["operations"])
    expect("stat" in run.path("machine_fingerprint", "/proc/ioports")["operations"])


def test_node_statx_through_syscall():
    node = shutil.which("node")
    if not node:
        print("  (node not installed: covered by syscall_statx above)")
        return
    run = fpshim([node, "-e", "require('fs').statSync('/sys/class/dmi/id/product_uuid', {throwIfNoEntry: false})"])
    expect_eq(run.returncode, 0, run.stderr)
    run.path("machine_fingerprint", "/sys/class/dmi/id/product_uuid")


if __name__ == "__main__":
    main(globals())
