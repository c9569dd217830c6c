"""The doors a build that knows about fpshim would try beside the ordinary libc calls (issue 13,
section 1): libc reached through dlsym from a library, a spawned child's stdin opened by
posix_spawn file actions, paths through /proc and /dev links that name another path, directory
descriptors the program inherited, new names made for watched files, symlinks that were there before
(`fpshim run --strict`), a chdir through syscall(), an open by file handle. Each runs a real program under `fpshim run` and asserts what the report
says; each also runs without fpshim and must behave the same. (The aliases libc exports for its
functions are in tests/programs/doors.c's table, run by test_doors, and checked against libc's
symbol table by the libc_exports test.)"""
import os
import platform
import shutil
import subprocess
import tempfile
from harness import PYTHON, expect, expect_eq, fpshim, main, plain, program, rules_firing_on_one_weak_access, same_as_plain, shell


def test_ctypes_fetches_libc_functions_by_name():
    # ctypes looks each function up with dlsym on the handle of the library it loaded (from
    # _ctypes.so, a library loaded after the shim): the lookup hands out the hook.
    script = ("import ctypes, os\n"
              "libc = ctypes.CDLL('libc.so.6', use_errno=True)\n"
              "fd = libc.open(b'/proc/ioports', os.O_RDONLY)\n"
              "print(fd >= 0)\n"
              "libc.access(b'/sys/class/dmi/id/product_uuid', os.R_OK)\n")
    run = same_as_plain([PYTHON, "-c", script])
    expect_eq(run.stdout, b"True\n")
    reported = run.path("machine_fingerprint", "/proc/ioports")
    expect_eq(reported["operations"], ["read"])
    expect("stat" in run.path("machine_fingerprint", "/sys/class/dmi/id/product_uuid")["operations"])


def test_a_library_fetching_open_with_rtld_next():
    # The open after libnextdoor.so in the search order is libc's: the lookup hands out the hook.
    run = same_as_plain([program("next_door"), "/proc/ioports"])
    expect_eq(run.stdout, b"opened\n")
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["operations"], ["read"])
    expect_eq([p["argv"][0].rsplit("/", 1)[-1] for p in run.processes("machine_fingerprint")], ["next_door"])


def test_spawned_stdin_is_an_access_of_the_spawner():
    run = same_as_plain([program("spawn_actions"), "open", "/proc/ioports"])
    expect(run.stdout.endswith(b"posix_spawnp = 0, status 0\n"), run.stdout)
    reported = run.path("machine_fingerprint", "/proc/ioports")
    expect_eq(reported["operations"], ["read"])
    expect_eq(reported["failed"], 0)
    # The spawner is the reader: wc only reads its stdin.
    readers = [p["exe"].rsplit("/", 1)[-1] for p in run.processes("machine_fingerprint")]
    expect_eq(readers, ["spawn_actions"])


def test_spawn_chdir_actions_resolve_relative_opens():
    run = same_as_plain([program("spawn_actions"), "chdir", "/proc", "ioports"])
    expect(run.stdout.endswith(b"posix_spawnp = 0, status 0\n"), run.stdout)
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["spellings"], ["ioports"])
    run = same_as_plain([program("spawn_actions"), "fchdir", "/sys/class", "dmi/id/product_uuid"])
    reported = run.path("machine_fingerprint", "/sys/class/dmi/id/product_uuid")
    expect_eq(reported["operations"], ["read"])


def test_spawn_actions_on_unwatched_files_report_nothing():
    run = same_as_plain([program("spawn_actions"), "chdir", "/usr/include", "stdio.h"])
    expect_eq(run.report["recipes"], [])


def test_failed_spawn_of_a_watched_file_is_an_attempt():
    run = same_as_plain([program("spawn_actions"), "open", "/sys/class/dmi/id/no_such_file"])
    expect(run.stdout.endswith(b"posix_spawnp = ENOENT, status -1\n"), run.stdout)
    reported = run.path("machine_fingerprint", "/sys/class/dmi/id/no_such_file")
    expect_eq((reported["failed"], reported["errors"]), (1, ["ENOENT"]))


# Opens each path it is given after setting up the descriptors and directory the spellings use.
PROC_PATHS = """
import os, subprocess, sys
def reach(path):
    try:
        os.close(os.open(path, os.O_RDONLY))
        print(path.split('/')[-1], 'opened')
    except OSError as e:
        print(path.split('/')[-1], e.strerror)
pid = os.getpid()
classes = os.open('/sys/class', os.O_PATH)          # not watched itself
ioports = os.open('/proc/ioports', os.O_PATH)       # a stat of /proc/ioports, not a read
os.chdir('/etc')
reach('/proc/self/root/proc/ioports')
reach('/proc/%d/root/etc/machine-id' % pid)
reach('/proc/thread-self/cwd/hostname')
reach('/dev/fd/%d/dmi/id/product_uuid' % classes)
reach('/proc/self/fd/%d' % ioports)
reach('/dev/stdin')
# Another process reopening our descriptor, and reaching through our root.
subprocess.run(['cat', '/proc/%d/fd/%d' % (pid, ioports)], stdout=subprocess.DEVNULL)
subprocess.run(['cat', '/proc/%d/root/proc/interrupts' % pid], stdout=subprocess.DEVNULL)
"""


def test_paths_through_proc_and_dev_links():
    cmd = [PYTHON, "-c", PROC_PATHS]
    with open("/proc/devices", "rb") as stdin:  # /dev/stdin names it
        run = fpshim(cmd, stdin=stdin, rules=rules_firing_on_one_weak_access())
    with open("/proc/devices", "rb") as stdin:
        untraced = subprocess.run(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    expect_eq((run.returncode, run.stdout, run.stderr), (untraced.returncode, untraced.stdout, untraced.stderr))
    ioports = run.path("machine_fingerprint", "/proc/ioports")
    expect_eq(ioports["operations"], ["read", "stat"])
    expect("/proc/self/root/proc/ioports" in ioports["spellings"], ioports)
    expect(any(s.startswith("/proc/self/fd/") for s in ioports["spellings"]), ioports)
    expect(any(s.startswith("/proc/") and "/fd/" in s and "self" not in s for s in ioports["spellings"]), ioports)
    readers = sorted(p["exe"].rsplit("/", 1)[-1] for p in run.processes("machine_fingerprint"))
    expect("cat" in readers and any(r.startswith("python") for r in readers), readers)
    machine_id = run.path("machine_fingerprint", "/etc/machine-id")
    expect(machine_id["spellings"][0].endswith("/root/etc/machine-id"), machine_id)
    uuid = run.path("machine_fingerprint", "/sys/class/dmi/id/product_uuid")
    expect(uuid["spellings"][0].startswith("/dev/fd/"), uuid)
    run.path("machine_fingerprint", "/proc/interrupts")
    expect_eq(run.path("machine_fingerprint", "/proc/devices")["spellings"], ["/dev/stdin"])
    run.path("os_network_fingerprint", "/etc/hostname")


def test_unwatched_paths_through_proc_and_dev_report_nothing():
    script = ("import os\n"
              "os.close(os.open('/proc/self/root/usr/include/stdio.h', os.O_RDONLY))\n"
              "os.close(os.open('/dev/stdin', os.O_RDONLY))\n"
              "os.close(os.open('/dev/null', os.O_RDONLY))\n")
    run = same_as_plain([PYTHON, "-c", script])
    expect_eq(run.report["recipes"], [])


def test_inherited_directory_descriptors():
    # The shell opens the directory (through a symlink the second time) and python, which
    # never saw it opened, reads relative to it.
    tmp = tempfile.mkdtemp()
    try:
        os.symlink("/sys/class", os.path.join(tmp, "classes"))
        read_under_3 = f"{PYTHON} -c \"import os; os.close(os.open('ioports', os.O_RDONLY, dir_fd=3))\""
        run = same_as_plain(shell(f"exec 3</proc; {read_under_3}"))
        expect_eq(run.path("machine_fingerprint", "/proc/ioports")["spellings"], ["ioports"])
        expect_eq([p["argv"][0] for p in run.processes("machine_fingerprint")], [PYTHON])
        stat_under_3 = f"{PYTHON} -c \"import os; os.stat('net/lo', dir_fd=3)\""
        run = same_as_plain(shell(f"exec 3<{tmp}/classes; {stat_under_3}"), rules=rules_firing_on_one_weak_access())
        expect_eq(run.path("machine_fingerprint", "/sys/class/net/lo")["operations"], ["stat"])
    finally:
        shutil.rmtree(tmp)


def test_new_names_for_watched_files_are_reported_when_made():
    # The reads through the new names are not seen (the names are not watched); making them is.
    tmp = tempfile.mkdtemp()
    try:
        os.makedirs(os.path.join(tmp, "a", "b"))
        up = "../" * len(os.path.join(tmp, "a", "b").strip("/").split("/"))  # from the link's directory to /
        script = f"ln -s /proc/ioports id && ln -s {up}sys/class/net a/b/nets && cat id a/b/nets/lo/mtu >/dev/null"
        run = fpshim(shell(script), cwd=tmp, rules=rules_firing_on_one_weak_access())
        expect_eq(run.returncode, 0, run.stderr)
        ioports = run.path("machine_fingerprint", "/proc/ioports")
        expect_eq((ioports["operations"], ioports["spellings"]), (["link"], ["/proc/ioports"]))
        nets = run.path("machine_fingerprint", "/sys/class/net")
        expect_eq((nets["operations"], nets["spellings"]), (["link"], [up + "sys/class/net"]))
        expect_eq(sorted(p["argv"][0] for p in run.processes("machine_fingerprint")), ["ln", "ln"])
    finally:
        shutil.rmtree(tmp)


def test_chdir_through_syscall_moves_the_cached_cwd():
    # The relative open is judged against the cached working directory, which must follow.
    # This python's own ABI's numbers; the doors program's syscall_chdir door (built for every ABI,
    # test_abis) takes them from <sys/syscall.h>.
    numbers = {"x86_64": (80, 81), "aarch64": (49, 50), "i686": (12, 133), "i386": (12, 133)}
    chdir, fchdir = numbers[platform.machine()]
    script = ("import ctypes, os\n"
              "libc = ctypes.CDLL(None, use_errno=True)\n"
              "fd = os.open('/proc', os.O_RDONLY | os.O_DIRECTORY)\n"
              f"print(libc.syscall({chdir}, b'/sys/class'), libc.syscall({fchdir}, fd))\n"
              "os.close(os.open('ioports', os.O_RDONLY))\n"
              f"libc.syscall({chdir}, b'/sys/class')\n"
              "os.stat('net/lo')\n")
    run = same_as_plain([PYTHON, "-c", script])
    expect_eq(run.stdout, b"0 0\n")
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["spellings"], ["ioports"])
    expect_eq(run.path("machine_fingerprint", "/sys/class/net/lo")["spellings"], ["net/lo"])


def test_strict_mode_finds_symlinks_that_were_there_before():
    tmp = tempfile.mkdtemp()
    try:
        os.symlink("/proc/ioports", os.path.join(tmp, "committed"))
        os.symlink("/sys/class/net", os.path.join(tmp, "nets"))
        os.symlink("/etc/hosts", os.path.join(tmp, "name"))
        script = "cat committed nets/lo/mtu name >/dev/null; cat /usr/include/stdio.h >/dev/null"
        run = fpshim(shell(script), cwd=tmp)
        expect_eq((run.returncode, run.report["recipes"]), (0, []), "without --strict the names are not watched")
        run = fpshim(shell(script), "--strict", cwd=tmp, rules=rules_firing_on_one_weak_access())
        expect_eq(run.returncode, 0, run.stderr)
        expect_eq(run.path("machine_fingerprint", "/proc/ioports")["spellings"], ["committed"])
        expect_eq(run.path("machine_fingerprint", "/sys/devices/virtual/net/lo/mtu")["spellings"], ["nets/lo/mtu"])
        expect_eq(run.path("os_network_fingerprint", "/etc/hosts")["spellings"], ["name"])
        expect_eq(sorted(p["argv"][0] for p in run.processes("machine_fingerprint")), ["cat"])
    finally:
        shutil.rmtree(tmp)


def test_open_by_handle_is_resolved_by_what_it_opened():
    # The handle is taken outside the build, so the reader never names the file.
    if os.geteuid() != 0:
        print("  (not root: open_by_handle_at needs CAP_DAC_READ_SEARCH)")
        return
    tmp = tempfile.mkdtemp()
    try:
        saved = os.path.join(tmp, "handle")
        took = plain([program("handles"), "save", "/etc/hosts", saved])
        expect_eq(took.returncode, 0, took.stdout)
        run = same_as_plain([program("handles"), "open", "/etc", saved], rules=rules_firing_on_one_weak_access())
        expect_eq(run.stdout, b"open_by_handle_at ok\n")
        hosts = run.path("os_network_fingerprint", "/etc/hosts")
        expect_eq((hosts["operations"], hosts["spellings"]), (["read"], ["/etc/hosts"]))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main(globals())
