"""One group, three networks, for real: imgroups with an MSN bot and a
Yahoo bot serving the same group (the project's plugins prpl-imgroups-msn
and prpl-imgroups-yahoo in their workers, against the stand-in revival
servers fake_msn.py and fake_ymsg.py: no real one can run here), a private
Prosody for the XMPP side. carol on MSN, yuki on Yahoo and alice in the room
talk: each line reaches the two others, from the bot as `<nick> text` on the
legacy side, from the speaker's occupant in the room. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_mixed.py /path/to/imgroups /path/to/imgroups-purple

IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    import fake_ymsg  # noqa: E402
    from fake_ymsg import FakeYmsg, YmsgClient, get  # noqa: E402
    from tap import Abort  # noqa: E402
    import servers  # noqa: E402
    from xmppclient import Fail, body, kind  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_mixed.py: %s (run it with /usr/bin/python3,"
                     " which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
MSN_BOT, CAROL = "lobbybot@example.com", "carol@example.com"
Y_BOT, YUKI = "lobbybot", "yuki"
WATCHDOG = 300


def line_in_room(text):
    return lambda el: (kind(el) == "message" and el.get("type") == "groupchat"
                       and body(el) == text
                       and el.get("from", "").startswith(LOBBY + "/"))


class Run(BridgeRun):
    SLUG = "bridge-mixed"
    NAMES = [
        "prosody starts", "the stand-in MSN and Yahoo servers start",
        "imgroups starts, both bots online",
        "alice logs in and joins",
        "carol (MSN) adds the bot and is a member of the group",
        "yuki (Yahoo) adds the bot and is a member of the group",
        "carol's line reaches alice and yuki",
        "yuki's line reaches alice and carol",
        "alice's line reaches carol and yuki",
        "nobody gets their own line back",
        "imgroups stops on SIGTERM with status 0"]

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.ymsg = None
        self.carol = None
        self.check_start(self.NAMES[0], lambda: self.start_prosody(["alice"]))
        self.check_start(self.NAMES[1], self.start_fakes)
        f = self.fake.server
        self.ig = self.new_imgroups([
            ("msn", {"protocol": "prpl-imgroups-msn", "username": MSN_BOT,
                     "password": "botpw1", "group": "lobby",
                     "mode": "contacts", "option.server": "127.0.0.1",
                     "option.port": str(f.ns_port),
                     "option.nexus": f.nexus_url()}),
            ("yahoo", {"protocol": "prpl-imgroups-yahoo", "username": Y_BOT,
                       "password": "ybotpw1", "group": "lobby",
                       "mode": "contacts", "option.server": "127.0.0.1",
                       "option.port": str(self.ymsg.port)}),
        ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account msn is online", 60)
            self.ig.wait_log(r"account yahoo is online", 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def start_fakes(self):
        try:
            self.start_fake_msn(((MSN_BOT, "botpw1", "Lobby"),
                                 (CAROL, "carolpw1", "Carol")), seed=3)
            self.ymsg = FakeYmsg({Y_BOT: "ybotpw1", YUKI: "yukipw1"})
            self.ymsg.start()
        except Exception as e:
            raise servers.ServerError(str(e))

    def cleanup(self):
        super().cleanup()
        if self.ymsg:
            self.ymsg.stop()

    async def flows(self):
        if not await self.step(self.NAMES[3], self.xmpp_join()):
            raise Abort
        if not await self.step(self.NAMES[4], self.carol_joins()):
            raise Abort
        if not await self.step(self.NAMES[5], self.yuki_joins()):
            raise Abort
        for i, fn in enumerate([self.from_msn, self.from_yahoo,
                                self.from_xmpp, self.no_echo]):
            await self.step(self.NAMES[6 + i], fn())

    async def xmpp_join(self):
        await self.join_room("alice", LOBBY)

    async def member_nick(self, text):
        """The nick of the occupant that said text in the room."""
        msg = await self.x["alice"].wait(line_in_room(text),
                                         "%r in the room" % text, 30)
        return msg.get("from").split("/", 1)[1]

    async def carol_joins(self):
        self.carol = await self.msn_user(CAROL, "carolpw1")
        await self.carol.add(MSN_BOT)
        await self.carol.wait(
            lambda: self.carol.presence.get(MSN_BOT) == "NLN",
            "the MSN bot's presence")
        await self.carol.say(MSN_BOT, "hello from carol")
        await self.carol.wait(
            lambda: any(t.startswith("Welcome to the group " + LOBBY)
                        for t in self.carol.texts_from(MSN_BOT)),
            "the welcome over MSN")
        self.carol_nick = await self.member_nick("hello from carol")

    async def yuki_joins(self):
        self.yuki = YmsgClient(self.ymsg.port, YUKI, "yukipw1")
        self.irc_users.append(self.yuki)   # quit() at cleanup
        await self.yuki.login()
        self.yuki.add_buddy(Y_BOT, text="hi")
        p = await self.yuki.wait(lambda p: p[0] == fake_ymsg.FRIENDADD,
                                 "FRIENDADD's answer")
        if get(p[2], 66) != "0":
            raise Fail("the server refused the add: %r" % (p,))
        self.yuki.message(Y_BOT, "hello from yuki")
        await self.yuki.wait_message(
            Y_BOT, lambda s: s.startswith("Welcome to the group " + LOBBY),
            "the welcome over YMSG", 30)
        self.yuki_nick = await self.member_nick("hello from yuki")

    async def from_msn(self):
        await self.carol.say(MSN_BOT, "msn says hi")
        await self.member_nick("msn says hi")
        await self.yuki.wait_message(
            Y_BOT, lambda s: s == "<%s> msn says hi" % self.carol_nick,
            "carol's line at yuki", 30)

    async def from_yahoo(self):
        self.yuki.message(Y_BOT, "yahoo says hi")
        await self.member_nick("yahoo says hi")
        want = "<%s> yahoo says hi" % self.yuki_nick
        await self.carol.wait(lambda: want in self.carol.texts_from(MSN_BOT),
                              "yuki's line at carol")

    async def from_xmpp(self):
        await self.alice_says("xmpp says hi")

    async def alice_says(self, text):
        """alice says text in the room; it reaches carol and yuki."""
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>%s</body>"
               "</message>" % (LOBBY, text))
        await a.wait(line_in_room(text), "the reflection")
        await self.carol.wait(
            lambda: "<alice> " + text in self.carol.texts_from(MSN_BOT),
            "alice's line at carol")
        await self.yuki.wait_message(
            Y_BOT, lambda s: s == "<alice> " + text,
            "alice's line at yuki", 30)

    async def no_echo(self):
        # a barrier: each bot delivers in order, so an echo of an earlier
        # line would come before this one
        await self.alice_says("barrier")
        echoes = [t for t in self.carol.texts_from(MSN_BOT)
                  if t.endswith("msn says hi") or t.endswith("hello from carol")]
        echoes += [t for t in self.yuki.messages_from(Y_BOT)
                   if t.endswith("yahoo says hi") or
                   t.endswith("hello from yuki")]
        if echoes:
            raise Fail("echoed back: %r" % echoes)


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
