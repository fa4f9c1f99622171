"""test_bridge_crash.py's kills in a group of 1 000 legacy members, over
MSN (the project's plugin against fake_msn.py): carol talks to the bot and
999 more members are added by the member-add ad-hoc command (accounts of the
stand-in server that stay offline, so nothing is delivered to them). A
line said in the group writes no outbox record for any of them (the outbox
by reference); kill -9 of the worker, then of imgroups itself, mid-burst:
carol still gets every acknowledged line once, in order. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_crowd.py /path/to/imgroups /path/to/imgroups-purple

IMGROUPS_CROWD sets how many members are added (999).
"""

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    import test_bridge_crash  # noqa: E402
    from bridgebase import WAIT  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_crowd.py: %s (run it with /usr/bin/python3,"
                     " which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = test_bridge_crash.LOBBY
BOT = "lobbybot@example.com"
CAROL = "carol@example.com"
CROWD = int(os.environ.get("IMGROUPS_CROWD", "999"))
AT_ONCE = 25       # member-add commands in flight together
WATCHDOG = 600


class Carol:
    """carol over MSN, as test_bridge_crash's flows read ircbob."""

    def __init__(self, client):
        self.c = client

    def privmsgs(self, sender):
        return self.c.texts_from(BOT)

    async def wait_privmsg(self, sender, pred, what, timeout):
        await self.c.wait(lambda: any(pred(t) for t in self.c.texts_from(BOT)),
                          what, timeout)


class Run(test_bridge_crash.Run):
    SLUG = "bridge-crowd"
    ACCOUNT = "lobby-msn"
    NAMES = (["prosody starts", "the stand-in MSN server starts",
              "imgroups starts, the MSN bot logs in",
              "alice joins, carol becomes a member",
              "%d more legacy members added by member-add" % CROWD] +
             test_bridge_crash.Run.NAMES[4:])

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.carol = None
        self.check_start(self.NAMES[0], lambda: self.start_prosody(["alice"]))
        self.check_start(self.NAMES[1], self.start_fake)
        f = self.fake.server
        self.ig = self.new_imgroups(
            limits={"rate": "1000", "burst": "1000"},
            legacy={"digest_after": "1000"}, admins=["alice@localhost"],
            accounts=[(self.ACCOUNT, {
                "protocol": "prpl-imgroups-msn",
                "option.server": "127.0.0.1",
                "option.port": str(f.ns_port),
                "option.nexus": f.nexus_url(), "username": BOT,
                "password": "botpw1", "group": "lobby", "mode": "contacts",
                "pace_burst": "1", "pace_rate": test_bridge_crash.PACE})])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account %s is online" % self.ACCOUNT, 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def start_fake(self):
        accounts = [(BOT, "botpw1", "Lobby"), (CAROL, "carolpw1", "Carol")]
        accounts += [("crowd%04d@example.com" % i, "pw%04d" % i, "c%d" % i)
                     for i in range(CROWD)]
        self.start_fake_msn(accounts)

    async def flows(self):
        n = self.NAMES
        if not await self.step(n[3], self.setup()):
            raise Abort
        if not await self.step(n[4], self.add_crowd()):
            raise Abort
        await self.step(n[5], self.kill_worker())
        await self.step(n[6], self.all_once("w"))
        ok = await self.step(n[7], self.kill_core())
        if ok:
            await self.step(n[8], self.all_once("c"))
        else:
            self.tap.check(False, n[8], "imgroups did not come back")

    async def setup(self):
        await self.join_room("alice", LOBBY)
        self.carol = await self.msn_user(CAROL, "carolpw1")
        await self.carol.add(BOT)
        await self.carol.wait(lambda: self.carol.presence.get(BOT) == "NLN",
                              "the bot's presence")
        await self.carol.say(BOT, "hello")
        await self.carol.wait(
            lambda: any(t.startswith("Welcome")
                        for t in self.carol.texts_from(BOT)), "the welcome",
            60)
        self.bob = Carol(self.carol)

    async def add_member(self, handle):
        _, done = await self.member_add(LOBBY, self.ACCOUNT, handle)
        if done is None or done.get("status") != "completed":
            raise Fail("member-add of %s did not complete" % handle)

    async def add_crowd(self):
        t0 = time.monotonic()
        handles = ["crowd%04d@example.com" % i for i in range(CROWD)]
        for i in range(0, len(handles), AT_ONCE):
            await asyncio.gather(*(self.add_member(h)
                                   for h in handles[i:i + AT_ONCE]))
        self.tap.diag("%d members added in %.1f s"
                      % (CROWD, time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
