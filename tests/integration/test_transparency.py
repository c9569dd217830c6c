"""A build must not be able to tell fpshim is there: same output, exit code, errno values and file
descriptors, with and without fpshim, for watched and unwatched paths alike."""
import os
import tempfile
from harness import PYTHON, expect, expect_eq, fpshim, identical, main, plain, program, shell


def test_errno_and_fd_numbers_are_unchanged():
    tmp = tempfile.mkdtemp()
    ops = [
        "open:/proc/ioports", "open:/sys/class/dmi/id/product_uuid", "open:/nonexistent",
        f"creat:{tmp}/new", "creat:/proc/ioports", "openrw:/proc/ioports", "fopen:/sys/class/dmi/id/x",
        "fopen:/etc/hostname", "opendir:/sys/class/net", "opendir:/nonexistent/dir",
        "openat:/sys/class/net:lo/address", "openat:/sys/class/net:nope/address",
        "chdir:/sys/class", "open:net/lo/mtu", "open:dmi/id/bios_vendor", "chdir:/nonexistent", "open:/",
    ]
    run = identical([program("probe")] + ops)
    expect(run.report["recipes"], "the watched accesses above must be reported")
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], 3)


def test_descriptors_of_an_untouched_program_are_unchanged():
    identical([program("probe"), "open:/etc/passwd", "fds"])


def test_an_unversioned_reference_gets_the_definition_it_gets_without_the_shim():
    # The program's realpath is unversioned (an interposer defines it first, as ASan's runtime
    # does), which the loader binds to the shim's oldest version of it; that hook must forward to
    # the interposer, not to libc's GLIBC_2.2.5 realpath, which fails with EINVAL on a NULL buffer.
    for path in ("/proc/ioports", "/etc/passwd"):
        run = identical([program("unversioned_realpath"), path])
        expect_eq(run.stdout, f"{path}\n".encode())
    expect_eq(run.returncode, 0)


def test_stdin_and_output_pass_through():
    run = identical(shell("echo out; echo err >&2; printf 'no newline'"))
    expect_eq(run.stdout, b"out\nno newline")


def test_python_errors_are_identical():
    script = ("import os\n"
              "for p in ['/sys/class/dmi/id/product_uuid', '/proc/ioports', '/nope']:\n"
              "    try:\n"
              "        os.close(os.open(p, os.O_RDONLY)); print(p, 'ok')\n"
              "    except OSError as e:\n"
              "        print(p, e.errno, e.strerror)\n")
    identical([PYTHON, "-c", script])


def test_only_a_process_that_reaches_a_watched_path_talks_to_the_collector():
    # The others append their hello and exec records to the process log: no socket, no wake-up.
    trace = os.path.join(tempfile.mkdtemp(), "trace")
    script = "ls /usr >/dev/null; cat /etc/passwd >/dev/null; cat /proc/ioports >/dev/null"
    run = fpshim(["strace", "-f", "-qq", "-e", "trace=socket,connect,sendto,sendmsg", "-o", trace] + shell(script))
    expect_eq(run.returncode, 0, run.stderr)
    talking = {line.split()[0] for line in open(trace) if not line.split()[1].startswith("---")}
    exes = sorted(os.path.basename(p["exe"]) for p in run.report["processes"])
    expect(exes.count("cat") == 2 and "ls" in exes, f"every process must be in the report: {exes}")
    expect_eq(len(talking), 1, open(trace).read())
    reader = run.process_by_exe("machine_fingerprint", "cat")
    expect_eq({str(p["pid"]) for p in reader}, talking)


def test_collector_text_goes_to_stderr_only_when_asked():
    run = fpshim(["cat", "/proc/ioports"])
    plain_run = plain(["cat", "/proc/ioports"])
    expect_eq(run.stdout, plain_run.stdout)
    expect("machine_fingerprint" in run.text, run.text)


def test_valgrind_finds_nothing_the_program_does_not_do():
    """A test suite that runs its tests under Memcheck and fails on any report (json-c's does) must
    pass under fpshim: the shim's block-at-a-time string scans step aside under Valgrind. The paths
    live in malloc'd buffers, so the bytes after their NULs are uninitialised."""
    cmd = ["valgrind", "-q", "--error-exitcode=99", "--trace-children=yes", program("heap_paths")]
    untraced = plain(cmd)
    expect_eq(untraced.returncode, 0, untraced.stderr)
    traced = fpshim(cmd, "--quiet")
    expect_eq((traced.returncode, traced.stdout, traced.stderr), (0, untraced.stdout, untraced.stderr))
    expect("machine_fingerprint" in [r["name"] for r in traced.report["recipes"]], traced.report["recipes"])


if __name__ == "__main__":
    main(globals())
