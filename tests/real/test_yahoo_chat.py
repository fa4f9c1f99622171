"""Chat mode on Yahoo, for real: imgroups with its libpurple worker running
the project's Yahoo plugin (prpl-imgroups-yahoo) in chat mode against
fake_ymsg.py, the stand-in for a revival server (no real one can run
here), a private Prosody, and small YMSG10 clients (fake_ymsg.YmsgClient)
playing carol and dora, the bot's buddies, and erin, a stranger; the same
group has an IRC bot in chat mode in #lobby on ngircd, where ircdave is.
Prints TAP.

    /usr/bin/python3 tests/real/test_yahoo_chat.py /path/to/imgroups /path/to/imgroups-purple [prosody|ejabberd]

The group's side (alice, imgroups' component) is on Prosody, or on
ejabberd.

The bot opens its group's conference at login, inviting carol, who is
online (0x18 CONFINVITE); she joins (0x19 CONFLOGON) and is an occupant
alice sees; dora, coming online later, is asked in (0x1C ADDINVITE) and
joins; carol's line (0x1D CONFMSG) is said in the room and dora has it
from the server and ircdave as `<carol> text` in #lobby; alice's line
reaches both as `<alice> text`, ircdave's as `<ircdave> text`; dora
leaving the conference (0x1B CONFLOGOFF) is her occupant leaving; erin's
invitation to another conference is declined (0x1A); carol's typing and
buzz reach the worker as typing and attention, and her buzz in the
conference is an XEP-0224 attention from her occupant; her picture is her
occupant's avatar (presence hash, vCard); carol logging off takes
her occupant out. IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    import tap  # noqa: E402  (tests/tap.py, on the path bridgebase made)
    import fake_ymsg  # noqa: E402
    from fake_ymsg import FakeYmsg, YmsgClient, get  # noqa: E402
    from tap import Abort  # noqa: E402
    import servers  # noqa: E402
    from ircclient import IrcClient  # noqa: E402
    from xmppclient import Client, Fail, presence_from  # noqa: E402
    from xmppclient import occupant_said as groupchat  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_yahoo_chat.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
BOT, BOT_PW = "lobbybot", "lobbybotpw1"
ROOM = "lobby conference"
WATCHDOG = 300


class Run(BridgeRun):
    SLUG = "yahoo-chat"
    NAMES = [
        "the XMPP server starts", "the stand-in YMSG server starts, carol "
        "online",
        "ngircd starts, ircdave in #lobby",
        "imgroups starts, the Yahoo bot logs in and is in its conference, "
        "the IRC bot in #lobby",
        "alice joins the room",
        "carol, online, is invited (CONFINVITE), joins: an occupant",
        "dora comes online: asked in (ADDINVITE), joins: an occupant",
        "carol's line is said in the room, dora has it, ircdave has it in "
        "#lobby as <carol> text",
        "alice's line reaches carol and dora as <alice> text",
        "ircdave's line in #lobby reaches carol and dora as <ircdave> text",
        "dora leaves the conference: her occupant leaves",
        "erin's invitation to another conference is declined",
        "carol's typing reaches the worker as typing",
        "carol's buzz reaches the worker as attention, not as a line; her "
        "buzz in the conference is an attention and '* carol buzzed the "
        "group' from her occupant",
        "carol's picture, uploaded the YMSG10 way, is her occupant's "
        "avatar: its hash in her presence, the image in her vCard",
        "carol logs off: her occupant leaves",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, binary, worker, host):
        super().__init__(binary, worker)
        self.host = host  # what serves alice and imgroups' component
        self.ejabberd = None

    def start_xmpp(self):
        self.start_prosody(["alice"])
        if self.host == "ejabberd":
            self.ejabberd = servers.Ejabberd(self.tmp, COMPONENT, self.secret)
            self.ejabberd.start()
            self.ejabberd.register("alice", "alice-pw")
            # imgroups (new_imgroups) links to the host's component port
            self.prosody.component_port = self.ejabberd.component_port

    async def login(self, *users):
        server = self.ejabberd or self.prosody
        for u in users:
            self.x[u] = Client(self.loop, server.c2s_port, u, "localhost")
            await self.x[u].login()

    def cleanup(self):
        super().cleanup()
        if self.ejabberd:
            self.ejabberd.stop()

    def start_fake(self):
        """The stand-in in self.fake (BridgeRun stops it at cleanup)."""
        self.fake = FakeYmsg(
            {BOT: BOT_PW, "carol": "carolpw1", "dora": "dorapw1",
             "erin": "erinpw1"},
            {BOT: ["carol", "dora"], "carol": [BOT], "dora": [BOT]})
        try:
            self.fake.start()
        except Exception as e:
            raise servers.ServerError(str(e))
        # carol is online before the bot: its conference invites her
        self.carol = YmsgClient(self.fake.port, "carol", "carolpw1")
        self.irc_users.append(self.carol)   # quit() at cleanup
        self.loop.run_until_complete(self.carol.login())

    def main(self):
        self.tap.diag("temp dir %s, the group on %s" % (self.tmp, self.host))
        self.check_start(self.NAMES[0], self.start_xmpp)
        self.check_start(self.NAMES[1], self.start_fake)
        self.check_start(self.NAMES[2], self.start_irc)
        self.ig = self.new_imgroups([
            ("yahoo", {"protocol": "prpl-imgroups-yahoo",
                       "username": BOT, "password": BOT_PW,
                       "group": "lobby", "mode": "chat", "chat": ROOM,
                       "option.server": "127.0.0.1",
                       "option.port": str(self.fake.port)}),
            ("irc", {"protocol": "prpl-irc",
                     "username": "lobbybot@127.0.0.1", "group": "lobby",
                     "mode": "chat", "chat": "#lobby",
                     "option.port": str(self.irc.port),
                     "pace_burst": "50", "pace_rate": "50"})])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account yahoo: in the legacy chat", 60)
            self.ig.wait_log(r"account irc: in the legacy chat", 60)
        self.check_start(self.NAMES[3], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def start_irc(self):
        self.start_ngircd()
        self.dave = IrcClient(self.irc.port, "ircdave")
        self.irc_users.append(self.dave)

        async def join():
            await self.dave.connect()
            self.dave.send("JOIN #lobby")
            await self.dave.wait(lambda m: m[1] == "JOIN" and
                                 m[0] == "ircdave", "its own JOIN")
        self.loop.run_until_complete(join())

    async def flows(self):
        if not await self.step(self.NAMES[4], self.join_room("alice",
                                                             LOBBY)):
            raise Abort
        if not await self.step(self.NAMES[5], self.carol_joins()):
            raise Abort
        if not await self.step(self.NAMES[6], self.dora_joins()):
            raise Abort
        for i, fn in enumerate([self.carol_says, self.alice_says,
                                self.irc_says, self.dora_leaves,
                                self.other_conference, self.typing,
                                self.buzz, self.picture, self.carol_quits]):
            await self.step(self.NAMES[7 + i], fn())

    async def wait_log(self, regex, timeout, since=0):
        return await self.loop.run_in_executor(
            None, lambda: self.ig.wait_log(regex, timeout, since))

    async def invited(self, user, service):
        p = await user.wait(lambda p: p[0] == service and
                            get(p[2], 57) == ROOM, "the bot's invitation",
                            30)
        if (get(p[2], 50) or "").lower() != BOT:
            raise Fail("invited by %r, not the bot" % get(p[2], 50))
        return [v for k, v in p[2] if k == 53]

    async def carol_joins(self):
        members = await self.invited(self.carol, fake_ymsg.CONFINVITE)
        self.carol.conf_logon(ROOM, members)
        await self.x["alice"].wait(presence_from(LOBBY + "/carol"),
                                   "carol as an occupant", 30)

    async def dora_joins(self):
        self.dora = YmsgClient(self.fake.port, "dora", "dorapw1")
        self.irc_users.append(self.dora)
        await self.dora.login()
        members = await self.invited(self.dora, fake_ymsg.CONFADDINVITE)
        if "carol" not in members:
            raise Fail("the invitation does not name carol: %r" % members)
        self.dora.conf_logon(ROOM, members)
        await self.x["alice"].wait(presence_from(LOBBY + "/dora"),
                                   "dora as an occupant", 30)
        want = {BOT, "carol", "dora"}
        got = {m.lower() for m in self.fake.conference(ROOM)}
        if got != want:
            raise Fail("the server has %r in the conference" % got)

    async def carol_says(self):
        self.carol.conf_message(ROOM, "hello room")
        await self.x["alice"].wait(groupchat(LOBBY, "carol", "hello room"),
                                   "carol's line in the room", 30)
        await self.dora.wait_conf_message(ROOM, "carol",
                                          lambda s: s == "hello room",
                                          "carol's line at dora")
        await self.dave.wait_privmsg("lobbybot",
                                     lambda s: s == "<carol> hello room",
                                     "carol's line in #lobby", 30,
                                     to="#lobby")

    async def alice_says(self):
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>hi yahoo &lt;3"
               "</body></message>" % LOBBY)
        for u in (self.carol, self.dora):
            await u.wait_conf_message(ROOM, BOT,
                                      lambda s: s == "<alice> hi yahoo <3",
                                      "alice's line", 30)

    async def irc_says(self):
        self.dave.privmsg("#lobby", "hello from irc")
        for u in (self.carol, self.dora):
            await u.wait_conf_message(
                ROOM, BOT, lambda s: s == "<ircdave> hello from irc",
                "ircdave's line", 30)

    async def dora_leaves(self):
        self.dora.conf_logoff(ROOM)
        await self.x["alice"].wait(
            presence_from(LOBBY + "/dora", "unavailable"), "dora leaving",
            30)

    async def other_conference(self):
        erin = YmsgClient(self.fake.port, "erin", "erinpw1")
        self.irc_users.append(erin)
        await erin.login()
        erin.conf_invite("erin's party", [BOT], "come along")
        p = await erin.wait(lambda p: p[0] == fake_ymsg.CONFDECLINE and
                            get(p[2], 57) == "erin's party", "the decline",
                            30)
        if (get(p[2], 54) or "").lower() != BOT:
            raise Fail("declined by %r" % get(p[2], 54))
        if BOT in [m.lower() for m in self.fake.conference("erin's party")]:
            raise Fail("the bot joined erin's conference")

    async def typing(self):
        mark = self.ig.log_mark()
        self.carol.typing(BOT)
        await self.wait_log(r"typing of carol: composing", 30, mark)
        self.carol.typing(BOT, False)
        await self.wait_log(r"typing of carol: active", 30, mark)

    async def buzz(self):
        mark = self.ig.log_mark()
        self.carol.buzz(BOT)
        await self.wait_log(r"attention from carol", 30, mark)
        # a barrier: a line after it is said; the buzz was not
        self.carol.conf_message(ROOM, "after the buzz")
        a = self.x["alice"]
        await a.wait(groupchat(LOBBY, "carol", "after the buzz"),
                     "the line after the buzz", 30)
        if any("<ding>" in (el.findtext("{jabber:client}body") or "")
               for n, el in a.log):
            raise Fail("the buzz was said in the room as text")
        # in the conference (Yahoo's buzz is a <ding> line there too)
        self.carol.conf_message(ROOM, "<ding>")
        el = await a.wait(
            lambda el: (el.tag.endswith("message") and
                        el.get("from") == LOBBY + "/carol" and
                        el.find("{urn:xmpp:attention:0}attention")
                        is not None), "an attention from carol", 30)
        text = el.findtext("{jabber:client}body")
        if text != "* carol buzzed the group":
            raise Fail("the attention's body: %r" % text)

    async def picture(self):
        a = self.x["alice"]
        image = b"\x89PNG\r\n\x1a\n" + b"carol in the conference" * 20
        sha1 = hashlib.sha1(image).hexdigest()
        await self.carol.upload_picture(image, self.fake.http_port)
        await a.wait(
            lambda el: (el.tag.endswith("presence") and
                        el.get("from") == LOBBY + "/carol" and
                        el.findtext("{vcard-temp:x:update}x/"
                                    "{vcard-temp:x:update}photo") == sha1),
            "carol's occupant with her picture's hash", 60)
        res = await self.iq("get", LOBBY + "/carol",
                            "<vCard xmlns='vcard-temp'/>")
        b64 = res.xml.findtext("{vcard-temp}vCard/{vcard-temp}PHOTO/"
                               "{vcard-temp}BINVAL") or ""
        if base64.b64decode("".join(b64.split())) != image:
            raise Fail("not carol's picture in her vCard: %d bytes of base64"
                       % len(b64))

    async def carol_quits(self):
        await self.carol.quit()
        await self.x["alice"].wait(
            presence_from(LOBBY + "/carol", "unavailable"), "carol leaving",
            30)


if __name__ == "__main__":
    tap.usage(sys.argv, "/path/to/imgroups /path/to/imgroups-purple "
              "[prosody|ejabberd]",
              lambda a: len(a) == 2 or (len(a) == 3 and
                                        a[2] in ("prosody", "ejabberd")))
    sys.exit(tap.run(lambda: Run(sys.argv[1], sys.argv[2],
                                 (sys.argv[3:] or ["prosody"])[0]),
                     WATCHDOG))
