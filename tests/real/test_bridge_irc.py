"""Legacy users in groups, for real: imgroups with two IRC bot accounts run
by its libpurple worker (libpurple's own IRC plugin) against a private
ngircd, a private Prosody for the XMPP side, and raw IRC clients playing the
people on the legacy network. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_irc.py /path/to/imgroups /path/to/imgroups-purple

Contacts mode (group lobby, bot lobbybot): an IRC user who messages the bot
is welcomed once, becomes an occupant and is heard in the room; room
traffic reaches them as `<nick> text` (and `/me` as `* nick text`), never
their own lines back, literally (no markup), split but whole when long;
/who, /nick, /mute and /unmute, /leave; legacy handles only in moderators'
item jids. The offline case: the user quits, the room says three things,
the user comes back and gets the three, in order, once.
Chat mode (group chan, bot chanbot in #chan): channel members are
occupants (joins, nick changes, parts mirrored), messages go both ways,
the topic and the room subject follow each other.

libpurple's IRC plugin learns a buddy's presence by polling ISON about
every 45 s, so the offline case waits up to two polls each way.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    from ircclient import IrcClient  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import (  # noqa: E402
        CLIENT, Fail, codes, item, kind, presence_from, show)
    from xmppclient import occupant_said as groupchat  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_irc.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
CHAN = "chan@" + COMPONENT
ISON_WAIT = 100      # two ISON polls and some
WATCHDOG = 600




def subject_is(room, text):
    return lambda el: (kind(el) == "message" and el.get("type") == "groupchat"
                       and el.get("from", "").startswith(room)
                       and el.findtext(CLIENT + "subject") == text)


class Run(BridgeRun):
    SLUG = "bridge-irc"
    NAMES = [
        "prosody starts", "ngircd starts", "imgroups starts, both bots online",
        "alice and admin log in and join",
        "first contact: welcome, occupant, message in the room",
        "legacy handle only in a moderator's item jid",
        "room message reaches the member, own line not echoed",
        "/me as an action",
        "markup from XMPP arrives literally",
        "a long message arrives whole, split",
        "/who", "/nick", "/mute and /unmute",
        "offline: a line said as the member quits (refused by IRC: no such"
        " nick) and the member leaves the room",
        "offline: that line and three more delivered in order, once, on "
        "return",
        "/leave, and rejoining as a new member",
        "chat mode: channel member is an occupant, bot is not",
        "chat mode: channel line said in the room",
        "chat mode: room line said in the channel, no echo",
        "chat mode: topic to subject", "chat mode: subject to topic",
        "chat mode: nick change mirrored", "chat mode: part mirrored",
        "chat mode: the IRC server restarts; the bot comes back and re-joins"
        " #chan by itself, lines flow both ways again",
        "imgroups stops on SIGTERM with status 0"]

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.check_start(self.NAMES[0],
                         lambda: self.start_prosody(["alice", "admin"]))
        self.check_start(self.NAMES[1], self.start_ngircd)
        # dave opens #chan before the bot, so the topic is his to set
        self.dave = IrcClient(self.irc.port, "ircdave")
        self.irc_users.append(self.dave)
        self.run(self.dave_opens_chan(), 30)
        irc = {"option.port": str(self.irc.port), "pace_burst": "50",
               "pace_rate": "50"}
        self.ig = self.new_imgroups([
            ("lobby-irc", dict(protocol="prpl-irc",
                               username="lobbybot@127.0.0.1", group="lobby",
                               mode="contacts", **irc)),
            ("chan-irc", dict(protocol="prpl-irc",
                              username="chanbot@127.0.0.1", group="chan",
                              mode="chat", chat="#chan", **irc)),
        ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account lobby-irc is online", 60)
            self.ig.wait_log(r"account chan-irc is online", 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    async def dave_opens_chan(self):
        await self.dave.connect()
        self.dave.send("JOIN #chan")
        await self.dave.wait(lambda m: m[1] == "JOIN" and m[0] == "ircdave",
                             "its own JOIN")
        self.dave.send("MODE #chan -t")

    # --- the flows -------------------------------------------------------
    async def flows(self):
        if not await self.step(self.NAMES[3], self.xmpp_join()):
            raise Abort
        steps = [self.first_contact, self.privacy, self.room_to_member,
                 self.action, self.literal, self.long_message, self.who,
                 self.nick, self.mute, self.offline_leaves,
                 self.offline_returns, self.leave,
                 self.chat_occupant, self.chat_in, self.chat_out,
                 self.chat_topic_in, self.chat_topic_out, self.chat_nick,
                 self.chat_part, self.chat_server_restart]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[4 + i], fn())

    async def xmpp_join(self):
        for nick in ("alice", "admin"):
            for room in (LOBBY, CHAN):
                await self.join_room(nick, room)

    async def first_contact(self):
        self.bob = IrcClient(self.irc.port, "ircbob")
        self.irc_users.append(self.bob)
        await self.bob.connect()
        self.bob.privmsg("lobbybot", "hello group")
        text = await self.bob.wait_privmsg(
            "lobbybot", lambda s: s.startswith("Welcome to the group "
                                               + LOBBY),
            "the welcome notice", 60)
        for needed in ("/help", "/leave", "/forgetme", "archive"):
            if needed not in text:
                raise Fail("the welcome does not mention %s: %s"
                           % (needed, text))
        a = self.x["alice"]
        p = await a.wait(presence_from(LOBBY + "/ircbob"),
                         "ircbob's presence")
        await a.wait(groupchat(LOBBY, "ircbob", "hello group"),
                     "ircbob's line in the room")
        self.bob_presence_to_alice = p

    async def privacy(self):
        it = item(self.bob_presence_to_alice)
        if it is None or it.get("jid"):
            raise Fail("alice (no moderator) sees a jid: %s"
                       % show(self.bob_presence_to_alice))
        adm = self.x["admin"]
        p = await adm.wait(presence_from(LOBBY + "/ircbob"),
                           "ircbob's presence (admin)")
        jid = item(p).get("jid") if item(p) is not None else None
        if jid != "ircbob@lobby-irc.legacy." + COMPONENT:
            raise Fail("the moderator sees jid %r" % jid)
        for n, el in self.x["alice"].log:
            if "legacy." + COMPONENT in show(el):
                raise Fail("alice was shown a legacy JID: %s" % show(el))

    async def room_to_member(self):
        self.x["alice"].send("<message to='%s' type='groupchat'>"
                             "<body>hi from xmpp</body></message>" % LOBBY)
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s == "<alice> hi from xmpp",
                                    "alice's line")
        echoed = [s for s in self.bob.privmsgs("lobbybot")
                  if "hello group" in s]
        if echoed:
            raise Fail("ircbob got his own line back: %r" % echoed)

    async def action(self):
        self.x["alice"].send("<message to='%s' type='groupchat'>"
                             "<body>/me waves</body></message>" % LOBBY)
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s == "* alice waves",
                                    "the action")

    async def literal(self):
        self.x["alice"].send("<message to='%s' type='groupchat'><body>"
                             "&lt;b&gt;bold&lt;/b&gt; &amp; co</body>"
                             "</message>" % LOBBY)
        await self.bob.wait_privmsg(
            "lobbybot", lambda s: s == "<alice> <b>bold</b> & co",
            "the line with markup characters, literally")

    async def long_message(self):
        words = ["word%03d" % i for i in range(200)]   # ~1600 bytes
        text = " ".join(words)
        self.x["alice"].send("<message to='%s' type='groupchat'><body>%s"
                             "</body></message>" % (LOBBY, text))
        first = await self.bob.wait_privmsg(
            "lobbybot", lambda s: s.startswith("<alice> word000"),
            "the first piece")
        pieces = [first]
        while "word199" not in pieces[-1]:
            pieces.append(await self.bob.wait_privmsg(
                "lobbybot", lambda s: s.startswith("word") or
                s.startswith(" word"), "the next piece"))
        got = " ".join(pieces)[len("<alice> "):].split()
        if got != words or len(pieces) < 2:
            raise Fail("%d pieces; words differ: %r"
                       % (len(pieces), got[:5]))

    async def who(self):
        self.bob.privmsg("lobbybot", "/who")
        text = await self.bob.wait_privmsg(
            "lobbybot", lambda s: s.startswith("In the group"), "/who")
        for nick in ("alice", "admin", "ircbob"):
            if nick not in text:
                raise Fail("/who lacks %s: %s" % (nick, text))

    async def nick(self):
        self.bob.privmsg("lobbybot", "/nick bobby")
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s == "You are now bobby.",
                                    "/nick's answer")
        a = self.x["alice"]
        gone = await a.wait(presence_from(LOBBY + "/ircbob", "unavailable"),
                            "the 303 presence")
        if 303 not in codes(gone) or item(gone).get("nick") != "bobby":
            raise Fail("not a 303 to bobby: %s" % show(gone))
        await a.wait(presence_from(LOBBY + "/bobby"), "bobby's presence")

    async def say_and_wait(self, room, text, who="alice"):
        c = self.x[who]
        c.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (room, text))
        await c.wait(groupchat(room, who, text), "the reflection of " + text)

    async def mute(self):
        self.bob.privmsg("lobbybot", "/mute")
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s.startswith("Muted"), "/mute")
        await self.say_and_wait(LOBBY, "while muted")
        self.bob.privmsg("lobbybot", "/unmute")
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s.startswith("Unmuted"),
                                    "/unmute")
        await self.say_and_wait(LOBBY, "after unmute")
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s == "<alice> after unmute",
                                    "the line after /unmute")
        if any("while muted" in s for s in self.bob.privmsgs("lobbybot")):
            raise Fail("a line said while muted was delivered")

    async def offline_leaves(self):
        await self.bob.quit()  # returns once the server has the QUIT
        mark = self.ig.log_mark()
        await self.say_and_wait(LOBBY, "zero")
        await self.loop.run_in_executor(None, self.ig.wait_log,
                                        r"a delivery failed", ISON_WAIT, mark)
        await self.x["alice"].wait(
            presence_from(LOBBY + "/bobby", "unavailable"),
            "bobby leaving after the quit", ISON_WAIT)

    async def offline_returns(self):
        for text in ("one", "two", "three"):
            await self.say_and_wait(LOBBY, text)
        self.bob = IrcClient(self.irc.port, "ircbob")
        self.irc_users.append(self.bob)
        await self.bob.connect()
        got = []
        for text in ("zero", "one", "two", "three"):
            got.append(await self.bob.wait_privmsg(
                "lobbybot", lambda s: s.startswith("<alice> "),
                "a missed line", ISON_WAIT))
        await self.x["alice"].wait(presence_from(LOBBY + "/bobby"),
                                   "bobby back in the room")
        # a barrier: a copy of an earlier line would come before this one
        await self.say_and_wait(LOBBY, "four")
        await self.bob.wait_privmsg("lobbybot", lambda s: s == "<alice> four",
                                    "the line after them", ISON_WAIT)
        lines = [s for s in self.bob.privmsgs("lobbybot")
                 if s.startswith("<alice> ")]
        want = ["<alice> zero", "<alice> one", "<alice> two",
                "<alice> three"]
        if got != want or lines != want + ["<alice> four"]:
            raise Fail("got %r, in all %r" % (got, lines))

    async def leave(self):
        self.bob.privmsg("lobbybot", "/leave")
        await self.bob.wait_privmsg("lobbybot",
                                    lambda s: s.startswith("You have left"),
                                    "/leave's answer")
        await self.x["alice"].wait(
            presence_from(LOBBY + "/bobby", "unavailable"), "bobby leaving")
        await self.say_and_wait(LOBBY, "after leave")
        self.bob.privmsg("lobbybot", "back again")
        await self.bob.wait_privmsg(
            "lobbybot", lambda s: s.startswith("Welcome to the group"),
            "a new welcome")
        await self.x["alice"].wait(groupchat(LOBBY, "ircbob", "back again"),
                                   "the rejoined member's line")
        if any("after leave" in s for s in self.bob.privmsgs("lobbybot")):
            raise Fail("a line said after /leave was delivered")

    async def chat_occupant(self):
        await self.x["alice"].wait(presence_from(CHAN + "/ircdave"),
                                   "ircdave as an occupant of chan", 30)
        bots = [el for n, el in self.x["alice"].log
                if kind(el) == "presence" and
                el.get("from", "").lower() == CHAN + "/chanbot"]
        if bots:
            raise Fail("the bot itself is an occupant: %s" % show(bots[0]))

    async def chat_in(self):
        self.dave.privmsg("#chan", "hello chan")
        await self.x["alice"].wait(groupchat(CHAN, "ircdave", "hello chan"),
                                   "dave's channel line")

    async def chat_out(self):
        await self.say_and_wait(CHAN, "hi dave")
        await self.dave.wait_privmsg("chanbot",
                                     lambda s: s == "<alice> hi dave",
                                     "alice's line in #chan", to="#chan")
        echo = [s for s in self.dave.privmsgs("chanbot") if "hello chan" in s]
        if echo:
            raise Fail("dave's line was echoed into #chan: %r" % echo)

    async def chat_topic_in(self):
        self.dave.send("TOPIC #chan :topic from irc")
        await self.x["alice"].wait(subject_is(CHAN, "topic from irc"),
                                   "the subject from the topic")

    async def chat_topic_out(self):
        adm = self.x["admin"]
        adm.send("<message to='%s' type='groupchat'><subject>topic from "
                 "xmpp</subject></message>" % CHAN)
        await self.dave.wait(
            lambda m: m[1] == "TOPIC" and m[2][-1] == "topic from xmpp",
            "the TOPIC from the room's subject")

    async def chat_nick(self):
        self.dave.send("NICK davey")
        a = self.x["alice"]
        gone = await a.wait(presence_from(CHAN + "/ircdave", "unavailable"),
                            "the 303 presence")
        if 303 not in codes(gone) or item(gone).get("nick") != "davey":
            raise Fail("not a 303 to davey: %s" % show(gone))
        await a.wait(presence_from(CHAN + "/davey"), "davey's presence")

    async def chat_part(self):
        self.dave.send("PART #chan :done")
        await self.x["alice"].wait(
            presence_from(CHAN + "/davey", "unavailable"), "davey leaving")

    async def chat_server_restart(self):
        mark = self.ig.log_mark()
        run = self.loop.run_in_executor
        await run(None, self.irc.stop)
        await run(None, self.ig.wait_log, r"account chan-irc is offline", 30,
                  mark)
        await run(None, self.irc.start)
        await run(None, self.ig.wait_log, r"account chan-irc is online", 90,
                  mark)
        self.dave = IrcClient(self.irc.port, "ircdave")
        self.irc_users.append(self.dave)
        await self.dave.connect()
        self.dave.send("JOIN #chan")
        await self.dave.wait(lambda m: m[1] == "JOIN" and m[0] == "chanbot"
                             or (m[1] == "353" and "chanbot" in m[2][-1]),
                             "the bot in #chan again", 90)
        await self.x["alice"].wait(presence_from(CHAN + "/ircdave"),
                                   "ircdave an occupant again", 30)
        self.dave.privmsg("#chan", "after the restart")
        await self.x["alice"].wait(
            groupchat(CHAN, "ircdave", "after the restart"),
            "dave's line after the restart")
        await self.say_and_wait(CHAN, "welcome back")
        await self.dave.wait_privmsg("chanbot",
                                     lambda s: s == "<alice> welcome back",
                                     "alice's line after the restart",
                                     to="#chan")


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
