"""Chat mode on MSN, for real: imgroups with its libpurple worker running
the project's MSN plugin (prpl-imgroups-msn) in chat mode against
fake_msn.py, the stand-in for a revival server (no real one can run here),
a private Prosody or ejabberd, and small MSNP12 clients
(fake_msn.MsnClient) playing carol and dora, the bot's contacts. Prints
TAP.

    /usr/bin/python3 tests/real/test_msn_chat.py /path/to/imgroups \
        /path/to/imgroups-purple [prosody|ejabberd]

The group's side (alice, imgroups' component) is on Prosody (the default)
or on ejabberd.

The bot sits in one multi-party switchboard: it calls carol in when she
comes online and dora when she does (one session, both occupants alice
sees, by their addresses' local parts); carol's line is said in the room
and dora has it from the server; alice's line reaches both as `<alice>
text`, and one over the 1664-byte limit arrives whole; an IRC channel in
chat mode on the same group (ngircd) has carol's line as `<carol> text`,
and dave's line there reaches carol; carol's typing and nudge reach the
plugin and the room as composing and an XEP-0224 attention from her
occupant (libpurple's "has nudged you" line is not said in the room), her
display picture as her occupant's avatar; dora
leaving (OUT) is her occupant leaving; the server idling the switchboard
makes both leave, and alice's next line opens a new one that calls them
back; carol opening a switchboard of her own to the bot is heard in the
room, and she is called into the bot's one, which the bot keeps alone.
IMGROUPS_KEEP_TMP=1 keeps the temp dir (fake_msn's traffic is in
msn-trace.log there).
"""

import asyncio
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    from ircclient import IrcClient  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail, body, kind, presence_from  # noqa: E402
    from xmppclient import occupant_said as groupchat  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_msn_chat.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
BOT = "lobbybot@example.com"
CAROL = "carol@example.com"
DORA = "dora@example.com"
CHAT = "lobby chat"
WATCHDOG = 300
NS_CS = "http://jabber.org/protocol/chatstates"
NS_ATT = "urn:xmpp:attention:0"
CAROL_PIC = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Run(BridgeRun):
    SLUG = "msn-chat"
    NAMES = [
        "the XMPP server starts", "ngircd starts, dave opens #lobby",
        "the stand-in MSN server starts",
        "--check-config accepts an MSN account in chat mode",
        "imgroups starts, the MSN bot logs in and is in its group chat, the "
        "IRC bot in #lobby",
        "alice joins the room",
        "carol comes online: the bot calls her into its switchboard, and "
        "she is an occupant",
        "dora comes online: called into the same switchboard, an occupant",
        "carol's line is said in the room, and dora has it",
        "alice's line reaches carol and dora as <alice> text",
        "a line over 1664 bytes arrives whole, in several MSGs",
        "#lobby on IRC, same group: carol's line there as <carol> text, "
        "dave's line at carol as <ircdave> text",
        "carol's typing reaches the plugin, and alice sees composing from "
        "her occupant",
        "carol's nudge reaches the plugin: alice sees an attention and "
        "'* carol buzzed the group' from her occupant, and libpurple's line "
        "for it is not said in the room",
        "carol's display picture (her MSN object, fetched over MSNSLP) is "
        "her occupant's avatar: its hash in her presence",
        "dora leaves the switchboard: her occupant leaves",
        "the server idles the switchboard: carol leaves; alice's next line "
        "opens a new one that calls carol and dora back",
        "carol's own switchboard to the bot: her line is said in the room, "
        "she is called into the bot's, which is the bot's only one",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, binary, worker, host):
        super().__init__(binary, worker)
        self.host = host

    def main(self):
        self.tap.diag("temp dir %s, the group on %s" % (self.tmp, self.host))
        self.check_start(self.NAMES[0],
                         lambda: self.start_xmpp(self.host, ["alice"]))
        self.check_start(self.NAMES[1], self.start_irc)
        self.check_start(self.NAMES[2], self.start_fake)
        f = self.fake.server
        msn = {"protocol": "prpl-imgroups-msn",
               "option.server": "127.0.0.1",
               "option.port": str(f.ns_port),
               "option.nexus": f.nexus_url(),
               "username": BOT, "password": "botpw1", "group": "lobby",
               "mode": "chat", "chat": CHAT,
               "pace_burst": "50", "pace_rate": "50"}
        irc = {"protocol": "prpl-irc", "username": "chanbot@127.0.0.1",
               "group": "lobby", "mode": "chat", "chat": "#lobby",
               "option.port": str(self.irc.port), "pace_burst": "50",
               "pace_rate": "50"}
        self.ig = self.new_imgroups([("msn", msn), ("lobby-irc", irc)])
        ok, why = self.check_config()
        self.tap.check(ok, self.NAMES[3], why)

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account msn: in the legacy chat", 60)
            self.ig.wait_log(r"account lobby-irc: in the legacy chat", 60)
        self.check_start(self.NAMES[4], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def check_config(self):
        """(ok, why) of imgroups --check-config on the run's config."""
        self.ig._prepare()
        r = subprocess.run([self.ig.binary, "--config", self.ig.config_path,
                            "--check-config"],
                           capture_output=True, text=True, timeout=60)
        return (r.returncode == 0,
                "status %d: %s%s" % (r.returncode, r.stdout, r.stderr))

    def start_irc(self):
        self.start_ngircd()
        self.dave = IrcClient(self.irc.port, "ircdave")
        self.irc_users.append(self.dave)

        async def opens():
            await self.dave.connect()
            self.dave.send("JOIN #lobby")
            await self.dave.wait(
                lambda m: m[1] == "JOIN" and m[0] == "ircdave", "its JOIN")
        self.run(opens(), 30)

    def start_fake(self):
        self.start_fake_msn(((BOT, "botpw1", "Lobby"),
                             (CAROL, "carolpw1", "Carol"),
                             (DORA, "dorapw1", "Dora")))
        for who in (CAROL, DORA):
            self.fake.call(self.fake.server.add_contacts, BOT, who)

    # --- the flows -------------------------------------------------------
    async def flows(self):
        if not await self.step(self.NAMES[5], self.join_room("alice",
                                                             LOBBY)):
            raise Abort
        if not await self.step(self.NAMES[6], self.carol_online()):
            raise Abort
        if not await self.step(self.NAMES[7], self.dora_online()):
            raise Abort
        for i, fn in enumerate([self.carol_says, self.alice_says,
                                self.long_line, self.irc_channel,
                                self.typing, self.nudge, self.picture,
                                self.dora_leaves,
                                self.idled, self.own_switchboard]):
            await self.step(self.NAMES[8 + i], fn())

    async def wait_log(self, regex, timeout, since=0):
        return await self.loop.run_in_executor(
            None, lambda: self.ig.wait_log(regex, timeout, since))

    async def occupant(self, who):
        """The room nick of MSN user who, once alice sees them in."""
        local = who.split("@")[0]
        a = self.x["alice"]
        el = await a.wait(
            lambda el: (el.tag.endswith("presence")
                        and el.get("type") is None
                        and el.get("from", "").lower().startswith(
                            (LOBBY + "/" + local).lower())),
            "%s as an occupant" % who, 30)
        nick = el.get("from").split("/", 1)[1]
        if "@" in nick:
            raise Fail("the room shows %s's address: %s" % (who, nick))
        return nick

    async def carol_online(self):
        self.carol = await self.msn_user(CAROL, "carolpw1")
        c = self.carol
        await c.wait(lambda: BOT in c.sbs, "the bot's call", 30)
        self.carol_nick = await self.occupant(CAROL)

    async def dora_online(self):
        self.dora = await self.msn_user(DORA, "dorapw1")
        c, d = self.carol, self.dora
        await c.wait(lambda: DORA in c.with_(BOT), "dora joining carol's "
                     "switchboard with the bot", 30)
        if c.with_(BOT) != {BOT, DORA}:
            raise Fail("carol's switchboard holds %s" % c.with_(BOT))
        await d.wait(lambda: d.with_(BOT) == {BOT, CAROL},
                     "dora in the switchboard with the bot and carol")
        self.dora_nick = await self.occupant(DORA)

    async def carol_says(self):
        await self.carol.say(BOT, "hello room")
        await self.x["alice"].wait(groupchat(LOBBY, self.carol_nick,
                                             "hello room"),
                                   "carol's line in the room")
        await self.dora.wait(lambda: "hello room" in
                             self.dora.texts_from(CAROL),
                             "carol's line at dora")

    async def say(self, text):
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (LOBBY, text))
        await a.wait(groupchat(LOBBY, "alice", text), "the reflection")

    async def alice_says(self):
        await self.say("hi msn")
        for p in (self.carol, self.dora):
            await p.wait(lambda p=p: "<alice> hi msn" in p.texts_from(BOT),
                         "alice's line")

    async def long_line(self):
        """The worker may cut first (at a space it drops), the plugin then
        cuts at 1664-byte payloads: the pieces, spaces aside, make the
        line."""
        c = self.carol
        text = "".join("é€%d" % (i % 10) for i in range(300))  # 1800 bytes
        before = len(c.payloads)
        await self.say(text)
        pieces = await c.wait(
            lambda: c.pieces_making(BOT, before, "<alice> " + text),
            "the whole long line", 30)
        if len(pieces) < 2 or any(len(p) > 1664 for p in pieces):
            raise Fail("%d pieces of %s bytes" % (len(pieces),
                                                  [len(p) for p in pieces]))

    async def irc_channel(self):
        await self.carol.say(BOT, "hello irc")
        await self.dave.wait_privmsg(
            "chanbot", lambda t: t == "<%s> hello irc" % self.carol_nick,
            "carol's line in #lobby", 30, to="#lobby")
        self.dave.privmsg("#lobby", "hi from irc")
        await self.carol.wait(
            lambda: "<ircdave> hi from irc" in self.carol.texts_from(BOT),
            "dave's line at carol")

    def from_carol(self, el):
        return (kind(el) == "message" and el.get("type") == "groupchat" and
                el.get("from") == LOBBY + "/" + self.carol_nick)

    async def typing(self):
        mark = self.ig.log_mark()
        self.carol.type_to(BOT)
        await self.wait_log(r"%s is typing in the group chat" % CAROL, 30,
                            mark)
        await self.x["alice"].wait(
            lambda el: (self.from_carol(el) and body(el) is None and
                        el.find("{%s}composing" % NS_CS) is not None),
            "composing from carol's occupant", 30)

    async def nudge(self):
        mark = self.ig.log_mark()
        a = self.x["alice"]
        self.carol.nudge(BOT)
        await self.wait_log(r"%s nudged us" % CAROL, 30, mark)
        el = await a.wait(
            lambda el: (self.from_carol(el) and
                        el.find("{%s}attention" % NS_ATT) is not None),
            "an attention from carol's occupant", 30)
        if body(el) != "* %s buzzed the group" % self.carol_nick:
            raise Fail("the attention's body: %r" % body(el))
        # libpurple writes "Carol has nudged you!" in the chat: not a line
        # anyone said (a later line of hers proves it was not passed on)
        await self.carol.say(BOT, "after the nudge")
        await a.wait(groupchat(LOBBY, self.carol_nick, "after the nudge"),
                     "carol's line after the nudge")
        said = [body(el) for _, el in a.log if kind(el) == "message"
                and "nudged" in (body(el) or "")]
        if said:
            raise Fail("libpurple's nudge line was said in the room: %r"
                       % said)

    async def picture(self):
        want = hashlib.sha1(CAROL_PIC).hexdigest()
        self.carol.set_picture(CAROL_PIC)

        def shown(el):
            x = el.find("{vcard-temp:x:update}x")
            return (kind(el) == "presence" and
                    el.get("from") == LOBBY + "/" + self.carol_nick and
                    x is not None and
                    x.findtext("{vcard-temp:x:update}photo") == want)
        await self.x["alice"].wait(shown, "carol's presence with her "
                                   "picture's hash", 30)

    async def dora_leaves(self):
        self.dora.leave(BOT)
        await self.x["alice"].wait(
            presence_from(LOBBY + "/" + self.dora_nick, "unavailable"),
            "dora's occupant leaving")

    async def idled(self):
        f = self.fake.server
        a = self.x["alice"]
        n = self.fake.call(f.idle_close, BOT)
        if n != 1:
            raise Fail("the bot is in %d switchboards, not 1" % n)
        await a.wait(presence_from(LOBBY + "/" + self.carol_nick,
                                   "unavailable"), "carol leaving")
        # carol's client notices its switchboard closed
        await self.carol.wait(lambda: BOT not in self.carol.sbs,
                              "carol's switchboard closing")
        await self.say("after the idle")
        for p in (self.carol, self.dora):
            await p.wait(lambda p=p: "<alice> after the idle"
                         in p.texts_from(BOT), "the line after the idle")
        await self.occupant(CAROL)

    async def own_switchboard(self):
        c = self.carol
        c.leave(BOT)
        await self.x["alice"].wait(
            presence_from(LOBBY + "/" + self.carol_nick, "unavailable"),
            "carol leaving the bot's switchboard")
        await c.say(BOT, "my own window")
        await self.x["alice"].wait(groupchat(LOBBY, self.carol_nick,
                                             "my own window"),
                                   "carol's line from her own switchboard")
        f = self.fake.server
        for _ in range(100):
            sessions = self.fake.call(f.sb_members, BOT)
            if sessions == [{BOT, CAROL, DORA}]:
                break
            await asyncio.sleep(0.1)
        else:
            raise Fail("the bot's switchboards: %s" % sessions)


if __name__ == "__main__":
    sys.exit(bridgebase.main_on_host(sys.argv, Run, WATCHDOG))
