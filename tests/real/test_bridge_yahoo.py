"""Yahoo users in a group, for real: imgroups with a Yahoo bot account run
by its libpurple worker through the project's own plugin
(prpl-imgroups-yahoo, transports/yahoo/) against the stand-in YMSG10
server (fake_ymsg.py: no real revival server can run here), a private
Prosody for the XMPP side, and a small YMSG client playing carol, a Yahoo
user. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_yahoo.py /path/to/imgroups /path/to/imgroups-purple

Contacts mode (group lobby, bot lobbybot): the bot logs in (its list comes
in two LIST chunks); a second account with a wrong password is reported
offline with the plugin's reason; carol adds the bot and the bridge
accepts; carol's first message makes her a member (welcome over YMSG,
occupant in the room, her line said there); her away / busy / back are
mirrored as away / dnd / available; a room line reaches her as
`<alice> text`; carol's typing is composing then active from her
occupant and alice's typing reaches carol as TYPING from the bot; carol's
buzz is an attention with `* carol buzzed the group` in the room, not a
line; carol's picture, uploaded the YMSG10 way, is fetched by the plugin
over HTTP (the bot's Y and T cookies sent to its server's host) and is her
occupant's avatar (XEP-0153 hash, vCard on the occupant JID); a file over
256 KiB is not taken; the server drops the bot and keeps it out a while, alice
says a line meanwhile, the bot comes back by itself and carol gets that
line once; carol's IM sent while the bot was away comes to the bot as an
offline message at its login and is said in the room; the bot pings at the
interval PINGCONF gives; the bot's worker killed (SIGKILL) comes back
within 45 s sending the Y and T cookies it was given (kept in
accounts.xml in the worker's directory, in no log), is let in by a server
that leaves a cookie-less second login hanging, and relays both ways
again; the same after imgroups itself is killed (SIGKILL) and started
again; cookies the server no longer takes leave the next login
unanswered, the plugin drops them after its 30 s login timeout and the
login after, without them, gets in; carol logging off takes her occupant
out.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import hashlib
import html
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import (  # noqa: E402
        COMPONENT, WAIT, BridgeRun, children, worker_account)
    import fake_ymsg  # noqa: E402
    from fake_ymsg import FakeYmsg, YmsgClient, get  # noqa: E402
    from tap import Abort  # noqa: E402
    import servers  # noqa: E402
    from xmppclient import (  # noqa: E402
        Fail, body, occupant_said, occupant_show, presence_from)
    from test_bridge_cues import (  # noqa: E402
        NS_CS, NS_VCARD, attention_from, binval, photo_from, png,
        state_from)
except ImportError as e:
    sys.stderr.write("test_bridge_yahoo.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
BOT, BOT_PW = "lobbybot", "lobbybotpw1"
WATCHDOG = 400
PING_S = 5          # the PINGCONF interval the fake gives (60 by default)






class Run(BridgeRun):
    SLUG = "bridge-yahoo"
    NAMES = [
        "prosody starts", "the stand-in YMSG server starts",
        "imgroups starts, the Yahoo bot logs in (LIST in two chunks)",
        "a wrong password: the account is offline with the plugin's reason",
        "alice logs in and joins",
        "carol adds the bot: the bridge accepts",
        "carol's first message: welcome over YMSG, occupant, said in the "
        "room",
        "carol away -> occupant away", "carol busy -> occupant dnd",
        "carol back -> occupant available",
        "a room line reaches carol as <alice> text",
        "carol types: composing, then active, from her occupant",
        "alice types in the room: carol gets TYPING from the bot",
        "carol buzzes: an attention and '* carol buzzed the group' in the "
        "room, no line",
        "carol's picture: fetched with the bot's cookies, her occupant's "
        "avatar (hash in presence, vCard)",
        "a file over 256 KiB as carol's picture is not taken",
        "the server drops the bot: it comes back by itself, and a line said "
        "meanwhile reaches carol once",
        "carol's IM to the bot while it was away: an offline message at its "
        "login, said in the room",
        "the bot pings the server at the PINGCONF interval",
        "the bot's worker killed: back within 45 s with its cookies "
        "replayed, relaying both ways",
        "imgroups killed and started again: the bot back within 45 s with "
        "its cookies replayed, carol's line in the room",
        "cookies the server no longer takes: that login left unanswered, "
        "the next one without them gets in",
        "carol logs off -> her occupant leaves",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, binary, worker):
        super().__init__(binary, worker)
        self.fake = None

    def cleanup(self):
        super().cleanup()
        if self.fake:
            self.fake.stop()

    def start_fake(self):
        self.fake = FakeYmsg(
            {BOT: BOT_PW, "badbot": "rightpw", "carol": "carolpw1",
             "ydave": "x", "yerin": "x"},
            # Two buddies on the bot's list: LIST comes in two chunks.
            {BOT: ["ydave", ("Friends", "yerin")]},
            ping_interval=PING_S)
        try:
            self.fake.start()
        except Exception as e:
            raise servers.ServerError(str(e))

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.check_start(self.NAMES[0], lambda: self.start_prosody(["alice"]))
        self.check_start(self.NAMES[1], self.start_fake)
        yahoo = {"protocol": "prpl-imgroups-yahoo", "mode": "contacts",
                 "option.server": "127.0.0.1",
                 "option.port": str(self.fake.port)}
        self.ig = self.new_imgroups([
            ("lobby-yahoo", dict(yahoo, username=BOT, password=BOT_PW,
                                 group="lobby")),
            ("bad-yahoo", dict(yahoo, username="badbot", password="wrongpw",
                               group="elsewhere")),
        ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account lobby-yahoo is online", 60)
            lists = [e for e in self.fake.seen(BOT, "<<<", "LIST")]
            if [e[3] for e in lists] != [5, 0]:
                raise servers.ServerError("the bot's LIST was not sent in "
                                          "two chunks: %r" % lists)
        self.check_start(self.NAMES[2], start)
        try:
            line = self.ig.wait_log(r"account bad-yahoo is offline: ", 60)[0]
            why = (None if "Login refused: incorrect password" in line
                   else "not the plugin's reason: " + line)
        except servers.ServerError as e:
            why = str(e)
        self.tap.check(why is None, self.NAMES[3], why)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    async def flows(self):
        if not await self.step(self.NAMES[4], self.xmpp_join()):
            raise Abort
        steps = [self.add_bot, self.first_contact, self.away, self.busy,
                 self.back, self.room_to_member, self.carol_types,
                 self.alice_types, self.carol_buzzes, self.carol_picture,
                 self.big_picture, self.outage,
                 self.offline_message, self.pings, self.cookies_replayed,
                 self.core_killed, self.stale_cookies, self.logoff]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[5 + i], fn())

    async def xmpp_join(self):
        await self.join_room("alice", LOBBY)

    async def add_bot(self):
        self.carol = YmsgClient(self.fake.port, "carol", "carolpw1")
        self.irc_users.append(self.carol)   # quit() at cleanup
        await self.carol.login()
        mark = self.ig.log_mark()
        self.carol.add_buddy(BOT, text="let me in")
        p = await self.carol.wait(lambda p: p[0] == fake_ymsg.FRIENDADD,
                                  "FRIENDADD's answer")
        if get(p[2], 66) != "0":
            raise Fail("the server refused the add: %r" % (p,))
        await self.loop.run_in_executor(
            None, self.ig.wait_log,
            r"account lobby-yahoo: accepting a buddy request", WAIT, mark)

    async def until(self, cond, what, timeout):
        """Waits until cond() holds (the stand-in server's state has no
        event to wait on: it is looked at every 50 ms)."""
        deadline = self.loop.time() + timeout
        while not cond():
            if self.loop.time() > deadline:
                raise Fail("no %s within %d s" % (what, timeout))
            await asyncio.sleep(0.05)

    async def first_contact(self):
        self.carol.message(BOT, "hello group")
        text = await self.carol.wait_message(
            BOT, lambda s: s.startswith("Welcome to the group " + LOBBY),
            "the welcome", 30)
        # the worker handled the buddy request's answer before the welcome
        if self.fake.seen(BOT, ">>>", "REJECTCONTACT"):
            raise Fail("the bot refused carol's buddy request")
        for needed in ("/help", "/leave", "/forgetme"):
            if needed not in text:
                raise Fail("the welcome does not mention %s: %s"
                           % (needed, text))
        a = self.x["alice"]
        await a.wait(presence_from(LOBBY + "/carol"), "carol's presence", 30)
        await a.wait(occupant_said(LOBBY, "carol", "hello group"),
                     "carol's line in the room")

    async def away(self):
        self.carol.away(1)              # "be right back"
        await self.x["alice"].wait(occupant_show(LOBBY, "carol", "away"),
                                   "carol away", 20)

    async def busy(self):
        self.carol.away(2)              # busy
        await self.x["alice"].wait(occupant_show(LOBBY, "carol", "dnd"),
                                   "carol dnd", 20)

    async def back(self):
        self.carol.back()
        await self.x["alice"].wait(occupant_show(LOBBY, "carol", None),
                                   "carol available", 20)

    async def room_to_member(self):
        self.x["alice"].send("<message to='%s' type='groupchat'><body>hi "
                             "from xmpp &lt;3</body></message>" % LOBBY)
        await self.carol.wait_message(
            BOT, lambda s: s == "<alice> hi from xmpp <3", "alice's line", 20)
        echoed = [s for s in self.carol.messages_from(BOT)
                  if "hello group" in s]
        if echoed:
            raise Fail("carol got her own line back: %r" % echoed)

    async def carol_types(self):
        a = self.x["alice"]
        self.carol.typing(BOT)
        await a.wait(state_from(LOBBY + "/carol", "composing", "groupchat"),
                     "composing from carol's occupant", 30)
        self.carol.typing(BOT, False)
        await a.wait(state_from(LOBBY + "/carol", "active", "groupchat"),
                     "active from carol's occupant", 30)

    async def alice_types(self):
        self.x["alice"].send("<message to='%s' type='groupchat'><composing "
                             "xmlns='%s'/></message>" % (LOBBY, NS_CS))
        p = await self.carol.wait(
            lambda p: p[0] == fake_ymsg.NOTIFY and get(p[2], 49) == "TYPING"
            and (get(p[2], 4) or "").lower() == BOT, "TYPING from the bot",
            30)
        if get(p[2], 13) != "1":
            raise Fail("the bot's first TYPING says 13=%s" % get(p[2], 13))
        # back to active, so the room's next lines are not held by pacing
        self.x["alice"].send("<message to='%s' type='groupchat'><active "
                             "xmlns='%s'/></message>" % (LOBBY, NS_CS))

    async def carol_buzzes(self):
        a = self.x["alice"]
        self.carol.buzz(BOT)
        el = await a.wait(attention_from(LOBBY + "/carol"), "the attention",
                          30)
        if body(el) != "* carol buzzed the group":
            raise Fail("the attention's body: %r" % body(el))
        # a barrier: her next line is said; "<ding>" never was
        self.carol.message(BOT, "after the buzz")
        await a.wait(occupant_said(LOBBY, "carol", "after the buzz"),
                     "carol's line after the buzz", 30)
        if [el for n, el in a.log if "<ding>" in (body(el) or "")]:
            raise Fail("the buzz was said in the room as text")

    async def carol_picture(self):
        a = self.x["alice"]
        image = png(b"\x30\x90\x10")
        await self.carol.upload_picture(image, self.fake.http_port)
        sha1 = hashlib.sha1(image).hexdigest()
        await a.wait(photo_from(LOBBY + "/carol", sha1),
                     "carol's occupant with her picture's hash", 60)
        res = await self.iq("get", LOBBY + "/carol",
                            "<vCard xmlns='%s'/>" % NS_VCARD)
        typ, data = binval(res)
        if data != image:
            raise Fail("the occupant's PHOTO: %s, %d bytes" % (typ, len(data)))
        cookies = self.fake.call(lambda: set(self.fake.accounts[BOT].issued))
        gets = [r for r in self.fake.http_requests if r[0] == "GET"]
        sent = [fake_ymsg.parse_cookie_header(r[2]) for r in gets]
        if not gets or sent[-1] not in cookies:
            raise Fail("the bot's GET did not carry cookies the server "
                       "gave it: %r" % [r[1] for r in gets])

    async def big_picture(self):
        mark = self.ig.log_mark()
        big = png(b"\x00\x00\x00") + b"\x00" * (256 * 1024)
        self.fake.set_picture("carol", big, "77")
        await self.loop.run_in_executor(
            None, self.ig.wait_log, r"picture of carol not taken", 30, mark)

    async def outage(self):
        a, ig = self.x["alice"], self.ig
        mark = ig.log_mark()
        logins = len(self.fake.seen(BOT, ">>>", "AUTHRESP"))
        self.fake.drop(BOT, hold=True)
        await self.loop.run_in_executor(
            None, ig.wait_log, r"account lobby-yahoo is offline: Server "
            "closed the connection", WAIT, mark)
        await a.wait(presence_from(LOBBY + "/carol", "unavailable"),
                     "carol leaving with the bot")
        text = "said during the outage"
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (LOBBY, text))
        await a.wait(occupant_said(LOBBY, "alice", text), "the reflection")
        self.carol.message(BOT, "sent while the bot was away")
        await self.until(
            lambda: len(self.fake.seen(BOT, ">>>", "AUTHRESP")) > logins,
            "a login attempt of the bot cut off", 30)
        mark = ig.log_mark()
        self.fake.release(BOT)
        await self.loop.run_in_executor(
            None, ig.wait_log, r"account lobby-yahoo is online", 60, mark)
        await self.carol.wait_message(BOT, lambda s: s == "<alice> " + text,
                                      "the line said during the outage", 30)
        await a.wait(presence_from(LOBBY + "/carol"), "carol back", 30)
        # a barrier: the bot delivers in order, so a copy of the line would
        # come before this one
        a.send("<message to='%s' type='groupchat'><body>after the outage"
               "</body></message>" % LOBBY)
        await self.carol.wait_message(
            BOT, lambda s: s == "<alice> after the outage",
            "the line after it", 30)
        n = self.carol.messages_from(BOT).count("<alice> " + text)
        if n != 1:
            raise Fail("carol got the line %d times" % n)

    async def offline_message(self):
        await self.x["alice"].wait(
            occupant_said(LOBBY, "carol", "sent while the bot was away"),
            "carol's offline message in the room", 30)
        got = [el for n, el in self.x["alice"].log
               if occupant_said(LOBBY, "carol", "sent while the bot was away")(el)]
        if len(got) != 1:
            raise Fail("said %d times in the room" % len(got))

    async def pings(self):
        for _ in range(PING_S * 3 * 10):
            pings = self.fake.seen(BOT, ">>>", "PING")
            if pings:
                login = [e for e in self.fake.seen(BOT, "<<<", "PINGCONF")
                         if e[5] < pings[0][5]][-1]
                self.tap.diag("first PING %.1f s after its PINGCONF"
                              % (pings[0][5] - login[5]))
                return
            await asyncio.sleep(0.1)
        raise Fail("no PING from the bot within %d s" % (PING_S * 3))

    def stored_cookies(self):
        """The Y and T values in the worker's accounts.xml, or None."""
        path = os.path.join(self.ig.storage, "purple", "lobby-yahoo",
                            "accounts.xml")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            return None
        got = {}
        for letter in "yt":
            m = re.search(r"<setting name='ymsg-cookie-%s' type='string'>"
                          r"([^<]*)</setting>" % letter, text)
            if not m:
                return None
            got[letter.upper()] = html.unescape(m.group(1))
        return got

    async def kept_cookies(self):
        """The Y and T values in accounts.xml once they are ones the server
        gave at the bot's last login (libpurple saves the file within 5 s
        of a change: the state waited on is the file)."""
        last = self.fake.call(lambda: self.fake.accounts[BOT].last_issued)
        await self.until(lambda: self.stored_cookies() and (
            self.stored_cookies()["Y"], self.stored_cookies()["T"]) == last,
            "the bot's last cookies in accounts.xml", 30)
        return self.stored_cookies()

    def replayed(self, logins, kept, took):
        """Fails unless the first login after logins AUTHRESPs sent kept
        and nothing of the bot's was left hanging, within 45 s."""
        self.tap.diag("back %.1f s after the kill" % took)
        resp = self.fake.seen(BOT, ">>>", "AUTHRESP")[logins:]
        sent = [dict(c for c in (fake_ymsg.parse_cookie(v) for k, v in e[4]
                                 if k == 59) if c) for e in resp]
        if not sent or sent[0] != kept:
            raise Fail("the first login after the kill did not send the "
                       "stored cookies: %r" % [sorted(x) for x in sent])
        if took > 45:
            raise Fail("back only %.1f s after the kill" % took)
        hung = [u for u in self.fake.unanswered if u[0] == BOT]
        if hung:
            raise Fail("%d logins of the bot left hanging" % len(hung))

    def in_no_log(self, kept):
        """Session credentials: in accounts.xml, in no other file (the
        logs are at debug level)."""
        for d, _dirs, files in os.walk(self.tmp):
            for name in files:
                if name == "accounts.xml":
                    continue
                try:
                    with open(os.path.join(d, name), "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                for v in kept.values():
                    if v.encode() in data:
                        raise Fail("a cookie value is in %s" % name)

    async def cookies_replayed(self):
        a, ig = self.x["alice"], self.ig
        kept = await self.kept_cookies()
        logins = len(self.fake.seen(BOT, ">>>", "AUTHRESP"))
        mark = ig.log_mark()
        kids = [p for p in children(ig.pid)
                if worker_account(p) == "lobby-yahoo"]
        if len(kids) != 1:
            raise Fail("not one lobby-yahoo worker under imgroups: %r"
                       % kids)
        t0 = self.loop.time()
        os.kill(kids[0], signal.SIGKILL)
        await self.loop.run_in_executor(
            None, ig.wait_log, r"killed by signal 9", 15, mark)
        await self.loop.run_in_executor(
            None, ig.wait_log, r"account lobby-yahoo is online", 45, mark)
        self.replayed(logins, kept, self.loop.time() - t0)
        await a.wait(presence_from(LOBBY + "/carol"), "carol back", 30)
        self.carol.message(BOT, "after the kill")
        await a.wait(occupant_said(LOBBY, "carol", "after the kill"),
                     "carol's line after the kill", 30)
        a.send("<message to='%s' type='groupchat'><body>welcome back"
               "</body></message>" % LOBBY)
        await self.carol.wait_message(BOT, lambda s: s == "<alice> welcome "
                                      "back", "alice's line after the kill",
                                      30)
        self.in_no_log(kept)

    async def core_killed(self):
        ig = self.ig
        kept = await self.kept_cookies()
        logins = len(self.fake.seen(BOT, ">>>", "AUTHRESP"))
        t0 = self.loop.time()
        os.kill(ig.pid, signal.SIGKILL)
        await self.loop.run_in_executor(None, ig.proc.wait)
        # the worker notices its core is gone and leaves on its own
        await self.until(lambda: not self.fake.online(BOT),
                         "the bot's session closed", 15)
        ig._finish()
        mark = ig.log_mark()
        await self.loop.run_in_executor(None, ig.start)
        await self.loop.run_in_executor(
            None, ig.wait_log, r"account lobby-yahoo is online", 45, mark)
        self.replayed(logins, kept, self.loop.time() - t0)
        # a restarted imgroups knows no occupant: alice joins again
        a = self.x["alice"]
        a.forget()
        a.send("<presence to='%s/alice'><x xmlns='http://jabber.org/"
               "protocol/muc'/></presence>" % LOBBY)
        await a.wait(presence_from(LOBBY + "/alice"), "alice in the room",
                     30)
        await a.wait(presence_from(LOBBY + "/carol"), "carol back", 30)
        self.carol.message(BOT, "after the restart")
        await a.wait(occupant_said(LOBBY, "carol", "after the restart"),
                     "carol's line after the restart", 30)
        self.in_no_log(kept)

    async def stale_cookies(self):
        ig, a = self.ig, self.x["alice"]

        def forget():
            # the server lost the cookies it gave (restored from an old
            # state); a short window, so the test waits 30 s, not 60
            self.fake.accounts[BOT].issued = {("v=stale", "z=stale")}
            self.fake.cookie_window = 20
        self.fake.call(forget)
        hung = len([u for u in self.fake.unanswered if u[0] == BOT])
        logins = len(self.fake.seen(BOT, ">>>", "AUTHRESP"))
        mark = ig.log_mark()
        self.fake.drop(BOT)
        await self.loop.run_in_executor(
            None, ig.wait_log, r"account lobby-yahoo is offline: The server "
            "did not complete the login", 60, mark)
        await self.loop.run_in_executor(
            None, ig.wait_log, r"account lobby-yahoo is online", 60, mark)
        now = [u for u in self.fake.unanswered if u[0] == BOT]
        sent = [[k for k, v in e[4] if k == 59]
                for e in self.fake.seen(BOT, ">>>", "AUTHRESP")[logins:]]
        if len(now) != hung + 1 or not sent[0] or sent[-1]:
            raise Fail("%d logins left hanging; key 59 per login: %r"
                       % (len(now) - hung, sent))
        await a.wait(presence_from(LOBBY + "/carol"), "carol back", 30)
        self.carol.message(BOT, "after the stale cookies")
        await a.wait(occupant_said(LOBBY, "carol", "after the stale cookies"),
                     "carol's line after", 30)

    async def logoff(self):
        await self.carol.quit()
        await self.x["alice"].wait(
            presence_from(LOBBY + "/carol", "unavailable"), "carol leaving",
            20)


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
