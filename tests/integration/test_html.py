"""The HTML report (--html) of the bundled example build, rendered by headless Chromium: what the page
shows (the verdict, the recipes, the paths, the process tree with the reading process under its
script, coverage), that it fetches nothing, and that it fits a phone's width."""
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

from harness import SOURCE, expect, expect_eq, fpshim, main, program, shell

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAPTOP, PHONE = (1280, 900), (390, 844)
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def own_text(self):
        """The text of this element without that of its nested lists (a tree node's own line)."""
        return "".join(c if isinstance(c, str) else "" if c.tag in ("ul", "ol") else c.own_text() for c in self.children)

    def all(self, tag=None, cls=None):
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.attrs.get("class", "").split()):
                    yield c
                yield from c.all(tag, cls)

    def ancestors(self, tag):
        p = self.parent
        while p is not None:
            if p.tag == tag:
                yield p
            p = p.parent


class Dom(HTMLParser):
    """The dumped DOM as a tree; the text of <style> and <title> is not shown on the page and is left out."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        if self.cur.tag not in ("style", "title", "script"):
            self.cur.children.append(data)


def chromium(*args):
    """Runs headless Chromium with everything that would reach the network off; returns its stdout."""
    expect(CHROMIUM, "chromium is not installed (tools/test installs it)")
    profile = tempfile.mkdtemp(prefix="fpshim-chromium-")
    try:
        proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--hide-scrollbars", f"--user-data-dir={profile}", *args],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        expect_eq(proc.returncode, 0, proc.stderr.decode(errors="replace")[-3000:])
        return proc.stdout.decode()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def example_report():
    """Runs the bundled example under fpshim with --html; returns (dir, html path, run)."""
    src = tempfile.mkdtemp(prefix="fpshim-html-")
    shutil.copytree(os.path.join(SOURCE, "examples", "fingerprinting-build"), src, dirs_exist_ok=True)
    page = os.path.join(src, "report.html")
    run = fpshim(["make", "-j4", "BUILD=out"], "--html", page, cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    expect(os.path.exists(page), run.stderr)
    return src, page, run


def visible(dom):
    return re.sub(r"\s+", " ", dom.root.text())


def test_example_page_shows_the_verdict_recipes_tree_and_coverage():
    src, page, run = example_report()
    markup = chromium("--dump-dom", "file://" + page)
    dom = Dom(markup)
    text = visible(dom)
    expect_eq(dom.root.all("h1").__next__().text(), "Fingerprinting detected")
    expect("2 recipes fired:" in text, text[:500])
    expect("Build make -j4 BUILD=out exited with 0." in text, text[:800])

    # At a glance: one line per finding of the JSON report's recipes, each linking to the finding.
    glance = [re.sub(r"\s+", " ", li.text()) for li in next(dom.root.all("ul", "glance")).all("li")]
    expect(any(g.startswith("medium machine_fingerprint: /usr/bin/cat reached /proc/ioports at scripts/gen-build-info.sh:")
               for g in glance), glance)
    expect_eq(len(glance), len(list(dom.root.all("article", "finding"))))

    # The recipes, by importance: one <details> each, with MITRE, guidance and their findings.
    recipes = {d.attrs["id"]: d for d in dom.root.all("details", "recipe")}
    expect_eq(sorted(recipes), ["r-machine_fingerprint", "r-os_network_fingerprint"])
    for name, recipe in recipes.items():
        expect("open" in recipe.attrs, name)
        expect(next(recipe.all("summary")).text().startswith(tuple(f"{i} {name[2:]}:" for i in
                                                                   ("critical", "high", "medium", "low"))),
               next(recipe.all("summary")).text())
        expect("In CI" in recipe.text() and "MITRE ATT&CK" in recipe.text(), recipe.text()[:500])
    machine = recipes["r-machine_fingerprint"]
    machine_paths = [c.text() for c in machine.all("code")]
    for path in run.paths("machine_fingerprint"):
        expect(path in machine_paths, (path, machine_paths))
    expect("/proc/ioports" in machine_paths, machine_paths)
    # The finding of cat names the script as the place to look, and its chain up to make.
    cat = [f for f in machine.all("article", "finding")
           if next(f.all("h4")).text().endswith("/cat") and "/proc/ioports" in [c.text() for c in f.all("code")]]
    expect_eq(len(cat), 1, [next(f.all("h4")).text() for f in machine.all("article", "finding")])
    cat_text = re.sub(r"\s+", " ", cat[0].text())
    expect("scripts/gen-build-info.sh:" in cat_text, cat_text)
    chains = [[re.sub(r"\s+", " ", li.text()) for li in ol.all("li")] for ol in cat[0].all("ol", "chain")]
    expect(any("cat /proc/ioports" in c[0] and any("sh scripts/gen-build-info.sh" in x for x in c[1:])
               and "make -j4 BUILD=out" in c[-1] for c in chains), chains)

    # The process tree: `cat /proc/ioports` marked, with its path beside it, nested under the script
    # nested under make; the compiler steps are drawn but not marked.
    tree = next(dom.root.all("ul", "tree"))
    nodes = list(tree.all("li"))
    cat_nodes = [li for li in nodes if "cat /proc/ioports" in li.own_text()]
    expect_eq(len(cat_nodes), 1, [li.own_text() for li in nodes][:40])
    cat_node = cat_nodes[0]
    expect_eq(cat_node.attrs.get("class"), "hit")
    expect("/proc/ioports machine_fingerprint" in re.sub(r"\s+", " ", next(cat_node.all("ul", "touched")).text()),
           cat_node.text())
    above = [re.sub(r"\s+", " ", li.own_text()) for li in cat_node.ancestors("li")]
    expect(any("sh scripts/gen-build-info.sh" in a for a in above), above)
    expect("make -j4 BUILD=out" in above[-1], above)
    compilers = [li for li in nodes if re.search(r"\b(cc|gcc) ", li.own_text())]
    expect(compilers, [li.own_text() for li in nodes][:40])
    expect(all(li.attrs.get("class") != "hit" for li in compilers), [li.own_text() for li in compilers])
    expect_eq(len([li for li in nodes if li.attrs.get("class") == "hit"]),
              len({(p["pid"], tuple(p["argv"])) for r in run.report["recipes"] for p in r["processes"]}))

    # Coverage and stats.
    coverage = re.sub(r"\s+", " ", next(n for n in dom.root.all("section") if n.attrs.get("id") == "coverage").text())
    expect(f"{run.report['coverage']['monitored']} processes monitored, 0 unmonitored." in coverage, coverage)
    expect("no coverage gaps" in coverage, coverage)
    section = next(n for n in dom.root.all("section") if n.attrs.get("id") == "stats")
    stats = {tr_cells[0]: tr_cells[1] for tr_cells in ([td.text() for td in tr.all("td")] for tr in section.all("tr"))}
    expect_eq(stats["records accepted"], str(run.report["stats"]["records"]), stats)
    expect_eq(stats["records lost"], "0", stats)
    expect_eq(stats["processes that said hello"], str(run.report["stats"]["processes"]), stats)
    shutil.rmtree(src)


def test_page_fetches_nothing():
    src, page, _ = example_report()
    markup = open(page, encoding="utf-8").read()
    expect("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
           in markup, markup[:600])
    expect(not re.search(r"https?:|//[a-z]|url\(|@import|<script|<link|<img|<iframe", markup),
           re.findall(r".{30}(?:https?:|//[a-z]|url\(|@import|<script|<link|<img|<iframe).{30}", markup))
    for ref in re.findall(r"(?:href|src|action)=\"([^\"]*)\"", markup):
        expect(ref.startswith("#"), ref)
    # What the page asked the network for, from Chromium's own log: requests a document started
    # (Chromium's background requests have no origin). The check sees an image the page would fetch
    # without the policy, and sees the policy stop it.
    expect_eq(page_requests(src, page), [])
    bait = '<img src="http://127.0.0.1:9/bait.png">'
    with open(page + ".bait.html", "w", encoding="utf-8") as f:
        f.write(markup.replace("</body>", bait + "</body>"))
    expect_eq(page_requests(src, page + ".bait.html"), [])
    with open(page + ".nocsp.html", "w", encoding="utf-8") as f:
        f.write(re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", markup).replace("</body>", bait + "</body>"))
    expect_eq(page_requests(src, page + ".nocsp.html"), ["http://127.0.0.1:9/bait.png"])
    shutil.rmtree(src)


def page_requests(work, page):
    netlog = os.path.join(work, "net.json")
    chromium(f"--log-net-log={netlog}", "--dump-dom", "file://" + page)
    with open(netlog, encoding="utf-8") as f:
        log = json.load(f)
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted({e["params"]["url"] for e in log["events"] if e["type"] == start_job and "url" in e.get("params", {})
                   and e["params"].get("initiator") != "not an origin"})


# Headless Chromium lays out a --dump-dom page at least 500 pixels wide, whatever --window-size says;
# so the page is measured in an iframe of the width wanted (its media queries see that width). The
# script is only in this wrapper: the report itself has none.
MEASURE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="page" style="border:0;width:%dpx;height:%dpx" srcdoc="%s"></iframe>
<script>
document.getElementById('page').addEventListener('load', () => {
  const doc = document.getElementById('page').contentDocument, d = doc.documentElement, wide = [];
  for (const e of doc.querySelectorAll('body *'))
    if (e.getBoundingClientRect().right > d.clientWidth + 1) wide.push(e.tagName + ':' + e.textContent.slice(0, 60));
  const p = document.createElement('pre');
  p.id = 'measured';
  p.textContent = JSON.stringify({client: d.clientWidth, scroll: d.scrollWidth, wide: wide.slice(0, 5)});
  document.body.appendChild(p);
});
</script></body></html>"""


def measure(page, size):
    """The page's width, its scrolling width and the elements that reach past the right edge, laid out
    `size[0]` pixels wide."""
    markup = open(page, encoding="utf-8").read()
    probe = page + f".{size[0]}.html"
    with open(probe, "w", encoding="utf-8") as f:
        f.write(MEASURE % (size[0], size[1], html.escape(markup, quote=True)))
    dom = chromium("--window-size=1400,900", "--virtual-time-budget=3000", "--dump-dom", "file://" + probe)
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    expect(found, dom[-2000:])
    return json.loads(html.unescape(found.group(1)))


def test_long_paths_wrap_on_a_phone_and_screenshots_render():
    # A watched path of 300 characters without a break, and a long command line.
    long_name = "x" * 300
    src = tempfile.mkdtemp(prefix="fpshim-html-long-")
    page = os.path.join(src, "report.html")
    run = fpshim(shell(f"cat /sys/class/dmi/id/{long_name} 2>/dev/null; cat /proc/ioports >/dev/null; true"),
                 "--html", page, cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    expect(f"/sys/class/dmi/id/{long_name}" in visible(Dom(open(page, encoding="utf-8").read())))
    for size in (PHONE, LAPTOP):
        m = measure(page, size)
        expect_eq(m["client"], size[0], m)
        expect(m["scroll"] <= m["client"], m)
        expect_eq(m["wide"], [], m)
        shot = os.path.join(src, f"shot-{size[0]}.png")
        chromium(f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", "file://" + page)
        with open(shot, "rb") as f:
            header = f.read(24)
        expect_eq(header[:8], b"\x89PNG\r\n\x1a\n")
        expect_eq((int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")), size)
        expect(os.path.getsize(shot) > 10_000, os.path.getsize(shot))
    shutil.rmtree(src)


def test_example_fits_a_phone():
    src, page, _ = example_report()
    for size in (PHONE, LAPTOP):
        m = measure(page, size)
        expect(m["scroll"] <= m["client"], m)
        expect_eq(m["wide"], [], m)
    shutil.rmtree(src)


def test_unmonitored_process_is_a_coverage_gap_in_the_headline_and_the_tree():
    src = tempfile.mkdtemp(prefix="fpshim-html-static-")
    page = os.path.join(src, "report.html")
    run = fpshim(shell(f"{program('fingerprint_static')}; true"), "--html", page, cwd=src)
    expect_eq(run.returncode, 0, run.stderr)
    dom = Dom(chromium("--dump-dom", "file://" + page))
    text = visible(dom)
    expect_eq(next(dom.root.all("h1")).text(), "No fingerprinting detected in monitored processes")
    expect("But 1 process ran unmonitored" in text, text[:600])
    coverage = re.sub(r"\s+", " ", next(n for n in dom.root.all("section") if n.attrs.get("id") == "coverage").text())
    expect("1 unmonitored." in coverage, coverage)
    expect("fingerprint_static" in coverage and "statically linked" in coverage, coverage)
    unmon = [li for li in next(dom.root.all("ul", "tree")).all("li") if li.attrs.get("class") == "unmon"]
    expect_eq(len(unmon), 1, [li.own_text() for li in next(dom.root.all("ul", "tree")).all("li")])
    expect("unmonitored: static" in unmon[0].own_text(), unmon[0].own_text())
    shutil.rmtree(src)


if __name__ == "__main__":
    main(globals())
