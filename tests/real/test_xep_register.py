"""Registered nicks (XEP-0045 §7.10, §7.12) through a real XMPP server, each
behaviour checked first against the server's own MUC on conference.localhost
(the reference, so that the check itself is proven), then against imgroups,
with the same assertions: the room's jabber:iq:register feature, the
muc#register form, a registration and <registered/>, the x-roomuser-item
disco node, a registered nick refused to someone else's join (<conflict/>)
and registration (<conflict/>), its owner let in under it, <remove/>, a
banned user refused (<forbidden/>), an unaffiliated user of a members-only
room refused (<registration-required/>). Then imgroups alone: the RFC 8266
comparison (a case variant is the same nick), the registration kept across
a restart, the owner form's muc#roomconfig_registration (a member must use
their registered nick: <not-acceptable/>), and a destroyed room taking its
registrations with it. Prints TAP.

    /usr/bin/python3 tests/real/test_xep_register.py prosody|ejabberd /path/to/imgroups

Where the reference does not take registrations per room (ejabberd's
mod_muc registers nicks with the whole service, not with a room), its
registrations go to the service JID, with the same form, and the checks
that need a room's own registration (x-roomuser-item, bans, members-only)
are reported as skipped for it.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, IqError, data_form, join_answer, kind, presence_from,
        ptype, show, stanza_error)
except ImportError:
    sys.stderr.write("test_xep_register.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
REFERENCE = "conference.localhost"
USERS = ("alice", "bob", "carol")
CLIENT = "{jabber:client}"
NS_MUC = "http://jabber.org/protocol/muc"
NS_ADMIN = NS_MUC + "#admin"
NS_OWNER = NS_MUC + "#owner"
NS_REGISTER = "jabber:iq:register"
FORM_REGISTER = NS_MUC + "#register"
NS_XDATA = "jabber:x:data"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NODE = "x-roomuser-item"
NICK = "Bobby"
WAIT = 10        # seconds for any one expected stanza or answer
WATCHDOG = 240   # seconds for the whole run, whatever hangs

# The behaviours checked on both, in order: (what, method name, whether a
# reference that registers nicks with the whole service shows it too).
BOTH = [
    ("the registration JID's disco#info lists jabber:iq:register",
     "feature", True),
    ("bob (a member) gets the form: FORM_TYPE muc#register and a "
     "muc#register_roomnick field", "form", True),
    ("bob registers '%s'; asking again gives <registered/> with his nick"
     % NICK, "register", True),
    ("x-roomuser-item: bob's identity is conference/text named '%s'; "
     "carol (none registered) gets none" % NICK, "roomuser_item", False),
    ("carol joining as '%s' gets <conflict/>" % NICK, "join_conflict", True),
    ("carol, in the room as 'carol', changing her nick to '%s' gets "
     "<conflict/> and stays 'carol'" % NICK, "change_conflict", True),
    ("carol registering '%s' gets <conflict/>" % NICK, "register_conflict",
     True),
    ("bob joins as '%s' and is in" % NICK, "owner_joins", True),
    ("bob's <remove/>: a result, x-roomuser-item empty (where the room "
     "answers it), carol may join as '%s'" % NICK, "remove", True),
    ("carol, banned, asking for the form gets <forbidden/>", "banned",
     False),
    ("members-only: bob, unaffiliated, gets <registration-required/>",
     "members_only", False),
    ("a ban keeps the registration (as Prosody: lifting the ban gives it "
     "back): bob (a member again) registers '%s', is banned; alice "
     "registering it gets <conflict/>" % NICK, "ban_keeps", False),
]
ONLY_OURS = [
    "imgroups: a case variant of a registered nick ('BOBBY') is the same "
    "nick: <conflict/>",
    "imgroups: restarted on the same storage, bob's nick is still "
    "registered (x-roomuser-item, carol's join refused)",
    "imgroups: muc#roomconfig_registration: bob (a member) joining as 'bob' "
    "gets <not-acceptable/>, as '%s' he is in" % NICK,
    "imgroups: a destroyed room drops its registrations (created again, "
    "x-roomuser-item is empty)",
]


def fields_of(x):
    return {f.get("var"): f for f in x.findall("{%s}field" % NS_XDATA)}


def iq_condition(e):
    return e.iq["error"]["condition"] if isinstance(e, IqError) else None


class Run(ClientRun):
    NAMES = (["server starts", "users registered", "imgroups connects",
              "clients log in"]
             + ["%s: %s" % (who, what) for what, _, _ in BOTH
                for who in ("reference", "imgroups")]
             + ONLY_OURS + ["imgroups stops on SIGTERM with status 0"])
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "xep-register")
        # Where each target takes registrations: the room itself, or (a
        # reference that registers nicks per service) the service JID.
        self.reg_jid = {}

    def main(self):
        self.tap.diag("%s, temp dir %s" % (self.kind, self.tmp))
        self.run_attached(COMPONENT, USERS, self.flows, WATCHDOG)

    # --- helpers -----------------------------------------------------------
    async def join(self, cl, room, nick):
        cl.send("<presence to='%s/%s'><x xmlns='%s'/></presence>"
                % (room, nick, NS_MUC))
        return await cl.wait(join_answer(room, nick),
                             "the answer to joining %s as %s" % (room, nick))

    async def leave(self, cl, room, nick):
        cl.send("<presence type='unavailable' to='%s/%s'/>" % (room, nick))
        await cl.wait(presence_from("%s/%s" % (room, nick), "unavailable"),
                      "leaving %s" % room)

    async def create(self, a, room, fields=None):
        """alice creates room and submits its form (the reference locks a
        new room until she does)."""
        pres = await self.join(a, room, "alice")
        if ptype(pres) != "available":
            raise Fail("creating %s: %s" % (room, show(pres)))
        await a.iq("set", room, "<query xmlns='%s'>%s</query>"
                   % (NS_OWNER, data_form(fields or {})))

    async def affiliate(self, a, room, user, aff):
        await a.iq("set", room, "<query xmlns='%s'><item affiliation='%s' "
                   "jid='%s@localhost'/></query>" % (NS_ADMIN, aff, user))

    async def register_get(self, cl, room):
        res = await cl.iq("get", self.reg_jid.get(room, room),
                          "<query xmlns='%s'/>" % NS_REGISTER)
        return res.xml.find("{%s}query" % NS_REGISTER)

    async def register_remove(self, cl, room):
        await cl.iq("set", self.reg_jid.get(room, room),
                    "<query xmlns='%s'><remove/></query>" % NS_REGISTER)

    async def register_set(self, cl, room, nick):
        await cl.iq("set", self.reg_jid.get(room, room),
                    "<query xmlns='%s'>%s</query>" % (
            NS_REGISTER, data_form({"muc#register_roomnick": nick},
                              form_type=FORM_REGISTER)))

    async def refused(self, coro, want):
        """coro is an iq that must fail with condition want."""
        try:
            await coro
        except IqError as e:
            if iq_condition(e) != want:
                raise Fail("want <%s/>, got <%s/>: %s"
                           % (want, iq_condition(e), e.iq))
            return
        raise Fail("want <%s/>, got a result" % want)

    async def roomuser_nick(self, cl, room):
        """The name of the x-roomuser-item identity, or None."""
        res = await cl.iq("get", room, "<query xmlns='%s' node='%s'/>"
                          % (NS_DISCO_INFO, NODE))
        q = res.xml.find("{%s}query" % NS_DISCO_INFO)
        ids = [] if q is None else q.findall("{%s}identity" % NS_DISCO_INFO)
        if not ids:
            return None
        i = ids[0]
        if (i.get("category"), i.get("type")) != ("conference", "text"):
            raise Fail("identity %s, want conference/text" % show(i))
        return i.get("name")

    async def join_refused(self, cl, room, nick, want):
        pres = await self.join(cl, room, nick)
        if ptype(pres) != "error" or stanza_error(pres) != want:
            if ptype(pres) == "available":
                await self.leave(cl, room, nick)
            raise Fail("want a presence error <%s/>: %s" % (want, show(pres)))

    # --- the flows ---------------------------------------------------------
    async def flows(self):
        await self.log_in(USERS)
        rooms = {"reference": "reg@" + REFERENCE,
                 "imgroups": "reg@" + COMPONENT}
        a = self.clients["alice"]
        for who, room in rooms.items():
            await self.create(a, room)
            await self.affiliate(a, room, "bob", "member")
            await self.affiliate(a, room, "carol", "member")
        ref = rooms["reference"]
        if NS_REGISTER not in await self.features(ref):
            # ejabberd: registration is with the service, for every room.
            self.reg_jid[ref] = REFERENCE
            self.tap.diag("%s's MUC does not take registrations per room: "
                          "the reference registers with %s, and the checks "
                          "that need a room's own are skipped"
                          % (self.kind, REFERENCE))
        for what, name, by_service in BOTH:
            for who, room in rooms.items():
                desc = "%s: %s" % (who, what)
                if room in self.reg_jid and not by_service:
                    self.tap.check(True, desc + " # SKIP %s registers nicks "
                                   "with the service, not the room"
                                   % self.kind)
                    continue
                await self.step(desc, getattr(self, name)(room))
        room = rooms["imgroups"]
        await self.step(ONLY_OURS[0], self.case_variant(room))
        await self.step(ONLY_OURS[1], self.restart(room))
        await self.step(ONLY_OURS[2], self.lockdown(room))
        await self.step(ONLY_OURS[3], self.destroyed(room))
        rc = await self.in_thread(self.ig.stop)
        self.tap.check(rc == 0, "imgroups stops on SIGTERM with status 0",
                       "status %s\n%s" % (rc, self.ig.log_tails(10)))

    async def features(self, room):
        b = self.clients["bob"]
        res = await b.iq("get", room, "<query xmlns='%s'/>" % NS_DISCO_INFO)
        q = res.xml.find("{%s}query" % NS_DISCO_INFO)
        return {f.get("var") for f in q.findall("{%s}feature" % NS_DISCO_INFO)}

    # --- both --------------------------------------------------------------
    async def feature(self, room):
        feats = await self.features(self.reg_jid.get(room, room))
        if NS_REGISTER not in feats:
            raise Fail("features: %s" % sorted(feats))

    async def form(self, room):
        q = await self.register_get(self.clients["bob"], room)
        x = None if q is None else q.find("{%s}x" % NS_XDATA)
        if x is None or x.get("type") != "form":
            raise Fail("no form: %s" % show(q))
        fields = fields_of(x)
        ft = fields.get("FORM_TYPE")
        if ft is None or ft.findtext("{%s}value" % NS_XDATA) != FORM_REGISTER:
            raise Fail("FORM_TYPE: %s" % show(x))
        if "muc#register_roomnick" not in fields:
            raise Fail("no muc#register_roomnick: %s" % show(x))

    async def register(self, room):
        b = self.clients["bob"]
        await self.register_set(b, room, NICK)
        q = await self.register_get(b, room)
        if q is None or q.find("{%s}registered" % NS_REGISTER) is None:
            raise Fail("no <registered/>: %s" % show(q))
        # XEP-0045 §7.10 and Prosody: <username/>; ejabberd: XEP-0077's
        # <nick/>, and the form filled in.
        said = {q.findtext("{%s}%s" % (NS_REGISTER, n))
                for n in ("username", "nick")}
        if NICK not in said:
            raise Fail("his nick is not in <username/> or <nick/>: %s"
                       % show(q))

    async def roomuser_item(self, room):
        got = await self.roomuser_nick(self.clients["bob"], room)
        if got != NICK:
            raise Fail("bob's reserved nick: %r" % got)
        got = await self.roomuser_nick(self.clients["carol"], room)
        if got is not None:
            raise Fail("carol's reserved nick: %r, want none" % got)

    async def join_conflict(self, room):
        await self.join_refused(self.clients["carol"], room, NICK, "conflict")

    async def change_conflict(self, room):
        c = self.clients["carol"]
        pres = await self.join(c, room, "carol")
        if ptype(pres) != "available":
            raise Fail("carol's join as carol: %s" % show(pres))
        c.send("<presence to='%s/%s'/>" % (room, NICK))
        err = await c.wait(lambda el: kind(el) == "presence"
                           and el.get("from", "").startswith(room + "/")
                           and ptype(el) == "error",
                           "the answer to her nick change")
        await self.leave(c, room, "carol")
        if stanza_error(err) != "conflict":
            raise Fail("want <conflict/>: %s" % show(err))

    async def register_conflict(self, room):
        await self.refused(self.register_set(self.clients["carol"], room,
                                             NICK), "conflict")

    async def owner_joins(self, room):
        b = self.clients["bob"]
        pres = await self.join(b, room, NICK)
        if ptype(pres) != "available":
            raise Fail("bob's join: %s" % show(pres))
        await self.leave(b, room, NICK)

    async def remove(self, room):
        b, c = self.clients["bob"], self.clients["carol"]
        await self.register_remove(b, room)
        got = None if room in self.reg_jid else \
            await self.roomuser_nick(b, room)
        if got is not None:
            raise Fail("after <remove/>, bob's reserved nick is %r" % got)
        pres = await self.join(c, room, NICK)
        if ptype(pres) != "available":
            raise Fail("carol's join as %s: %s" % (NICK, show(pres)))
        await self.leave(c, room, NICK)

    async def banned(self, room):
        await self.affiliate(self.clients["alice"], room, "carol", "outcast")
        await self.refused(self.register_get(self.clients["carol"], room),
                           "forbidden")

    async def members_only(self, room):
        a = self.clients["alice"]
        await a.iq("set", room, "<query xmlns='%s'>%s</query>" % (
            NS_OWNER, data_form({"muc#roomconfig_membersonly": "1"})))
        await self.affiliate(a, room, "bob", "none")
        await self.refused(self.register_get(self.clients["bob"], room),
                           "registration-required")

    async def ban_keeps(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        await self.affiliate(a, room, "bob", "member")
        await self.register_set(b, room, NICK)
        await self.affiliate(a, room, "bob", "outcast")
        await self.refused(self.register_set(a, room, NICK), "conflict")
        await self.affiliate(a, room, "bob", "member")

    # --- imgroups alone ----------------------------------------------------
    async def case_variant(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        await self.affiliate(a, room, "carol", "member")
        await self.register_set(b, room, NICK)
        await self.join_refused(self.clients["carol"], room, NICK.upper(),
                                "conflict")
        await self.refused(self.register_set(self.clients["carol"], room,
                                             NICK.lower()), "conflict")

    async def restart(self, room):
        mark = self.ig.log_mark()
        self.ig.proc.send_signal(signal.SIGTERM)
        rc = await self.in_thread(self.ig.proc.wait, WAIT)
        await self.in_thread(self.ig.stop)
        if rc != 0:
            raise Fail("imgroups exit status %s" % rc)
        await self.in_thread(self.ig.start)
        await self.in_thread(self.ig.wait_log, r"connected to", 15, mark)
        got = await self.roomuser_nick(self.clients["bob"], room)
        if got != NICK:
            raise Fail("after the restart bob's reserved nick is %r" % got)
        await self.join_refused(self.clients["carol"], room, NICK,
                                "conflict")

    async def lockdown(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        await a.iq("set", room, "<query xmlns='%s'>%s</query>" % (
            NS_OWNER, data_form({"muc#roomconfig_membersonly": "1",
                            "muc#roomconfig_registration": "1"})))
        await self.join_refused(b, room, "bob", "not-acceptable")
        pres = await self.join(b, room, NICK)
        if ptype(pres) != "available":
            raise Fail("bob's join as %s: %s" % (NICK, show(pres)))
        # and a nick change away from it is refused too
        b.send("<presence to='%s/bob'/>" % room)
        err = await b.wait(lambda el: kind(el) == "presence"
                           and el.get("from", "").startswith(room)
                           and ptype(el) == "error",
                           "the answer to his nick change")
        if stanza_error(err) != "not-acceptable":
            raise Fail("nick change: %s" % show(err))
        await self.leave(b, room, NICK)

    async def destroyed(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        await a.iq("set", room, "<query xmlns='%s'><destroy/></query>"
                   % NS_OWNER)
        await self.create(a, room)
        got = await self.roomuser_nick(b, room)
        if got is not None:
            raise Fail("in the new room bob's reserved nick is %r" % got)

    def cleanup(self):
        self.finish((self.ig, self.server))


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
