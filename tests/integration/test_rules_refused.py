"""A bad rules file stops fpshim before the build starts, naming file, line, column and the fault;
a good replacement file is used without recompiling anything."""
import json
import os
import tempfile
from harness import SOURCE, expect, expect_eq, fpshim, main


def write(text):
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def shipped():
    with open(os.path.join(SOURCE, "rules.json")) as f:
        return json.load(f)


def refused(text, line, fragment):
    rules = write(text)
    marker = rules + ".ran"
    run = fpshim(["touch", marker], rules=rules)
    expect_eq(run.returncode, 2, run.stderr)
    expect(not os.path.exists(marker), "the build ran despite bad rules")
    err = run.stderr.decode()
    expect(f"{rules}:{line}:" in err, err)
    expect(fragment in err, err)


def test_syntax_error():
    refused('{\n  "schema": 1,\n  "recipes": [\n    {"name": "x",,}\n  ]\n}\n', 4, "")


def test_unknown_field():
    rules = shipped()
    rules["recipes"][0]["match"][0] = {"sbutree": "/sys/class/dmi"}
    text = json.dumps(rules, indent=2)
    line = text.splitlines().index(next(l for l in text.splitlines() if '"sbutree"' in l)) + 1
    refused(text, line, "sbutree")


def test_invalid_regex():
    rules = shipped()
    rules["recipes"][1]["match"].append({"regex": "^/proc/sys/net/(core"})
    text = json.dumps(rules, indent=2)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '(core"' in l)
    refused(text, line, "regex")


def test_wrong_type():
    rules = shipped()
    rules["recipes"][0]["enabled"] = "yes"
    text = json.dumps(rules, indent=2)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"enabled": "yes"' in l)
    refused(text, line, "enabled")


def test_bad_importance():
    rules = shipped()
    rules["recipes"][1]["importance"] = "severe"
    text = json.dumps(rules, indent=2)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"severe"' in l)
    refused(text, line, "importance")


def refused_file(rules, fragment):
    marker = tempfile.mktemp(suffix=".ran")
    run = fpshim(["touch", marker], rules=rules)
    expect_eq(run.returncode, 2, run.stderr)
    expect(not os.path.exists(marker), "the build ran despite bad rules")
    expect(f"{rules}: cannot read the rules file: {fragment}" in run.stderr.decode(), run.stderr)


def test_not_a_regular_file():
    # /dev/zero never ends: read whole, it grew the collector to 24 GB before the fix.
    refused_file("/dev/zero", "it is not a regular file")
    refused_file(tempfile.mkdtemp(), "it is a directory")


def test_too_big():
    rules = write("")
    os.truncate(rules, 16 * 1024 * 1024 + 1)
    refused_file(rules, f"it has {16 * 1024 * 1024 + 1} bytes, more than the limit of 16 MiB")


def test_too_deep():
    # 20,000 nested brackets took 0.9 GB before the syntax error; now the 65th is the error.
    refused("[" * 20000, 1, "nested deeper than 64 levels")


def test_replacement_rules_take_effect():
    rules = shipped()
    rules["recipes"] = [rules["recipes"][0]]
    rules["recipes"][0]["match"] = [{"path": "/etc/hostname"}]
    path = write(json.dumps(rules))
    run = fpshim(["cat", "/etc/hostname", "/proc/ioports"], rules=path)
    expect_eq(run.returncode, 0)
    expect_eq(run.paths("machine_fingerprint"), ["/etc/hostname"])


def test_disabled_recipe_does_not_fire():
    rules = shipped()
    rules["recipes"][0]["enabled"] = False
    path = write(json.dumps(rules))
    run = fpshim(["cat", "/proc/ioports"], rules=path)
    expect_eq(run.report["recipes"], [])


def test_exclusion_by_executable():
    rules = shipped()
    cat = os.path.realpath("/bin/cat")
    rules["recipes"][0]["exclude"] = [{"exe": cat, "reason": "test: cat is trusted here"}]
    path = write(json.dumps(rules))
    run = fpshim(["sh", "-c", "cat /proc/ioports; head -c1 /proc/iomem"], rules=path)
    expect_eq(run.paths("machine_fingerprint"), ["/proc/iomem"])


if __name__ == "__main__":
    main(globals())
