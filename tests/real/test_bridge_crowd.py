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
    from fake_msn import FakeMsnThread, MsnClient  # noqa: E402
    from slixmpp.exceptions import IqError, IqTimeout  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail, iq_error, presence_from  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_crowd.py: %s (run it with /usr/bin/python3,"
                     " which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = test_bridge_crash.LOBBY
BOT = "lobbybot@example.com"
CAROL = "carol@example.com"
CROWD = int(os.environ.get("IMGROUPS_CROWD", "999"))
AT_ONCE = 25       # member-add commands in flight together
NS_CMD = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
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
        self.fake = None
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
        self.fake = FakeMsnThread(
            seed=int(os.environ.get("MSN_SEED", "7")),
            trace_file=os.path.join(self.tmp, "msn-trace.log")).start()
        accounts = [(BOT, "botpw1", "Lobby"), (CAROL, "carolpw1", "Carol")]
        accounts += [("crowd%04d@example.com" % i, "pw%04d" % i, "c%d" % i)
                     for i in range(CROWD)]
        for email, pw, name in accounts:
            self.fake.call(self.fake.server.add_account, email, pw, name)

    def cleanup(self):
        if self.carol:
            try:
                self.loop.run_until_complete(
                    asyncio.wait_for(self.carol.quit(), 5))
            except Exception:
                pass
        super().cleanup()
        if self.fake:
            self.fake.stop()

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
        await self.login("alice")
        a = self.x["alice"]
        a.send("<presence to='%s/alice'><x xmlns='"
               "http://jabber.org/protocol/muc'/></presence>" % LOBBY)
        await a.wait(presence_from(LOBBY + "/alice"), "its own presence")
        f = self.fake.server
        self.carol = MsnClient("127.0.0.1", f.ns_port, f.nexus_url(), CAROL,
                               "carolpw1")
        await self.carol.login()
        await self.carol.add(BOT)
        await self.carol.wait(lambda: self.carol.presence.get(BOT) == "NLN",
                              "the bot's presence")
        await self.carol.say(BOT, "hello")
        await self.carol.wait(
            lambda: any(t.startswith("Welcome")
                        for t in self.carol.texts_from(BOT)), "the welcome",
            60)
        self.bob = Carol(self.carol)

    async def iq(self, typ, to, payload):
        try:
            return await self.x["alice"].iq(typ, to, payload)
        except (IqError, IqTimeout) as e:
            raise Fail("iq %s to %s: %s" % (typ, to, iq_error(e)))

    async def member_add(self, handle):
        res = await self.iq("set", LOBBY,
                            "<command xmlns='%s' node='member-add' "
                            "action='execute'/>" % NS_CMD)
        cmd = res.xml.find("{%s}command" % NS_CMD)
        if cmd is None or not cmd.get("sessionid"):
            raise Fail("member-add did not start for %s" % handle)
        res = await self.iq(
            "set", LOBBY,
            "<command xmlns='%s' node='member-add' sessionid='%s'>"
            "<x xmlns='%s' type='submit'><field var='account'><value>"
            "%s</value></field><field var='handle'><value>%s</value>"
            "</field></x></command>" % (NS_CMD, cmd.get("sessionid"),
                                        NS_DATA, self.ACCOUNT, handle))
        cmd = res.xml.find("{%s}command" % NS_CMD)
        if cmd is None or cmd.get("status") != "completed":
            raise Fail("member-add of %s did not complete" % handle)

    async def add_crowd(self):
        t0 = time.monotonic()
        handles = ["crowd%04d@example.com" % i for i in range(CROWD)]
        for i in range(0, len(handles), AT_ONCE):
            await asyncio.gather(*(self.member_add(h)
                                   for h in handles[i:i + AT_ONCE]))
        self.tap.diag("%d members added in %.1f s"
                      % (CROWD, time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
