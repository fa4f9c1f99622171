"""ROUNDS (default 100) restarts of Prosody under one connected imgroups,
SIGTERM and SIGKILL in turn. Each round measures the time from the server
accepting again to imgroups' link up (the timestamp of its "connected to"
log line), then proves the link works with a ping from a client session.
Prints p50 / p99 / max of those times; checks that imgroups came back
every time and never crashed (one process from start to end). Prints TAP.

    /usr/bin/python3 tests/long/test_long_restarts.py /path/to/imgroups /path/to/imgroups-purple

The link's backoff is 1 s doubling to 30 s (±25 %), reset only when a link
that had been up 10 s drops. So each round keeps the link up HOLD seconds
(IMGROUPS_RESTART_HOLD, default 11) before the next restart: every round
then measures the reconnect of an ordinary outage. With a hold under 10 s
the delays climb round by round to the 30 s cap (IMGROUPS_RESTART_HOLD=0
shows it). IMGROUPS_LONG_ROUNDS=N changes the number of rounds.
"""

import datetime
import re
import sys
import time

import longbase  # first: puts tests/real on the import path
import bridgebase
import servers
from bridgebase import COMPONENT, BridgeRun
from xmppclient import Client, Fail

ROUNDS = longbase.knob("IMGROUPS_LONG_ROUNDS", 100)
HOLD = longbase.knob("IMGROUPS_RESTART_HOLD", 11.0)
BACK_WITHIN = 90    # s: the 30 s cap with jitter, twice, and some
PING = "<ping xmlns='urn:xmpp:ping'/>"


def log_time(line):
    """The wall-clock time (epoch seconds) of one imgroups log line."""
    stamp = line.split(" ", 1)[0]
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ") \
        .replace(tzinfo=datetime.timezone.utc).timestamp()


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    k = max(0, -(-len(sorted_values) * p // 100) - 1)
    return sorted_values[int(k)]


class Run(BridgeRun):
    SLUG = "long-restarts"
    NAMES = [
        "prosody starts",
        "imgroups starts, its link up, a ping answered",
        "prosody restarted %d times (SIGTERM and SIGKILL in turn): imgroups "
        "linked again and answered a ping every time" % ROUNDS,
        "imgroups never crashed: the same process from start to end",
        "imgroups stops on SIGTERM with status 0"]

    def main(self):
        self.tap.diag("temp dir %s; hold %.1f s" % (self.tmp, HOLD))
        self.check_start(self.NAMES[0], lambda: self.start_prosody(["alice"]))
        self.ig = self.new_imgroups(accounts=[])

        def start():
            self.ig.start()
            self.up_at = log_time(self.ig.wait_log(r"connected to", 15)[-1])
            self.ping()
        self.check_start(self.NAMES[1], start)
        pid = self.ig.pid
        times, why = [], None
        for n in range(ROUNDS):
            try:
                times.append(self.round(n))
            except (Fail, servers.ServerError, RuntimeError) as e:
                why = "round %d: %s" % (n, e)
                break
        self.report(times)
        self.tap.check(why is None and len(times) == ROUNDS, self.NAMES[2],
                       why)
        self.tap.check(self.ig.alive() and self.ig.pid == pid,
                       self.NAMES[3], self.ig.log_tails(20))
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[4], "exit status %s" % rc)

    def round(self, n):
        """One restart; returns seconds from accepting to link up."""
        wait = self.up_at + HOLD - time.time()
        if wait > 0:
            time.sleep(wait)   # spacing, not a check: see the docstring
        mark = self.ig.log_mark()
        if n % 2:
            self.prosody.kill()
        else:
            self.prosody.stop()
        self.ig.wait_log(r"disconnected from", 15, mark)
        self.prosody.start()
        # start() polls every 0.1 s: the server accepted at most that long
        # before this, so a figure may be up to 0.1 s too low (even < 0).
        accepting = time.time()
        line = self.ig.wait_log(r"connected to", BACK_WITHIN, mark)[-1]
        self.up_at = log_time(line)
        self.ping()
        if not self.ig.alive():
            raise Fail("imgroups exited")
        return self.up_at - accepting

    def ping(self):
        """A client's ping to the component is answered (a result)."""
        async def go():
            c = Client(self.loop, self.prosody.c2s_port, "alice")
            try:
                await c.login()
                res = await c.iq("get", COMPONENT, PING)
                if res["type"] != "result":
                    raise Fail("ping answered with %s" % res)
            finally:
                await c.close()
        self.run(go(), 60)

    def report(self, times):
        if not times:
            return
        s = sorted(times)
        self.tap.diag("reconnect after the server accepted again, %d "
                      "restarts: p50 %.2f s, p99 %.2f s, max %.2f s, min "
                      "%.2f s" % (len(s), percentile(s, 50),
                                  percentile(s, 99), s[-1], s[0]))
        self.tap.diag("each: " + " ".join("%.2f" % t for t in times))
        retries = len(re.findall(r"reconnecting in|retrying in",
                                 self.ig.log_text()))
        self.tap.diag("backoff lines in imgroups' log: %d" % retries)


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run,
                             300 + ROUNDS * int(HOLD + BACK_WITHIN)))
