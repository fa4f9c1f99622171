"""Issue 9 through a real Prosody: what an ordinary client can send to
imgroups, as regression tests. Each of the issue's items 1, 2, 6-11 is at
least one check, then the access matrix (every role and affiliation against
every privileged action, XEP-0045 §5.1.1 and §5.2.2) and the leak capture
(everything a non-moderator occupant and an outsider receive during a busy
session holds no real JID of anyone else). Prints TAP.

    /usr/bin/python3 tests/real/test_hostile.py prosody /path/to/imgroups

Starts a private Prosody (tests/real/servers.py) with its own MUC on
conference.localhost (for item 7's comparison), and imgroups attached to it
with a tiny refill rate (so that a burst is all anyone gets, whatever the
machine's speed). Every client is a real slixmpp session (xmppclient.py)
sending raw stanzas. Nothing waits for time: a ping to the component from
the sender, then from each receiver, proves that everything imgroups sent
before it has arrived (one link, handled in order). Every process is
stopped by its PID at the end. IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import itertools
import os
import re
import string
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))

try:
    from slixmpp.exceptions import IqError, IqTimeout
    from slixmpp.xmlstream.handler import Callback
    from slixmpp.xmlstream.matcher import MatcherId
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        CLIENT, NS_OID, NS_USER, Client, ClientRun, Fail, bare, body, codes,
        iq_error, item, join_answer, kind, ptype, show, stanza_error)
except ImportError:
    sys.stderr.write("test_hostile.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
MUC = "conference.localhost"         # Prosody's own MUC, for item 7
NS_MUC = "http://jabber.org/protocol/muc"
NS_ADMIN = NS_MUC + "#admin"
NS_OWNER = NS_MUC + "#owner"
NS_XDATA = "jabber:x:data"
NS_SID = "urn:xmpp:sid:0"
NS_DELAY = "urn:xmpp:delay"
NS_MAM = "urn:xmpp:mam:2"
NS_PING = "urn:xmpp:ping"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
WAIT = 10          # seconds for any one expected stanza or answer
SLOW_WAIT = 60     # the ping after item 2's presence (printed, not judged)
WATCHDOG = 900     # seconds for the whole run, whatever hangs
BURST = 6          # [limits] burst; rate is RATE per second
RATE = "0.001"
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "vic",
         "filler")
FILLERS = 19       # item 2: alice and 19 more make a room of 20
QUOTE = '"'        # one byte from the client, six (&quot;) on output
ERROR_LINE = re.compile(r"^\S+ error ")


def room_jid(name):
    return "%s@%s" % (name, COMPONENT)


def join_xml(room, nick, extra="", inner=""):
    return ("<presence to='%s/%s'>%s<x xmlns='%s'>%s</x></presence>"
            % (room, xml_attr(nick), extra, NS_MUC, inner))


def xml_attr(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def form(fields, typ="submit", form_type=NS_MUC + "#roomconfig"):
    """A data form (XEP-0004) from {var: value}."""
    out = ["<x xmlns='%s' type='%s'><field var='FORM_TYPE'><value>%s</value>"
           "</field>" % (NS_XDATA, typ, form_type)]
    for var, value in fields.items():
        out.append("<field var='%s'><value>%s</value></field>"
                   % (var, xml_text(value)))
    return "".join(out) + "</x>"


def from_room(room):
    return lambda el: bare(el.get("from")) == room


def is_subject_of(room):
    # imgroups sends it from the room, Prosody from the occupant who set it.
    return lambda el: (kind(el) == "message" and bare(el.get("from")) == room
                       and el.get("type") == "groupchat"
                       and el.find(CLIENT + "subject") is not None)


def answer_to(msg_id):
    """A message error that answers the stanza with id `msg_id`."""
    return lambda el: (kind(el) == "message" and el.get("id") == msg_id
                       and el.get("type") == "error")


def error_text(el):
    e = el.find(CLIENT + "error")
    if e is None:
        return None
    t = e.find("{urn:ietf:params:xml:ns:xmpp-stanzas}text")
    return None if t is None else (t.text or "")


def cpu_seconds(pid):
    """utime + stime of a process (proc(5): fields 14 and 15, in clock
    ticks)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def many_attributes(n):
    """`n` distinct three-letter attribute names with empty values: 7 bytes
    each, so 30 000 of them stay within Prosody's c2s stanza limit."""
    names = ("".join(p) for p in itertools.product(string.ascii_letters,
                                                    repeat=3))
    out = []
    for name in names:
        if name.lower().startswith("xml"):
            continue
        out.append(" %s=''" % name)
        if len(out) == n:
            break
    return "".join(out)


# --- item 8: look-alikes of the present nick 'Big Boss' -------------------
# RFC 8266 §2.1 (the Nickname profile): "Map any instances of non-ASCII
# space to SPACE", "map interior sequences of more than one ASCII space
# character to a single ASCII space character", "Case Mapping Rule: ...
# toLowerCase()", "Normalization Rule: ... NFKC"; and its base, the
# FreeformClass of RFC 8264 §9.13, disallows IgnorableProperties
# (Default_Ignorable_Code_Point). So each of these is either the same nick
# as 'Big Boss' (conflict) or refused (not-acceptable; or jid-malformed,
# when Prosody's own resourceprep already refuses it).
PRESENT_NICK = "Big Boss"
SAME = ("conflict",)
REFUSED = ("conflict", "not-acceptable", "jid-malformed")
LOOKALIKES = [
    ("two spaces", "Big  Boss", SAME),
    ("a no-break space", "Big\u00a0Boss", SAME),
    ("an ideographic space", "Big\u3000Boss", SAME),
    ("a trailing Hangul filler U+3164", "Big Boss\u3164", REFUSED),
    ("a zero-width space", "Big \u200bBoss", REFUSED),
    ("a soft hyphen", "Big Bo\u00adss", REFUSED),
    ("a right-to-left override", "\u202eBig Boss", REFUSED),
    ("a right-to-left mark", "Big Boss\u200f", REFUSED),
    ("a first-strong isolate", "Big \u2068Boss", REFUSED),
    ("a variation selector", "Big Boss\ufe0f", REFUSED),
    ("a byte order mark", "\ufeffBig Boss", REFUSED),
    ("tag characters", "Big Boss\U000e0041\U000e007f", REFUSED),
    ("fullwidth letters", "\uff22\uff49\uff47 \uff22\uff4f\uff53\uff53",
     SAME),
    ("capitals", "BIG BOSS", SAME),
]

# --- the access matrix ---------------------------------------------------
# Who tries, as (role, affiliation) in the room 'acl' (moderated, subject
# changes by moderators only, private messages off) and in 'aclmo' (the
# same people, members-only):
ACTORS = [
    ("owner", "alice"),        # moderator, owner
    ("admin", "bob"),          # moderator, admin
    ("member", "carol"),       # participant, member
    ("participant", "dave"),   # participant (given voice), no affiliation
    ("visitor", "erin"),       # visitor, no affiliation
    ("outcast", "frank"),      # banned: not in the room
    ("outsider", "gina"),      # no role, no affiliation: not in the room
]
MODS = ("owner", "admin")
OCCUPANTS = ("owner", "admin", "member", "participant", "visitor")
# (key, what is tried, why per XEP-0045, who may, who is not judged).
# XEP-0045 §5.1.1 (roles) "Kick Participants and Visitors", "Grant Voice":
# moderators only; "Send Messages to All": not visitors ("**: ... the
# service MUST return a <forbidden/> error", §7.4 in moderated rooms);
# "Modify Subject": participants only if allowed ("*: Default; configuration
# settings MAY modify this privilege"), so none here (changesubject off).
# XEP-0045 §5.2.2 (affiliations) "Ban Members and Unaffiliated Users",
# "Edit Member List": admins and owners; "Edit Admin List", "Change Room
# Configuration", "Destroy Room": owners only; "Retrieve Member List":
# members, admins, owners ("None: No*" by default); "Enter Members-Only
# Room": not outcasts, not unaffiliated users.
MATRIX = [
    ("kick", "kicks the visitor 'vic' (role none)",
     "§8.2, §5.1.1 Kick Participants and Visitors", MODS, ()),
    ("voice", "gives the visitor 'vic' voice",
     "§8.3, §5.1.1 Grant Voice", MODS, ()),
    ("ban", "bans henry@localhost (affiliation outcast)",
     "§9.1, §5.2.2 Ban Members and Unaffiliated Users", MODS, ()),
    ("member", "makes henry@localhost a member",
     "§9.3, §5.2.2 Edit Member List", MODS, ()),
    ("admin", "makes henry@localhost an admin",
     "§10.6, §5.2.2 Edit Admin List", ("owner",), ()),
    ("outcasts", "reads the outcast list",
     "§9.1: the ban list is an admin's", MODS, ()),
    ("members", "reads the member list",
     "§9.5, §5.2.2 Retrieve Member List", ("owner", "admin", "member"),
     ("member",)),
    ("owners", "reads the owner list",
     "§10.5: the owner list is an owner's", ("owner",), ("admin",)),
    ("config", "asks for the configuration form",
     "§10.1, §5.2.2 Change Room Configuration", ("owner",), ()),
    ("subject", "changes the subject (changesubject off)",
     "§8.1, §5.1.1 Modify Subject", MODS, ()),
    ("say", "sends a groupchat message",
     "§7.4, §5.1.1 Send Messages to All (moderated room)",
     ("owner", "admin", "member", "participant"), ()),
    ("pm", "sends a private message (allowpm none)",
     "§10.2 muc#roomconfig_allowpm = none", (), ()),
    ("invite", "invites henry@localhost into the members-only room",
     "§7.8.2: members-only rooms take invitations from admins and owners",
     MODS, ("member",)),
    ("mam", "reads the members-only room's archive (MAM)",
     "XEP-0313 §5.1.1 and §5.2.2 Enter Members-Only Room: members and up",
     ("owner", "admin", "member"), ()),
    ("destroy", "destroys the room",
     "§10.9, §5.2.2 Destroy Room", ("owner",), ()),
]
ACL = room_jid("acl")


def actors_for(key):
    """The actors in the order they try `key`: the owner destroys the room
    last, after everyone else was refused."""
    return ACTORS[::-1] if key == "destroy" else ACTORS

ACLMO = room_jid("aclmo")


class Run(ClientRun):
    SETUP = ["prosody starts", "users registered", "imgroups connects",
             "clients log in"]
    CASES = [
        ("1 a private message of 150 000 '\"' gets an error; the link stays "
         "up", "pm_quotes"),
        ("1 a presence <status> of 150 000 '\"' is refused or bounded; the "
         "link stays up and a later join works", "status_quotes"),
        ("1 an origin-id of 20 000 '\"' is refused or bounded; history on "
         "join and MAM still work", "origin_quotes"),
        ("1 a kick reason of 150 000 '\"' is refused or bounded; the link "
         "stays up", "kick_quotes"),
        ("1 a ban reason of 150 000 '\"' is refused or bounded; the outcast "
         "list still reads", "ban_quotes"),
        ("2 a presence with 30 000 attributes in a room of 20: the attacker "
         "gets an answer and the component answers a ping", "attributes"),
        ("6 leaving and rejoining does not refill the bucket: message %d "
         "of the bare JID gets resource-constraint" % (BURST + 1), "rejoin"),
        ("6 three resources share one bucket: message %d of the bare JID "
         "gets resource-constraint" % (BURST + 1), "resources"),
        ("7 a hidden members-only room's disco#info tells a stranger "
         "nothing that Prosody's MUC does not", "hidden_disco"),
    ] + [
        ("8 a nick with %s beside a present '%s' gets %s"
         % (what, PRESENT_NICK, " or ".join(conds)), "lookalike", i)
        for i, (what, _, conds) in enumerate(LOOKALIKES)
    ] + [
        ("9 a private message reaches its recipient without the sender's "
         "stanza-id, delay, occupant-id and muc#user item", "forged_pm"),
        ("10 one message with 5 invitations sends at most one, and the "
         "sender hears of the rest", "invites"),
        ("10 a decline from someone never invited is not relayed",
         "decline"),
        ("11 a 600-byte room name gets a precise error, and no error-level "
         "log line carries it", "long_name"),
    ]
    MATRIX_NAMES = [
        "matrix: the %s %s (%s: %s)" % (
            actor, what, why,
            "not judged" if actor in loose else
            "allowed" if actor in allowed else "refused")
        for key, what, why, allowed, loose in MATRIX
        for actor, _ in actors_for(key)]
    NAMES = (SETUP + [c[0] for c in CASES]
             + ["matrix: the rooms acl and aclmo are set up"] + MATRIX_NAMES
             + ["leak: a non-moderator occupant sees no real JID of anyone "
                "else during a busy session",
                "leak: an outsider sees no real JID of anyone",
                "the link never dropped and imgroups stops on SIGTERM with "
                "status 0"])
    PLAN = len(NAMES)

    def __init__(self, kind_, binary):
        super().__init__(kind_, binary, "hostile")
        self.extra = []            # more sessions of the same users
        self.ids = itertools.count(1)

    def new_id(self, what):
        return "%s-%d" % (what, next(self.ids))

    # --- setup ----------------------------------------------------------
    def limits(self):
        """[limits] for this run: a burst of BURST, then almost nothing.
        Keys another engineer may not have landed yet (join limits) are
        added only if this imgroups accepts them (--check-config)."""
        keys = {"burst": str(BURST), "rate": RATE}
        for k, v in (("join_burst", "1000"), ("join_rate", "100")):
            trial = dict(keys)
            trial[k] = v
            ig = servers.Imgroups(self.tmp, self.binary, COMPONENT,
                                  "127.0.0.1", 1, self.secret,
                                  name="probe", sections=[("limits", trial)])
            ig._prepare()
            r = subprocess.run([ig.binary, "--config", ig.config_path,
                                "--check-config"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
            if r.returncode == 0:
                keys = trial
        return keys

    def main(self):
        t = self.tap
        t.diag("%s, temp dir %s" % (self.kind, self.tmp))
        srv = self.start_server(COMPONENT, USERS)
        limits = self.limits()
        t.diag("[limits] %s" % limits)
        self.start_imgroups(
            servers.Imgroups(self.tmp, self.binary, COMPONENT, "127.0.0.1",
                             srv.component_port, self.secret,
                             log_level="info",
                             sections=[("limits", limits)]),
            "imgroups connects to prosody as %s (burst %d, rate %s)"
            % (COMPONENT, BURST, RATE))
        try:
            self.run_async(self.flows(), WATCHDOG)
        finally:
            self.run_async(self.close_clients(), 60)

    async def close_clients(self):
        await asyncio.gather(*(c.close() for c in
                               list(self.clients.values()) + self.extra),
                             return_exceptions=True)

    async def session(self, user, resource):
        """One more logged-in session of `user`."""
        c = Client(self.loop, self.server.c2s_port, user)
        c.jid = "%s@localhost/%s" % (user, resource)
        self.extra.append(c)
        await c.login()
        return c

    async def flows(self):
        t = self.tap
        await self.log_in(USERS)
        self.c = self.clients
        # Available, so that messages to their bare JIDs (invitations,
        # declines) are delivered to these sessions.
        for cl in self.c.values():
            cl.send("<presence/>")
        await asyncio.gather(*(self.ping(cl) for cl in self.c.values()))
        for case in self.CASES:
            desc, method, args = case[0], case[1], case[2:]
            await self.step(desc, getattr(self, method)(*args))
        await self.matrix()
        await self.leaks()
        ok = await self.in_thread(self.link_never_dropped)
        rc = await self.in_thread(self.ig.stop)
        t.check(ok is None and rc == 0,
                "the link never dropped and imgroups stops on SIGTERM with "
                "status 0", "%s; status %s\n%s"
                % (ok, rc, self.ig.log_tails(10)))

    def link_never_dropped(self):
        lines = [l for l in self.ig.log_text().splitlines()
                 if "disconnected from" in l]
        if lines:
            return "%d link drops, first: %s" % (len(lines), lines[0][:300])
        return None

    # --- helpers ----------------------------------------------------------
    async def ping(self, cl, to=COMPONENT, timeout=WAIT):
        """cl pings `to`; the seconds it took. Fail if no answer."""
        t0 = time.monotonic()
        try:
            await cl.iq("get", to, "<ping xmlns='%s'/>" % NS_PING,
                        timeout=timeout)
        except IqError as e:
            if to == COMPONENT:
                raise Fail("%s's ping to %s: %s" % (cl.user, to, iq_error(e)))
        except IqTimeout:
            raise Fail("%s's ping to %s: no answer within %d s"
                       % (cl.user, to, timeout))
        return time.monotonic() - t0

    async def settle(self, sender, *receivers):
        """Everything imgroups sent because of what `sender` sent so far has
        reached `receivers`: the sender's ping proves imgroups handled it
        (one link, in order), then each receiver's ping proves what was
        sent to them before has arrived."""
        await self.ping(sender)
        await asyncio.gather(*(self.ping(r) for r in receivers
                               if r is not sender))

    async def link_up(self, since, who=None):
        """The link is up since log offset `since`: imgroups runs, its log
        has no 'disconnected from', and the component answers a ping."""
        problems = []
        if not self.ig.alive():
            raise Fail("imgroups exited: status %s\n%s"
                       % (self.ig.proc.returncode, self.ig.log_tails(10)))
        try:
            await self.ping(who or self.c["gina"])
        except Fail as e:
            problems.append(str(e))
        drops = [l for l in self.ig.log_text(since).splitlines()
                 if "disconnected from" in l]
        if drops:
            problems.append("the link dropped: %s" % drops[0][:300])
            # Let the next check start on a link that is up again.
            text = self.ig.log_text(since)
            last = since + len(text[:text.rfind("disconnected from")]
                               .encode("utf-8", "replace"))
            try:
                await self.in_thread(self.ig.wait_log, r"connected to", 60,
                                     last)
            except servers.ServerError:
                problems.append("and it did not come back within 60 s")
        return problems

    async def join(self, cl, room, nick, extra="", inner=""):
        """cl sends a join; the self-presence or the error."""
        cl.send(join_xml(room, nick, extra, inner))
        return await cl.wait(join_answer(room, nick),
                             "an answer to joining %s as %s" % (room, nick))

    async def enter(self, cl, room, nick, extra="", inner=""):
        """cl joins and gets in (self-presence, then the subject)."""
        pres = await self.join(cl, room, nick, extra, inner)
        if ptype(pres) != "available":
            raise Fail("%s's join of %s as %s was refused: %s"
                       % (cl.user, room, nick, show(pres)))
        await cl.wait(is_subject_of(room), "the subject of %s" % room)
        return pres

    async def leave(self, cl, room, nick):
        cl.send("<presence type='unavailable' to='%s/%s'/>"
                % (room, xml_attr(nick)))
        await cl.wait(lambda el: kind(el) == "presence"
                      and el.get("from") == "%s/%s" % (room, nick)
                      and ptype(el) == "unavailable",
                      "own unavailable from %s/%s" % (room, nick))

    async def create(self, cl, room, nick, fields=None):
        """cl creates `room` (201) and submits `fields` of the owner form."""
        pres = await self.enter(cl, room, nick)
        if 201 not in codes(pres):
            raise Fail("%s already existed: %s" % (room, show(pres)))
        if fields:
            await cl.iq("set", room, "<query xmlns='%s'>%s</query>"
                        % (NS_OWNER, form(fields)))

    async def raw_iq(self, cl, typ, to, payload, timeout=WAIT):
        """An iq sent as written: slixmpp would escape every '"' of a
        payload it serializes (six bytes each, over Prosody's c2s limit).
        The answer's element; Fail if none."""
        iq_id = self.new_id("raw")
        got = self.loop.create_future()
        cl.xmpp.register_handler(Callback(
            "raw " + iq_id, MatcherId(iq_id),
            lambda st: got.done() or got.set_result(st.xml), once=True))
        cl.send("<iq type='%s' to='%s' id='%s'>%s</iq>"
                % (typ, to, iq_id, payload))
        try:
            return await asyncio.wait_for(got, timeout)
        except asyncio.TimeoutError:
            raise Fail("%s: no answer to iq %s within %d s"
                       % (cl.user, iq_id, timeout))
        finally:
            cl.xmpp.remove_handler("raw " + iq_id)

    async def admin_set(self, cl, room, items):
        return await cl.iq("set", room, "<query xmlns='%s'>%s</query>"
                           % (NS_ADMIN, items))

    async def refused_or_bounded(self, cl, msg_id, kept, limit):
        """The sender `cl` got an error for `msg_id` (its condition) or
        what imgroups kept and re-sent (`kept`, a list of strings seen by
        others) is shorter than `limit`. A list of problems."""
        errs = cl.take_all(answer_to(msg_id))
        if errs:
            self.tap.diag("%s got <%s/>: %s" % (cl.user,
                                                stanza_error(errs[0][1]),
                                                error_text(errs[0][1])))
            return []
        long_ = [len(k) for k in kept if k is not None and len(k) >= limit]
        if long_:
            return ["no error to %s, and %d characters of it were kept and "
                    "re-sent" % (cl.user, long_[0])]
        return []

    # --- item 1 ----------------------------------------------------------
    async def quotes_room(self, name, *users):
        """A fresh room for one attack (what it leaves behind may poison
        the room): alice (owner) and `users`, each under their name."""
        room = room_jid(name)
        await self.create(self.c["alice"], room, "alice")
        for u in users:
            await self.enter(self.c[u], room, u)
        return room

    PRECISE = ("policy-violation", "not-acceptable", "bad-request",
               "resource-constraint")

    async def pm_quotes(self):
        room = await self.quotes_room("q-pm", "bob")
        a, b = self.c["alice"], self.c["bob"]
        mark = self.ig.log_mark()
        mid = self.new_id("pm")
        b.send("<message type='chat' to='%s/alice' id='%s'><body>%s</body>"
               "</message>" % (room, mid, QUOTE * 150000))
        problems = []
        try:
            err = await b.wait(answer_to(mid), "an error to his private "
                               "message")
            cond = stanza_error(err)
            self.tap.diag("bob got <%s/>: %s" % (cond, error_text(err)))
            if cond not in ("policy-violation", "not-acceptable"):
                problems.append("want policy-violation or not-acceptable: %s"
                                % show(err)[:400])
        except Fail as e:
            problems.append(str(e))
        problems += await self.link_up(mark)
        got = a.take_all(lambda el: kind(el) == "message"
                         and el.get("from") == room + "/bob")
        if any(len(body(el) or "") >= 150000 for _, el in got):
            problems.append("alice got the whole body")
        if problems:
            raise Fail("\n".join(problems))

    async def status_quotes(self):
        room = await self.quotes_room("q-status", "bob")
        b, d = self.c["bob"], self.c["dave"]
        mark = self.ig.log_mark()
        pid = self.new_id("status")
        b.send("<presence to='%s/bob' id='%s'><status>%s</status></presence>"
               % (room, pid, QUOTE * 150000))
        problems = await self.link_up(mark, who=b)
        # A later join gets every kept presence again.
        d.forget()
        try:
            await self.enter(d, room, "dave")
        except Fail as e:
            problems.append("a later join: %s" % e)
        seen = [el.findtext(CLIENT + "status") for _, el in d.take_all(
            lambda el: kind(el) == "presence"
            and el.get("from") == room + "/bob")]
        problems += await self.refused_or_bounded(b, pid, seen, 150000)
        problems += await self.link_up(mark)
        if problems:
            raise Fail("\n".join(problems))

    async def origin_quotes(self):
        room = await self.quotes_room("q-origin", "bob")
        a, b, e = self.c["alice"], self.c["bob"], self.c["erin"]
        mark = self.ig.log_mark()
        mid = self.new_id("origin")
        b.send("<message type='groupchat' to='%s' id='%s'><body>forged "
               "origin</body><origin-id xmlns='%s' id='%s'/></message>"
               % (room, mid, NS_SID, QUOTE * 20000))
        problems = await self.link_up(mark, who=b)
        try:
            await self.ping(a)
        except Fail as ex:
            problems.append(str(ex))
        kept = []
        for _, el in a.take_all(lambda el: body(el) == "forged origin"):
            o = el.find("{%s}origin-id" % NS_SID)
            kept += [el.get("id"), None if o is None else o.get("id")]
        problems += await self.refused_or_bounded(b, mid, kept, 20000)
        # Every later history and MAM query sends it again.
        e.forget()
        try:
            await self.enter(e, room, "erin",
                             inner="<history maxstanzas='20'/>")
        except Fail as ex:
            problems.append("a later join with history: %s" % ex)
        try:
            res = await a.iq("set", room, "<query xmlns='%s' queryid='q1'/>"
                             % NS_MAM)
            if res.xml.find("{%s}fin" % NS_MAM) is None:
                problems.append("MAM answered without <fin>: %s"
                                % show(res.xml)[:300])
        except (IqError, IqTimeout) as ex:
            problems.append("MAM: %s" % iq_error(ex))
        problems += await self.link_up(mark)
        if problems:
            raise Fail("\n".join(problems))

    async def kick_quotes(self):
        room = await self.quotes_room("q-kick", "dave")
        a, d = self.c["alice"], self.c["dave"]
        mark = self.ig.log_mark()
        problems = []
        res = await self.raw_iq(a, "set", room, "<query xmlns='%s'><item "
                                "nick='dave' role='none'><reason>%s</reason>"
                                "</item></query>" % (NS_ADMIN,
                                                     QUOTE * 150000))
        if res.get("type") == "error":
            cond = stanza_error(res)
            self.tap.diag("the kick was refused: <%s/>" % cond)
            if cond not in self.PRECISE:
                problems.append("refused with <%s/>, want one of %s"
                                % (cond, ", ".join(self.PRECISE)))
        else:
            own = await d.wait(lambda el: kind(el) == "presence"
                               and el.get("from") == room + "/dave"
                               and ptype(el) == "unavailable",
                               "his own unavailable (kicked)")
            it = item(own)
            r = None if it is None else it.findtext("{%s}reason" % NS_USER)
            if r is not None and len(r) >= 150000:
                problems.append("the whole reason was sent on")
        problems += await self.link_up(mark)
        if problems:
            raise Fail("\n".join(problems))

    async def ban_quotes(self):
        room = await self.quotes_room("q-ban")
        a = self.c["alice"]
        mark = self.ig.log_mark()
        problems = []
        res = await self.raw_iq(a, "set", room, "<query xmlns='%s'><item "
                                "jid='erin@localhost' affiliation='outcast'>"
                                "<reason>%s</reason></item></query>"
                                % (NS_ADMIN, QUOTE * 150000))
        if res.get("type") == "error":
            cond = stanza_error(res)
            self.tap.diag("the ban was refused: <%s/>" % cond)
            if cond not in self.PRECISE:
                problems.append("refused with <%s/>, want one of %s"
                                % (cond, ", ".join(self.PRECISE)))
        problems += await self.link_up(mark)
        try:
            res = await a.iq("get", room, "<query xmlns='%s'><item "
                             "affiliation='outcast'/></query>" % NS_ADMIN)
            for it in res.xml.iter("{%s}item" % NS_ADMIN):
                r = it.findtext("{%s}reason" % NS_ADMIN)
                if r is not None and len(r) >= 150000:
                    problems.append("the outcast list carries the whole "
                                    "reason")
        except (IqError, IqTimeout) as e:
            problems.append("reading the outcast list: %s" % iq_error(e))
        problems += await self.link_up(mark)
        if problems:
            raise Fail("\n".join(problems))

    # --- item 2 ----------------------------------------------------------
    async def attributes(self):
        a, b, g = self.c["alice"], self.c["bob"], self.c["gina"]
        room = room_jid("crowd")
        await self.create(a, room, "alice")
        fill = await asyncio.gather(*(self.session("filler", "f%02d" % i)
                                      for i in range(FILLERS)))
        for i, f in enumerate(fill):
            await self.enter(f, room, "filler %02d" % i)
        await self.enter(b, room, "bob")
        mark = self.ig.log_mark()
        cpu0 = cpu_seconds(self.ig.pid)
        pid = self.new_id("attrs")
        stanza = ("<presence to='%s/bob' id='%s'%s><show>away</show>"
                  "</presence>" % (room, pid, many_attributes(30000)))
        self.tap.diag("the presence is %d bytes" % len(stanza))
        b.forget()
        b.send(stanza)
        t0 = time.monotonic()
        problems = []
        # First the answer to bob (imgroups has handled the presence), then
        # a ping: how long the service was busy with it, and that it is
        # answering again.
        try:
            ans = await b.wait(lambda el: kind(el) == "presence"
                               and el.get("from") == room + "/bob",
                               "an error or his own presence back",
                               timeout=SLOW_WAIT)
            self.tap.diag("bob got %s %.3f s after sending" % (
                "<%s/>" % stanza_error(ans) if ptype(ans) == "error"
                else "his presence (%d attributes, show %s)"
                % (len(ans.attrib), ans.findtext(CLIENT + "show")),
                time.monotonic() - t0))
        except Fail as e:
            problems.append(str(e))
        try:
            took = await self.ping(g, timeout=SLOW_WAIT)
            self.tap.diag("then the component answered a ping in %.3f s"
                          % took)
        except Fail as e:
            problems.append(str(e))
        self.tap.diag("imgroups used %.2f s of CPU on it"
                      % (cpu_seconds(self.ig.pid) - cpu0))
        problems += await self.link_up(mark)
        await asyncio.gather(*(f.close() for f in fill),
                             return_exceptions=True)
        if problems:
            raise Fail("\n".join(problems))

    # --- item 6 ----------------------------------------------------------
    async def say_until_refused(self, room, senders, n, between=None):
        """Sends n groupchat messages round-robin from `senders` (client,
        nick); calls `between(i)` before message i if given. Returns the
        1-based number of the first refused one with its condition, or
        (None, None)."""
        for i in range(1, n + 1):
            if between:
                await between(i)
            cl, nick = senders[(i - 1) % len(senders)]
            mid = self.new_id("rate")
            text = "line %s" % mid
            cl.send("<message type='groupchat' to='%s' id='%s'><body>%s"
                    "</body></message>" % (room, mid, text))
            el = await cl.wait(lambda el: el.get("id") == mid or
                               (kind(el) == "message" and body(el) == text),
                               "an echo or an error for message %d" % i)
            if el.get("type") == "error":
                return i, stanza_error(el)
        return None, None

    async def burst_holds(self, room, senders, between=None):
        """Message BURST + 1 of one bare JID, whichever of its occupants
        sends it, gets resource-constraint (the rate is almost nil)."""
        n, cond = await self.say_until_refused(room, senders, BURST + 1,
                                               between)
        if n != BURST + 1 or cond != "resource-constraint":
            raise Fail("want message %d refused with resource-constraint, "
                       "got %s" % (BURST + 1, "all accepted" if n is None
                                   else "message %d refused with <%s/>"
                                   % (n, cond)))

    async def rejoin(self):
        a, d = self.c["alice"], self.c["dave"]
        room = room_jid("rate1")
        await self.create(a, room, "alice")
        await self.enter(d, room, "dave")

        async def between(i):
            if i == BURST // 2 + 1:
                await self.leave(d, room, "dave")
                await self.enter(d, room, "dave")

        await self.burst_holds(room, [(d, "dave")], between)

    async def resources(self):
        a, e = self.c["alice"], self.c["erin"]
        room = room_jid("rate3")
        await self.create(a, room, "alice")
        e2 = await self.session("erin", "second")
        e3 = await self.session("erin", "third")
        senders = [(e, "erin 1"), (e2, "erin 2"), (e3, "erin 3")]
        for cl, nick in senders:
            await self.enter(cl, room, nick)
        await self.burst_holds(room, senders)

    # --- item 7 ----------------------------------------------------------
    async def hidden_disco(self):
        a, g = self.c["alice"], self.c["gina"]
        fields = {"muc#roomconfig_roomname": "Secret",
                  "muc#roomconfig_roomdesc": "not for strangers",
                  "muc#roomconfig_persistentroom": "1",
                  "muc#roomconfig_publicroom": "0",
                  "muc#roomconfig_membersonly": "1"}
        ours, theirs = room_jid("secret"), "secret@" + MUC
        await self.create(a, ours, "alice", fields)
        # Prosody locks a new room until the owner submits the form.
        pres = await self.join(a, theirs, "alice")
        if ptype(pres) != "available":
            raise Fail("creating %s: %s" % (theirs, show(pres)))
        await a.iq("set", theirs, "<query xmlns='%s'>%s</query>"
                   % (NS_OWNER, form(fields)))
        for room in (ours, theirs):
            a.send("<message type='groupchat' to='%s'><subject>the plan"
                   "</subject></message>" % room)
            await a.wait(lambda el: is_subject_of(room)(el) and
                         el.findtext(CLIENT + "subject") == "the plan",
                         "the new subject of %s" % room)
        seen = {}
        for room in (ours, theirs):
            try:
                res = await g.iq("get", room, "<query xmlns='%s'/>"
                                 % NS_DISCO_INFO)
                seen[room] = disco_view(
                    res.xml.find("{%s}query" % NS_DISCO_INFO))
            except IqError as e:
                seen[room] = {"error": e.iq["error"]["condition"]}
            self.tap.diag("a stranger's disco#info of %s: %s"
                          % (room, sorted(seen[room].items())))
        problems = []
        mine, prosody = seen[ours], seen[theirs]
        if "error" in prosody:
            if "error" not in mine:
                problems.append("Prosody answers <%s/>; imgroups answers "
                                "with the room's info" % prosody["error"])
        else:
            for key, value in sorted(mine.items()):
                if key.startswith("feature "):
                    continue  # what the service can do, not the room's
                if value and not prosody.get(key):
                    problems.append("imgroups discloses %s = %r, Prosody "
                                    "does not" % (key, value))
        if problems:
            raise Fail("\n".join(problems))

    # --- item 8 ----------------------------------------------------------
    async def nicks_room(self):
        if not getattr(self, "nicks", None):
            room = room_jid("nicks")
            await self.create(self.c["alice"], room, "alice")
            await self.enter(self.c["carol"], room, PRESENT_NICK)
            self.nicks = room
        return self.nicks

    async def lookalike(self, i):
        what, nick, conds = LOOKALIKES[i]
        room = await self.nicks_room()
        # A session of its own: Prosody may close it over a bad JID.
        f = await self.session("frank", "nick%d" % i)
        mark = os.path.getsize(self.server.log_path)
        try:
            f.send(join_xml(room, nick))
            ans = await f.wait(lambda el: kind(el) == "presence"
                               and bare(el.get("from")) == room
                               and (ptype(el) == "error" or
                                    110 in codes(el)),
                               "an answer to joining as %r" % nick)
        except Exception as e:
            # Prosody's resourceprep refuses some code points itself: it
            # logs the stanza and never passes it on.
            with open(self.server.log_path, "rb") as lf:
                lf.seek(mark)
                said = lf.read().decode("utf-8", "replace")
            if "invalid destination JID" in said and "jid-malformed" in conds:
                self.tap.diag("%r: refused by Prosody (invalid destination "
                              "JID)" % nick)
                return
            raise Fail("%s: %s" % (type(e).__name__, e))
        if ptype(ans) == "available":
            frm = ans.get("from")
            await f.close()
            raise Fail("admitted as %r beside %r" % (frm, PRESENT_NICK))
        await f.close()
        cond = stanza_error(ans)
        self.tap.diag("%r: <%s/> from %r" % (nick, cond, ans.get("from")))
        if cond not in conds:
            raise Fail("got <%s/>: %s" % (cond, show(ans)))

    # --- item 9 ----------------------------------------------------------
    async def forged_pm(self):
        a, b = self.c["alice"], self.c["bob"]
        room = room_jid("forge")
        await self.create(a, room, "alice")
        await self.enter(b, room, "bob")
        b.send("<message type='chat' to='%s/alice' id='forged-1'>"
               "<body>trust me</body>"
               "<stanza-id xmlns='%s' by='%s' id='forged-sid'/>"
               "<delay xmlns='%s' from='%s' stamp='2001-01-01T00:00:00Z'/>"
               "<occupant-id xmlns='%s' id='forged-oid'/>"
               "<x xmlns='%s'><item jid='ceo@localhost/desk' "
               "affiliation='owner' role='moderator'/></x></message>"
               % (room, NS_SID, room, NS_DELAY, room, NS_OID, NS_USER))
        m = await a.wait(lambda el: kind(el) == "message"
                         and body(el) == "trust me", "bob's message")
        problems = []
        for s in m.findall("{%s}stanza-id" % NS_SID):
            if s.get("by") == room or s.get("id") == "forged-sid":
                problems.append("the forged stanza-id")
        if m.find("{%s}delay" % NS_DELAY) is not None:
            problems.append("the forged delay")
        for o in m.findall("{%s}occupant-id" % NS_OID):
            if o.get("id") == "forged-oid":
                problems.append("the forged occupant-id")
        for x in m.findall("{%s}x" % NS_USER):
            if x.find("{%s}item" % NS_USER) is not None:
                problems.append("a muc#user item")
        if problems:
            raise Fail("alice got %s: %s" % (", ".join(problems), show(m)))

    # --- item 10 ---------------------------------------------------------
    INVITEES = ("carol", "dave", "erin", "frank", "gina")

    async def invites(self):
        a = self.c["alice"]
        room = room_jid("inv")
        await self.create(a, room, "alice")
        self.inv = room
        who = [self.c[u] for u in self.INVITEES]
        for cl in who:
            cl.forget()
        a.send("<message to='%s' id='inv-1'><x xmlns='%s'>%s</x></message>"
               % (room, NS_USER, "".join(
                   "<invite to='%s@localhost'><reason>come</reason></invite>"
                   % u for u in self.INVITEES)))
        await self.settle(a, *who)
        got = [cl.user for cl in who if cl.take_all(is_invite(room))]
        errs = a.take_all(answer_to("inv-1"))
        self.tap.diag("invited: %s; alice got %s" % (
            got, ["<%s/>" % stanza_error(el) for _, el in errs]))
        problems = []
        if len(got) > 1:
            problems.append("%d invitations went out: %s" % (len(got), got))
        if not errs:
            problems.append("alice heard nothing of the refused ones")
        if problems:
            raise Fail("\n".join(problems))

    async def decline(self):
        a, v = self.c["alice"], self.c["vic"]
        room = getattr(self, "inv", None) or room_jid("inv")
        a.forget()
        v.send("<message to='%s' id='dec-1'><x xmlns='%s'><decline "
               "to='alice@localhost'><reason>no thanks</reason></decline>"
               "</x></message>" % (room, NS_USER))
        await self.settle(v, a)
        got = a.take_all(lambda el: kind(el) == "message"
                         and bare(el.get("from")) == room
                         and el.find("{%s}x/{%s}decline"
                                     % (NS_USER, NS_USER)) is not None)
        if got:
            raise Fail("alice got a decline from someone never invited: %s"
                       % show(got[0][1]))

    # --- item 11 ---------------------------------------------------------
    async def long_name(self):
        g = self.c["gina"]
        name = "longname" * 75
        room = room_jid(name)
        mark = self.ig.log_mark()
        pres = await self.join(g, room, "gina")
        problems = []
        if ptype(pres) != "error":
            problems.append("the room was made: %s" % show(pres)[:300])
            await self.leave(g, room, "gina")
        else:
            cond, text = stanza_error(pres), error_text(pres)
            self.tap.diag("<%s/>: %r" % (cond, text))
            if not cond or not text:
                problems.append("want a condition and a <text/>: %s"
                                % show(pres)[:400])
        await self.settle(g)
        bad = [l for l in self.ig.log_text(mark).splitlines()
               if ERROR_LINE.match(l) and "longname" * 4 in l]
        if bad:
            problems.append("error-level log line with the name: %s"
                            % bad[0][:200])
        if problems:
            raise Fail("\n".join(problems))

    # --- the access matrix -------------------------------------------------
    async def matrix(self):
        ok = await self.step("matrix: the rooms acl and aclmo are set up",
                             self.matrix_setup())
        for key, what, why, allowed, loose in MATRIX:
            for actor, user in actors_for(key):
                desc = "matrix: the %s %s (%s: %s)" % (
                    actor, what, why, "not judged" if actor in loose else
                    "allowed" if actor in allowed else "refused")
                if not ok:
                    self.tap.check(False, desc + " (not run: no rooms)")
                    continue
                await self.step(desc, self.cell(key, actor, user,
                                                 actor in allowed,
                                                 actor in loose))

    async def matrix_setup(self):
        a, b, c, d, e, f, v = (self.c[u] for u in (
            "alice", "bob", "carol", "dave", "erin", "frank", "vic"))
        for cl in self.c.values():
            cl.forget()
        await self.create(a, ACL, "owner", {
            "muc#roomconfig_moderatedroom": "1",
            "muc#roomconfig_changesubject": "0",
            "muc#roomconfig_allowpm": "none"})
        await self.create(a, ACLMO, "owner", {
            "muc#roomconfig_membersonly": "1"})
        for room in (ACL, ACLMO):
            await self.admin_set(a, room,
                                 "<item jid='bob@localhost' affiliation="
                                 "'admin'/><item jid='carol@localhost' "
                                 "affiliation='member'/><item jid="
                                 "'frank@localhost' affiliation='outcast'/>")
        for cl, nick in ((b, "admin"), (c, "member"), (d, "participant"),
                         (e, "visitor"), (v, "vic")):
            await self.enter(cl, ACL, nick)
        for cl, nick in ((b, "admin"), (c, "member")):
            await self.enter(cl, ACLMO, nick)
        await self.admin_set(a, ACL, "<item nick='participant' "
                             "role='participant'/>")
        a.send("<message type='groupchat' to='%s'><body>on the record"
               "</body></message>" % ACLMO)
        await a.wait(lambda el: body(el) == "on the record",
                     "her message in %s" % ACLMO)

    async def cell(self, key, actor, user, allowed, loose):
        cl = self.c[user]
        a, v = self.c["alice"], self.c["vic"]
        cl.forget()
        got, detail = await ACTIONS[key](self, cl)
        self.tap.diag("%s %s: %s" % (actor, key, detail))
        if got and key == "kick":
            v.forget()
            await self.enter(v, ACL, "vic")
        elif got and key == "voice":
            await self.admin_set(a, ACL, "<item nick='vic' role='visitor'/>")
        elif got and key in ("ban", "member", "admin"):
            await self.admin_set(a, ACL, "<item jid='henry@localhost' "
                                 "affiliation='none'/>")
        if loose or got == allowed:
            return None
        raise Fail("%s, want %s" % ("allowed" if got else "refused",
                                    "allowed" if allowed else "refused"))

    async def try_iq(self, cl, typ, room, payload):
        try:
            res = await cl.iq(typ, room, payload)
            return True, "result %s" % show(res.xml)[:160]
        except IqError as e:
            return False, "<%s/>" % e.iq["error"]["condition"]

    async def try_message(self, cl, room, to, payload, typ="groupchat"):
        """Sends a message; refused if an error answers it before the
        sender's ping comes back."""
        mid = self.new_id("acl")
        cl.send("<message type='%s' to='%s' id='%s'>%s</message>"
                % (typ, to, mid, payload))
        await self.ping(cl)
        errs = cl.take_all(answer_to(mid))
        if errs:
            return False, "<%s/>" % stanza_error(errs[0][1])
        return True, "no error"

    async def act_admin(self, cl, items):
        return await self.try_iq(cl, "set", ACL, "<query xmlns='%s'>%s"
                                 "</query>" % (NS_ADMIN, items))

    async def act_list(self, cl, aff):
        return await self.try_iq(cl, "get", ACL, "<query xmlns='%s'><item "
                                 "affiliation='%s'/></query>"
                                 % (NS_ADMIN, aff))

    async def act_subject(self, cl):
        return await self.try_message(cl, ACL, ACL, "<subject>%s</subject>"
                                      % self.new_id("subject"))

    async def act_say(self, cl):
        return await self.try_message(cl, ACL, ACL, "<body>%s</body>"
                                      % self.new_id("say"))

    async def act_pm(self, cl):
        return await self.try_message(cl, ACL, ACL + "/vic",
                                      "<body>psst</body>", typ="chat")

    async def act_invite(self, cl):
        return await self.try_message(
            cl, ACLMO, ACLMO, "<x xmlns='%s'><invite to='henry@localhost'/>"
            "</x>" % NS_USER, typ="normal")

    async def act_mam(self, cl):
        return await self.try_iq(cl, "set", ACLMO, "<query xmlns='%s'/>"
                                 % NS_MAM)

    async def act_config(self, cl):
        return await self.try_iq(cl, "get", ACL, "<query xmlns='%s'/>"
                                 % NS_OWNER)

    async def act_destroy(self, cl):
        return await self.try_iq(cl, "set", ACL, "<query xmlns='%s'><destroy>"
                                 "<reason>bye</reason></destroy></query>"
                                 % NS_OWNER)

    # --- the leak capture ---------------------------------------------------
    async def leaks(self):
        c, g = self.c["carol"], self.c["gina"]
        c.forget()
        g.forget()
        c_from, g_from = len(c.log), len(g.log)
        answers = []
        try:
            await self.busy_session(answers)
            why = None
        except Fail as e:
            why = "the session did not run as planned: %s" % e
        except (IqError, IqTimeout) as e:
            why = "the session did not run as planned: %s" % iq_error(e)
        seen_c = [show(el) for _, el in c.log[c_from:]]
        seen_g = [show(el) for _, el in g.log[g_from:]] + answers
        self.tap.diag("captured: carol %d stanzas, gina %d"
                      % (len(seen_c), len(seen_g)))
        for who, seen in (("carol", seen_c), ("gina", seen_g)):
            leaked = leaks_in(seen, [u for u in USERS if u != who])
            desc = ("leak: a non-moderator occupant sees no real JID of "
                    "anyone else during a busy session" if who == "carol"
                    else "leak: an outsider sees no real JID of anyone")
            problems = ([why] if why else []) + leaked
            self.tap.check(not problems, desc, "\n".join(problems))

    async def busy_session(self, answers):
        a, c, d, e, v, g = (self.c[u] for u in (
            "alice", "carol", "dave", "erin", "vic", "gina"))
        room = room_jid("leak")
        await self.create(a, room, "Host")
        await self.enter(c, room, "Watcher")
        for cl, nick in ((d, "Dee"), (e, "Err"), (v, "Vee")):
            await self.enter(cl, room, nick)
        for cl in (a, d, e, v):
            cl.send("<message type='groupchat' to='%s'><body>hi from %s"
                    "</body></message>" % (room, cl.user))
        d.send("<presence to='%s/Dee2'/>" % room)
        e.send("<message type='chat' to='%s/Watcher'><body>between us"
               "</body></message>" % room)
        await self.settle(d, c)
        await self.admin_set(a, room, "<item nick='Vee' role='none'>"
                             "<reason>enough</reason></item>")
        d.send("<message type='groupchat' to='%s'><subject>busy</subject>"
               "</message>" % room)
        await self.leave(d, room, "Dee2")
        for to, ns in ((room, NS_DISCO_INFO), (room, NS_DISCO_ITEMS),
                       (room + "/Err", NS_DISCO_INFO), (room, NS_MAM)):
            typ = "set" if ns == NS_MAM else "get"
            try:
                res = await g.iq(typ, to, "<query xmlns='%s'/>" % ns)
                answers.append(show(res.xml))
            except IqError as ex:
                answers.append(show(ex.iq.xml))
        g.send("<message type='chat' to='%s/Err'><body>who are you?</body>"
               "</message>" % room)
        await self.settle(a, c, g)
        await self.settle(e, c, g)

    # --- running -----------------------------------------------------------
    def cleanup(self):
        self.finish((self.ig, self.server), self.report_errors)

    def report_errors(self):
        """The run's own error-level lines: what an attacker could make
        imgroups write (names, never contents, belong there)."""
        if self.ig is not None:
            lines = [l for l in self.ig.log_text().splitlines()
                     if ERROR_LINE.match(l)]
            self.tap.diag("imgroups log: %d error lines" % len(lines))
            for l in lines[:10]:
                self.tap.diag("  " + l[:240])


ACTIONS = {
    "kick": lambda r, cl: r.act_admin(cl, "<item nick='vic' role='none'/>"),
    "voice": lambda r, cl: r.act_admin(cl, "<item nick='vic' "
                                       "role='participant'/>"),
    "ban": lambda r, cl: r.act_admin(cl, "<item jid='henry@localhost' "
                                     "affiliation='outcast'/>"),
    "member": lambda r, cl: r.act_admin(cl, "<item jid='henry@localhost' "
                                        "affiliation='member'/>"),
    "admin": lambda r, cl: r.act_admin(cl, "<item jid='henry@localhost' "
                                       "affiliation='admin'/>"),
    "outcasts": lambda r, cl: r.act_list(cl, "outcast"),
    "members": lambda r, cl: r.act_list(cl, "member"),
    "owners": lambda r, cl: r.act_list(cl, "owner"),
    "config": lambda r, cl: r.act_config(cl),
    "subject": lambda r, cl: r.act_subject(cl),
    "say": lambda r, cl: r.act_say(cl),
    "pm": lambda r, cl: r.act_pm(cl),
    "invite": lambda r, cl: r.act_invite(cl),
    "mam": lambda r, cl: r.act_mam(cl),
    "destroy": lambda r, cl: r.act_destroy(cl),
}


def is_invite(room):
    return lambda el: (kind(el) == "message" and el.get("from") == room
                       and el.find("{%s}x/{%s}invite"
                                   % (NS_USER, NS_USER)) is not None)


def disco_view(q):
    """A disco#info answer as {what: value}: 'identity NAME', 'feature VAR'
    and 'field VAR' (the muc#roominfo form), FORM_TYPE left out."""
    out = {}
    for ch in q:
        tag = ch.tag.split("}", 1)[-1]
        if tag == "identity":
            out["identity name"] = ch.get("name") or ""
        elif tag == "feature":
            out["feature " + (ch.get("var") or "")] = "yes"
        elif tag == "x":
            for f in ch.findall("{%s}field" % NS_XDATA):
                var = f.get("var") or ""
                if var == "FORM_TYPE":
                    continue
                vals = [v.text or "" for v in
                        f.findall("{%s}value" % NS_XDATA)]
                out["field " + var] = " ".join(vals)
    return out


def leaks_in(seen, others):
    """Each real JID of `others` (bare, so full ones too) found in the
    serialized stanzas `seen`, with the stanza."""
    out = []
    for u in others:
        j = "%s@localhost" % u
        for text in seen:
            if j in text:
                out.append("%s in %s" % (j, text[:300]))
                break
    return out


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
