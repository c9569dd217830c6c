"""Real programs reach watched paths through different libc doors; each must show up in the report
with the right recipe, path, operation, result and process."""
import os
from harness import PYTHON, expect, expect_eq, fpshim, main, shell

HAS_DMI = os.path.exists("/sys/class/dmi/id/product_uuid")


def test_cat_reads_ioports():
    run = fpshim(["cat", "/proc/ioports"])
    expect_eq(run.returncode, 0)
    expect_eq(run.recipe_names(), ["machine_fingerprint"])
    path = run.path("machine_fingerprint", "/proc/ioports")
    expect_eq(path["count"], 1)
    expect_eq(path["failed"], 0)
    expect("read" in path["operations"], path)
    cat = run.process_by_exe("machine_fingerprint", "cat")[0]
    expect_eq(cat["argv"], ["cat", "/proc/ioports"])


def test_failed_dmi_read_is_reported():
    run = fpshim(shell("cat /sys/class/dmi/id/product_uuid /sys/class/dmi/id/board_serial; true"))
    expect_eq(run.returncode, 0)
    for name in ("product_uuid", "board_serial"):
        path = run.path("machine_fingerprint", f"/sys/class/dmi/id/{name}")
        expect_eq(path["count"], 1)
        if not HAS_DMI:
            expect_eq(path["failed"], 1, path)
            expect("ENOENT" in path["errors"], path)
    cat = run.process_by_exe("machine_fingerprint", "cat")[0]
    expect_eq([os.path.basename(a["exe"]) for a in cat["ancestry"]], ["dash"])


def test_ls_lists_interfaces():
    # A listing alone is weak evidence: counted below machine_fingerprint's threshold, no finding.
    run = fpshim(["ls", "/sys/class/net"])
    expect_eq(run.returncode, 0)
    expect_eq(run.recipe_names(), [])
    below = [b for b in run.report["not_findings"]["below_threshold"] if b["recipe"] == "machine_fingerprint"]
    expect_eq([b["examples"] for b in below], [["/sys/class/net"]], run.report["not_findings"])
    # With the MACs it lists them for, it is part of the finding (ls -l would not read them: cat does).
    run = fpshim(shell("ls /sys/class/net > /dev/null; cat /sys/class/net/lo/address > /dev/null"))
    expect_eq(run.recipe_names(), ["machine_fingerprint"])
    run.process_by_exe("machine_fingerprint", "cat")


def test_find_walks_interfaces():
    # The same find also stats /proc/ioports (strong): its weak listing then counts with it.
    run = fpshim(["find", "/sys/class/net/", "/proc/ioports", "-maxdepth", "1"])
    expect_eq(run.returncode, 0)
    path = run.path("machine_fingerprint", "/sys/class/net")
    expect("list" in path["operations"], path)
    expect_eq(path["spellings"], ["/sys/class/net/"])
    run.process_by_exe("machine_fingerprint", "find")


def test_find_of_unwatched_tree_reports_nothing():
    run = fpshim(["find", "/usr/include", "-name", "stdio.h"])
    expect_eq(run.returncode, 0)
    expect_eq(run.report["recipes"], [])
    expect("no fingerprinting detected" in run.text, run.text)


def test_python_dir_fd_and_relative_paths():
    script = (
        "import os\n"
        "d = os.open('/sys/class/net/lo', os.O_RDONLY | os.O_DIRECTORY)\n"
        "os.close(os.open('address', os.O_RDONLY, dir_fd=d))\n"
        "os.chdir('/sys/class')\n"
        "open('net/lo/mtu').read()\n"
        "open('../../proc/sys/net/core/somaxconn').read()\n"
        "open('../../proc/net/route').read()\n"
    )
    run = fpshim([PYTHON, "-c", script])
    expect_eq(run.returncode, 0, run.stderr)
    # A directory descriptor is resolved the way the kernel sees it: /sys/class/net/lo is a symlink.
    physical = os.path.realpath("/sys/class/net/lo") + "/address"
    address = run.path("machine_fingerprint", physical)
    expect_eq(address["spellings"], ["address"])
    mtu = run.path("machine_fingerprint", "/sys/class/net/lo/mtu")
    expect_eq(mtu["spellings"], ["net/lo/mtu"])
    somaxconn = run.path("os_network_fingerprint", "/proc/sys/net/core/somaxconn")
    expect_eq(somaxconn["spellings"], ["../../proc/sys/net/core/somaxconn"])
    run.path("os_network_fingerprint", "/proc/net/route")  # strong: somaxconn counts with it
    proc = run.process_by_exe("os_network_fingerprint", os.path.basename(os.path.realpath(PYTHON)))[0]
    expect_eq(proc["argv"][:2], [PYTHON, "-c"])


def test_dot_dot_and_double_slashes_are_folded():
    run = fpshim(shell("cat //proc///ioports /usr/../proc/./ioports /sys/class/net/../net/lo/address >/dev/null"))
    expect_eq(run.returncode, 0)
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 2)
    spellings = run.path("machine_fingerprint", "/proc/ioports")["spellings"]
    expect_eq(sorted(spellings), sorted(["/usr/../proc/./ioports", "//proc///ioports"]))
    run.path("machine_fingerprint", "/sys/class/net/lo/address")


def test_proc_self_is_resolved_to_the_pid():
    run = fpshim([PYTHON, "-c", "import os; print(os.getpid()); open('/proc/self/net/route').read()"])
    expect_eq(run.returncode, 0, run.stderr)
    pid = run.stdout.decode().strip()
    path = run.path("os_network_fingerprint", f"/proc/{pid}/net/route")
    expect_eq(path["spellings"], ["/proc/self/net/route"])


def test_shell_script_ancestry():
    run = fpshim(shell("sh -c 'cat /proc/ioports > /dev/null; :'; echo done"))
    expect_eq(run.returncode, 0)
    expect_eq(run.stdout, b"done\n")
    cat = run.process_by_exe("machine_fingerprint", "cat")[0]
    chain = [a["argv"] for a in cat["ancestry"]]
    expect_eq(chain[-1], ["/bin/sh", "-c", "sh -c 'cat /proc/ioports > /dev/null; :'; echo done"])
    expect_eq(chain[0], ["sh", "-c", "cat /proc/ioports > /dev/null; :"])


def test_write_and_stat_operations():
    # A try to write a network setting, by a shell that also reads the routing table (strong).
    run = fpshim(shell(": >> /proc/sys/net/ipv4/ip_forward; read x < /proc/net/route; true"))
    path = run.path("os_network_fingerprint", "/proc/sys/net/ipv4/ip_forward")
    expect("write" in path["operations"], path)


def test_unrelated_etc_files_do_not_fire():
    run = fpshim(["cat", "/etc/passwd", "/etc/os-release"])
    expect_eq(run.returncode, 0)
    expect_eq(run.report["recipes"], [])


if __name__ == "__main__":
    main(globals())
