"""SARIF 2.1.0 (--sarif FILE) as GitHub code scanning takes it: Microsoft's SARIF Multitool (from npm)
finds no error in the bundled example's log, GitHub's own rules hold for every result (a repo-relative
uri, a startLine, a stable primaryLocationLineHash), and a build that touches 100,000 watched paths
still yields a log within GitHub's limits."""
import gzip
import json
import os
import shutil
import stat
import subprocess
import tempfile
from urllib.parse import unquote, urlsplit

from harness import FPSHIM, PYTHON, SOURCE, expect, expect_eq, fpshim, main

BUILD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(FPSHIM)))
MULTITOOL_CACHE = os.path.join(BUILD_DIR, "npm-sarif-multitool")
MULTITOOL = os.path.join(MULTITOOL_CACHE, "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")
SCRIPT = "scripts/gen-build-info.sh"


def multitool():
    """The multitool's Linux binary, installed once per build directory with npm."""
    if not os.path.exists(MULTITOOL):
        os.makedirs(MULTITOOL_CACHE, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", MULTITOOL_CACHE, "--no-audit", "--no-fund", "--loglevel=error",
                        "@microsoft/sarif-multitool"], check=True, stdout=subprocess.DEVNULL, timeout=600)
    # Its postinstall (chmod u+x) may not have run under npm's install-script policy.
    os.chmod(MULTITOOL, os.stat(MULTITOOL).st_mode | stat.S_IXUSR)
    return MULTITOOL


def validate(path):
    """The multitool's findings on `path` with the SARIF and the GitHub rule kinds, as (level, rule, text).
    It exits 0 whatever it finds, so what counts is the SARIF log it writes."""
    out = path + ".validation.sarif"
    if os.path.exists(out):
        os.unlink(out)
    proc = subprocess.run([multitool(), "validate", path, "-o", out, "--rule-kind", "Sarif;Gh"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
                          env=dict(os.environ, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1"))
    expect(os.path.exists(out), f"the multitool wrote no log (exit {proc.returncode}):\n{proc.stdout}")
    with open(out, encoding="utf-8-sig") as f:
        log = json.load(f)
    found = []
    for run in log["runs"]:
        for result in run.get("results", []):
            text = result["message"].get("text") or " ".join(result["message"].get("arguments", []))
            found.append((result.get("level", "warning"), result.get("ruleId"), text))
    return found, proc.stdout


def errors(found):
    return [f for f in found if f[0] == "error"]


def copy_example():
    dest = tempfile.mkdtemp(prefix="fpshim-sarif-example-")
    shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), dest, dirs_exist_ok=True)
    return dest


def run_example(sarif_name="log.sarif"):
    src = copy_example()
    sarif = os.path.join(src, sarif_name)
    run = fpshim(["make", "-j4", "BUILD=out"], "--sarif", sarif, cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    with open(sarif, encoding="utf-8") as f:
        text = f.read()
    return src, sarif, json.loads(text), run


def github_rule_problems(log):
    """What GitHub's upload would reject or misplace: every result needs a location whose uri is
    repo-relative (no scheme, not absolute, not empty, no '..') under %SRCROOT% and a startLine >= 1,
    a primaryLocationLineHash, a rule that exists; and the limits on results, locations and tags."""
    problems = []
    if log.get("version") != "2.1.0" or not log.get("$schema"):
        problems.append("version/$schema")
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        ids = [r["id"] for r in rules]
        for r in rules:
            for field in ("shortDescription", "fullDescription"):
                if not r.get(field, {}).get("text") or len(r[field]["text"]) > 1024:
                    problems.append(f"rule {r['id']}: {field}")
            if not r.get("help", {}).get("text"):
                problems.append(f"rule {r['id']}: help.text")
            if len(r["properties"]["tags"]) > 20:
                problems.append(f"rule {r['id']}: more than 20 tags")
            severity = float(r["properties"]["security-severity"])
            if not 0.1 <= severity <= 10:
                problems.append(f"rule {r['id']}: security-severity {severity}")
        if len(run["results"]) > 25000:
            problems.append("more than 25,000 results")
        for i, result in enumerate(run["results"]):
            where = f"result {i}"
            if result.get("ruleId") not in ids or ids.index(result["ruleId"]) != result.get("ruleIndex"):
                problems.append(f"{where}: ruleId/ruleIndex")
            if not result.get("message", {}).get("text"):
                problems.append(f"{where}: no message")
            locations = result.get("locations") or []
            if not locations or len(locations) > 1000:
                problems.append(f"{where}: {len(locations)} locations")
                continue
            physical = locations[0].get("physicalLocation", {})
            uri = physical.get("artifactLocation", {}).get("uri", "")
            parts = urlsplit(uri)
            if not uri or parts.scheme or parts.netloc or uri.startswith("/") or ".." in uri.split("/"):
                problems.append(f"{where}: uri {uri!r}")
            if physical.get("artifactLocation", {}).get("uriBaseId") != "%SRCROOT%":
                problems.append(f"{where}: uriBaseId")
            line = physical.get("region", {}).get("startLine")
            if not isinstance(line, int) or line < 1:
                problems.append(f"{where}: startLine {line!r}")
            if not result.get("partialFingerprints", {}).get("primaryLocationLineHash"):
                problems.append(f"{where}: no primaryLocationLineHash")
    return problems


def source_root_of(run):
    uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    expect(uri.startswith("file:///") and uri.endswith("/"), uri)
    return unquote(urlsplit(uri).path)


def test_multitool_finds_no_error_in_the_example_log():
    src, sarif, log, _ = run_example()
    found, output = validate(sarif)
    expect_eq(errors(found), [], output)
    # The multitool does report errors in a broken copy (a result without a location, one without a
    # message): so zero above is its verdict, not its silence.
    log["runs"][0]["results"][0]["locations"] = []
    broken = os.path.join(src, "broken.sarif")
    with open(broken, "w", encoding="utf-8") as f:
        json.dump(log, f)
    found, output = validate(broken)
    expect("GH1015" in {rule for _, rule, _ in errors(found)}, output)
    del log["runs"][0]["results"][1]["message"]
    with open(broken, "w", encoding="utf-8") as f:
        json.dump(log, f)
    found, output = validate(broken)
    expect(errors(found), output)
    shutil.rmtree(src, ignore_errors=True)


def test_example_results_follow_githubs_rules_and_point_at_the_script():
    src, _, log, run = run_example()
    expect_eq(github_rule_problems(log), [])
    sarif_run = log["runs"][0]
    expect_eq(os.path.realpath(source_root_of(sarif_run)), os.path.realpath(src))
    expect_eq(sarif_run["tool"]["driver"]["name"], "fpshim")
    expect(sarif_run["automationDetails"]["id"].startswith("fpshim/"), sarif_run["automationDetails"])
    expect_eq(sarif_run["invocations"][0]["exitCode"], 0)
    expect_eq(sarif_run["properties"]["results_dropped"], 0)

    rules = {r["id"]: r for r in sarif_run["tool"]["driver"]["rules"]}
    expect_eq(sorted(rules), run.recipe_names())
    machine = rules["machine_fingerprint"]
    expect_eq(machine["defaultConfiguration"]["level"], "warning")
    expect_eq(machine["properties"]["security-severity"], "5.5")
    expect({"security", "T1082", "TA0007"} <= set(machine["properties"]["tags"]), machine["properties"]["tags"])
    expect("In CI:" in machine["help"]["text"] and "**In production:**" in machine["help"]["markdown"], machine["help"])
    expect_eq(rules["os_network_fingerprint"]["defaultConfiguration"]["level"], "note")

    # One result per finding; every one located in the script the ancestry names, on a line that
    # mentions a path it read (written out, or as the glob that expanded to it).
    script = open(os.path.join(src, SCRIPT), encoding="utf-8").read().split("\n")
    results = sarif_run["results"]
    expect(len(results) >= 4, len(results))
    for result in results:
        physical = result["locations"][0]["physicalLocation"]
        expect_eq(physical["artifactLocation"]["uri"], SCRIPT)
        line = script[physical["region"]["startLine"] - 1]
        paths = result["properties"]["paths"]
        mentioned = [p for p in paths if p in line or
                     ("/sys/class/net/*/address" in line and p.startswith("/sys/class/net/"))]
        expect(mentioned, f"line {physical['region']['startLine']} {line!r} mentions none of {paths}")
        expect(" <- make -j4 BUILD=out." in result["message"]["text"], result["message"]["text"])
        expect(result["properties"]["ancestry"][-1]["command"] == "make -j4 BUILD=out", result["properties"])
        expect(result["partialFingerprints"]["primaryLocationLineHash"].endswith(":1"), result)
    ioports = [r for r in results if r["properties"]["paths"] == ["/proc/ioports"]]
    expect_eq(len(ioports), 1)
    expect_eq(ioports[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
              next(i + 1 for i, l in enumerate(script) if "/proc/ioports" in l))
    expect_eq(ioports[0]["level"], "warning")
    expect_eq(ioports[0]["properties"]["argv"], ["cat", "/proc/ioports"])
    expect(ioports[0]["message"]["text"].startswith("Machine fingerprinting: `cat` reached /proc/ioports"),
           ioports[0]["message"]["text"])

    # The same build again, elsewhere: the same fingerprints for the same findings.
    src2, _, log2, _ = run_example()
    key = lambda r: (r["ruleId"], r["properties"]["exe"], json.dumps(r["properties"].get("entry")))
    first = {key(r): r["partialFingerprints"]["primaryLocationLineHash"] for r in results}
    second = {key(r): r["partialFingerprints"]["primaryLocationLineHash"] for r in log2["runs"][0]["results"]}
    expect_eq(second, first)
    expect_eq(len(set(first.values())), len(first))
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(src2, ignore_errors=True)


# 100,000 distinct watched paths, each a failed open (the names do not exist).
MANY_PATHS = """
import os
for i in range(100000):
    try:
        os.close(os.open("/proc/sys/net/ipv4/conf/fpshim-x%d/forwarding" % i, os.O_RDONLY))
    except OSError:
        pass
"""


def test_a_build_touching_100000_watched_paths_stays_within_githubs_limits():
    work = tempfile.mkdtemp(prefix="fpshim-sarif-many-")
    with open(os.path.join(work, "touch_many.py"), "w") as f:
        f.write(MANY_PATHS)
    sarif = os.path.join(work, "many.sarif")
    run = fpshim([PYTHON, "touch_many.py"], "--sarif", sarif, cwd=work, timeout=300)
    expect_eq(run.returncode, 0, run.stderr)
    network = run.recipe("os_network_fingerprint")
    folded = sum(f["paths"] for f in network["folded"])
    accesses = sum(p["count"] for p in network["paths"]) + sum(f["count"] for f in network["folded"])
    expect_eq(accesses, 100000)
    # past 65,536 folded paths their number is an estimate (about 2% off)
    expect(len(network["paths"]) + folded >= 95000, (len(network["paths"]), folded))

    with open(sarif, "rb") as f:
        raw = f.read()
    log = json.loads(raw)
    expect_eq(github_rule_problems(log), [])
    expect(len(gzip.compress(raw)) < 10 * 1000 * 1000, len(gzip.compress(raw)))
    results = log["runs"][0]["results"]
    expect(1 <= len(results) <= 25000, len(results))
    # Every access is in some result: the listed paths and the folded ones (counted, not listed).
    listed = [r for r in results if not r["properties"]["folded"]]
    folded_results = [r for r in results if r["properties"]["folded"]]
    expect(listed and folded_results, [r["properties"]["counts"] for r in results])
    network_results = [r for r in results if r["ruleId"] == "os_network_fingerprint"]
    expect_eq(sum(r["properties"]["counts"]["paths"] for r in network_results), len(network["paths"]) + folded)
    expect_eq(sum(r["properties"]["counts"]["accesses"] for r in network_results), accesses)
    for r in results:
        expect(len(r["properties"]["paths"]) <= 100, len(r["properties"]["paths"]))
        # the script that `python3 touch_many.py` names
        expect_eq(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "touch_many.py")
    found, output = validate(sarif)
    expect_eq(errors(found), [], output)
    shutil.rmtree(work, ignore_errors=True)


main(globals())
