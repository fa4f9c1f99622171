"""IRC delivery confirmed per burst (transports/purple/pingpong.c): the
worker, driven over its socketpair, sends a burst of messages that one
read brought through libpurple's IRC plugin to a private ngircd, with one
"PING :imgroups-N" behind the whole burst; a relay in between counts the
PINGs. Refusals (401 no such nick, 404 cannot send to channel) fail
exactly the messages to their target, not the burst. TAP on stdout.

    /usr/bin/python3 tests/real/test_worker_pingpong.py path/to/imgroups-purple
"""

import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap as realtap  # noqa: E402  (tests/tap.py)
import servers  # noqa: E402
import wire  # noqa: E402
from ircproxy import IrcProxy  # noqa: E402
from test_worker import ACCOUNT, IrcClient, Worker, privmsg_text  # noqa: E402

BOT = "pingbot"
WATCHDOG = 300
BURST = 20


def burst(w, frames):
    """Sends every (name, body) in frames in one write: one read, one
    turn of the worker."""
    w.core.sendall(b"".join(wire.encode(n, b) for n, b in frames))


def reports(w, ids, timeout):
    """{id: ("delivered",) or ("failed", why)} for every id in ids, waiting
    up to timeout s; ids never reported are missing from it."""
    out = {}
    while set(out) < set(ids):
        m = w.wire.wait_for(lambda n, b: n in ("delivered", "failed")
                            and b[0] in ids, timeout)
        if m is None:
            break
        out[m[1][0]] = (m[0],) + tuple(m[1][1:])
    return out


def wait_log(w, regex, timeout):
    """Whether the worker's log gets a line matching regex within timeout
    s (its log is a file: read again every 20 ms)."""
    pat = re.compile(regex, re.M)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pat.search(w.log_text()):
            return True
        time.sleep(0.02)
    return False


class Run:
    NAMES = [
        "the worker comes up through the counting relay and joins two "
        "channels",
        "a burst of 20 IMs is reported delivered, every one",
        "the burst of 20 cost one PING",
        "the IRC client got the 20 lines once each, in order",
        "in a mixed burst, the IMs to a gone nick fail and nothing else does",
        "the line to a moderated channel (404) fails, the channel line to "
        "an open one is delivered",
        "a failure gives the server's reason",
        "the mixed burst cost one PING",
        "what alice got of the mixed burst: her lines once each, in order",
        "a burst after the refusals is delivered whole (no refusal carried "
        "over)",
        "10 IMs in 10 turns, each handed over before the plugin writes, "
        "are delivered with one PING for two of them at most",
    ]
    PLAN = len(NAMES)

    def __init__(self, binary):
        self.binary = binary
        self.tap = realtap.Tap(self.NAMES)
        self.tmp = tempfile.mkdtemp(prefix="imgroups-pingpong-")
        self.irc = self.proxy = self.w = None
        self.clients = []

    def check(self, ok, diag=None):
        return self.tap.check(bool(ok), self.NAMES[self.tap.n], diag)

    def require(self, ok, what):
        if not ok:
            if self.w:
                self.tap.diag(servers.tail(self.w.log_path, 40))
            raise realtap.Abort(what)

    def main(self):
        self.irc = servers.Ngircd(os.path.join(self.tmp, "irc"))
        self.irc.start()
        self.proxy = IrcProxy(self.irc.port).start()
        alice = IrcClient(self.irc.port, "alice")
        self.clients.append(alice)
        alice.send("JOIN #open")
        alice.send("JOIN #quiet")
        alice.send("MODE #quiet +m")
        self.require(alice.wait(r" MODE #quiet \+m", 10), "#quiet not +m")

        self.w = w = Worker(self.binary, self.tmp, "pp")
        w.greet()
        w.add("prpl-irc", "%s@%s" % (BOT, servers.LOCAL),
              {"port": str(self.proxy.port)})
        up = w.wire.expect("account_up", 30)
        joined = []
        if up:
            for chan in ("#open", "#quiet"):
                w.wire.send("chat_join", (ACCOUNT, chan))
                joined.append(w.wire.expect(
                    "chat_joined", 15, lambda b, c=chan: b[1] == c))
        self.check(up and all(joined), "got %r, %r" % (up, joined))
        self.require(up and all(joined), "the bot is not up")

        # 1. one burst of IMs, one PING
        before = self.proxy.pings
        ids = list(range(1, BURST + 1))
        burst(w, [("send_im", (i, ACCOUNT, "alice", "line %02d" % i))
                  for i in ids])
        got = reports(w, ids, 20)
        self.check(got == {i: ("delivered",) for i in ids}, "got %r" % got)
        self.check(self.proxy.pings - before == 1,
                   "%d PINGs" % (self.proxy.pings - before))
        lines = [privmsg_text(l) for l in alice.collect(
            r"^:%s!\S+ PRIVMSG alice :" % BOT, 10, count=BURST)]
        self.check(lines == ["line %02d" % i for i in ids], "got %r" % lines)

        # 2. a mixed burst: alice, a gone nick (one of its messages three
        # lines long), an open channel and a moderated one
        before = self.proxy.pings
        long_text = " ".join("w%03d" % i for i in range(200))  # 3 pieces
        frames, to_alice, ok_ids, bad_ids = [], [], set(), {}
        for k in range(6):
            i = 100 + k
            frames.append(("send_im", (i, ACCOUNT, "alice", "mixed %d" % i)))
            to_alice.append("mixed %d" % i)
            ok_ids.add(i)
            if k in (1, 4):
                j = 200 + k
                frames.append(("send_im", (j, ACCOUNT, "ghost",
                                           long_text if k == 1 else "boo")))
                bad_ids[j] = "ghost"
            if k == 2:
                frames.append(("send_chat", (300, ACCOUNT, "#open", "hi")))
                ok_ids.add(300)
                frames.append(("send_chat", (301, ACCOUNT, "#quiet", "hm")))
                bad_ids[301] = "#quiet"
        burst(w, frames)
        got = reports(w, list(ok_ids) + list(bad_ids), 20)
        failed = {i for i, r in got.items() if r[0] == "failed"}
        delivered = {i for i, r in got.items() if r[0] == "delivered"}
        self.check(failed & {200 + k for k in (1, 4)}
                   == {200 + k for k in (1, 4)} and delivered >= ok_ids - {300}
                   and not failed & ok_ids, "got %r" % got)
        self.check(got.get(301, ("",))[0] == "failed"
                   and got.get(300) == ("delivered",), "got %r" % got)
        why = [r[1] for r in got.values() if r[0] == "failed"]
        self.check(why and all(why) and any("no such nick" in y.lower()
                                            for y in why), "got %r" % why)
        self.check(self.proxy.pings - before == 1,
                   "%d PINGs" % (self.proxy.pings - before))
        lines = [privmsg_text(l) for l in alice.collect(
            r"^:%s!\S+ PRIVMSG alice :" % BOT, 10, count=len(to_alice))]
        self.check(lines == to_alice, "got %r" % lines)

        # 3. the next burst owes nothing to the refusals before it
        ids = list(range(400, 405))
        burst(w, [("send_im", (i, ACCOUNT, "alice", "after %d" % i))
                  for i in ids] + [("send_chat", (405, ACCOUNT, "#open",
                                                  "after"))])
        got = reports(w, ids + [405], 20)
        self.check(got == {i: ("delivered",) for i in ids + [405]},
                   "got %r" % got)

        # 4. the core paces a bot: a busy group's lines come one per turn.
        # Those handed over before the plugin's next write share its PING.
        before = self.proxy.pings
        ids = list(range(500, 510))
        handed = True
        for i in ids:
            w.wire.send("send_im", (i, ACCOUNT, "alice", "paced %d" % i))
            handed = handed and wait_log(w, r"IM %d to alice sent in" % i, 10)
        got = reports(w, ids, 20)
        pings = self.proxy.pings - before
        self.check(handed and got == {i: ("delivered",) for i in ids}
                   and pings <= len(ids) // 2,
                   "%d PINGs; got %r" % (pings, got))

    def cleanup(self):
        for c in self.clients:
            try:
                c.close()
            except OSError:
                pass
        if self.w:
            try:
                self.w.stop()
            except Exception as e:
                self.tap.diag("stopping the worker: %s" % e)
        if self.proxy:
            self.proxy.stop()
        if self.irc:
            self.irc.stop()
        if self.tap.failed and self.w:
            self.tap.diag(servers.tail(self.w.log_path, 40))
        shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv):
    realtap.usage(argv, "/path/to/imgroups-purple",
                  lambda a: len(a) == 1 and os.access(a[0], os.X_OK))
    return realtap.run(lambda: Run(argv[1]), WATCHDOG)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
