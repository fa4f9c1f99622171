"""Voice requests (XEP-0045 §7.13) through a real XMPP server, each check
first against the server's own MUC on conference.localhost (the reference),
then against imgroups, with the same assertions: the room advertises
muc#request; a visitor's request reaches the moderator as a muc#request
form naming her (muc#jid, muc#roomnick) with muc#request_allow; the
moderator's approval gives her voice (her presence, to herself and to the
moderator, with role participant). Prints TAP.

    /usr/bin/python3 tests/real/test_xep_voice.py prosody|ejabberd /path/to/imgroups

IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, data_form, item, join_answer, kind, presence_from,
        ptype, show)
except ImportError:
    sys.stderr.write("test_xep_voice.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
REFERENCE = "conference.localhost"
USERS = ("alice", "carol")
NS_MUC = "http://jabber.org/protocol/muc"
NS_ADMIN = NS_MUC + "#admin"
NS_OWNER = NS_MUC + "#owner"
NS_REQUEST = NS_MUC + "#request"
NS_XDATA = "jabber:x:data"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
WATCHDOG = 180

CHECKS = [
    ("the room's disco#info lists muc#request", "feature"),
    ("carol (a visitor) asks for voice: alice (moderator) gets a "
     "muc#request form naming her (muc#jid, muc#roomnick) with "
     "muc#request_allow", "request"),
    ("alice approves: carol's presence, to her and to alice, has role "
     "participant", "approve"),
]


def values(x):
    return {f.get("var"): f.findtext("{%s}value" % NS_XDATA)
            for f in x.findall("{%s}field" % NS_XDATA)}


def request_form(el):
    """The muc#request form of a message, or None."""
    if kind(el) != "message":
        return None
    x = el.find("{%s}x" % NS_XDATA)
    if x is None or values(x).get("FORM_TYPE") != NS_REQUEST:
        return None
    return x


def role_of(room, nick, role):
    return lambda el: (presence_from("%s/%s" % (room, nick))(el)
                       and item(el) is not None
                       and item(el).get("role") == role)


class Run(ClientRun):
    NAMES = (["server starts", "users registered", "imgroups connects",
              "clients log in"]
             + ["%s: %s" % (who, what) for what, _ in CHECKS
                for who in ("reference", "imgroups")]
             + ["imgroups stops on SIGTERM with status 0"])
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "xep-voice")
        self.forms = {}  # room -> the form alice got

    def main(self):
        self.tap.diag("%s, temp dir %s" % (self.kind, self.tmp))
        self.run_attached(COMPONENT, USERS, self.flows, WATCHDOG)

    async def join(self, cl, room, nick):
        cl.send("<presence to='%s/%s'><x xmlns='%s'/></presence>"
                % (room, nick, NS_MUC))
        pres = await cl.wait(join_answer(room, nick),
                             "the answer to joining %s as %s" % (room, nick))
        if ptype(pres) != "available":
            raise Fail("joining %s as %s: %s" % (room, nick, show(pres)))
        return pres

    async def flows(self):
        await self.log_in(USERS)
        a, c = self.clients["alice"], self.clients["carol"]
        rooms = {"reference": "voice@" + REFERENCE,
                 "imgroups": "voice@" + COMPONENT}
        for room in rooms.values():
            # A moderated room, carol in it as a visitor whatever the
            # server's default role (alice revokes her voice).
            await self.join(a, room, "alice")
            await a.iq("set", room, "<query xmlns='%s'>%s</query>" % (
                NS_OWNER, data_form({"muc#roomconfig_moderatedroom": "1"})))
            pres = await self.join(c, room, "carol")
            if item(pres) is None or item(pres).get("role") != "visitor":
                await a.iq("set", room, "<query xmlns='%s'><item "
                           "nick='carol' role='visitor'/></query>" % NS_ADMIN)
                await c.wait(role_of(room, "carol", "visitor"),
                             "her presence as a visitor in %s" % room)
        for what, name in CHECKS:
            for who, room in rooms.items():
                desc = "%s: %s" % (who, what)
                if (self.kind, who, name) == ("ejabberd", "reference",
                                              "feature"):
                    # It answers voice requests (checked next) without
                    # saying so in disco.
                    self.tap.check(True, desc + " # SKIP ejabberd's MUC "
                                   "does not advertise muc#request")
                    continue
                await self.step(desc, getattr(self, name)(room))
        rc = await self.in_thread(self.ig.stop)
        self.tap.check(rc == 0, "imgroups stops on SIGTERM with status 0",
                       "status %s\n%s" % (rc, self.ig.log_tails(10)))

    async def feature(self, room):
        res = await self.clients["carol"].iq(
            "get", room, "<query xmlns='%s'/>" % NS_DISCO_INFO)
        q = res.xml.find("{%s}query" % NS_DISCO_INFO)
        feats = {f.get("var")
                 for f in q.findall("{%s}feature" % NS_DISCO_INFO)}
        if NS_REQUEST not in feats:
            raise Fail("features: %s" % sorted(feats))

    async def request(self, room):
        a, c = self.clients["alice"], self.clients["carol"]
        c.send("<message to='%s'>%s</message>" % (room, data_form(
            {"muc#role": "participant"}, form_type=NS_REQUEST)))
        msg = await a.wait(lambda el: (el.get("from") == room
                                       and request_form(el) is not None),
                           "the voice request from %s" % room)
        x = request_form(msg)
        got = values(x)
        self.forms[room] = got
        problems = []
        if got.get("muc#jid") != c.jid:
            problems.append("muc#jid %r, want %s" % (got.get("muc#jid"),
                                                     c.jid))
        if got.get("muc#roomnick") != "carol":
            problems.append("muc#roomnick %r" % got.get("muc#roomnick"))
        if "muc#request_allow" not in got:
            problems.append("no muc#request_allow field")
        if problems:
            raise Fail("\n".join(problems + [show(msg)]))

    async def approve(self, room):
        a, c = self.clients["alice"], self.clients["carol"]
        got = self.forms.get(room) or {}
        fields = {"muc#role": "participant", "muc#jid": got.get("muc#jid"),
                  "muc#roomnick": "carol", "muc#request_allow": "true"}
        a.send("<message to='%s'>%s</message>" % (room, data_form(
            fields, form_type=NS_REQUEST)))
        await c.wait(role_of(room, "carol", "participant"),
                     "her presence as a participant")
        await a.wait(role_of(room, "carol", "participant"),
                     "carol's presence as a participant")

    def cleanup(self):
        self.finish((self.ig, self.server))


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
