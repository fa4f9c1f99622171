"""An MSN bot account, for real: imgroups with its libpurple worker running
the project's MSN plugin (prpl-imgroups-msn, transports/msn/) against
fake_msn.py, the stand-in for a revival server (no real one can run here),
a private Prosody for the XMPP side, and a small MSNP12 client
(fake_msn.MsnClient) playing the person on MSN. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_msn.py /path/to/imgroups /path/to/imgroups-purple

The worker finds the plugin beside itself in a build tree
(<build>/transports/msn/libimgroups-msn.so). Contacts mode, group lobby,
bot lobbybot@example.com: login; a bad password is an account error in the
log; carol adds the bot (the reverse-list push is an authorization request
the open group accepts); her first message makes her a member (the welcome
comes back over MSN), an occupant alice sees, and her line is said in the
room; room lines reach her as `<alice> text`; a line over the 1664-byte
switchboard limit arrives whole in several MSGs; AWY makes the occupant
away; the server dropping the bot's connection is survived (the bot comes
back by itself, a line said meanwhile arrives once); the worker killed (-9) while three lines wait in
the plugin for a switchboard the server holds half open loses none of them
(the plugin confirms a line only once the server ACKed it: after the
worker comes back by itself each arrives once, in order); FLN makes her
leave.
IMGROUPS_KEEP_TMP=1 keeps the temp dir (fake_msn's traffic is in
msn-trace.log there).
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
        COMPONENT, WAIT, BridgeRun, workers_of)
    from tap import Abort  # noqa: E402
    from xmppclient import (  # noqa: E402
        CLIENT, Fail, body, kind, presence_from, ptype)
    from xmppclient import occupant_said as groupchat  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_msn.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
BOT = "lobbybot@example.com"
DORA = "dora@example.com"
CAROL = "carol@example.com"
WATCHDOG = 400








class Run(BridgeRun):
    SLUG = "bridge-msn"
    NAMES = [
        "prosody starts", "the stand-in MSN server starts",
        "imgroups starts, the MSN bot logs in",
        "roster sync: a contact on the bot's server-side list is in the "
        "worker's buddy list",
        "a bad password is an account error with a clear reason",
        "alice logs in and joins",
        "carol adds the bot: the authorization request is accepted",
        "first contact: welcome over MSN, occupant, line in the room",
        "room message reaches carol as <alice> text",
        "a message over 1664 bytes arrives whole, in several MSGs",
        "carol away on MSN: her occupant is away",
        "the server drops the bot: it comes back by itself, a line said "
        "meanwhile arrives once",
        "worker killed while lines wait for a switchboard: each arrives "
        "once, in order",
        "carol signs out (FLN): her occupant leaves",
        "imgroups stops on SIGTERM with status 0"]

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.carol = None
        self.check_start(self.NAMES[0],
                         lambda: self.start_prosody(["alice", "admin"]))
        self.check_start(self.NAMES[1], self.start_fake)
        msn = self.msn_options()
        self.ig = self.new_imgroups([
            ("msn", dict(msn, username=BOT, password="botpw1",
                         group="lobby")),
            ("msn-bad", dict(msn, username="badbot@example.com",
                             password="not-the-password", group="other")),
        ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account msn is online", 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def start_fake(self):
        self.start_fake_msn(((BOT, "botpw1", "Lobby"),
                             ("badbot@example.com", "badpw1", "Bad"),
                             (CAROL, "carolpw1", "Carol"),
                             (DORA, "dorapw1", "Dora")))
        # dora has been the bot's contact for long: the roster must bring
        # her to a worker that has never seen her
        self.fake.call(self.fake.server.add_contacts, BOT, DORA)

    # --- the flows -------------------------------------------------------
    async def flows(self):
        await self.step(self.NAMES[3], self.roster_sync())
        await self.step(self.NAMES[4], self.bad_password())
        if not await self.step(self.NAMES[5], self.xmpp_join()):
            raise Abort
        if not await self.step(self.NAMES[6], self.carol_adds_bot()):
            raise Abort
        if not await self.step(self.NAMES[7], self.first_contact()):
            raise Abort
        for i, fn in enumerate([self.room_to_member, self.long_message,
                                self.away, self.outage, self.killed_waiting,
                                self.signs_out]):
            await self.step(self.NAMES[8 + i], fn())

    async def roster_sync(self):
        path = os.path.join(self.tmp, "imgroups", "store", "purple", "msn",
                            "blist.xml")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(path, encoding="utf-8") as f:
                    if "<name>%s</name>" % DORA in f.read():
                        return None
            except OSError:
                pass
            await asyncio.sleep(0.5)
        return "%s is not in %s" % (DORA, path)

    async def bad_password(self):
        lines = await self.wait_log(r"account msn-bad is offline: ", 60)
        if "Passport refused the sign-in" not in lines[0]:
            raise Fail("not the clear reason: %s" % lines[0])
        if "not-the-password" in self.ig.log_text():
            raise Fail("the password is in the log")

    async def xmpp_join(self):
        await self.join_room("alice", LOBBY)

    async def carol_adds_bot(self):
        f = self.fake.server
        self.carol = await self.msn_user(CAROL, "carolpw1")
        mark = self.ig.log_mark()
        await self.carol.add(BOT)
        await self.wait_log(r"account msn: accepting a buddy request", 30,
                            mark)

        def allowed():
            acct = f.accounts[BOT]
            return acct.lists.get(CAROL, 0) & 2
        for _ in range(100):
            if self.fake.call(allowed):
                break
            await asyncio.sleep(0.1)
        else:
            raise Fail("the bot did not put carol on its allow list")
        await self.carol.wait(lambda: self.carol.presence.get(BOT) == "NLN",
                              "the bot's presence")

    async def first_contact(self):
        c = self.carol
        await c.say(BOT, "hello group")
        text = await c.wait(
            lambda: next((t for t in c.texts_from(BOT)
                          if t.startswith("Welcome to the group " + LOBBY)),
                         None), "the welcome")
        for needed in ("/help", "/leave", "/forgetme"):
            if needed not in text:
                raise Fail("the welcome lacks %s: %s" % (needed, text))
        a = self.x["alice"]
        msg = await a.wait(
            lambda el: (kind(el) == "message" and body(el) == "hello group"
                        and el.get("from", "").startswith(LOBBY + "/")),
            "carol's line in the room")
        self.nick = msg.get("from").split("/", 1)[1]
        await a.wait(presence_from(LOBBY + "/" + self.nick),
                     "carol's presence")

    async def say(self, text):
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (LOBBY, text))
        await a.wait(groupchat(LOBBY, "alice", text), "the reflection")

    async def barrier_line(self, text):
        """Says text and waits for it at carol: the bot delivers in order,
        so a copy of an earlier line would have come before it."""
        await self.say(text)
        await self.carol.wait(
            lambda: "<alice> " + text in self.carol.texts_from(BOT),
            "the line said after them", 60)

    async def room_to_member(self):
        await self.say("hi from xmpp")
        await self.carol.wait(
            lambda: "<alice> hi from xmpp" in self.carol.texts_from(BOT),
            "alice's line")

    async def long_message(self):
        """The worker may cut first (its own limit for MSN, at a space it
        drops), the plugin then cuts at 1664-byte payloads: the pieces,
        spaces aside, make the line."""
        c = self.carol
        text = "".join("é€%d" % (i % 10) for i in range(300))  # 1800 bytes
        before = len(c.payloads)
        await self.say(text)
        want = ("<alice> " + text).replace(" ", "")

        def whole():
            got = [p for s, p in c.payloads[before:] if s == BOT]
            texts = [p.partition(b"\r\n\r\n")[2].decode("utf-8")
                     for p in got]
            return got if "".join(texts).replace(" ", "") == want else None
        pieces = await c.wait(whole, "the whole long line", 30)
        if len(pieces) < 2 or any(len(p) > 1664 for p in pieces):
            raise Fail("%d pieces of %s bytes" % (len(pieces),
                                                  [len(p) for p in pieces]))

    async def away(self):
        a = self.x["alice"]
        self.carol.set_status("AWY")
        await a.wait(lambda el: (kind(el) == "presence"
                                 and el.get("from") == LOBBY + "/" + self.nick
                                 and el.findtext(CLIENT + "show") == "away"),
                     "carol's occupant away", 30)
        self.carol.set_status("NLN")
        await a.wait(lambda el: (kind(el) == "presence"
                                 and el.get("from") == LOBBY + "/" + self.nick
                                 and ptype(el) == "available"
                                 and el.findtext(CLIENT + "show") is None),
                     "carol's occupant back", 30)

    async def outage(self):
        mark = self.ig.log_mark()
        if not self.fake.call(self.fake.server.drop, BOT):
            raise Fail("the bot had no connection to drop")
        await self.wait_log(r"account msn is offline", 30, mark)
        await self.say("during the outage")
        await self.wait_log(r"account msn is online", 60, mark)
        c = self.carol
        await c.wait(lambda: "<alice> during the outage" in c.texts_from(BOT),
                     "the line said during the outage", 60)
        await self.barrier_line("after the outage")
        n = c.texts_from(BOT).count("<alice> during the outage")
        if n != 1:
            raise Fail("arrived %d times" % n)

    async def killed_waiting(self):
        """Lines the plugin holds (its switchboard to carol is not open yet:
        the server keeps the CAL unanswered) are not confirmed, so killing
        the worker loses none: the restarted worker sends them again."""
        f = self.fake.server
        c = self.carol
        for sb in list(c.sbs.values()):   # no switchboard with the bot
            sb.close()
        c.sbs.clear()
        await self.poll(lambda: f.sb_open(BOT) == 0,
                        "the bot's switchboards closed")
        self.fake.call(f.hold, CAROL)
        mark = self.ig.log_mark()
        lines = ["held line %d" % i for i in (1, 2, 3)]
        for t in lines:
            await self.say(t)
        await self.poll(lambda: f.held_calls(CAROL) > 0, "the bot's CAL")
        # The three are in the plugin (the worker says so) before the kill.
        await self.loop.run_in_executor(
            None, lambda: self.ig.wait_log(r"msn: message to %s" % CAROL, 30,
                                           mark, len(lines)))
        kids = workers_of(self.ig.pid, "msn")
        if not kids:
            raise Fail("no worker process for the account msn")
        for p in kids:
            os.kill(p, signal.SIGKILL)
        self.tap.diag("killed worker %s with the CAL held" % kids)
        await self.wait_log(r"killed by signal 9", 15, mark)
        self.fake.call(f.release, CAROL)
        await self.wait_log(r"account msn is online", 60, mark)
        want = ["<alice> " + t for t in lines]
        await c.wait(lambda: set(want) <= set(c.texts_from(BOT)),
                     "the three held lines", 90)
        await self.barrier_line("after the held lines")
        got = [t for t in c.texts_from(BOT) if t in want]
        if got != want:
            raise Fail("arrived %r, wanted each once in order" % got)

    async def signs_out(self):
        await self.carol.quit()
        self.carol = None
        await self.x["alice"].wait(
            presence_from(LOBBY + "/" + self.nick, "unavailable"),
            "carol leaving", 30)


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
