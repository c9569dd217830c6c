"""A hostile build step for the bounds of the process tree: appends N forged exec records (each
naming a spawned child that never existed) to the build's process log, then exits; with `hello`,
N hellos of processes that never existed instead. Run it under
`fpshim run` with /usr/bin/time -v to see what the collector's memory and the report cost:

    /usr/bin/time -v build/bin/fpshim run --report /tmp/r.json -- python3 bench/forge_execs.py 200000 [hello]

The integration test test_collector_limits runs it too (with a smaller N)."""
import os
import struct
import sys
import time

HEADER = struct.Struct("<IHHIIQQQQiiiIiiII")
MAGIC, HELLO, EXEC = 0x31535046, 1, 5


def record(kind, build, pid, nonce, seq, child, strings):
    body = b"".join(struct.pack("<I", len(s)) + s for s in strings)
    return HEADER.pack(MAGIC, 1, kind, HEADER.size + len(body), len(strings), build, time.time_ns(), nonce, seq,
                       pid, os.getpid(), pid, 0, 0, 0, child, 0) + body


def main():
    count = int(sys.argv[1])
    hellos = len(sys.argv) > 2 and sys.argv[2] == "hello"
    build = int(os.environ["FPSHIM_BUILD"], 16)
    log = os.path.join(os.environ["FPSHIM_SPOOL"], "processes.spool")
    nonce = time.time_ns()
    with open(log, "ab") as f:
        batch = []
        for i in range(count):
            fake = 4_000_000 + i  # above any pid_max: never a real process
            if hellos:
                batch.append(record(HELLO, build, fake, nonce, 0, 0, [b"/bin/true", b"/", b"true", b"forged-%d" % i]))
            else:
                batch.append(record(EXEC, build, os.getpid(), nonce, i + 1, fake,
                                    [b"/bin/true", b"/bin/true", b"true", b"forged-%d" % i]))
            if len(batch) == 1000:
                f.write(b"".join(batch))
                batch = []
        f.write(b"".join(batch))


if __name__ == "__main__":
    main()
