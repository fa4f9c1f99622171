"""Delivery that loses nothing: while the room's messages are being paced
out to an IRC member (libpurple's IRC plugin against a private ngircd),
kill -9 the worker, then kill -9 imgroups itself. Every message the room
acknowledged reaches the member exactly once, in order, and the bot comes
back online by itself both times. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_crash.py /path/to/imgroups /path/to/imgroups-purple
"""

import asyncio
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import (  # noqa: E402
        COMPONENT, WAIT, BridgeRun, alive, children)
    from ircclient import IrcClient  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail, body, kind, presence_from  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_crash.py: %s (run it with /usr/bin/python3,"
                     " which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
BURST = 30
PACE = "5"           # messages per second to the member: a burst lasts 6 s
BACK_WAIT = 150      # restart, sign-on, presence (ISON), 30 paced lines
WATCHDOG = 600






class Run(BridgeRun):
    SLUG = "bridge-crash"
    ACCOUNT = "lobby-irc"   # the bot account (test_bridge_crowd: over MSN)
    NAMES = [
        "prosody starts", "ngircd starts", "imgroups starts, bot online",
        "alice joins, ircbob becomes a member",
        "worker killed mid-burst: the bot comes back by itself",
        "worker killed mid-burst: every line once, in order",
        "imgroups killed mid-burst: restarted, the bot comes back",
        "imgroups killed mid-burst: every acknowledged line once, in order",
        "imgroups stops on SIGTERM with status 0"]

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.check_start(self.NAMES[0], lambda: self.start_prosody(["alice"]))
        self.check_start(self.NAMES[1], self.start_ngircd)
        # no digest: this test wants every line, even after 25 waited
        self.ig = self.new_imgroups(limits={"rate": "1000", "burst": "1000"},
                                    legacy={"digest_after": "1000"},
                                    accounts=[
            ("lobby-irc", {"protocol": "prpl-irc",
                           "username": "lobbybot@127.0.0.1",
                           "group": "lobby", "mode": "contacts",
                           "option.port": str(self.irc.port),
                           "pace_burst": "1", "pace_rate": PACE})])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account lobby-irc is online", 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    async def flows(self):
        if not await self.step(self.NAMES[3], self.setup()):
            raise Abort
        await self.step(self.NAMES[4], self.kill_worker())
        await self.step(self.NAMES[5], self.all_once("w"))
        ok = await self.step(self.NAMES[6], self.kill_core())
        if ok:
            await self.step(self.NAMES[7], self.all_once("c"))
        else:
            self.tap.check(False, self.NAMES[7], "imgroups did not come back")

    async def setup(self):
        await self.join_room("alice", LOBBY)
        self.bob = IrcClient(self.irc.port, "ircbob")
        self.irc_users.append(self.bob)
        await self.bob.connect()
        self.bob.privmsg("lobbybot", "hello")
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s.startswith("Welcome"),
                                    "the welcome", 60)
        await self.x["alice"].wait(presence_from(LOBBY + "/ircbob"),
                                   "ircbob in the room")

    async def burst(self, tag):
        """Says BURST lines and collects the ones the room acknowledged
        (reflected to alice): those must all arrive."""
        a = self.x["alice"]
        texts = ["%s%02d" % (tag, i) for i in range(BURST)]
        for t in texts:
            a.send("<message to='%s' type='groupchat'><body>%s</body>"
                   "</message>" % (LOBBY, t))
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            got = {body(el) for n, el in a.log
                   if kind(el) == "message" and el.get("type") == "groupchat"
                   and body(el) in texts}
            if len(got) == BURST:
                break
            await asyncio.sleep(0.1)
        self.acked = [t for t in texts if t in got]
        if len(self.acked) < BURST:
            raise Fail("only %d of %d lines acknowledged"
                       % (len(self.acked), BURST))

    async def until_received(self, tag, n):
        while len([s for s in self.bob.privmsgs("lobbybot")
                   if s.startswith("<alice> " + tag)]) < n:
            await asyncio.sleep(0.05)

    async def kill_worker(self):
        mark = self.ig.log_mark()
        await self.burst("w")
        await asyncio.wait_for(self.until_received("w", 5), 60)
        kids = [p for p in children(self.ig.pid)]
        if not kids:
            raise Fail("no worker process under imgroups")
        for p in kids:
            os.kill(p, signal.SIGKILL)
        self.tap.diag("killed worker %s after %d lines" % (
            kids, len(self.bob.privmsgs("lobbybot"))))
        await self.in_thread(self.ig.wait_log, r"killed by signal 9", 15,
                             mark)
        await self.in_thread(self.ig.wait_log,
                             r"account %s is online" % self.ACCOUNT, 60,
                             mark)

    async def in_thread(self, fn, *args):
        return await self.loop.run_in_executor(None, fn, *args)

    async def all_once(self, tag):
        deadline = time.monotonic() + BACK_WAIT
        want = ["<alice> " + t for t in self.acked]
        while True:
            got = [s for s in self.bob.privmsgs("lobbybot")
                   if s.startswith("<alice> " + tag)]
            if set(want) <= set(got) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        # a barrier: the bot delivers in order, so a copy comes before it
        # (alice joins again first: a restarted imgroups knows no occupant)
        a = self.x["alice"]
        a.forget()
        a.send("<presence to='%s/alice'><x xmlns='http://jabber.org/protocol/"
               "muc'/></presence>" % LOBBY)
        await a.wait(presence_from(LOBBY + "/alice"), "alice in the room")
        a.send("<message to='%s' type='groupchat'><body>end of %s</body>"
               "</message>" % (LOBBY, tag))
        await self.bob.wait_privmsg("lobbybot", lambda s: s == "<alice> end of "
                                    + tag, "the line after them", BACK_WAIT)
        got = [s for s in self.bob.privmsgs("lobbybot")
               if s.startswith("<alice> " + tag)]
        acked_got = [s for s in got if s in want]
        if acked_got != want:
            missing = [s for s in want if s not in got]
            raise Fail("%d acknowledged lines; missing %r; order %r; "
                       "everything from the bot: %r"
                       % (len(want), missing, acked_got,
                          self.bob.privmsgs("lobbybot")))
        if len(got) != len(set(got)):
            dups = sorted(s for s in set(got) if got.count(s) > 1)
            raise Fail("duplicates: %r" % dups)
        self.tap.diag("%s: %d acknowledged, %d delivered, none twice"
                      % (tag, len(want), len(got)))

    async def kill_core(self):
        await self.burst("c")
        await asyncio.wait_for(self.until_received("c", 5), 60)
        kids = children(self.ig.pid)
        os.kill(self.ig.pid, signal.SIGKILL)
        self.ig.proc.wait()
        # the worker notices its core is gone and exits on its own
        deadline = time.monotonic() + 10
        while any(alive(p) for p in kids) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if any(alive(p) for p in kids):
            raise Fail("the worker outlived its core by 10 s")
        self.ig._finish()
        mark = self.ig.log_mark()
        await self.in_thread(self.ig.start)
        await self.in_thread(self.ig.wait_log, r"connected to", WAIT, mark)
        await self.in_thread(self.ig.wait_log,
                             r"account %s is online" % self.ACCOUNT, 60,
                             mark)


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
