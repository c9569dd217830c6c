"""The parsed filter `fpshim run` writes once per build (FPSHIM_FILTER_IMAGE) for its processes to map
instead of parsing FPSHIM_FILTER: a process maps it and still reports; a build that damages it
(indices out of bounds, truncated, another spec's text) makes its processes refuse it and parse the
text, so they still report their watched reads; and whatever the build did to it is named in the
report's tampering list. The refused images are made to hide everything if they were used (every
first byte rejected), so a process that used one would report nothing."""
import json
import os
from harness import PYTHON, expect, expect_eq, fpshim, main

# The build: reads a watched path, then damages the image one way (argv[1]) and has a new process
# read another watched path.
BUILD = r"""
import os, struct, subprocess, sys
path = os.environ["FPSHIM_FILTER_IMAGE"]
good = open(path, "rb").read()
magic, layout, size, spec_length = struct.unpack_from("=8sQQQ", good, 0)
assert magic == b"fpfilt01" and size == len(good), (magic, size, len(good))
spec = os.environ["FPSHIM_FILTER"].encode()
assert good[size - spec_length - 1:size - 1] == spec
filter_bytes = size - 64 - spec_length - 1
hide = b"\x01" * 256  # first_: every first byte rejected (the first field of a Filter)
body = bytearray(good)
body[64:64 + 256] = hide
how = sys.argv[1]
if how == "indices":  # every byte past first_ and its flag set: links to nowhere, no empty slot
    body[64 + 264:64 + filter_bytes] = b"\xff" * (filter_bytes - 264)
elif how == "truncated":
    body = body[:len(body) // 2]
elif how == "text":  # another spec: the last byte of the stored text changed
    body[size - 2] ^= 0x01
elif how == "kept":  # well formed and its own text: used, and hides the read (only the report tells)
    pass
# Replaced, not rewritten in place: a process that mapped the file (this one) faults if it shrinks
# under it (docs/design.md).
open(path + ".new", "wb").write(bytes(body))
os.replace(path + ".new", path)
subprocess.run(["cat", "/proc/ioports"], stdout=subprocess.DEVNULL, check=True)
"""


def run(how):
    r = fpshim([PYTHON, "-c", BUILD, how])
    expect_eq(r.returncode, 0, r.stderr)
    return r


def tampering(r):
    return [t["what"] for t in r.report["tampering"] if "filter image" in t["what"]]


def test_an_untouched_image_is_used_and_not_named():
    r = fpshim(["sh", "-c", 'test -n "$FPSHIM_FILTER_IMAGE" && test -r "$FPSHIM_FILTER_IMAGE" && '
                            'cat /proc/ioports >/dev/null'])
    expect_eq(r.returncode, 0, r.stderr)
    expect("/proc/ioports" in r.paths(r.recipe_names()[0]) or any(
        "/proc/ioports" in r.paths(n) for n in r.recipe_names()), r.text)
    expect_eq(tampering(r), [], r.text)


def ioports_seen_by_cat(r):
    for name in r.recipe_names():
        for p in r.recipe(name)["paths"]:
            if p["path"] == "/proc/ioports":
                return any(os.path.basename(proc["exe"]) == "cat" for proc in r.processes(name))
    return False


def test_a_damaged_image_is_refused_and_named():
    for how in ("indices", "truncated", "text"):
        r = run(how)
        expect(ioports_seen_by_cat(r), f"{how}: cat's read of /proc/ioports not reported\n{r.text}")
        expect_eq(len(tampering(r)), 1, f"{how}: {r.report['tampering']}")


def test_a_well_formed_image_that_hides_is_named():
    r = run("kept")
    expect(not ioports_seen_by_cat(r), f"the image was not used\n{r.text}")
    expect_eq(len(tampering(r)), 1, r.report["tampering"])
    expect(not r.report["complete"], json.dumps(r.report["incomplete"]))


if __name__ == "__main__":
    main(globals())
