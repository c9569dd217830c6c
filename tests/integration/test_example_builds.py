"""The bundled example builds under `make -j4`: the fingerprinting step is reported with its ancestry,
the compile steps are not; the benign build reports nothing."""
import os
import shutil
import tempfile
from harness import SOURCE, expect, expect_eq, fpshim, main, plain


def copy_example(name):
    dest = tempfile.mkdtemp(prefix=f"fpshim-{name}-")
    shutil.copytree(os.path.join(SOURCE, "examples", name), dest, dirs_exist_ok=True)
    return dest


def interfaces():
    return sorted(os.listdir("/sys/class/net"))


def test_fingerprinting_step_is_found_in_a_parallel_build():
    src = copy_example("fingerprinting-build")
    run = fpshim(["make", "-j4", "BUILD=out"], cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(run.recipe_names(), ["machine_fingerprint", "os_network_fingerprint"])

    machine = run.paths("machine_fingerprint")
    expected = ["/proc/ioports", "/sys/class/dmi/id/product_uuid", "/sys/class/net"]
    expected += [f"/sys/class/net/{i}/address" for i in interfaces()]
    if not os.path.exists("/sys/class/dmi/id/product_uuid"):
        expected.append("/etc/machine-id")
    expect_eq(machine, sorted(expected))

    network = run.paths("os_network_fingerprint")
    # Three network settings by one cat: weak each, a sweep together. The MACs are machine_fingerprint's.
    expected = ["/proc/sys/net/core/somaxconn", "/proc/sys/net/ipv4/ip_default_ttl", "/proc/sys/net/ipv4/ip_forward"]
    expect_eq(network, sorted(expected))

    # Every process that hit is the generator script or a child of it, never a compiler.
    for recipe in run.recipe_names():
        for proc in run.processes(recipe):
            exes = [os.path.basename(proc["exe"])] + [os.path.basename(a["exe"]) for a in proc["ancestry"]]
            expect("cc1" not in exes and "gcc" not in exes and "ld" not in exes, exes)
            expect_eq(proc["ancestry"][-1]["argv"], ["make", "-j4", "BUILD=out"])
            argvs = [proc["argv"]] + [a["argv"] for a in proc["ancestry"]]
            expect(["sh", "scripts/gen-build-info.sh"] in argvs, argvs)

    ioports = run.process_by_exe("machine_fingerprint", "cat")
    expect(any(p["argv"] == ["cat", "/proc/ioports"] for p in ioports), ioports)
    expect(os.path.exists(os.path.join(src, "out", "app")))
    expect("machine_fingerprint" in run.text and "make -j4 BUILD=out" in run.text, run.text)
    shutil.rmtree(src)


def test_benign_build_reports_nothing():
    src = copy_example("benign-build")
    run = fpshim(["make", "-j4", "BUILD=out"], cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(run.report["recipes"], [])
    expect(run.report["stats"]["processes"] >= 6, run.report["stats"])
    expect_eq(run.report["stats"]["lost"], 0)
    expect("no fingerprinting detected" in run.text, run.text)
    shutil.rmtree(src)


def test_build_output_is_unchanged():
    a, b = copy_example("benign-build"), copy_example("benign-build")
    traced = fpshim(["make", "-j1", "BUILD=out"], "--quiet", cwd=a)
    untraced = plain(["make", "-j1", "BUILD=out"], cwd=b)
    expect_eq(traced.returncode, untraced.returncode)
    expect_eq(traced.stdout, untraced.stdout)
    expect_eq(traced.stderr, untraced.stderr)
    with open(os.path.join(a, "out", "app"), "rb") as x, open(os.path.join(b, "out", "app"), "rb") as y:
        expect(x.read() == y.read(), "binaries differ")
    shutil.rmtree(a)
    shutil.rmtree(b)


if __name__ == "__main__":
    main(globals())
