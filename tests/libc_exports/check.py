"""Fails when libc.so.6 exports a function that reaches a file by its name (doors.txt `reach`) that
libfpshim.so does not define (in each version libc has it in, where those differ) and doors.txt does not `skip` with a
reason. Usage: check.py LIBFPSHIM_SO [LIBC_SO]; the libc is the one the shim is linked against."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read_doors(path):
    reach, skip = [], {}
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, rest = line.partition(" ")
        if kind == "reach" and rest:
            reach.append(re.compile(rest))
        elif kind == "skip" and len(rest.split(None, 1)) == 2:
            name, reason = rest.split(None, 1)
            skip[name] = reason
        else:
            sys.exit(f"{path}:{number}: expected 'reach REGEX' or 'skip NAME REASON'")
    return reach, skip


def exports(library):
    """{name: {version: address}} of the functions `library` defines ('' for no version)."""
    listed = subprocess.run(["nm", "-D", "--defined-only", library], stdout=subprocess.PIPE, check=True, text=True)
    found = {}
    for line in listed.stdout.splitlines():
        fields = line.split()
        if len(fields) != 3 or fields[1] not in "TtWiI":
            continue
        name, _, version = fields[2].partition("@")
        found.setdefault(name, {})[version.lstrip("@")] = fields[0]
    return found


def linked_libc(shim):
    listed = subprocess.run(["ldd", shim], stdout=subprocess.PIPE, check=True, text=True).stdout
    for line in listed.splitlines():
        if line.strip().startswith("libc.so.6"):
            return line.split("=>")[1].split()[0]
    sys.exit(f"{shim} is not linked against libc.so.6")


def main():
    shim = sys.argv[1]
    libc = sys.argv[2] if len(sys.argv) > 2 else linked_libc(shim)
    reach, skip = read_doors(os.path.join(HERE, "doors.txt"))
    libc_exports, hooked = exports(libc), exports(shim)
    problems = []
    reaching = sorted(name for name in libc_exports if any(p.fullmatch(name) for p in reach))
    for name in reaching:
        versions = libc_exports[name]
        if name in skip:
            if name in hooked:
                problems.append(f"{name}: skipped in doors.txt ({skip[name]}), but the shim hooks it")
            continue
        if name not in hooked:
            problems.append(f"{name}: reaches a file, neither hooked nor skipped")
        elif len(set(versions.values())) > 1 and not set(versions) <= set(hooked[name]):
            # Versions that are different functions (realpath's, glob's) need a hook each; one
            # function under several versions (dlsym's) is covered by one unversioned hook.
            missing = ", ".join(sorted(set(versions) - set(hooked[name])))
            problems.append(f"{name}: libc has it in versions the shim does not define: {missing}")
    for name in sorted(set(skip) - set(reaching)):
        problems.append(f"{name}: skipped in doors.txt but not a reaching export of {libc}")
    print(f"{len(reaching)} reaching exports of {libc}: {len(reaching) - len(skip)} hooked, {len(skip)} skipped")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
