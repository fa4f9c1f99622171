#!/usr/bin/python3
"""Benchmark: imgroups' own CPU per message when messages come one at a
time (the paced rounds of run.py), without Prosody in the way. Prints
figures; asserts nothing; not part of the test suite.

    /usr/bin/python3 tests/bench/paced.py BINARY [--rooms 20] [--per-room 10]
        [--messages 1000] [--interval-ms 10] [--store DIR] [--config TEXT]
        [--perf FILE | --strace FILE | --callgrind]

This script plays the XMPP server toward imgroups (run.py's FakeServer),
joins per-room occupants to each of the rooms, then sends one groupchat
message every interval, round robin over the rooms, and waits for all of
its deliveries before the next: each message is one turn of imgroups' loop,
with its own commit. imgroups' CPU comes from /proc/PID/schedstat
(nanoseconds, where run.py's /proc/PID/stat counts 10 ms ticks), and the
context switches from /proc/PID/status.

--store DIR puts the store there (e.g. /dev/shm: no device flush);
--config adds config text ("\\n" for newlines), e.g.
'\\n[storage]\\nsync = no-meta\\n'. --perf FILE records `perf record -g`
of the paced part, --strace FILE `strace -c` of it; with --callgrind,
BINARY is a wrapper that execs imgroups under `valgrind --tool=callgrind`
(and `--config '\\n[storage]\\nmap_size = 1G\\n'`: valgrind refuses the
default map), and the paced part alone is dumped (callgrind_control).
"""

import argparse
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def switches(pid):
    """Voluntary and involuntary context switches so far."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key.endswith("ctxt_switches"):
                out[key.split("_")[0]] = int(val)
    return out["voluntary"], out["nonvoluntary"]


def profiler(args, pid):
    """The profiler asked for, attached to pid, or None."""
    if args.perf:
        cmd = ["perf", "record", "-F", "4999", "-g", "-o", args.perf,
               "-p", str(pid)]
    elif args.strace:
        cmd = ["strace", "-c", "-f", "-o", args.strace, "-p", str(pid)]
    else:
        return None
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the first message
    return proc


def join_all(fake, args):
    for r in range(args.rooms):
        fake.send("".join(
            "<presence from='u%d@localhost/r' to='room%d@%s/u%d'>"
            "<x xmlns='http://jabber.org/protocol/muc'/></presence>"
            % (u, r, run.COMPONENT, u)
            for u in range(r * args.per_room, (r + 1) * args.per_room)))
        fake.sync()


def paced(fake, args):
    """Sends args.messages, one per interval, each waited for."""
    body = re.compile(rb"<body>p\d+</body>")
    start = time.monotonic()
    for m in range(args.messages):
        r = m % args.rooms
        u = r * args.per_room + (m // args.rooms) % args.per_room
        wait = start + m * args.interval_ms / 1000 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        fake.send("<message type='groupchat' id='m%d' from='u%d@localhost/r'"
                  " to='room%d@%s'><body>p%d</body></message>"
                  % (m, u, r, run.COMPONENT, m))
        got = b""
        while len(body.findall(got)) < args.per_room:
            ready, _, _ = select.select([fake.sock], [], [], 60)
            if not ready:
                raise RuntimeError("message %d: not all delivered in 60 s" % m)
            data = fake.sock.recv(1 << 20)
            if not data:
                raise RuntimeError("the component closed the connection")
            got += data
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--rooms", type=int, default=20)
    ap.add_argument("--per-room", type=int, default=10)
    ap.add_argument("--messages", type=int, default=1000)
    ap.add_argument("--interval-ms", type=float, default=10)
    ap.add_argument("--store", default=None)
    ap.add_argument("--config", default="")
    ap.add_argument("--perf", default=None)
    ap.add_argument("--strace", default=None)
    ap.add_argument("--callgrind", action="store_true")
    args = ap.parse_args()
    extra = args.config.replace("\\n", "\n")

    class Imgroups(run.BenchImgroups):
        def config_text(self):
            return super().config_text() + extra

    tmp = tempfile.mkdtemp(prefix="imgroups-paced-")
    store = (os.path.join(args.store, "imgroups-paced-%d" % os.getpid())
             if args.store else None)
    secret = os.urandom(12).hex()
    fake = run.FakeServer(secret)
    ig = Imgroups(tmp, args.binary, run.COMPONENT, "127.0.0.1", fake.port,
                  secret, name="imgroups", storage=store)
    prof = None
    try:
        ig.start()
        fake.accept()
        fake.sync()
        join_all(fake, args)
        time.sleep(0.3)
        pid = ig.pid
        prof = profiler(args, pid)
        if args.callgrind:
            subprocess.run(["callgrind_control", "-z", str(pid)], check=True,
                           stdout=subprocess.DEVNULL)
        c0, s0 = cpu_ns(pid), switches(pid)
        elapsed = paced(fake, args)
        c1, s1 = cpu_ns(pid), switches(pid)
        if args.callgrind:
            subprocess.run(["callgrind_control", "-d", "paced", str(pid)],
                           check=True, stdout=subprocess.DEVNULL)
        us = (c1 - c0) / 1000
        n = args.messages
        print("load %s | %d rooms x %d, %d messages in %.1f s, store %s: "
              "imgroups CPU %.0f us per message, %.2f us per delivery; "
              "context switches per message %.2f voluntary, %.2f not"
              % (run.loadavg(), args.rooms, args.per_room, n, elapsed,
                 args.store or "the temp dir", us / n,
                 us / (n * args.per_room), (s1[0] - s0[0]) / n,
                 (s1[1] - s0[1]) / n))
    finally:
        if prof:
            prof.send_signal(2)
            prof.wait()
        ig.stop()
        fake.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if store:
            shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
