"""Counts stay true under threads and repetition, and paths are bytes: odd ones are reported exactly."""
import os
from harness import PYTHON, expect, expect_eq, fpshim, main, program


def test_threads_count_exactly():
    threads, rounds = 16, 2000
    run = fpshim([program("threads"), str(threads), str(rounds)])
    expect_eq(run.returncode, 0, run.stderr)
    ioports = run.path("machine_fingerprint", "/proc/ioports")
    expect_eq(ioports["count"], threads * rounds)
    expect_eq(ioports["count_is_lower_bound"], False)
    dmi = run.path("machine_fingerprint", "/sys/class/dmi/id/product_uuid")
    expect_eq(dmi["count"], threads * rounds)
    if not os.path.exists("/sys/class/dmi/id/product_uuid"):
        expect_eq(dmi["failed"], threads * rounds)
    expect_eq(run.recipe_names(), ["machine_fingerprint"])
    expect_eq(run.report["stats"]["lost"], 0)


def test_repeated_open_sends_few_records():
    n = 1_000_000
    run = fpshim([program("probe"), f"repeat:{n}:/proc/ioports"])
    expect_eq(run.returncode, 0)
    expect_eq(run.path("machine_fingerprint", "/proc/ioports")["count"], n)
    expect(run.report["stats"]["records"] < 100, run.report["stats"])


def test_non_utf8_path_is_kept_as_bytes():
    name = b"/sys/class/dmi/id/\xff\xfe-serial"
    script = f"import os\ntry: os.open({name!r}, os.O_RDONLY)\nexcept OSError: pass\n"
    run = fpshim([PYTHON, "-c", script])
    expect_eq(run.returncode, 0, run.stderr)
    paths = run.recipe("machine_fingerprint")["paths"]
    expect_eq(len(paths), 1)
    expect_eq(bytes.fromhex(paths[0]["path_hex"]), name)
    expect_eq(paths[0]["path"], "/sys/class/dmi/id/\\xff\\xfe-serial")


def test_newline_in_path():
    name = "/sys/class/dmi/id/line1\nline2"
    run = fpshim([PYTHON, "-c", f"import os\ntry: open({name!r})\nexcept OSError: pass\n"])
    expect_eq(run.paths("machine_fingerprint"), [name])


def test_path_max_and_longer():
    long_name = "/sys/class/dmi/id/" + "a" * 250 + "/" + "b" * 250
    too_long = "/sys/class/dmi/id/" + "/".join(["c" * 200] * 25)  # > PATH_MAX: the kernel says ENAMETOOLONG
    script = (f"import os\n"
              f"for p in [{long_name!r}, {too_long!r}]:\n"
              f"    try: open(p)\n"
              f"    except OSError as e: print(e.errno)\n")
    run = fpshim([PYTHON, "-c", script])
    expect_eq(run.returncode, 0, run.stderr)
    paths = run.paths("machine_fingerprint")
    expect(long_name in paths, paths)
    expect(too_long in paths, [len(p) for p in paths])


if __name__ == "__main__":
    main(globals())
