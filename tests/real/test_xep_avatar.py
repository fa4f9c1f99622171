"""Room avatars (vcard-temp on the room JID, XEP-0054 / XEP-0153, as
Prosody's mod_vcard_muc; XEP-0486's muc#roominfo_avatarhash) through a real
XMPP server, each behaviour checked first against the server's own MUC on
conference.localhost (the reference, so that the check itself is proven),
then against imgroups, with the same assertions: the room's vcard-temp
feature, the owner's set, a participant's set refused (<forbidden/>), the
vCard got back by anyone with the same image, the hash in presence from the
room to its occupants (and the status 104 message), in the room's
disco#info, and in presence to a newcomer. Then imgroups alone: the avatar
after a restart, an image over [limits] avatar_size (<policy-violation/>),
a BINVAL that is not base64 (<bad-request/>), an empty vCard removing it
(empty <photo/> to occupants, item-not-found, no hash in disco#info), and a
destroyed room taking its avatar with it. Prints TAP.

    /usr/bin/python3 tests/real/test_xep_avatar.py prosody|ejabberd /path/to/imgroups

Where the reference's rooms take no vCard (its disco#info has no
vcard-temp), its checks are reported as skipped; ejabberd's has no hash in
its muc#roominfo (EJABBERD_DISCO): that check of the reference is a TAP
TODO, run and shown.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import base64
import hashlib
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, data_form, IqError, codes, join_answer, kind, ptype, show,
        stanza_error)
except ImportError:
    sys.stderr.write("test_xep_avatar.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
REFERENCE = "conference.localhost"
USERS = ("alice", "bob", "carol")
NS_MUC = "http://jabber.org/protocol/muc"
NS_OWNER = NS_MUC + "#owner"
NS_ROOMINFO = NS_MUC + "#roominfo"
NS_XDATA = "jabber:x:data"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_VCARD = "vcard-temp"
NS_UPDATE = "vcard-temp:x:update"
HASH_FIELDS = ("muc#roominfo_avatarhash",
               "{http://modules.prosody.im/mod_vcard_muc}avatar#sha1")
IMAGE = bytes(range(256)) * 3          # what the owner sets
SHA1 = hashlib.sha1(IMAGE).hexdigest()
AVATAR_SIZE = 49152                     # imgroups' [limits] avatar_size
# ejabberd's MUC keeps a room's vCard and puts its hash in presence, but not
# in the room's muc#roominfo form.
EJABBERD_DISCO = "ejabberd's MUC puts no avatar hash in muc#roominfo"
WAIT = 10        # seconds for any one expected stanza or answer
WATCHDOG = 240   # seconds for the whole run, whatever hangs

# Checked on both, in order: (what, method name).
BOTH = [
    ("the room's disco#info lists vcard-temp", "feature"),
    ("bob (a participant) setting the vCard gets <forbidden/>",
     "refused_set"),
    ("alice (the owner) sets a PHOTO (image/png, %d bytes); bob, in the "
     "room, gets presence from the room with its SHA-1 in "
     "vcard-temp:x:update, and status 104" % len(IMAGE), "set"),
    ("carol (not in the room) gets the vCard: the same TYPE and image",
     "get_back"),
    ("the room's disco#info has the hash in its muc#roominfo form", "disco"),
    ("carol joining gets presence from the room with the hash", "newcomer"),
]
ONLY_OURS = [
    "imgroups: restarted on the same storage, the vCard and the hash in "
    "disco#info are the same",
    "imgroups: a BINVAL over [limits] avatar_size gets <policy-violation/>; "
    "one that is not base64 gets <bad-request/>; the avatar is unchanged",
    "imgroups: an empty vCard removes it: occupants get an empty <photo/>, "
    "the get <item-not-found/>, disco#info no hash",
    "imgroups: a destroyed room takes its avatar (created again: "
    "<item-not-found/>)",
]


def vcard(binval=None, typ="image/png"):
    if binval is None:
        return "<vCard xmlns='%s'/>" % NS_VCARD
    return ("<vCard xmlns='%s'><PHOTO><TYPE>%s</TYPE><BINVAL>%s</BINVAL>"
            "</PHOTO></vCard>" % (NS_VCARD, typ, binval))


def wrapped(data):
    """Base64 wrapped at 76 columns, as clients send a BINVAL."""
    b = base64.b64encode(data).decode()
    return "\n".join(b[i:i + 76] for i in range(0, len(b), 76))


def photo_of(el):
    """The text of a presence's vcard-temp:x:update <photo/> ('' when
    empty), or None when it has none."""
    for x in el:
        if x.tag == "{%s}x" % NS_UPDATE:
            p = x.find("{%s}photo" % NS_UPDATE)
            return None if p is None else (p.text or "")
    return None


def room_presence(room, want):
    return lambda el: (kind(el) == "presence" and el.get("from") == room
                       and photo_of(el) == want)


def iq_condition(e):
    """The defined condition of an iq error, read from the XML (slixmpp
    knows no <policy-violation/>)."""
    return stanza_error(e.iq.xml) if isinstance(e, IqError) else None


class Run(ClientRun):
    NAMES = (["server starts", "users registered", "imgroups connects",
              "clients log in", "the rooms are made"]
             + ["%s: %s" % (who, what) for what, _ in BOTH
                for who in ("reference", "imgroups")]
             + ONLY_OURS + ["imgroups stops on SIGTERM with status 0"])
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "xep-avatar")
        self.skip = set()   # rooms whose service takes no room vCard

    def main(self):
        self.tap.diag("%s, temp dir %s" % (self.kind, self.tmp))
        self.run_attached(COMPONENT, USERS, self.flows, WATCHDOG)

    # --- helpers -----------------------------------------------------------
    async def join(self, cl, room, nick):
        cl.send("<presence to='%s/%s'><x xmlns='%s'/></presence>"
                % (room, nick, NS_MUC))
        pres = await cl.wait(join_answer(room, nick),
                             "the answer to joining %s as %s" % (room, nick))
        if ptype(pres) != "available":
            raise Fail("joining %s: %s" % (room, show(pres)))

    async def create(self, room):
        """alice creates room and submits its form (the reference locks a
        new room until she does); bob joins."""
        a = self.clients["alice"]
        await self.join(a, room, "alice")
        await a.iq("set", room, "<query xmlns='%s'>%s</query>"
                   % (NS_OWNER, data_form({"muc#roomconfig_persistentroom": "1"})))
        await self.join(self.clients["bob"], room, "bob")

    async def refused(self, coro, want):
        try:
            await coro
        except IqError as e:
            if iq_condition(e) != want:
                raise Fail("want <%s/>, got <%s/>: %s"
                           % (want, iq_condition(e), e.iq))
            return
        raise Fail("want <%s/>, got a result" % want)

    async def get(self, cl, room):
        """(TYPE, decoded image) of the room's vCard."""
        res = await cl.iq("get", room, vcard())
        v = res.xml.find("{%s}vCard" % NS_VCARD)
        photo = None if v is None else v.find("{%s}PHOTO" % NS_VCARD)
        if photo is None:
            raise Fail("no PHOTO: %s" % show(res.xml))
        b64 = photo.findtext("{%s}BINVAL" % NS_VCARD) or ""
        return (photo.findtext("{%s}TYPE" % NS_VCARD),
                base64.b64decode("".join(b64.split())))

    async def disco_hashes(self, room):
        """The avatar hash fields of the room's muc#roominfo form."""
        res = await self.clients["carol"].iq(
            "get", room, "<query xmlns='%s'/>" % NS_INFO)
        q = res.xml.find("{%s}query" % NS_INFO)
        out = {}
        for x in q.findall("{%s}x" % NS_XDATA):
            fields = {f.get("var"): [v.text or "" for v in
                                     f.findall("{%s}value" % NS_XDATA)]
                      for f in x.findall("{%s}field" % NS_XDATA)}
            if fields.get("FORM_TYPE") == [NS_ROOMINFO]:
                out = {k: v for k, v in fields.items() if k in HASH_FIELDS}
        return out, q

    # --- the flows ---------------------------------------------------------
    async def flows(self):
        await self.log_in(USERS)
        rooms = {"reference": "av@" + REFERENCE, "imgroups": "av@" + COMPONENT}

        async def make():
            for room in rooms.values():
                await self.create(room)
        await self.step("alice makes av@ on %s and on %s; bob joins"
                        % (REFERENCE, COMPONENT), make())
        for what, name in BOTH:
            for who, room in rooms.items():
                desc = "%s: %s" % (who, what)
                if room in self.skip:
                    self.tap.check(True, desc + " # SKIP %s's MUC takes no "
                                   "room vCard" % self.kind)
                    continue
                if (who, name, self.kind) == ("reference", "disco",
                                              "ejabberd"):
                    await self.step(desc, self.disco(room),
                                         EJABBERD_DISCO)
                    continue
                await self.step(desc, getattr(self, name)(room))
        room = rooms["imgroups"]
        await self.step(ONLY_OURS[0], self.restart(room))
        await self.step(ONLY_OURS[1], self.bad_sets(room))
        await self.step(ONLY_OURS[2], self.removed(room))
        await self.step(ONLY_OURS[3], self.destroyed(room))
        rc = await self.in_thread(self.ig.stop)
        self.tap.check(rc == 0, "imgroups stops on SIGTERM with status 0",
                       "status %s\n%s" % (rc, self.ig.log_tails(10)))

    # --- both --------------------------------------------------------------
    async def feature(self, room):
        _, q = await self.disco_hashes(room)
        feats = {f.get("var") for f in q.findall("{%s}feature" % NS_INFO)}
        if NS_VCARD not in feats:
            if room.endswith(REFERENCE):
                self.skip.add(room)
            raise Fail("features: %s" % sorted(feats))

    async def refused_set(self, room):
        await self.refused(self.clients["bob"].iq(
            "set", room, vcard(wrapped(IMAGE))), "forbidden")

    async def set(self, room):
        b = self.clients["bob"]
        b.forget()
        await self.clients["alice"].iq("set", room, vcard(wrapped(IMAGE)))
        await b.wait(room_presence(room, SHA1),
                     "presence from %s with the hash" % room)
        await b.wait(lambda el: kind(el) == "message"
                     and el.get("from") == room and 104 in codes(el),
                     "status 104 from %s" % room)

    async def get_back(self, room):
        typ, data = await self.get(self.clients["carol"], room)
        if typ != "image/png" or data != IMAGE:
            raise Fail("TYPE %r, %d bytes%s" % (typ, len(data),
                       "" if data == IMAGE else " (not the image)"))

    async def disco(self, room):
        hashes, q = await self.disco_hashes(room)
        if not any(v == [SHA1] for v in hashes.values()):
            raise Fail("hash fields %s, want %s: %s" % (hashes, SHA1, show(q)))
        self.tap.diag("%s: avatar fields %s" % (room, sorted(hashes)))

    async def newcomer(self, room):
        c = self.clients["carol"]
        c.forget()
        await self.join(c, room, "carol")
        await c.wait(room_presence(room, SHA1),
                     "presence from %s with the hash on joining" % room)

    # --- imgroups alone ----------------------------------------------------
    async def restart(self, room):
        mark = self.ig.log_mark()
        self.ig.proc.send_signal(signal.SIGTERM)
        rc = await self.in_thread(self.ig.proc.wait, WAIT)
        await self.in_thread(self.ig.stop)
        if rc != 0:
            raise Fail("imgroups exit status %s" % rc)
        await self.in_thread(self.ig.start)
        await self.in_thread(self.ig.wait_log, r"connected to", 15, mark)
        await self.get_back(room)
        await self.disco(room)
        # the occupants were told of the shutdown (332): back in
        for nick in ("alice", "bob"):
            await self.join(self.clients[nick], room, nick)

    async def bad_sets(self, room):
        a = self.clients["alice"]
        big = "A" * (AVATAR_SIZE + 4)
        await self.refused(a.iq("set", room, vcard(big)), "policy-violation")
        await self.refused(a.iq("set", room, vcard("not*base64!")),
                           "bad-request")
        await self.get_back(room)

    async def removed(self, room):
        b = self.clients["bob"]
        b.forget()
        await self.clients["alice"].iq("set", room, vcard())
        await b.wait(room_presence(room, ""),
                     "presence from %s with an empty photo" % room)
        await self.refused(self.clients["carol"].iq("get", room, vcard()),
                           "item-not-found")
        hashes, _ = await self.disco_hashes(room)
        if hashes:
            raise Fail("hash fields after removal: %s" % hashes)

    async def destroyed(self, room):
        a = self.clients["alice"]
        await a.iq("set", room, vcard(wrapped(IMAGE)))
        await a.iq("set", room, "<query xmlns='%s'><destroy/></query>"
                   % NS_OWNER)
        await self.join(a, room, "alice")
        await self.refused(self.clients["carol"].iq("get", room, vcard()),
                           "item-not-found")

    # --- the end -----------------------------------------------------------
    def cleanup(self):
        self.finish((self.ig, self.server))


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
