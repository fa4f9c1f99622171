"""The whole message reaches legacy members in words, for real: one group
with an IRC bot (libpurple's IRC plugin against a private ngircd), an MSN
bot and a Yahoo bot (the project's plugins against the stand-in servers),
and alice on a private Prosody. alice (slixmpp) corrects a line (XEP-0308),
reacts to one (XEP-0444), replies to one (XEP-0461 with its XEP-0428
fallback), shares a file link (XEP-0066) and withdraws a line (XEP-0424);
ircbob, carol (MSN) and yuki (Yahoo) each read the words render.c gives:
`<alice> (correction) …`, `* alice reacted 👍 to "first words…"`,
`<alice> (replying to alice: "…") …`, the URL, `* alice deleted a
message`. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_xep.py /path/to/imgroups /path/to/imgroups-purple

The group, the MSN and Yahoo members and their joining are
test_bridge_mixed.py's; this run adds the IRC bot and member.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from ircclient import IrcClient  # noqa: E402
    from tap import Abort  # noqa: E402
    import test_bridge_mixed as mixed  # noqa: E402
    from xmppclient import Fail, kind, presence_from  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_xep.py: %s (run it with /usr/bin/python3,"
                     " which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = mixed.LOBBY
SID = "{urn:xmpp:sid:0}stanza-id"
WATCHDOG = 420
CAKE = "We should bake a cake for the party on Saturday evening"
QUOTE = "We should bake a cake for the party on\u2026"
URL = "https://upload.localhost/abc/cake.jpg"
THUMBS = "\U0001f44d"


def reflection(ident):
    """alice's own groupchat message with this id, back from the room."""
    return lambda el: (kind(el) == "message" and el.get("type") == "groupchat"
                       and el.get("id") == ident
                       and el.get("from", "").startswith(LOBBY + "/"))


class Run(mixed.Run):
    SLUG = "bridge-xep"
    NAMES = [
        "prosody starts", "the stand-in MSN and Yahoo servers and ngircd start",
        "imgroups starts, the MSN and Yahoo bots online",
        "alice logs in and joins; the IRC bot is online",
        "carol (MSN) adds the bot and is a member of the group",
        "yuki (Yahoo) adds the bot and is a member of the group",
        "ircbob (IRC) messages the bot and is a member of the group",
        "a line reaches the three as '<alice> text'",
        "a correction (XEP-0308) reaches them as '<alice> (correction) text'",
        "a reaction (XEP-0444) reaches them as '* alice reacted \U0001f44d to"
        " \"first words\u2026\"'",
        "a reply (XEP-0461) reaches them with the words it answers, without"
        " its fallback quote, no JID",
        "a file link (XEP-0066) reaches them as its URL",
        "a retraction (XEP-0424) reaches them as '* alice deleted a message'",
        "a moderator's retraction (XEP-0425) of yuki's line reaches ircbob "
        "and carol as '* admin deleted a message by yuki', not yuki",
        "imgroups stops on SIGTERM with status 0"]

    def start_prosody(self, users, **kw):
        super().start_prosody(list(users) + ["admin"], **kw)

    def start_fakes(self):
        super().start_fakes()
        self.start_ngircd()

    def new_imgroups(self, accounts, **kw):
        irc = ("lobby-irc", {"protocol": "prpl-irc",
                             "username": "lobbybot@127.0.0.1",
                             "group": "lobby", "mode": "contacts",
                             "option.port": str(self.irc.port),
                             "pace_burst": "50", "pace_rate": "50"})
        return super().new_imgroups(list(accounts) + [irc], **kw)

    async def flows(self):
        if not await self.step(self.NAMES[3], self.xmpp_join()):
            raise Abort
        for i, fn in enumerate([self.carol_joins, self.yuki_joins,
                                self.bob_joins]):
            if not await self.step(self.NAMES[4 + i], fn()):
                raise Abort
        if not await self.step(self.NAMES[7], self.plain()):
            raise Abort
        for i, fn in enumerate([self.correction, self.reaction, self.reply,
                                self.file_link, self.retraction,
                                self.moderation]):
            await self.step(self.NAMES[8 + i], fn())

    async def xmpp_join(self):
        await super().xmpp_join()
        await self.loop.run_in_executor(
            None, self.ig.wait_log, r"account lobby-irc is online", 60)

    async def bob_joins(self):
        self.bob = IrcClient(self.irc.port, "ircbob")
        self.irc_users.append(self.bob)
        await self.bob.connect()
        self.bob.privmsg("lobbybot", "hello from bob")
        await self.bob.wait_privmsg(
            "lobbybot", lambda s: s.startswith("Welcome to the group " + LOBBY),
            "the welcome notice", 60)
        await self.x["alice"].wait(presence_from(LOBBY + "/ircbob"),
                                   "ircbob's presence")

    # --- what alice sends, what the three read -----------------------------
    async def send(self, ident, children, sid=True):
        """alice sends a groupchat message with these children; the room's
        stanza-id of it (from her reflection), unless sid is False."""
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat' id='%s'>%s</message>"
               % (LOBBY, ident, children))
        el = await a.wait(reflection(ident), "the reflection of %s" % ident)
        if not sid:
            return None
        sid = el.find(SID)
        if sid is None or not sid.get("id"):
            raise Fail("the reflection of %s has no stanza-id" % ident)
        return sid.get("id")

    async def everyone_reads(self, want, yuki=True):
        """ircbob, carol and yuki (unless yuki is False) each get exactly
        the line want from their bot."""
        await self.bob.wait_privmsg("lobbybot", lambda s: s == want,
                                    "%r over IRC" % want, 30)
        await self.carol.wait(
            lambda: want in self.carol.texts_from(mixed.MSN_BOT),
            "%r over MSN" % want)
        if yuki:
            await self.yuki.wait_message(mixed.Y_BOT, lambda s: s == want,
                                         "%r over YMSG" % want, 30)

    async def plain(self):
        self.cake = await self.send("m1", "<body>%s</body>" % CAKE)
        await self.everyone_reads("<alice> " + CAKE)

    async def correction(self):
        await self.send("m2", "<body>%s!</body><replace xmlns='urn:xmpp:"
                        "message-correct:0' id='m1'/>" % CAKE)
        await self.everyone_reads("<alice> (correction) %s!" % CAKE)

    async def reaction(self):
        await self.send("r1", "<reactions xmlns='urn:xmpp:reactions:0' "
                        "id='%s'><reaction>%s</reaction></reactions>"
                        "<store xmlns='urn:xmpp:hints'/>" % (self.cake, THUMBS))
        await self.everyone_reads('* alice reacted %s to "%s"'
                                  % (THUMBS, QUOTE))

    async def reply(self):
        quote = "> alice wrote:\n> %s\n" % CAKE
        await self.send(
            "p1", "<body>%sGreat idea!</body><reply xmlns='urn:xmpp:reply:0' "
            "to='%s/alice' id='%s'/><fallback xmlns='urn:xmpp:fallback:0' "
            "for='urn:xmpp:reply:0'><body start='0' end='%d'/></fallback>"
            % (quote, LOBBY, self.cake, len(quote)))
        await self.everyone_reads('<alice> (replying to alice: "%s") '
                                  'Great idea!' % QUOTE)
        shown = [t for t in self.bob.privmsgs("lobbybot")
                 if t.startswith(("<alice> ", "* alice ")) and "@" in t]
        if shown:
            raise Fail("ircbob was shown a JID: %r" % shown)

    async def file_link(self):
        await self.send("f1", "<body>%s</body><x xmlns='jabber:x:oob'><url>"
                        "%s</url></x>" % (URL, URL))
        await self.everyone_reads("<alice> " + URL)

    async def retraction(self):
        doomed = await self.send("d1", "<body>said in haste</body>")
        await self.everyone_reads("<alice> said in haste")
        await self.send(
            "x1", "<retract xmlns='urn:xmpp:message-retract:1' id='%s'/>"
            "<fallback xmlns='urn:xmpp:fallback:0' "
            "for='urn:xmpp:message-retract:1'/><body>This person attempted "
            "to retract a previous message, but it's unsupported by your "
            "client.</body><store xmlns='urn:xmpp:hints'/>" % doomed, sid=False)
        await self.everyone_reads("* alice deleted a message")

    async def moderation(self):
        await self.join_room("admin", LOBBY)
        self.yuki.message(mixed.Y_BOT, "buy cheap watches")
        el = await self.x["alice"].wait(
            mixed.line_in_room("buy cheap watches"), "yuki's line")
        await self.everyone_reads("<%s> buy cheap watches" % self.yuki_nick,
                                  yuki=False)
        await self.iq("set", LOBBY,
                      "<moderate xmlns='urn:xmpp:message-moderate:1' id='%s'>"
                      "<retract xmlns='urn:xmpp:message-retract:1'/>"
                      "<reason>spam</reason></moderate>" % el.find(SID).get("id"),
                      user="admin")
        await self.everyone_reads("* admin deleted a message by %s"
                                  % self.yuki_nick, yuki=False)
        # each bot delivers in order: had yuki been told, it would come
        # before this line
        await self.send("z1", "<body>after the spam</body>")
        await self.everyone_reads("<alice> after the spam")
        told = [t for t in self.yuki.messages_from(mixed.Y_BOT)
                if "deleted a message by" in t]
        if told:
            raise Fail("yuki was told of their own line: %r" % told)


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
