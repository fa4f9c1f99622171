"""Benchmark: what IRC delivery confirmation costs (transports/purple/
pingpong.c). A benchmark, not a test: it prints figures, never asserts.

The worker (imgroups-purple) is driven over its socketpair as the core
drives it, with libpurple's IRC plugin against a private ngircd; a relay
between them (tests/real/ircproxy.py) counts the worker's delivery PINGs.
For each burst size B, --messages N IMs go to B members (raw IRC
clients) in bursts of B, one message to each member, each burst written in
one go (one read, one turn of the worker), the next once every message of
the one before is reported (as the core's outbox does: one message in
flight per member, the next when it is reported). Printed per burst size:
PINGs per 100 messages, and deliveries/s (N over the time from the first
write to the last report, when the members also have every line).

    /usr/bin/python3 tests/bench/irc_pings.py BUILD/transports/purple/imgroups-purple
    /usr/bin/python3 tests/bench/irc_pings.py OLD/imgroups-purple --bursts 1 10 50

Compare two workers by running it on each (e.g. a build of an older commit
in a worktree). Every process it starts is stopped at the end.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "real"))
import servers  # noqa: E402
import wire  # noqa: E402
from ircproxy import IrcProxy  # noqa: E402
from test_worker import ACCOUNT, IrcClient, Worker  # noqa: E402


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def one_size(w, proxy, members, start_id, n, size):
    """Sends n IMs in bursts of size, one to each of the first size
    members; returns (PINGs, seconds, lines received, failures)."""
    pings = proxy.pings
    t0 = time.monotonic()
    failures = 0
    sent = 0
    while sent < n:
        ids = list(range(start_id + sent, start_id + min(n, sent + size)))
        w.core.sendall(b"".join(
            wire.encode("send_im", (i, ACCOUNT, members[k].nick, "m%d" % i))
            for k, i in enumerate(ids)))
        left = set(ids)
        while left:
            m = w.wire.wait_for(lambda k, b: k in ("delivered", "failed")
                                and b[0] in left, 60)
            if m is None:
                raise SystemExit("no report for %d messages in 60 s" % len(left))
            failures += m[0] == "failed"
            left.discard(m[1][0])
        sent += len(ids)
    elapsed = time.monotonic() - t0
    got = 0
    for k, c in enumerate(members[:size]):
        want = len(range(k, n, size))
        got += len(c.collect(r" PRIVMSG %s :m\d+" % c.nick, 30, count=want))
    return proxy.pings - pings, elapsed, got, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("worker", help="path to imgroups-purple")
    ap.add_argument("--messages", type=int, default=100)
    ap.add_argument("--bursts", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of each burst size (figures of each)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="imgroups-bench-pings-")
    irc = proxy = w = None
    members = []
    try:
        irc = servers.Ngircd(os.path.join(tmp, "irc"))
        irc.start()
        proxy = IrcProxy(irc.port).start()
        for k in range(max(args.bursts)):
            members.append(IrcClient(irc.port, "m%d" % k))
        w = Worker(os.path.abspath(args.worker), tmp, "bench")
        w.greet()
        w.add("prpl-irc", "benchbot@%s" % servers.LOCAL,
              {"port": str(proxy.port)})
        if not w.wire.expect("account_up", 30):
            raise SystemExit("the worker did not come up:\n"
                             + servers.tail(w.log_path, 20))
        print("worker %s\nload average %s at the start; %d messages per run"
              % (args.worker, load_average(), args.messages))
        print("| burst | PINGs per 100 messages | deliveries/s (each run) "
              "| lines received | failed |")
        print("|---:|---:|---|---:|---:|")
        next_id = 1
        for size in args.bursts:
            rates, pings, got, failed = [], 0, 0, 0
            for _ in range(args.rounds):
                p, secs, lines, fails = one_size(w, proxy, members, next_id,
                                                 args.messages, size)
                next_id += args.messages
                rates.append(args.messages / secs)
                pings += p
                got += lines
                failed += fails
            per100 = 100.0 * pings / (args.messages * args.rounds)
            print("| %d | %.1f | %s | %d/%d | %d |"
                  % (size, per100, ", ".join("%.0f" % r for r in rates),
                     got, args.messages * args.rounds, failed))
        print("load average %s at the end" % load_average())
    finally:
        for c in members:
            c.close()
        if w:
            w.stop()
        if proxy:
            proxy.stop()
        if irc:
            irc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
