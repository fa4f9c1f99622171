"""Typing, nudges and display pictures on MSN, for real: imgroups with its
libpurple worker running the project's MSN plugin (prpl-imgroups-msn) in
contacts mode against fake_msn.py, the stand-in for a revival server (no
real one can run here), a private Prosody or ejabberd, and small MSNP12
clients (fake_msn.MsnClient) playing carol and dora. Prints TAP.

    /usr/bin/python3 tests/real/test_msn_contacts.py /path/to/imgroups \
        /path/to/imgroups-purple [prosody|ejabberd]

The group's side (alice, the admin, imgroups' component) is on Prosody (the
default) or on ejabberd.

carol, a member, types: alice sees `composing` from her occupant, then
`active` once she stops; alice's `composing` reaches carol as MSN typing;
carol's nudge is XEP-0224 attention from her occupant (with a `* nick
buzzed the group` body), a second within a minute is dropped. carol sets a
picture: its MSN object reaches the bot in NLN, the
plugin fetches it over their switchboard with MSNSLP (P2P), checks its
SHA1D, and alice sees it as carol's occupant's avatar (the XEP-0153 hash in
her presence, the vCard on the occupant JID); carol going away and back
with the same object fetches nothing again; the room's avatar, set by the
admin, becomes the bot's picture (an MSN object in its CHG) which carol
fetches from the bot (asking again at once gets 603); dora's picture
over 256 KiB is not fetched.
IMGROUPS_KEEP_TMP=1 keeps the temp dir (fake_msn's traffic is in
msn-trace.log there).
"""

import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail, body, kind, show  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_msn_contacts.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
BOT = "lobbybot@example.com"
CAROL = "carol@example.com"
DORA = "dora@example.com"
NS_STATES = "http://jabber.org/protocol/chatstates"
NS_ATTENTION = "urn:xmpp:attention:0"
NS_VCARD = "vcard-temp"
NS_UPDATE = "vcard-temp:x:update"
# carol's picture: three P2P messages' worth (1202 bytes each)
CAROL_PIC = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 12
ROOM_PIC = bytes(reversed(range(256))) * 5
WATCHDOG = 240


def photo_of(el):
    """The vcard-temp:x:update <photo/> text of a presence, or None."""
    x = el.find("{%s}x" % NS_UPDATE)
    p = None if x is None else x.find("{%s}photo" % NS_UPDATE)
    return None if p is None else (p.text or "")


class Run(BridgeRun):
    SLUG = "msn-contacts"
    NAMES = [
        "the XMPP server starts", "the stand-in MSN server starts",
        "imgroups starts, the MSN bot logs in",
        "alice and the admin join; carol's first line makes her a member",
        "carol types: composing from her occupant, active once she stops",
        "alice's composing reaches carol as MSN typing",
        "carol's nudge is attention from her occupant; a second within a "
        "minute is dropped",
        "carol's picture is fetched over MSNSLP: her occupant's presence has "
        "its hash",
        "the occupant's vCard holds carol's picture",
        "carol away and back with the same MSN object: nothing fetched again",
        "the room's avatar is the bot's picture: carol fetches it from the "
        "bot; asking again at once is declined (603)",
        "dora's picture over 256 KiB is not fetched",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, binary, worker, host):
        super().__init__(binary, worker)
        self.host = host

    def main(self):
        self.tap.diag("temp dir %s, the group on %s" % (self.tmp, self.host))
        self.check_start(self.NAMES[0], lambda: self.start_xmpp(
            self.host, ["alice", "admin"]))
        self.check_start(self.NAMES[1], self.start_fake)
        f = self.fake.server
        self.ig = self.new_imgroups([("msn", {
            "protocol": "prpl-imgroups-msn", "option.server": "127.0.0.1",
            "option.port": str(f.ns_port), "option.nexus": f.nexus_url(),
            "username": BOT, "password": "botpw1", "group": "lobby",
            "mode": "contacts", "pace_burst": "50", "pace_rate": "50"})])

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
                             (CAROL, "carolpw1", "Carol"),
                             (DORA, "dorapw1", "Dora")))
        for who in (CAROL, DORA):
            self.fake.call(self.fake.server.add_contacts, BOT, who)

    async def flows(self):
        if not await self.step(self.NAMES[3], self.member()):
            raise Abort
        for i, fn in enumerate([self.typing_in, self.typing_out, self.nudge,
                                self.carol_picture, self.vcard, self.again,
                                self.room_avatar, self.too_big]):
            await self.step(self.NAMES[4 + i], fn())

    async def wait_log(self, regex, timeout, since=0):
        return await self.loop.run_in_executor(
            None, lambda: self.ig.wait_log(regex, timeout, since))

    async def member(self):
        await self.join_room("alice", LOBBY)
        await self.join_room("admin", LOBBY)
        self.carol = await self.msn_user(CAROL, "carolpw1")
        await self.carol.say(BOT, "hello")
        msg = await self.x["alice"].wait(
            lambda el: (kind(el) == "message" and body(el) == "hello"
                        and el.get("from", "").startswith(LOBBY + "/")),
            "carol's line in the room", 30)
        self.nick = msg.get("from").split("/", 1)[1]

    def from_carol(self, child):
        """A message from carol's occupant with a child element (Clark
        notation)."""
        return lambda el: (kind(el) == "message"
                           and el.get("from") == LOBBY + "/" + self.nick
                           and el.find(child) is not None)

    async def typing_in(self):
        a = self.x["alice"]
        self.carol.type_to(BOT)
        await a.wait(self.from_carol("{%s}composing" % NS_STATES),
                     "composing from carol's occupant", 15)
        # the plugin ends it TYPING_SECONDS (6) after the last notification
        await a.wait(self.from_carol("{%s}active" % NS_STATES),
                     "active from carol's occupant", 15)

    async def typing_out(self):
        c = self.carol
        before = c.typing.count(BOT)
        self.x["alice"].send("<message to='%s' type='groupchat'><composing "
                             "xmlns='%s'/></message>" % (LOBBY, NS_STATES))
        await c.wait(lambda: c.typing.count(BOT) > before,
                     "the bot's typing at carol", 30)

    async def nudge(self):
        a = self.x["alice"]
        self.carol.nudge(BOT)
        el = await a.wait(self.from_carol("{%s}attention" % NS_ATTENTION),
                          "attention from carol's occupant", 15)
        if body(el) != "* %s buzzed the group" % self.nick:
            raise Fail("the attention's body: %r" % body(el))
        mark = self.ig.log_mark()
        self.carol.nudge(BOT)
        await self.wait_log(r"a second buzz within a minute dropped", 15,
                            mark)

    async def carol_picture(self):
        want = hashlib.sha1(CAROL_PIC).hexdigest()
        self.carol.set_picture(CAROL_PIC)
        await self.x["alice"].wait(
            lambda el: (kind(el) == "presence"
                        and el.get("from") == LOBBY + "/" + self.nick
                        and photo_of(el) == want),
            "carol's presence with her picture's hash", 30)

    async def vcard(self):
        res = await self.iq("get", LOBBY + "/" + self.nick,
                            "<vCard xmlns='%s'/>" % NS_VCARD)
        v = res.xml.find("{%s}vCard" % NS_VCARD)
        b64 = "" if v is None else v.findtext(
            "{%s}PHOTO/{%s}BINVAL" % (NS_VCARD, NS_VCARD)) or ""
        if base64.b64decode("".join(b64.split())) != CAROL_PIC:
            raise Fail("not carol's picture: %s" % show(res.xml)[:300])

    async def again(self):
        mark = self.ig.log_mark()
        self.carol.set_status("AWY")
        await self.wait_log(r"presence of %s: away" % CAROL, 30, mark)
        self.carol.set_status("NLN")
        await self.wait_log(r"presence of %s: available" % CAROL, 30, mark)
        if "fetching the picture of %s" % CAROL in self.ig.log_text(mark):
            raise Fail("the same picture was fetched again")

    async def room_avatar(self):
        c = self.carol
        await self.iq("set", LOBBY,
                      "<vCard xmlns='%s'><PHOTO><TYPE>image/png</TYPE>"
                      "<BINVAL>%s</BINVAL></PHOTO></vCard>"
                      % (NS_VCARD, base64.b64encode(ROOM_PIC).decode()),
                      user="admin")
        await c.wait(lambda: "SHA1D" in c.msnobjs.get(BOT, ""),
                     "the bot's MSN object", 30)
        got = await c.fetch_picture(BOT)
        if got != ROOM_PIC:
            raise Fail("the bot served %d other bytes" % len(got))
        # at once again: the bot serves one peer once a minute
        c.ask_picture(BOT)
        await c.wait(lambda: BOT in c.declines, "the bot's 603", 15)

    async def too_big(self):
        mark = self.ig.log_mark()
        self.dora = await self.msn_user(DORA, "dorapw1")
        self.dora.set_picture(b"x" * (300 * 1024))
        await self.wait_log(r"the picture of %s is 307200 bytes: not fetched"
                            % DORA, 30, mark)


if __name__ == "__main__":
    sys.exit(bridgebase.main_on_host(sys.argv, Run, WATCHDOG))
