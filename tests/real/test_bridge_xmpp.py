"""Another XMPP server as a legacy network: the group's bot is an account
on a second private Prosody virtual host (other.localhost, standing in for
Google Talk as it did for groups.im), run by libpurple's own XMPP plugin in
imgroups' worker. dave@other.localhost adds the bot, talks to it and is
heard in the group; the group reaches him as chat messages from the bot;
his presence (available, away, busy, offline) is mirrored in the room; no
XMPP JID of the group's side ever reaches him. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_xmpp.py /path/to/imgroups /path/to/imgroups-purple
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import (  # noqa: E402
        Fail, body, kind, occupant_said, occupant_show, presence_from, show)
except ImportError as e:
    sys.stderr.write("test_bridge_xmpp.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
OTHER = "other.localhost"
BOT = "bot@" + OTHER
WATCHDOG = 300


def chat_from_bot(text):
    return lambda el: (kind(el) == "message" and
                       (el.get("from") or "").split("/")[0] == BOT and
                       el.get("type") in ("chat", "normal", None) and
                       body(el) == text)






class Run(BridgeRun):
    SLUG = "bridge-xmpp"
    NAMES = [
        "prosody starts with a second host", "imgroups starts, bot online",
        "alice logs in and joins", "dave logs in on the other host",
        "dave's first message: welcome, occupant, said in the room",
        "the room reaches dave from the bot",
        "dave away -> occupant away", "dave busy -> occupant dnd",
        "dave offline -> occupant leaves", "dave back -> occupant back",
        "dave never saw an XMPP JID of the group's side",
        "no message body in imgroups' log (worker at debug level)",
        "imgroups stops on SIGTERM with status 0"]

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.check_start(self.NAMES[0], lambda: self.start_prosody(
            ["alice", "bot@" + OTHER, "dave@" + OTHER], [OTHER]))
        self.ig = self.new_imgroups([
            ("other-xmpp", {
                "protocol": "prpl-jabber", "username": BOT + "/imgroups",
                "password": "bot-pw", "group": "lobby", "mode": "contacts",
                "option.connect_server": "127.0.0.1",
                "option.port": str(self.prosody.c2s_port),
                "option.auth_plain_in_clear": "true",
                "pace_burst": "20", "pace_rate": "20"}),
        ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account other-xmpp is online", 60)
        self.check_start(self.NAMES[1], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    async def flows(self):
        if not await self.step(self.NAMES[2], self.alice_joins()):
            raise Abort
        if not await self.step(self.NAMES[3], self.login("dave@" + OTHER)):
            raise Abort
        steps = [self.first_message, self.room_to_dave, self.away,
                 self.busy, self.offline, self.back, self.privacy,
                 self.no_bodies]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[4 + i], fn())

    async def alice_joins(self):
        await self.join_room("alice", LOBBY)

    async def first_message(self):
        d = self.x["dave"]
        # online (chat messages to a bare JID go to available resources),
        # then he adds the bot, as a legacy user would
        d.send("<presence/>")
        d.send("<presence to='%s' type='subscribe'/>" % BOT)
        d.send("<message to='%s' type='chat'><body>hello from the other "
               "side</body></message>" % BOT)
        welcome = await d.wait(
            lambda el: kind(el) == "message" and
            (body(el) or "").startswith("Welcome to the group " + LOBBY),
            "the welcome", 30)
        if (welcome.get("from") or "").split("/")[0] != BOT:
            raise Fail("the welcome came from %s" % welcome.get("from"))
        a = self.x["alice"]
        await a.wait(presence_from(LOBBY + "/dave"), "dave as an occupant",
                     30)
        await a.wait(occupant_said(LOBBY, "dave", "hello from the other side"),
                     "dave's line in the room")

    async def room_to_dave(self):
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>hi dave</body>"
               "</message>" % LOBBY)
        await self.x["dave"].wait(chat_from_bot("<alice> hi dave"),
                                  "alice's line from the bot")

    async def presence_to(self, show_value):
        d = self.x["dave"]
        d.send("<presence><show>%s</show></presence>" % show_value)

    async def away(self):
        await self.presence_to("away")
        await self.x["alice"].wait(occupant_show(LOBBY, "dave", "away"), "dave away", 30)

    async def busy(self):
        await self.presence_to("dnd")
        await self.x["alice"].wait(occupant_show(LOBBY, "dave", "dnd"), "dave busy", 30)

    async def offline(self):
        self.dave_log = list(self.x["dave"].log)
        await self.x["dave"].close()
        del self.x["dave"]
        await self.x["alice"].wait(
            presence_from(LOBBY + "/dave", "unavailable"), "dave leaving", 30)

    async def back(self):
        await self.login("dave@" + OTHER)
        self.x["dave"].send("<presence/>")
        await self.x["alice"].wait(presence_from(LOBBY + "/dave"),
                                   "dave back", 30)

    async def privacy(self):
        seen = []
        for n, el in getattr(self, "dave_log", []) + self.x["dave"].log:
            text = show(el)
            if "alice@localhost" in text or ".legacy." in text:
                seen.append(text)
        if seen:
            raise Fail("dave saw: %s" % seen[0])

    async def no_bodies(self):
        log = self.ig.log_text()
        if "purple: jabber:" not in log:
            raise Fail("the worker's debug lines are not in the log: the "
                       "check would prove nothing")
        for text in ("hello from the other side", "hi dave"):
            if text in log:
                line = next(l for l in log.splitlines() if text in l)
                raise Fail("%r in the log: %s" % (text, line[:300]))


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
