"""The Debian package: `cpack -G DEB` in the build tree makes it, `dpkg -x` installs it into a
throwaway directory, and the bundled example runs from there (the fpshim of the package finds the
package's shim and rules); the layout is Debian's (packaging/CMakeLists.txt), `$LIB` in LD_PRELOAD
reaches the package's shim, the man page renders, and lintian has nothing to say above info
(overrides, each with its reason, in packaging/lintian-overrides)."""
import glob
import gzip
import json
import os
import shutil
import subprocess
import tempfile

from harness import FPSHIM, PROGRAMS, SOURCE, expect, expect_eq, main

BIN = os.path.dirname(os.path.abspath(FPSHIM))
BUILD = os.path.dirname(BIN)
SHIM_DIR = "usr/lib/x86_64-linux-gnu/fpshim"
PATH = "/usr/bin:/bin"

_made = {}


def package():
    """(the .deb, the directory dpkg -x extracted it to), made once."""
    if not _made:
        out = tempfile.mkdtemp(prefix="fpshim-deb-")
        cpack = os.path.join(os.path.dirname(shutil.which("cmake")), "cpack")
        made = subprocess.run([cpack, "-G", "DEB", "-B", out, "--config", os.path.join(BUILD, "CPackConfig.cmake")],
                              cwd=BUILD, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=800)
        expect_eq(made.returncode, 0, made.stdout)
        debs = glob.glob(os.path.join(out, "*.deb"))
        expect_eq(len(debs), 1, made.stdout)
        root = os.path.join(out, "root")
        subprocess.run(["dpkg", "-x", debs[0], root], check=True)
        _made.update(deb=debs[0], root=root)
    return _made["deb"], _made["root"]


def field(name):
    deb, _ = package()
    return subprocess.run(["dpkg-deb", "-f", deb, name], stdout=subprocess.PIPE, text=True, check=True).stdout.strip()


def test_the_layout_is_debians():
    _, root = package()
    for path in ["usr/bin/fpshim", f"{SHIM_DIR}/libfpshim.so", "usr/share/fpshim/rules.json",
                 "usr/share/man/man1/fpshim.1.gz", "usr/share/doc/fpshim/README.md", "usr/share/doc/fpshim/copyright",
                 "lib/systemd/system/fpshim-serve.service", "usr/share/lintian/overrides/fpshim"]:
        expect(os.path.isfile(os.path.join(root, path)), f"{path} is not in the package")
    expect_eq(open(os.path.join(root, "usr/share/fpshim/rules.json"), "rb").read(),
              open(os.path.join(SOURCE, "rules.json"), "rb").read(), "the packaged rules")
    unit = open(os.path.join(root, "lib/systemd/system/fpshim-serve.service"), encoding="utf-8").read()
    expect("ExecStart=/usr/bin/fpshim serve " in unit, unit)
    expect_eq(field("Package"), "fpshim")
    expect_eq(field("Architecture"), "amd64")
    version = subprocess.run([FPSHIM, "--version"], stdout=subprocess.PIPE, text=True).stdout.split()[-1]
    expect_eq(field("Version"), version)


def test_every_shim_variant_is_packaged_beside_the_shim():
    """The contract with shim/CMakeLists.txt: each libfpshim-<variant>.so built in build/bin is
    installed under its name next to libfpshim.so; the i386 one is also libfpshim.so in both
    directories glibc's $LIB names for a 32-bit process (lib32 for libc6-i386, lib/i386-linux-gnu
    for multiarch libc6:i386)."""
    _, root = package()
    built = sorted(os.path.basename(p) for p in glob.glob(os.path.join(BIN, "libfpshim-*.so")))
    packaged = sorted(f for f in os.listdir(os.path.join(root, SHIM_DIR)) if f != "libfpshim.so")
    expect_eq(packaged, built, "the variants packaged")
    for lib32 in ["usr/lib32/fpshim/libfpshim.so", "usr/lib/i386-linux-gnu/fpshim/libfpshim.so"]:
        link = os.path.join(root, lib32)
        if "libfpshim-i386.so" in built:
            expect(os.path.islink(link), f"{lib32} should link to the i386 shim")
            expect_eq(os.path.realpath(link), os.path.realpath(os.path.join(root, SHIM_DIR, "libfpshim-i386.so")))
        else:
            expect(not os.path.lexists(link), f"{lib32} without an i386 shim")


def test_the_packaged_fpshim_runs_the_example():
    _, root = package()
    example = tempfile.mkdtemp(prefix="fpshim-deb-example-")
    shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), example, dirs_exist_ok=True)
    rules = os.path.join(root, "usr/share/fpshim/rules.json")
    # The package's own rules file, told apart from the source tree's by a recipe title.
    with open(rules, encoding="utf-8") as f:
        text = f.read()
    with open(rules, "w", encoding="utf-8") as f:
        f.write(text.replace('"title": "Machine fingerprinting"', '"title": "Machine fingerprinting (packaged rules)"', 1))
    report = os.path.join(example, "report.json")
    run = subprocess.run([os.path.join(root, "usr/bin/fpshim"), "run", "--report", report, "--", "sh", "-c",
                          'echo "LD_PRELOAD=$LD_PRELOAD" >&2; make -j4 BUILD=out'],
                         cwd=example, env={"PATH": PATH}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=300)
    expect_eq(run.returncode, 0, run.stderr)
    expect(f"LD_PRELOAD={os.path.realpath(os.path.join(root, SHIM_DIR))}/libfpshim.so" in run.stderr, run.stderr)
    with open(report, encoding="utf-8") as f:
        recipes = {r["name"]: r for r in json.load(f)["recipes"]}
    expect_eq(sorted(recipes), ["machine_fingerprint", "os_network_fingerprint"], run.stderr)
    expect_eq(recipes["machine_fingerprint"]["title"], "Machine fingerprinting (packaged rules)")
    with open(rules, "w", encoding="utf-8") as f:
        f.write(text)
    shutil.rmtree(example)


def test_lib_in_ld_preload_reaches_the_packaged_shim():
    """LD_PRELOAD='<root>/usr/$LIB/fpshim/libfpshim.so' with nothing else: glibc's loader expands $LIB
    to lib/x86_64-linux-gnu for a 64-bit process, which then reports to the spool; and, when the i386
    shim is packaged, to lib32 (libc6-i386's loader) for a 32-bit one."""
    _, root = package()
    work = tempfile.mkdtemp(prefix="fpshim-deb-lib-")
    spool = os.path.join(work, "spool")
    os.mkdir(spool, 0o700)
    programs = [("/bin/cat", "64-bit")]
    if os.path.exists(os.path.join(root, SHIM_DIR, "libfpshim-i386.so")):
        cat32 = os.path.join(work, "cat32")
        subprocess.run(["gcc", "-m32", "-O2", "-o", cat32, "-x", "c", "-"], check=True, text=True,
                       input='#include <stdio.h>\nint main(int c, char** v) { FILE* f = fopen(v[1], "r");'
                             ' return f ? fclose(f), 0 : 1; }\n')
        programs.append((cat32, "32-bit"))
    for exe, what in programs:
        env = {"PATH": PATH, "LD_PRELOAD": os.path.join(root, "usr") + "/$LIB/fpshim/libfpshim.so",
               "FPSHIM_SPOOL": spool, "FPSHIM_SOCKET": os.path.join(work, "no-collector.sock")}
        run = subprocess.run([exe, "/proc/ioports"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, timeout=60)
        expect_eq(run.stderr, "", f"the loader's complaint for a {what} process")
        out = os.path.join(work, "report.json")
        rep = subprocess.run([os.path.join(root, "usr/bin/fpshim"), "report", "--spool", spool, "--consume",
                              "--report", out, "--quiet"], env={"PATH": PATH}, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60)
        expect_eq(rep.returncode, 0, rep.stderr)
        with open(out, encoding="utf-8") as f:
            r = json.load(f)
        expect_eq([p["path"] for x in r["recipes"] for p in x["paths"]], ["/proc/ioports"], f"{what}: {r['recipes']}")
    shutil.rmtree(work)


def test_the_man_page_is_installed():
    _, root = package()
    page = os.path.join(root, "usr/share/man/man1/fpshim.1.gz")
    expect_eq(gzip.open(page).read(), open(os.path.join(SOURCE, "docs", "fpshim.1"), "rb").read())
    shown = subprocess.run(["man", "-l", page], env={"PATH": PATH, "MANPAGER": "cat", "MANWIDTH": "100"},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    expect_eq(shown.returncode, 0, shown.stderr)
    expect("fpshim check-rules" in shown.stdout.replace("\u2010", "-"), shown.stdout[:500])


def test_lintian_has_no_warning():
    deb, _ = package()
    lint = subprocess.run(["lintian", "--fail-on", "error,warning", "--display-level", ">=warning", deb],
                          env={"PATH": PATH, "LC_ALL": "C.UTF-8"}, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=600)
    expect_eq(lint.returncode, 0, lint.stdout + lint.stderr)
    expect_eq(lint.stdout.strip(), "", "lintian's tags at warning level or above")


if __name__ == "__main__":
    main(globals())
