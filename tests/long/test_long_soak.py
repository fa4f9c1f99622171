"""The soak: mixed load on a sanitized imgroups (the ASan+UBSan build)
for IMGROUPS_SOAK_SECONDS (default 3600). Six users join and leave three
rooms, talk, send private messages, query the archive (MAM) and change
nicks, each at random (seed printed; IMGROUPS_SOAK_SEED repeats a run),
while alice and an IRC member talk through the bridged lobby (libpurple's
IRC plugin against a private ngircd). Every IMGROUPS_SOAK_SAMPLE seconds
(60) it samples imgroups' RSS and open fds (/proc) and pings it. Prints the
samples, the RSS slope (KiB/min, least squares over the second half) and
the fd counts; checks that every action was answered, that imgroups lived
throughout and stopped cleanly, and that its stderr (where the worker
writes too) holds no sanitizer report. Prints TAP.

    /usr/bin/python3 tests/long/test_long_soak.py /path/to/build-asan/component/imgroups /path/to/build-asan/.../imgroups-purple
"""

import asyncio
import os
import random
import re
import sys

import longbase  # first: puts tests/real on the import path
import bridgebase
import test_bridge_crash
from bridgebase import COMPONENT, BridgeRun
from tap import Abort
from xmppclient import (groupchat_from, join_answer, kind,
                        presence_from, ptype)

SECONDS = longbase.knob("IMGROUPS_SOAK_SECONDS", 3600.0)
SAMPLE = longbase.knob("IMGROUPS_SOAK_SAMPLE", 60.0)
SEED = longbase.knob("IMGROUPS_SOAK_SEED", random.randrange(1 << 30))
USERS = ["u%d" % i for i in range(1, 7)]
ROOMS = ["soak%d@%s" % (i, COMPONENT) for i in range(1, 4)]
LOBBY = test_bridge_crash.LOBBY
ANSWER = 60          # s for any one answer (ASan, two shared cores)
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|"
                       r"UndefinedBehaviorSanitizer|SUMMARY: \w+Sanitizer")
MAM = ("<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/"
       "protocol/rsm'><max>10</max><before/></set></query>")
PING = "<ping xmlns='urn:xmpp:ping'/>"
# what a user does next while in a room, and how often
ACTIONS = [("say", 40), ("pm", 15), ("mam", 10), ("nick", 10),
           ("leave", 10), ("ping", 5)]


def proc_sample(pid):
    """(VmRSS KiB, RssAnon KiB, open fds) of a live process."""
    with open("/proc/%d/status" % pid) as f:
        st = dict(line.split(":", 1) for line in f if ":" in line)
    kib = [int(st[k].split()[0]) for k in ("VmRSS", "RssAnon")]
    return kib[0], kib[1], len(os.listdir("/proc/%d/fd" % pid))


def slope(points):
    """Least-squares slope of (x, y) points; None for fewer than two."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


class Run(BridgeRun):
    SLUG = "long-soak"
    NAMES = [
        "prosody starts", "ngircd starts",
        "imgroups starts (an ASan+UBSan build), bot online",
        "alice joins the lobby, ircbob becomes a member, the users log in",
        "%d s of joins, leaves, groupchat, PMs, MAM queries, nick changes "
        "and bridged lines: every one answered" % SECONDS,
        "imgroups alive and answering a ping at every sample",
        "imgroups stops on SIGTERM with status 0",
        "no sanitizer report in imgroups' stderr"]

    def main(self):
        self.tap.diag("temp dir %s; seed %d; %d s, a sample every %d s"
                      % (self.tmp, SEED, SECONDS, SAMPLE))
        self.check_start(self.NAMES[0],
                         lambda: self.start_prosody(["alice"] + USERS))
        self.check_start(self.NAMES[1], self.start_ngircd)
        self.ig = self.new_imgroups(
            limits={"rate": "1000", "burst": "1000"},
            legacy={"digest_after": "1000"},
            accounts=[("lobby-irc", {
                "protocol": "prpl-irc", "username": "lobbybot@127.0.0.1",
                "group": "lobby", "mode": "contacts",
                "option.port": str(self.irc.port)})])
        # scripts/test's settings, so that a direct run behaves the same
        self.ig.extra_env.update(
            ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1",
            UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
            LSAN_OPTIONS="suppressions=%s:print_suppressions=0"
            % os.path.join(TOP, "tests", "lsan.supp"))
        self.ig.stop_timeout = 120   # LeakSanitizer's pass at exit

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", 60)
            self.ig.wait_log(r"account lobby-irc is online", 120)
            if not self.sanitized(self.ig.pid):
                raise Abort
        self.check_start(self.NAMES[2], start)
        self.failures, self.counts = [], {}
        self.where = {}           # user -> (room, nick) while in a room
        self.samples = []         # (minutes, rss, anon, fds)
        self.missed = []          # samples where imgroups was gone or deaf
        self.run(self.flows(), SECONDS + 600)
        self.report()
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[6], "exit status %s\n%s"
                       % (rc, self.ig.log_tails(20)))
        reports = [l for l in self.ig.log_text().splitlines()
                   if SANITIZER.search(l)]
        self.tap.check(not reports, self.NAMES[7],
                       "%d lines, the first:\n%s"
                       % (len(reports), "\n".join(reports[:20])))

    def sanitized(self, pid):
        with open("/proc/%d/maps" % pid) as f:
            maps = f.read()
        missing = [lib for lib in ("libasan", "libubsan") if lib not in maps]
        if missing:
            self.tap.check(False, self.NAMES[2], "%s is not a sanitized "
                           "build: no %s mapped" % (self.binary,
                                                    " or ".join(missing)))
        return not missing

    async def flows(self):
        if not await self.step(self.NAMES[3], self.setup()):
            raise Abort
        self.deadline = self.loop.time() + SECONDS
        rng = random.Random(SEED)
        tasks = [self.user(u, random.Random(rng.random())) for u in USERS]
        await asyncio.gather(self.sampler(), self.bridge(), *tasks)
        self.tap.check(not self.failures, self.NAMES[4],
                       "%d unanswered, the first:\n%s"
                       % (len(self.failures), "\n".join(self.failures[:10])))
        self.tap.check(not self.missed, self.NAMES[5],
                       "\n".join(self.missed[:10]))

    async def setup(self):
        await self.login(*USERS)
        # the crash test's: alice in the lobby, ircbob a member
        await test_bridge_crash.Run.setup(self)

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    async def attempt(self, who, what, coro):
        try:
            await coro
            self.count(what)
        except Exception as e:   # Fail, IqError, IqTimeout, IrcFail
            self.failures.append("%.0f s, %s, %s: %s: %s" % (
                SECONDS - (self.deadline - self.loop.time()), who, what,
                type(e).__name__, str(e)[:300]))

    # --- the users -------------------------------------------------------
    async def user(self, name, rng):
        c = self.x[name]
        n = 0
        while self.loop.time() < self.deadline:
            self.counts["pm received"] = self.counts.get(
                "pm received", 0) + sum(1 for _, el in c.log
                                        if kind(el) == "message"
                                        and el.get("type") == "chat")
            c.forget()
            c.log.clear()    # an hour of stanzas would fill the test's RAM
            n += 1
            if name not in self.where:
                what = "join"
            else:
                what = rng.choices([a for a, _ in ACTIONS],
                                   [w for _, w in ACTIONS])[0]
                if what == "pm" and not self.peers(name):
                    what = "say"
            await self.attempt(name, what,
                               getattr(self, "do_" + what)(c, name, rng, n))
            await asyncio.sleep(rng.uniform(0.1, 1.0))

    async def do_join(self, c, name, rng, n):
        room = rng.choice(ROOMS)
        nick = name
        c.send("<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/"
               "muc'><history maxstanzas='5'/></x></presence>" % (room, nick))
        el = await c.wait(join_answer(room, nick), "the join's answer",
                          ANSWER)
        if ptype(el) != "error":
            self.where[name] = (room, nick)

    async def do_say(self, c, name, rng, n):
        room, nick = self.where[name]
        text = "%s says %d" % (name, n)
        c.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (room, text))
        await c.wait(groupchat_from("%s/%s" % (room, nick), text),
                     "the reflection", ANSWER)

    def peers(self, name):
        """The nicks of the other users in name's room."""
        room, _ = self.where[name]
        return [nk for u, (r, nk) in self.where.items()
                if r == room and u != name]

    async def do_pm(self, c, name, rng, n):
        room, _ = self.where[name]
        peers = self.peers(name)
        # no answer to wait for (the peer may leave meanwhile); the
        # peers count what they receive ("pm received")
        c.send("<message to='%s/%s' type='chat'><body>%s to you, %d</body>"
               "</message>" % (room, rng.choice(peers), name, n))

    async def do_mam(self, c, name, rng, n):
        room, _ = self.where[name]
        await c.iq("set", room, MAM, timeout=ANSWER)

    async def do_nick(self, c, name, rng, n):
        room, old = self.where[name]
        new = "%s-%d" % (name, rng.randint(1, 3))
        if new == old:
            new = name
        c.send("<presence to='%s/%s'/>" % (room, new))
        el = await c.wait(join_answer(room, new), "the nick change's answer",
                          ANSWER)
        if ptype(el) != "error":
            self.where[name] = (room, new)

    async def do_leave(self, c, name, rng, n):
        room, nick = self.where.pop(name)
        c.send("<presence to='%s/%s' type='unavailable'/>" % (room, nick))
        await c.wait(presence_from("%s/%s" % (room, nick), "unavailable"),
                     "its own unavailable presence", ANSWER)

    async def do_ping(self, c, name, rng, n):
        await c.iq("get", COMPONENT, PING, timeout=ANSWER)

    # --- the bridge and the samples ---------------------------------------
    async def bridge(self):
        a, n = self.x["alice"], 0
        while self.loop.time() < self.deadline:
            n += 1
            await self.attempt("alice/ircbob", "bridged", self.both_ways(n))
            a.log.clear()
            self.bob.log.clear()
            await asyncio.sleep(2)

    async def both_ways(self, n):
        a = self.x["alice"]
        a.forget()
        self.bob.inbox.clear()
        text = "lobby line %d" % n
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (LOBBY, text))
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s == "<alice> " + text,
                                    "alice's line", ANSWER)
        self.bob.privmsg("lobbybot", "irc line %d" % n)
        await a.wait(groupchat_from(LOBBY + "/ircbob", "irc line %d" % n),
                     "ircbob's line", ANSWER)

    async def sampler(self):
        start = self.loop.time()
        while True:
            t = self.loop.time() - start
            try:
                rss, anon, fds = proc_sample(self.ig.pid)
                self.samples.append((t / 60, rss, anon, fds))
                self.tap.diag("%6.0f s: RSS %d KiB (anonymous %d), %d fds, "
                              "%s" % (t, rss, anon, fds, self.tally()))
                await self.x["alice"].iq("get", COMPONENT, PING,
                                         timeout=ANSWER)
            except Exception as e:   # gone (OSError) or deaf (IqTimeout)
                self.missed.append("%.0f s: %s: %s"
                                   % (t, type(e).__name__, e))
            if self.loop.time() >= self.deadline:
                return
            await asyncio.sleep(min(SAMPLE, self.deadline - self.loop.time()))

    def tally(self):
        return ", ".join("%s %d" % kv for kv in sorted(self.counts.items()))

    def report(self):
        if not self.samples:
            return
        half = self.samples[-1][0] / 2
        late = [s for s in self.samples if s[0] >= half]
        per_min = [slope([(s[0], s[i]) for s in late]) for i in (1, 2)]
        fds = [s[3] for s in self.samples]
        self.tap.diag("RSS slope over the second half (%d samples): %s "
                      "KiB/min, anonymous %s KiB/min"
                      % (len(late), *("%.1f" % v if v is not None else "n/a"
                                      for v in per_min)))
        self.tap.diag("fds: %d at the start, %d at the end, %d at most; "
                      "RSS %d -> %d KiB" % (fds[0], fds[-1], max(fds),
                                            self.samples[0][1],
                                            self.samples[-1][1]))
        self.tap.diag("actions answered: %s" % self.tally())


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, int(SECONDS) + 900))
