"""The whole groupchat message (issue 11, items 2 to 5) through a real XMPP
server, each behaviour checked first against the server's own MUC on
conference.localhost (the reference, so that the check itself is proven),
then against imgroups, with the same assertions: a correction (XEP-0308)
relayed whole and both it and the original in MAM; a reaction (XEP-0444),
a reply (XEP-0461 with its XEP-0428 fallback), a file link (XEP-0066 OOB
with XEP-0447 file sharing) relayed unchanged and the same in MAM and in
the history a new occupant gets; a chat state (XEP-0085) relayed and not
archived; a no-store hint (XEP-0334) honoured; a client's stanza-id by the
room replaced by the room's own (XEP-0359). Then imgroups alone: a
correction of someone else's message refused with <forbidden/> and not
relayed (the reference's behaviour is printed), and a forged occupant-id,
delay and muc#user item dropped. Prints TAP.

    /usr/bin/python3 tests/real/test_xep_message.py prosody|ejabberd /path/to/imgroups

IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

try:
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, body, join_answer, kind, mam_result, ptype, show,
        stanza_error)
except ImportError:
    sys.stderr.write("test_xep_message.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
REFERENCE = "conference.localhost"
USERS = ("alice", "bob", "carol")
CLIENT = "{jabber:client}"
NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = NS_MUC + "#user"
NS_OWNER = NS_MUC + "#owner"
NS_XDATA = "jabber:x:data"
NS_SID = "urn:xmpp:sid:0"
NS_OID = "urn:xmpp:occupant-id:0"
NS_DELAY = "urn:xmpp:delay"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_STATES = "http://jabber.org/protocol/chatstates"
NS_HINTS = "urn:xmpp:hints"
WATCHDOG = 240   # seconds for the whole run, whatever hangs

URL = "https://files.example/u/7f3a/notes.txt"
# What alice sends besides a body, as the clients send it: {KEY} is filled
# in per room. The reaction and the reply name bob's message by the room's
# stanza-id (XEP-0444 §4, XEP-0461 §3.2 in a groupchat).
PAYLOADS = {
    "reaction": (None,
                 "<reactions xmlns='urn:xmpp:reactions:0' id='{SID}'>"
                 "<reaction>\U0001f44d</reaction></reactions>"
                 "<store xmlns='urn:xmpp:hints'/>"),
    "reply": ("> bob's line\nyes, agreed",
              "<reply xmlns='urn:xmpp:reply:0' to='{ROOM}/bob' id='{SID}'/>"
              "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>"
              "<body start='0' end='13'/></fallback>"),
    "file": (URL,
             "<x xmlns='jabber:x:oob'><url>" + URL + "</url></x>"
             "<file-sharing xmlns='urn:xmpp:sfs:0'>"
             "<file xmlns='urn:xmpp:file:metadata:0'>"
             "<media-type>text/plain</media-type><name>notes.txt</name>"
             "<size>12</size></file><sources>"
             "<url-data xmlns='http://jabber.org/protocol/url-data' "
             "target='" + URL + "'/></sources></file-sharing>"),
}
# Hints are about one delivery: the archive keeps the rest.
TRANSIENT = (NS_HINTS, NS_STATES)
# What a room adds (ejabberd also adds its older <archived/>).
ROOM_ADDED = (NS_SID, NS_OID, NS_DELAY, NS_USER, "urn:xmpp:mam:tmp")

BOTH = [
    ("a correction reaches bob whole: the new body and <replace id='a-1'/>",
     "correction"),
    ("a reaction, a reply with its fallback and a file link (OOB and "
     "XEP-0447) reach bob unchanged", "payloads"),
    ("a chat state alone reaches bob, without a room stanza-id", "state"),
    ("a no-store message reaches bob", "no_store"),
    ("a stanza-id by the room from alice is replaced by the room's own",
     "forged_sid"),
    ("MAM returns the original and the correction, in order, the "
     "correction with <replace/>", "mam_correction"),
    ("MAM returns the reaction, the reply and the file link unchanged",
     "mam_payloads"),
    ("MAM has neither the chat state nor the no-store message", "mam_left"),
    ("carol joining gets the reaction, the reply and the file link "
     "unchanged in the history, and neither the chat state nor the "
     "no-store message", "history"),
]
ONLY_OURS = [
    "imgroups: carol correcting bob's message gets <forbidden/>, and bob "
    "does not get it",
    "imgroups: bob correcting his own message is relayed",
    "imgroups: a forged occupant-id, delay and muc#user item from bob never "
    "reach alice",
]


def canon(el):
    """An element as a comparable value: name, attributes, text and
    children, whatever the prefixes and attribute order."""
    return (el.tag, tuple(sorted(el.attrib.items())),
            (el.text or "").strip(), tuple(canon(c) for c in el))


def children_of(xml):
    """The elements of xml (children of a jabber:client message)."""
    return list(ET.fromstring("<message xmlns='jabber:client'>%s</message>"
                              % xml))


def kept(el):
    """The children of a message that carry a payload: neither body nor
    what the room adds or what is for one delivery only."""
    out = []
    for c in el:
        ns = c.tag[1:].split("}")[0] if c.tag.startswith("{") else ""
        if c.tag in (CLIENT + "body",) or ns in ROOM_ADDED + TRANSIENT:
            continue
        out.append(canon(c))
    return out


def room_sids(el, room):
    return [s.get("id") for s in el.findall("{%s}stanza-id" % NS_SID)
            if s.get("by") == room]


def from_nick(room, nick, pred):
    return lambda el: (kind(el) == "message" and el.get("type") == "groupchat"
                       and el.get("from") == "%s/%s" % (room, nick)
                       and pred(el))


def has_child(tag):
    return lambda el: el.find(tag) is not None


def said(text):
    return lambda el: body(el) == text


def form(fields):
    out = ["<x xmlns='%s' type='submit'><field var='FORM_TYPE'><value>%s"
           "</value></field>" % (NS_XDATA, NS_MUC + "#roomconfig")]
    for var, value in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (var, value))
    return "".join(out) + "</x>"


class Room:
    """What one room's flow learnt: the room stanza-id of bob's line, the
    payloads as alice sent them, and the MAM results."""

    def __init__(self, jid):
        self.jid = jid
        self.bob_sid = None
        self.sent = {}      # name -> expected kept() of the message
        self.mam = None     # forwarded messages, in order


class Run(ClientRun):
    NAMES = (["server starts", "users registered", "imgroups connects",
              "clients log in", "rooms set up"]
             + ["%s: %s" % (who, what) for what, _ in BOTH
                for who in ("reference", "imgroups")]
             + ONLY_OURS + ["imgroups stops on SIGTERM with status 0"])
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "xep-message")

    def main(self):
        t = self.tap
        t.diag("%s, temp dir %s" % (self.kind, self.tmp))
        srv = self.start_server(COMPONENT, USERS)
        self.start_imgroups(
            servers.Imgroups(self.tmp, self.binary, COMPONENT, "127.0.0.1",
                             srv.component_port, self.secret,
                             log_level="debug"),
            "imgroups connects to %s as %s" % (self.kind, COMPONENT))
        try:
            self.run_async(self.flows(), WATCHDOG)
        finally:
            self.run_async(self.close_clients(), 30)

    async def close_clients(self):
        await asyncio.gather(*(c.close() for c in self.clients.values()),
                             return_exceptions=True)

    # --- helpers -----------------------------------------------------------
    async def join(self, cl, room, nick, extra=""):
        cl.send("<presence to='%s/%s'><x xmlns='%s'>%s</x></presence>"
                % (room, nick, NS_MUC, extra))
        pres = await cl.wait(join_answer(room, nick),
                             "the answer to joining %s as %s" % (room, nick))
        if ptype(pres) != "available":
            raise Fail("joining %s: %s" % (room, show(pres)))
        return pres

    def send(self, cl, room, mid, text, extra):
        cl.send("<message type='groupchat' to='%s' id='%s'>%s"
                "<origin-id xmlns='%s' id='%s'/>%s</message>"
                % (room, mid, "" if text is None else
                   "<body>%s</body>" % xml_text(text), NS_SID, mid, extra))

    async def barrier(self, room):
        """alice says a line and bob receives it: what alice sent before
        reached bob before it (a room relays in order)."""
        self.seq = getattr(self, "seq", 0) + 1
        text = "barrier %d" % self.seq
        self.send(self.clients["alice"], room.jid, "bar-%d" % self.seq, text,
                  "")
        await self.clients["bob"].wait(from_nick(room.jid, "alice",
                                                 said(text)),
                                       "alice's '%s'" % text)

    async def mam_all(self, cl, room):
        qid = "all-%d" % (getattr(self, "qn", 0) + 1)
        self.qn = getattr(self, "qn", 0) + 1
        res = await cl.iq("set", room.jid,
                          "<query xmlns='%s' queryid='%s'><set xmlns='%s'>"
                          "<max>100</max></set></query>"
                          % (NS_MAM, qid, NS_RSM))
        if res.xml.find("{%s}fin" % NS_MAM) is None:
            raise Fail("MAM answer without <fin/>: %s" % show(res.xml))
        out = []
        for _, el in cl.take_all(mam_result(room.jid, qid)):
            fwd = el.find("{%s}result/{%s}forwarded" % (NS_MAM, NS_FWD))
            m = None if fwd is None else fwd.find(CLIENT + "message")
            if m is None:
                raise Fail("a MAM result without a forwarded message: %s"
                           % show(el))
            out.append(m)
        return out

    # --- the flows ---------------------------------------------------------
    async def flows(self):
        await self.log_in(USERS)
        rooms = {"reference": Room("talk@" + REFERENCE),
                 "imgroups": Room("talk@" + COMPONENT)}
        await self.step("rooms set up: alice creates both, bob joins; bob's "
                        "line has a room stanza-id",
                        self.setup(rooms.values()))
        for what, name in BOTH:
            for who, room in rooms.items():
                desc = "%s: %s" % (who, what)
                if (who, name, self.kind) == ("reference", "history",
                                              "ejabberd"):
                    # Seen: ejabberd's history keeps only messages with a
                    # body, and a no-store one too.
                    self.tap.check(True, desc + " # SKIP ejabberd's MUC "
                                   "history replays no body-less message "
                                   "and ignores no-store")
                    continue
                await self.step(desc, getattr(self, name)(room))
        room = rooms["imgroups"]
        await self.step(ONLY_OURS[0], self.foreign_correction(
            rooms["reference"], room))
        await self.step(ONLY_OURS[1], self.own_correction(room))
        await self.step(ONLY_OURS[2], self.forged_rest(room))
        rc = await self.in_thread(self.ig.stop)
        self.tap.check(rc == 0, "imgroups stops on SIGTERM with status 0",
                       "status %s\n%s" % (rc, self.ig.log_tails(10)))

    async def setup(self, rooms):
        a, b = self.clients["alice"], self.clients["bob"]
        for room in rooms:
            await self.join(a, room.jid, "alice")
            await a.iq("set", room.jid, "<query xmlns='%s'>%s</query>"
                       % (NS_OWNER, form({})))
            await self.join(b, room.jid, "bob")
            self.send(b, room.jid, "b-1", "bob's line", "")
            m = await a.wait(from_nick(room.jid, "bob", said("bob's line")),
                             "bob's line")
            sids = room_sids(m, room.jid)
            if len(sids) != 1:
                raise Fail("%s: room stanza-ids %s on %s"
                           % (room.jid, sids, show(m)))
            room.bob_sid = sids[0]

    # --- both --------------------------------------------------------------
    async def correction(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        self.send(a, room.jid, "a-1", "helo wrld", "")
        await b.wait(from_nick(room.jid, "alice", said("helo wrld")),
                     "the original")
        self.send(a, room.jid, "a-2", "hello world",
                  "<replace xmlns='%s' id='a-1'/>" % NS_CORRECT)
        m = await b.wait(from_nick(room.jid, "alice", said("hello world")),
                         "the correction")
        r = m.find("{%s}replace" % NS_CORRECT)
        if r is None or r.get("id") != "a-1":
            raise Fail("want <replace id='a-1'/>: %s" % show(m))

    async def payloads(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        problems = []
        for name, (text, extra) in PAYLOADS.items():
            xml = extra.replace("{SID}", room.bob_sid).replace("{ROOM}",
                                                                room.jid)
            want = [canon(c) for c in children_of(xml)
                    if not c.tag.startswith("{%s}" % NS_HINTS)]
            room.sent[name] = want
            self.send(a, room.jid, "p-" + name, text, xml)
            m = await b.wait(from_nick(room.jid, "alice",
                                       lambda el, w=want: kept(el) == w
                                       or (el.get("id") == "p-" + name)),
                             "alice's %s" % name)
            if kept(m) != want or body(m) != text:
                problems.append("%s: sent body %r and %s, bob got %s"
                                % (name, text, xml, show(m)))
        if problems:
            raise Fail("\n".join(problems))

    async def state(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        a.send("<message type='groupchat' to='%s'><composing xmlns='%s'/>"
               "</message>" % (room.jid, NS_STATES))
        m = await b.wait(from_nick(room.jid, "alice",
                                   has_child("{%s}composing" % NS_STATES)),
                         "alice's <composing/>")
        if room_sids(m, room.jid) or body(m) is not None:
            raise Fail("a chat state with a room stanza-id or a body: %s"
                       % show(m))

    async def no_store(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        self.send(a, room.jid, "ns-1", "not for the archive",
                  "<no-store xmlns='%s'/>" % NS_HINTS)
        await b.wait(from_nick(room.jid, "alice",
                               said("not for the archive")),
                     "the no-store message")

    async def forged_sid(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        self.send(a, room.jid, "f-1", "forged id",
                  "<stanza-id xmlns='%s' by='%s' id='forged-sid'/>"
                  % (NS_SID, room.jid))
        m = await b.wait(from_nick(room.jid, "alice", said("forged id")),
                         "the message with a forged stanza-id")
        sids = room_sids(m, room.jid)
        if "forged-sid" in sids or len(sids) > 1:
            raise Fail("room stanza-ids %s: %s" % (sids, show(m)))
        await self.barrier(room)
        room.mam = await self.mam_all(a, room)

    async def mam_correction(self, room):
        bodies = [body(m) for m in room.mam]
        if "helo wrld" not in bodies or "hello world" not in bodies:
            raise Fail("MAM bodies %s" % bodies)
        i, j = bodies.index("helo wrld"), bodies.index("hello world")
        r = room.mam[j].find("{%s}replace" % NS_CORRECT)
        if i > j or r is None or r.get("id") != "a-1":
            raise Fail("original #%d, correction #%d: %s"
                       % (i, j, show(room.mam[j])))

    def payloads_in(self, room, msgs, where):
        problems = []
        for name, want in room.sent.items():
            if not any(kept(m) == want for m in msgs):
                problems.append("%s: no message carries %s" % (name, want))
        if problems:
            raise Fail("%s:\n%s\n%s" % (where, "\n".join(problems), "\n".join(
                show(m) for m in msgs[-8:])))

    async def mam_payloads(self, room):
        self.payloads_in(room, room.mam, "MAM")

    def left_out(self, msgs, where):
        bad = [m for m in msgs
               if m.find("{%s}composing" % NS_STATES) is not None
               and body(m) is None
               or body(m) == "not for the archive"]
        if bad:
            raise Fail("%s has %s" % (where, [show(m) for m in bad]))

    async def mam_left(self, room):
        self.left_out(room.mam, "MAM")

    async def history(self, room):
        c = self.clients["carol"]
        c.forget()
        c.send("<presence to='%s/carol'><x xmlns='%s'><history "
               "maxstanzas='20'/></x></presence>" % (room.jid, NS_MUC))
        await c.wait(join_answer(room.jid, "carol"), "her self-presence")
        await c.wait(lambda el: kind(el) == "message"
                     and el.get("from") == room.jid
                     and el.find(CLIENT + "subject") is not None,
                     "the subject")
        hist = [el for _, el in c.take_all(
            lambda el: kind(el) == "message"
            and el.find("{%s}delay" % NS_DELAY) is not None)]
        self.payloads_in(room, hist, "history")
        self.left_out(hist, "history")

    # --- imgroups alone ----------------------------------------------------
    async def foreign_correction(self, ref, room):
        b, c = self.clients["bob"], self.clients["carol"]
        # What the reference does, for the record.
        self.send(c, ref.jid, "c-x", "bob said nothing",
                  "<replace xmlns='%s' id='b-1'/>" % NS_CORRECT)
        await self.barrier(ref)
        got = [el for _, el in b.take_all(from_nick(
            ref.jid, "carol", said("bob said nothing")))]
        self.tap.diag("the reference %s carol's correction of bob's message"
                      % ("relays" if got else "does not relay"))
        self.send(c, room.jid, "c-1", "bob said nothing",
                  "<replace xmlns='%s' id='b-1'/>" % NS_CORRECT)
        err = await c.wait(lambda el: kind(el) == "message"
                           and el.get("type") == "error"
                           and el.get("id") == "c-1", "an error")
        if stanza_error(err) != "forbidden":
            raise Fail("want <forbidden/>: %s" % show(err))
        await self.barrier(room)
        got = b.take_all(from_nick(room.jid, "carol",
                                   said("bob said nothing")))
        if got:
            raise Fail("bob got it: %s" % show(got[0][1]))

    async def own_correction(self, room):
        a, b = self.clients["alice"], self.clients["bob"]
        self.send(b, room.jid, "b-2", "bob's line, fixed",
                  "<replace xmlns='%s' id='b-1'/>" % NS_CORRECT)
        await a.wait(from_nick(room.jid, "bob", said("bob's line, fixed")),
                     "bob's correction")

    async def forged_rest(self, room):
        # bob sends (alice has spent her burst of [limits] rate above)
        a, b = self.clients["bob"], self.clients["alice"]
        self.send(a, room.jid, "f-2", "forged rest",
                  "<occupant-id xmlns='%s' id='forged-oid'/>"
                  "<delay xmlns='%s' stamp='2001-01-01T00:00:00Z'/>"
                  "<x xmlns='%s'><item jid='boss@localhost'/></x>"
                  % (NS_OID, NS_DELAY, NS_USER))
        m = await b.wait(from_nick(room.jid, "bob", said("forged rest")),
                         "the message with forged room elements")
        oids = [o.get("id") for o in m.findall("{%s}occupant-id" % NS_OID)]
        if (oids == ["forged-oid"] or len(oids) != 1
                or m.find("{%s}delay" % NS_DELAY) is not None
                or m.find("{%s}x" % NS_USER) is not None):
            raise Fail("forged elements relayed: %s" % show(m))

    # --- the end -----------------------------------------------------------
    def report_logs(self):
        if self.ig is not None:
            lines = [l for l in self.ig.log_tails(400).splitlines()
                     if re.search(r"\b(warning|error|critical)\b", l, re.I)]
            self.tap.diag("imgroups log: %d warning/error lines" % len(lines))
            for l in lines[:15]:
                self.tap.diag("  " + l)

    def cleanup(self):
        self.finish((self.ig, self.server), self.report_logs)


def xml_text(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
