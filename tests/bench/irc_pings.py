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

Then the paced part: the core paces each bot (pace_burst, pace_rate), so
a busy group's lines reach the worker one per turn. For each rate R,
--messages N IMs go to one member, one per write every 1/R s, without
waiting for reports. Printed per rate: PINGs per 100 messages,
deliveries/s, and the median and largest time from a message's write to
its report.

    /usr/bin/python3 tests/bench/irc_pings.py BUILD/transports/purple/imgroups-purple
    /usr/bin/python3 tests/bench/irc_pings.py OLD/imgroups-purple --bursts 1 10 50

Compare two workers by running it on each (e.g. a build of an older commit
in a worktree). Every process it starts is stopped at the end.
"""

import argparse
import os
import select
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "real"))
import servers  # noqa: E402
import wire  # noqa: E402
from ircproxy import IrcProxy  # noqa: E402
from test_worker import ACCOUNT, IrcClient, Worker  # noqa: E402


class Members:
    """The members' IRC clients, read by a thread of their own all along
    (PINGs answered: ngircd drops a client that leaves them unanswered for
    two minutes), counting the PRIVMSGs each got."""

    def __init__(self, clients):
        self.clients = {c.sock: c for c in clients}
        self.got = {c.nick: 0 for c in clients}
        self.lock = threading.Condition()
        self.stopped = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            self._read_all()
        except (OSError, ValueError):
            pass  # closed

    def _read_all(self):
        while not self.stopped:
            ready, _, _ = select.select(list(self.clients), [], [], 0.2)
            for sock in ready:
                c = self.clients[sock]
                while True:
                    line = c._line(time.monotonic() + 0.01)
                    if line is None:
                        break
                    if " PRIVMSG %s :" % c.nick in line:
                        with self.lock:
                            self.got[c.nick] += 1
                            self.lock.notify_all()
                    if b"\r\n" not in c.buf:
                        break

    def wait(self, want, timeout):
        """Waits until each nick has its count in want ({nick: n}, counts
        since reset()); returns the total received."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while any(self.got[k] < n for k, n in want.items()):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(left)
            return sum(min(self.got[k], n) for k, n in want.items())

    def reset(self):
        with self.lock:
            for k in self.got:
                self.got[k] = 0

    def close(self):
        self.stopped = True
        for c in self.clients.values():
            c.close()


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def one_size(w, proxy, members, start_id, n, size):
    """Sends n IMs in bursts of size, one to each of the first size
    members; returns (PINGs, seconds, lines received, failures)."""
    pings = proxy.pings
    members.reset()
    t0 = time.monotonic()
    failures = 0
    sent = 0
    while sent < n:
        ids = list(range(start_id + sent, start_id + min(n, sent + size)))
        w.core.sendall(b"".join(
            wire.encode("send_im", (i, ACCOUNT, "m%d" % k, "m%d" % i))
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
    got = members.wait({"m%d" % k: len(range(k, n, size))
                        for k in range(size)}, 30)
    return proxy.pings - pings, elapsed, got, failures


def paced(w, proxy, members, start_id, n, rate):
    """Sends n IMs to m0, one every 1/rate s; returns (PINGs, seconds,
    latencies in s, lines received, failures)."""
    pings = proxy.pings
    members.reset()
    sent_at, lat = {}, []
    failures = 0
    t0 = time.monotonic()
    for k in range(n + 1):
        if k < n:
            i = start_id + k
            w.wire.send("send_im", (i, ACCOUNT, "m0", "p%d" % i))
            sent_at[i] = time.monotonic()
            until = t0 + (k + 1) / rate
        else:
            until = time.monotonic() + 60
        while len(lat) < len(sent_at):
            left = until - time.monotonic()
            if left <= 0:
                break
            m = w.wire.recv(left)
            if m and m[0] in ("delivered", "failed") and m[1][0] in sent_at:
                lat.append(time.monotonic() - sent_at[m[1][0]])
                failures += m[0] == "failed"
    elapsed = time.monotonic() - t0
    got = members.wait({"m0": n}, 30)
    return proxy.pings - pings, elapsed, sorted(lat), got, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("worker", help="path to imgroups-purple")
    ap.add_argument("--messages", type=int, default=100)
    ap.add_argument("--bursts", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--rates", type=float, nargs="+", default=[2, 10, 50],
                    help="the paced part's messages per second")
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of each burst size (figures of each)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="imgroups-bench-pings-")
    irc = proxy = w = members = None
    try:
        irc = servers.Ngircd(os.path.join(tmp, "irc"))
        irc.start()
        proxy = IrcProxy(irc.port).start()
        members = Members([IrcClient(irc.port, "m%d" % k)
                           for k in range(max(args.bursts))])
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
        print()
        print("| paced, msgs/s | PINGs per 100 messages | deliveries/s "
              "| write to report, median / max (ms) | lines received "
              "| failed |")
        print("|---:|---:|---:|---|---:|---:|")
        for rate in args.rates:
            p, secs, lat, lines, fails = paced(w, proxy, members, next_id,
                                               args.messages, rate)
            next_id += args.messages
            print("| %g | %.1f | %.0f | %.0f / %.0f | %d/%d | %d |"
                  % (rate, 100.0 * p / args.messages, args.messages / secs,
                     1000 * lat[len(lat) // 2] if lat else -1,
                     1000 * lat[-1] if lat else -1, lines, args.messages,
                     fails))
        print("load average %s at the end" % load_average())
    finally:
        if members:
            members.close()
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
