"""GitHub's step summary and annotations, GitLab's Code Quality report and JUnit XML, from real builds:
the bundled example (content), a build with hundreds of findings and long paths (GitHub's limits),
GITHUB_ACTIONS=true turning the GitHub outputs on by default, and odd names escaped."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from harness import SOURCE, expect, expect_eq, fpshim, main

SUMMARY_LIMIT = 1 << 20


def copy_example():
    dest = tempfile.mkdtemp(prefix="fpshim-gh-")
    shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), dest, dirs_exist_ok=True)
    return dest


def ci_env(summary, actions=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["GITHUB_STEP_SUMMARY"] = summary
    if actions is not None:
        env["GITHUB_ACTIONS"] = actions
    return env


def annotations(stderr):
    return [line for line in stderr.decode("utf-8", "replace").splitlines() if line.startswith("::")]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def rules_file(directory, importance="high"):
    """One recipe watching everything under DIRECTORY/watched."""
    rules = {"schema": 1, "recipes": [{
        "name": "test_tree", "title": "Test tree read", "description": "A test reads the watched tree.",
        "importance": importance,
        "mitre": {"tactic": {"id": "TA0007", "name": "Discovery"},
                  "technique": {"id": "T1082", "name": "System Information Discovery"}},
        "guidance": {"ci": "Nothing to do: a test.", "staging": "s", "production": "p"},
        "match": [{"subtree": os.path.join(directory, "watched")}], "exclude": []}]}
    path = os.path.join(directory, "rules.json")
    with open(path, "w") as f:
        json.dump(rules, f)
    return path


def test_example_summary_annotations_codequality_junit():
    src = copy_example()
    out = tempfile.mkdtemp(prefix="fpshim-gh-out-")
    summary, cq, junit = (os.path.join(out, n) for n in ("summary.md", "cq.json", "junit.xml"))
    run = fpshim(["make", "-j4", "BUILD=out"], "--github", "--gitlab-codequality", cq, "--junit", junit, cwd=src,
                 env=ci_env(summary))
    expect_eq(run.returncode, 0, run.stderr)
    findings = [(r["name"], p["exe"]) for r in run.report["recipes"] for p in run.report["recipes"] and r["processes"]]
    expect(findings, run.report)

    md = read(summary)
    expect(md.startswith("## fpshim: fingerprinting detected\n"), md[:200])
    expect("The build `make -j4 BUILD=out` exited with 0." in md, md[:400])
    expect("### 🟡 medium · `machine_fingerprint`: Machine fingerprinting" in md, md)
    expect("### 🔵 low · `os_network_fingerprint`: Network configuration fingerprinting" in md, md)
    expect(md.index("machine_fingerprint`: Machine") < md.index("os_network_fingerprint`: Network"), "medium first")
    expect("`/proc/ioports`" in md and "`/proc/sys/net/ipv4/ip_forward`" in md, md)
    expect("- **Process chain:** `cat /proc/ioports` ← `sh scripts/gen-build-info.sh`" in md, md)
    expect("← `make -j4 BUILD=out`" in md, md)
    expect("- **Location:** `scripts/gen-build-info.sh` line " in md, md)
    expect("### Stats" in md and "| records | processes |" in md, md)
    expect(len(md.encode()) < SUMMARY_LIMIT)

    notes = annotations(run.stderr)
    warnings = [a for a in notes if a.startswith("::warning ")]
    expect_eq(len([a for a in notes if a.startswith("::error ")]), 0, notes)  # medium and low are warnings
    expect(1 <= len(warnings) <= 10, notes)
    for a in warnings:
        expect(re.match(r"::warning file=scripts/gen-build-info\.sh,line=\d+,title=fpshim%3A (machine_fingerprint "
                        r"\(medium\)|os_network_fingerprint \(low\))::", a), a)
        expect("%0Aprocess chain: " in a and "make -j4 BUILD=out" in a, a)
    expect(any("read /proc/ioports%0Aprocess chain: cat /proc/ioports <- sh scripts/gen-build-info.sh" in a
               for a in warnings), warnings)

    issues = json.load(open(cq, encoding="utf-8"))
    expect(not open(cq, "rb").read().startswith(b"\xef\xbb\xbf"), "no BOM")
    expect_eq(len(issues), len(warnings))
    for issue in issues:
        expect_eq(sorted(issue), ["categories", "check_name", "content", "description", "fingerprint", "location",
                                  "severity", "type"])
        expect_eq(issue["location"]["path"], "scripts/gen-build-info.sh")
        expect(issue["location"]["lines"]["begin"] >= 1)
        expect(re.fullmatch(r"[0-9a-f]{16}", issue["fingerprint"]), issue)
        expect_eq(issue["severity"], {"fpshim/machine_fingerprint": "major",
                                      "fpshim/os_network_fingerprint": "minor"}[issue["check_name"]])
    expect_eq(len({i["fingerprint"] for i in issues}), len(issues))
    ioports = [i for i in issues if "/proc/ioports" in i["description"]]
    expect_eq(len(ioports), 1, issues)
    expect("process chain: cat /proc/ioports <- sh scripts/gen-build-info.sh" in ioports[0]["description"], ioports)

    root = ET.parse(junit).getroot()
    expect_eq(root.tag, "testsuites")
    suites = root.findall("testsuite")
    expect_eq(sorted(s.get("name") for s in suites), ["fpshim: machine_fingerprint", "fpshim: os_network_fingerprint"])
    failures = root.findall("./testsuite/testcase/failure")
    expect_eq(len(failures), len(issues))
    expect_eq(int(root.get("failures")), len(issues))
    expect_eq(sum(int(s.get("failures")) for s in suites), len(issues))
    expect(any("process chain: cat /proc/ioports <- sh scripts/gen-build-info.sh" in f.text and "/proc/ioports\n" in f.text
               for f in failures), [f.text for f in failures])
    for case in root.findall("./testsuite/testcase"):
        expect_eq(case.get("file"), "scripts/gen-build-info.sh")
    if shutil.which("xmllint"):
        lint = subprocess.run(["xmllint", "--noout", junit], capture_output=True)
        expect_eq(lint.returncode, 0, lint.stderr)
    shutil.rmtree(src)
    shutil.rmtree(out)


def test_github_actions_true_turns_it_on_and_no_github_off():
    src = copy_example()
    out = tempfile.mkdtemp(prefix="fpshim-gh-out-")
    on, off, unset = (os.path.join(out, n) for n in ("on.md", "off.md", "unset.md"))
    run = fpshim(["make", "-j4", "BUILD=out"], cwd=src, env=ci_env(on, "true"))
    expect_eq(run.returncode, 0, run.stderr)
    expect("machine_fingerprint" in read(on), "GITHUB_ACTIONS=true writes the summary")
    expect(len(annotations(run.stderr)) >= 1, run.stderr)
    shutil.rmtree(os.path.join(src, "out"))
    run = fpshim(["make", "-j4", "BUILD=out"], "--no-github", cwd=src, env=ci_env(off, "true"))
    expect(not os.path.exists(off), "--no-github writes no summary")
    expect_eq(annotations(run.stderr), [])
    shutil.rmtree(os.path.join(src, "out"))
    run = fpshim(["make", "-j4", "BUILD=out"], cwd=src, env=ci_env(unset))
    expect(not os.path.exists(unset), "no GITHUB_ACTIONS: no summary")
    expect_eq(annotations(run.stderr), [])
    shutil.rmtree(src)
    shutil.rmtree(out)


def test_limits_hold_for_hundreds_of_findings_with_long_paths():
    """400 executables (copies of cat) each read 20 files whose paths are 2 KB long: 400 findings of a
    high recipe. The summary stays under 1 MiB even after 900 KB that an earlier tool of the step wrote,
    says what it left out, and there are 10 errors and one notice."""
    work = tempfile.mkdtemp(prefix="fpshim-gh-many-")
    rules = rules_file(work)
    deep = os.path.join(work, "watched", *(["d" * 200] * 10))
    os.makedirs(deep)
    files = []
    for i in range(20):
        files.append(os.path.join(deep, f"f{i:02d}"))
        open(files[-1], "w").close()
    src = os.path.join(work, "src")  # the checkout; the watched tree is outside it
    bins = os.path.join(src, "bin")
    os.makedirs(bins)
    cat = shutil.which("cat")
    for i in range(400):
        shutil.copy(cat, os.path.join(bins, f"cat{i:03d}"))
    with open(os.path.join(src, "build.sh"), "w") as f:
        f.write("".join(f'bin/cat{i:03d} "$@" > /dev/null\n' for i in range(400)))
    summary = os.path.join(work, "summary.md")
    with open(summary, "w") as f:
        f.write("x" * 900_000 + "\n")
    run = fpshim(["sh", "build.sh", *files], "--github", "--junit", os.path.join(work, "junit.xml"), cwd=src,
                 rules=rules, env=ci_env(summary), timeout=300)
    expect_eq(run.returncode, 0, run.stderr)
    expect_eq(len(run.report["recipes"][0]["processes"]), 400)
    size = os.path.getsize(summary)
    expect(900_001 < size < SUMMARY_LIMIT, size)
    md = read(summary)[900_001:]
    expect(md.startswith("\n## fpshim: fingerprinting detected"), md[:100])
    left = re.search(r"\*\*Truncated:\*\* (\d+) findings and 0 unmonitored processes \((\d+) bytes\) were left out", md)
    expect(left, md[-2000:])
    shown = md.count("\n#### `")
    expect_eq(shown + int(left.group(1)), 400)
    expect(shown >= 1, md[:2000])
    expect("### Stats" in md, "the stats are kept")

    # The same build with nothing before it: about 1 MiB of findings, still under the limit.
    os.remove(summary)
    run = fpshim(["sh", "build.sh", *files], "--github", cwd=src, rules=rules, env=ci_env(summary), timeout=300)
    expect(SUMMARY_LIMIT - 64 * 1024 < os.path.getsize(summary) < SUMMARY_LIMIT, os.path.getsize(summary))

    notes = annotations(run.stderr)
    errors = [a for a in notes if a.startswith("::error ")]
    expect_eq(len(errors), 10, notes[:3])
    expect_eq([a for a in notes if a.startswith("::warning")], [])
    expect_eq(len([a for a in notes if a.startswith("::notice ")]), 1)
    expect("390 more findings not annotated" in notes[-1], notes[-1])
    for a in errors:
        expect(a.startswith("::error file=build.sh,line="), a)
        expect(" and 15 more%0Aprocess chain: bin/cat" in a, a[:300])
    junit = ET.parse(os.path.join(work, "junit.xml")).getroot()
    expect_eq(len(junit.findall("./testsuite/testcase/failure")), 400)
    shutil.rmtree(work)


def test_odd_names_are_escaped_everywhere():
    """A script named with , : % reads a watched file named with a newline, a tab, XML specials and a
    byte that is not UTF-8: the annotation's file= is escaped, each annotation stays one line, and the
    JUnit XML and the Code Quality JSON still parse."""
    work = tempfile.mkdtemp(prefix="fpshim-gh-odd-")
    rules = rules_file(work)
    src = os.path.join(work, "src")
    os.makedirs(os.path.join(work, "watched"))
    os.makedirs(src)
    odd = os.path.join(work.encode(), b"watched", b"a\nb\tc<&>\"'%,:\xff\x01")
    open(odd, "w").close()
    script = "gen,x:y%z.sh"
    with open(os.path.join(src, script), "w") as f:
        f.write("cat ../watched/* > /dev/null\n")
    summary = os.path.join(work, "summary.md")
    cq, junit = os.path.join(work, "cq.json"), os.path.join(work, "junit.xml")
    run = fpshim(["sh", script], "--github", "--junit", junit, "--gitlab-codequality", cq, cwd=src, rules=rules,
                 env=ci_env(summary))
    expect_eq(run.returncode, 0, run.stderr)
    notes = annotations(run.stderr)
    expect_eq(len(notes), len(run.report["recipes"][0]["processes"]), run.stderr)  # cat, and sh listing the directory
    for note in notes:
        expect(note.startswith("::error file=gen%2Cx%3Ay%25z.sh,line=1,title=fpshim%3A test_tree (high)::"), note)
    expect(any("watched/a\\x0ab\\x09c<&>\"'%25,:\\xff\\x01%0Aprocess chain: cat " in n for n in notes), notes)
    issues = json.load(open(cq, encoding="utf-8"))
    expect_eq([i["location"]["path"] for i in issues], [script] * len(notes))
    expect_eq({i["severity"] for i in issues}, {"critical"})
    expect(any("a\nb\tc<&>\"'%,:\\xff\x01" in i["description"] for i in issues), issues)
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    expect_eq([c.get("file") for c in cases], [script] * len(notes))
    expect(any("a\nb\tc<&>\"'%,:\\xff\\x01" in c.find("failure").text for c in cases), [c.find("failure").text for c in cases])
    if shutil.which("xmllint"):
        lint = subprocess.run(["xmllint", "--noout", junit], capture_output=True)
        expect_eq(lint.returncode, 0, lint.stderr)
    md = read(summary)
    expect("a\\x0ab\\x09c<&>\"'%,:\\xff\\x01" in md, md)
    shutil.rmtree(work)


if __name__ == "__main__":
    main(globals())
