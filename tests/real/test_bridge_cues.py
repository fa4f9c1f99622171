"""Typing, buzzes and pictures between a legacy network and a group
(issue 13, items 6 and 7), with libpurple's own XMPP plugin as the legacy
network (a second Prosody host, as in test_bridge_xmpp.py): every prpl that
calls serv_got_typing, purple_prpl_got_attention and
purple_buddy_icons_set_for_user is bridged the same way. dave on
other.localhost types to the bot: alice sees XEP-0085 chat states from his
occupant; alice types in the room: dave gets chat states from the bot; dave
buzzes: the room shows one XEP-0224 attention with a line, and a second
within the minute is dropped; dave's vCard picture becomes his occupant's
avatar (XEP-0153 hash, vCard on the occupant JID); the room's avatar
becomes the bot's picture on the other server. The group's side (alice,
imgroups' component) is on Prosody, or on ejabberd with the legacy side
still on Prosody's second host. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_cues.py /path/to/imgroups /path/to/imgroups-purple [prosody|ejabberd]
"""

import base64
import hashlib
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import servers  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    import tap  # noqa: E402  (tests/tap.py, on the path bridgebase made)
    from tap import Abort  # noqa: E402
    from xmppclient import (  # noqa: E402
        Client, Fail, body, kind, occupant_said, show)
except ImportError as e:
    sys.stderr.write("test_bridge_cues.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
OTHER = "other.localhost"
BOT = "bot@" + OTHER
DAVE_OCC = LOBBY + "/dave"
WATCHDOG = 300
NS_CS = "http://jabber.org/protocol/chatstates"
NS_ATT = "urn:xmpp:attention:0"
NS_VCARD = "vcard-temp"
NS_VUPD = "vcard-temp:x:update"
CLIENT = "{jabber:client}"


def png(rgb):
    """A 1x1 PNG of colour rgb (bytes), valid for every PNG reader."""
    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\x00" + rgb)) +
            chunk(b"IEND", b""))


DAVE_PNG = png(b"\x10\x80\xf0")
ROOM_PNG = png(b"\xf0\x20\x20")


def vcard_xml(image):
    return ("<vCard xmlns='%s'><PHOTO><TYPE>image/png</TYPE><BINVAL>%s"
            "</BINVAL></PHOTO></vCard>"
            % (NS_VCARD, base64.b64encode(image).decode()))


def chat_state(el):
    """The XEP-0085 state a message carries, or None."""
    for c in el:
        if c.tag.startswith("{%s}" % NS_CS):
            return c.tag[len(NS_CS) + 2:]
    return None


def state_from(frm, state, typ):
    return lambda el: (kind(el) == "message" and el.get("type") == typ and
                       (el.get("from") or "").split("/")[0] == frm.split(
                           "/")[0] and
                       (frm.count("/") == 0 or el.get("from") == frm) and
                       chat_state(el) == state)


def attention_from(frm):
    return lambda el: (kind(el) == "message" and el.get("from") == frm and
                       el.find("{%s}attention" % NS_ATT) is not None)


def photo_of(el):
    x = el.find("{%s}x" % NS_VUPD)
    return None if x is None else (x.findtext("{%s}photo" % NS_VUPD) or "")


def photo_from(frm, sha1):
    return lambda el: (kind(el) == "presence" and
                       (el.get("from") or "").split("/")[0] == frm.split(
                           "/")[0] and
                       (frm.count("/") == 0 or el.get("from") == frm) and
                       photo_of(el) == sha1)


def binval(res):
    v = res.xml.find("{%s}vCard" % NS_VCARD)
    p = None if v is None else v.find("{%s}PHOTO" % NS_VCARD)
    if p is None:
        raise Fail("no PHOTO in %s" % show(res.xml))
    return (p.findtext("{%s}TYPE" % NS_VCARD),
            base64.b64decode("".join((p.findtext("{%s}BINVAL" % NS_VCARD)
                                      or "").split())))


class Run(BridgeRun):
    SLUG = "bridge-cues"
    NAMES = [
        "the servers start (the legacy host on Prosody)",
        "imgroups starts, bot online",
        "alice joins, dave becomes a member and an occupant",
        "dave types to the bot: alice sees composing, then paused, from his "
        "occupant, without a body",
        "alice types in the room: dave gets composing from the bot, then "
        "active with her line",
        "dave buzzes: the room shows an attention and '* dave buzzed the "
        "group'",
        "a second buzz within the minute is dropped",
        "the buzz and the chat states are not archived (MAM)",
        "dave's vCard picture: his occupant's presence carries its SHA-1",
        "the occupant's vCard (room/nick) gives the picture",
        "the room's avatar becomes the bot's picture on the other server",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, binary, worker, host):
        super().__init__(binary, worker)
        self.host = host  # what serves alice and imgroups' component
        self.ejabberd = None

    def start_servers(self):
        self.start_prosody(["alice", "bot@" + OTHER, "dave@" + OTHER],
                           [OTHER])
        if self.host == "ejabberd":
            self.ejabberd = servers.Ejabberd(self.tmp, COMPONENT, self.secret)
            self.ejabberd.start()
            self.ejabberd.register("alice", "alice-pw")
            # imgroups (new_imgroups) links to the host's component port
            self.prosody.component_port = self.ejabberd.component_port

    async def login(self, *users):
        for u in users:
            user, _, host = u.partition("@")
            server = (self.ejabberd if self.ejabberd and not host
                      else self.prosody)
            self.x[user] = Client(self.loop, server.c2s_port, user,
                                  host or "localhost")
            await self.x[user].login()

    def cleanup(self):
        super().cleanup()
        if self.ejabberd:
            self.ejabberd.stop()

    def main(self):
        self.tap.diag("temp dir %s, the group on %s" % (self.tmp, self.host))
        self.check_start(self.NAMES[0], self.start_servers)
        self.ig = self.new_imgroups([
            ("other-xmpp", {
                "protocol": "prpl-jabber", "username": BOT + "/imgroups",
                "password": "bot-pw", "group": "lobby", "mode": "contacts",
                "option.connect_server": "127.0.0.1",
                "option.port": str(self.prosody.c2s_port),
                "option.auth_plain_in_clear": "true",
                "pace_burst": "20", "pace_rate": "20"}),
        ], admins=["alice@localhost"])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account other-xmpp is online", 60)
        self.check_start(self.NAMES[1], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    async def flows(self):
        if not await self.step(self.NAMES[2], self.member()):
            raise Abort
        steps = [self.legacy_types, self.room_types, self.buzz,
                 self.second_buzz, self.not_archived, self.dave_picture,
                 self.occupant_vcard, self.room_avatar]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[3 + i], fn())

    async def member(self):
        await self.join_room("alice", LOBBY)
        await self.login("dave@" + OTHER)
        d = self.x["dave"]
        d.send("<presence/>")
        d.send("<presence to='%s' type='subscribe'/>" % BOT)
        # XEP-0085 §5.1: a client that sends chat states says so with its
        # first message; the XMPP plugin then sends them back.
        d.send("<message to='%s' type='chat'><body>hello</body><active "
               "xmlns='%s'/></message>" % (BOT, NS_CS))
        await d.wait(lambda el: kind(el) == "message" and
                     (body(el) or "").startswith("Welcome to the group"),
                     "the welcome", 30)
        await self.x["alice"].wait(occupant_said(LOBBY, "dave", "hello"),
                                   "dave's line in the room", 30)

    async def legacy_types(self):
        a = self.x["alice"]
        d = self.x["dave"]
        for state in ("composing", "paused"):
            d.send("<message to='%s' type='chat'><%s xmlns='%s'/></message>"
                   % (BOT, state, NS_CS))
            el = await a.wait(state_from(DAVE_OCC, state, "groupchat"),
                              "%s from dave's occupant" % state, 30)
            if body(el) is not None:
                raise Fail("a chat state with a body: %s" % show(el))

    async def room_types(self):
        a = self.x["alice"]
        d = self.x["dave"]
        a.send("<message to='%s' type='groupchat'><composing xmlns='%s'/>"
               "</message>" % (LOBBY, NS_CS))
        await d.wait(state_from(BOT, "composing", "chat"),
                     "composing from the bot", 30)
        a.send("<message to='%s' type='groupchat'><body>typed it</body>"
               "<active xmlns='%s'/></message>" % (LOBBY, NS_CS))
        await d.wait(lambda el: kind(el) == "message" and
                     body(el) == "<alice> typed it", "alice's line", 30)
        # paced: at most one update per 5 s, so this may come a little later
        await d.wait(state_from(BOT, "active", "chat"),
                     "active from the bot", 30)

    async def buzz(self):
        a = self.x["alice"]
        self.x["dave"].send("<message to='%s' type='headline'><attention "
                            "xmlns='%s'/></message>" % (BOT, NS_ATT))
        el = await a.wait(attention_from(DAVE_OCC), "dave's attention", 30)
        if body(el) != "* dave buzzed the group":
            raise Fail("the attention's body: %r" % body(el))
        self.first_buzz = el

    async def second_buzz(self):
        a = self.x["alice"]
        d = self.x["dave"]
        d.send("<message to='%s' type='headline'><attention xmlns='%s'/>"
               "</message>" % (BOT, NS_ATT))
        # the line behind it proves the buzz before it was handled
        d.send("<message to='%s' type='chat'><body>after the buzz</body>"
               "<active xmlns='%s'/></message>" % (BOT, NS_CS))
        await a.wait(occupant_said(LOBBY, "dave", "after the buzz"),
                     "the line after the second buzz", 30)
        extra = a.take_all(attention_from(DAVE_OCC))
        if extra:
            raise Fail("a second attention reached the room: %s"
                       % show(extra[0][1]))
        # libpurple words each buzz as a system IM ("dave has buzzed
        # you!"): not something dave said
        said = [body(el) for n, el in a.log
                if kind(el) == "message" and el.get("from") == DAVE_OCC and
                body(el) is not None]
        if said != ["hello", "* dave buzzed the group", "after the buzz"]:
            raise Fail("dave's occupant said: %r" % said)

    async def not_archived(self):
        # the results come before the iq's answer
        await self.iq("set", LOBBY,
                      "<query xmlns='urn:xmpp:mam:2' queryid='q1'/>")
        results = [show(el) for n, el in self.x["alice"].log
                   if (el.find("{urn:xmpp:mam:2}result") is not None and
                       el.find("{urn:xmpp:mam:2}result").get("queryid") ==
                       "q1")]
        if not any("after the buzz" in t for t in results):
            raise Fail("dave's lines are not in MAM: the check proves "
                       "nothing (%d results)" % len(results))
        bad = [t for t in results if "buzzed the group" in t or NS_CS in t]
        if bad:
            raise Fail("archived: %s" % bad[0])

    async def dave_picture(self):
        d = self.x["dave"]
        await self.iq("set", None, vcard_xml(DAVE_PNG), user="dave")
        self.dave_sha1 = hashlib.sha1(DAVE_PNG).hexdigest()
        d.send("<presence><x xmlns='%s'><photo>%s</photo></x></presence>"
               % (NS_VUPD, self.dave_sha1))
        await self.x["alice"].wait(photo_from(DAVE_OCC, self.dave_sha1),
                                   "dave's occupant with his picture's hash",
                                   60)

    async def occupant_vcard(self):
        res = await self.iq("get", DAVE_OCC, "<vCard xmlns='%s'/>" % NS_VCARD)
        typ, data = binval(res)
        if data != DAVE_PNG or typ != "image/png":
            raise Fail("the occupant's PHOTO: %s, %d bytes" % (typ, len(data)))

    async def room_avatar(self):
        await self.iq("set", LOBBY, vcard_xml(ROOM_PNG))
        sha1 = hashlib.sha1(ROOM_PNG).hexdigest()
        # the XMPP plugin publishes the bot's vCard, then its presence
        # with the new hash
        await self.x["dave"].wait(photo_from(BOT, sha1),
                                  "the bot's presence with the room's "
                                  "avatar hash", 60)
        res = await self.iq("get", BOT, "<vCard xmlns='%s'/>" % NS_VCARD,
                            user="dave")
        typ, data = binval(res)
        if data != ROOM_PNG:
            raise Fail("the bot's PHOTO: %s, %d bytes" % (typ, len(data)))


if __name__ == "__main__":
    tap.usage(sys.argv, "/path/to/imgroups /path/to/imgroups-purple "
              "[prosody|ejabberd]",
              lambda a: len(a) == 2 or (len(a) == 3 and
                                        a[2] in ("prosody", "ejabberd")))
    sys.exit(tap.run(lambda: Run(sys.argv[1], sys.argv[2],
                                 (sys.argv[3:] or ["prosody"])[0]),
                     WATCHDOG))
