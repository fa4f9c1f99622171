"""Discovery (XEP-0030, XEP-0045 §6, XEP-0059) through a real XMPP server,
each behaviour checked first against the server's own MUC on
conference.localhost (the reference, so that the check itself is proven),
then against imgroups, with the same assertions: what Profanity does to find
a group chat service (disco#items of the server, disco#info of each item,
the one with the feature http://jabber.org/protocol/muc); disco#items of the
service over 30 public and 10 hidden rooms, paged with RSM (max 7, after):
the pages join to exactly the public rooms, none twice, none hidden, and the
count is right (asked by carol, who is in no hidden room: ejabberd lists a
hidden room to its occupants, Prosody and imgroups to nobody); then a room's disco#info side by side: identity, features
and the muc#roominfo form field by field (the fields only one side has are
printed as diagnostics). Then imgroups alone: paging backward (<before/>),
the count alone (max 0), an unknown <after/> (item-not-found), and a room
made hidden leaving the list. Prints TAP.

    /usr/bin/python3 tests/real/test_xep_disco.py prosody|ejabberd /path/to/imgroups

Where the reference does not page its disco#items (Prosody 0.12's MUC
answers with every room and no <set/>), its one answer must still be exactly
the public rooms, and the paging checks are skipped for it. ejabberd's MUC
pages over its hidden rooms too (EJABBERD_RSM): that check of the reference
is a TAP TODO, run and shown.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, data_form, IqError, join_answer, ptype, show)
except ImportError:
    sys.stderr.write("test_xep_disco.py needs slixmpp: run it with "
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
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_RSM = "http://jabber.org/protocol/rsm"
PUBLIC = 30      # public rooms on each service, 15 by alice, 15 by bob
HIDDEN = 10      # hidden ones, 5 by alice, 5 by bob
PAGE = 7
# ejabberd's mod_muc pages disco#items over every room, hidden ones too, and
# leaves the hidden ones out of each page afterwards: the count is 41, and a
# page of hidden rooms comes back empty, without <last/>, ending the walk.
EJABBERD_RSM = ("ejabberd's MUC pages over its hidden rooms too (count of "
                "all rooms; a page of hidden ones is empty)")
WAIT = 10        # seconds for any one expected stanza or answer
WATCHDOG = 300   # seconds for the whole run, whatever hangs

# Checked on both, in order: (what, method name, needs RSM).
BOTH = [
    ("Profanity's discovery: disco#items of localhost, disco#info of each "
     "item, the one with the MUC feature is this service", "discovered",
     False),
    ("disco#items without RSM lists every public room and no hidden one",
     "listed", False),
    ("disco#items paged by RSM (max %d, after): the pages join to exactly "
     "the %d public rooms, none twice, count %d on every page"
     % (PAGE, PUBLIC, PUBLIC), "paged", True),
    ("a room's disco#info: identity conference/text with its name, the MUC "
     "feature, muc#roominfo with its description and occupant count",
     "roominfo", False),
]
ONLY_OURS = [
    "imgroups: the last page by <before/>, then the one before it, join to "
    "the last %d rooms" % (2 * PAGE),
    "imgroups: max 0 gives the count alone",
    "imgroups: an <after/> that is no listed room gets <item-not-found/>",
    "imgroups: a room made hidden leaves the list and the count",
    "imgroups: the room's muc#roominfo has the subject and the name (what "
    "Prosody's has and more); the subject not for an outsider of a hidden "
    "room",
]


def roominfo(q):
    """The muc#roominfo form of a disco#info <query/> as {var: [values]}."""
    for x in q.findall("{%s}x" % NS_XDATA):
        fields = {f.get("var"): [v.text or "" for v in
                                 f.findall("{%s}value" % NS_XDATA)]
                  for f in x.findall("{%s}field" % NS_XDATA)}
        if fields.get("FORM_TYPE") == [NS_ROOMINFO]:
            return fields
    return None


def first_value(fields, var):
    vals = fields.get(var) or [None]
    return vals[0]


class Run(ClientRun):
    NAMES = (["server starts", "users registered", "imgroups connects",
              "clients log in", "the rooms are made on both services"]
             + ["%s: %s" % (who, what) for what, _, _ in BOTH
                for who in ("reference", "imgroups")]
             + ONLY_OURS + ["imgroups stops on SIGTERM with status 0"])
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "xep-disco")
        self.public = {}   # service -> set of public room JIDs
        self.hidden = {}   # service -> set of hidden room JIDs
        self.pages = {}    # service -> whether it answers with a <set/>

    def main(self):
        self.tap.diag("%s, temp dir %s" % (self.kind, self.tmp))
        self.run_attached(COMPONENT, USERS, self.flows, WATCHDOG)

    # --- helpers -----------------------------------------------------------
    async def create(self, cl, room, nick, fields):
        """cl creates room, stays in it (the reference's rooms are not
        persistent by default) and submits its form (the reference locks a
        new room until then)."""
        cl.send("<presence to='%s/%s'><x xmlns='%s'/></presence>"
                % (room, nick, NS_MUC))
        pres = await cl.wait(join_answer(room, nick),
                             "the answer to joining %s" % room)
        if ptype(pres) != "available":
            raise Fail("creating %s: %s" % (room, show(pres)))
        await cl.iq("set", room, "<query xmlns='%s'>%s</query>"
                    % (NS_OWNER, data_form(fields)))

    async def info(self, cl, jid):
        res = await cl.iq("get", jid, "<query xmlns='%s'/>" % NS_INFO)
        return res.xml.find("{%s}query" % NS_INFO)

    async def items(self, cl, jid, rsm=None):
        """(item JIDs in order, the answer's <set/> or None)."""
        payload = "<query xmlns='%s'>%s</query>" % (
            NS_ITEMS, "<set xmlns='%s'>%s</set>" % (NS_RSM, rsm)
            if rsm is not None else "")
        res = await cl.iq("get", jid, payload)
        q = res.xml.find("{%s}query" % NS_ITEMS)
        got = [i.get("jid") for i in q.findall("{%s}item" % NS_ITEMS)]
        return got, q.find("{%s}set" % NS_RSM)

    @staticmethod
    def rsm_count(s):
        c = None if s is None else s.findtext("{%s}count" % NS_RSM)
        return int(c) if c is not None else None

    def exactly(self, service, got, what):
        want = self.public[service]
        dup = sorted({j for j in got if got.count(j) > 1})
        hidden = sorted(set(got) & self.hidden[service])
        if dup or hidden or set(got) != want:
            raise Fail("%s: twice %s, hidden %s, missing %s, extra %s"
                       % (what, dup, hidden, sorted(want - set(got)),
                          sorted(set(got) - want - self.hidden[service])))

    # --- the flows ---------------------------------------------------------
    async def flows(self):
        await self.log_in(USERS)
        services = {"reference": REFERENCE, "imgroups": COMPONENT}
        await self.step("%d public and %d hidden rooms made on %s and on %s"
                        % (PUBLIC, HIDDEN, REFERENCE, COMPONENT),
                        self.make_rooms(services.values()))
        for what, name, rsm in BOTH:
            for who, service in services.items():
                desc = "%s: %s" % (who, what)
                if rsm and not self.pages.get(service, True):
                    self.tap.check(True, desc + " # SKIP %s's MUC answers "
                                   "disco#items without RSM" % self.kind)
                    continue
                if rsm and who == "reference" and self.kind == "ejabberd":
                    await self.step(desc, getattr(self, name)(service),
                                         EJABBERD_RSM)
                    continue
                await self.step(desc, getattr(self, name)(service))
        await self.step(ONLY_OURS[0], self.backward(COMPONENT))
        await self.step(ONLY_OURS[1], self.count_alone(COMPONENT))
        await self.step(ONLY_OURS[2], self.unknown_after(COMPONENT))
        await self.step(ONLY_OURS[3], self.made_hidden(COMPONENT))
        await self.step(ONLY_OURS[4], self.ours_more(COMPONENT))
        rc = await self.in_thread(self.ig.stop)
        self.tap.check(rc == 0, "imgroups stops on SIGTERM with status 0",
                       "status %s\n%s" % (rc, self.ig.log_tails(10)))

    async def make_rooms(self, services):
        """Alice and bob each make half the rooms (imgroups' max_rooms and
        join burst are per user); carol makes the room compared field by
        field."""
        for service in services:
            self.public[service], self.hidden[service] = set(), set()
            for n in range(PUBLIC + HIDDEN):
                hidden = n >= PUBLIC
                owner = ("alice", "bob")[n % 2]
                room = "%s%02d@%s" % ("h" if hidden else "p", n, service)
                await self.create(self.clients[owner], room, owner, {
                    "muc#roomconfig_publicroom": "0" if hidden else "1",
                    "muc#roomconfig_roomname": "Room %d" % n})
                (self.hidden if hidden else self.public)[service].add(room)
            room = "info@" + service
            await self.create(self.clients["carol"], room, "carol", {
                "muc#roomconfig_publicroom": "1",
                "muc#roomconfig_roomname": "Info Room",
                "muc#roomconfig_roomdesc": "Where directories look"})
            self.public[service].add(room)

    # --- both --------------------------------------------------------------
    async def discovered(self, service):
        b = self.clients["bob"]
        found = []
        items, _ = await self.items(b, "localhost")
        for j in items:
            try:
                q = await self.info(b, j)
            except IqError:
                continue
            feats = {f.get("var") for f in q.findall("{%s}feature" % NS_INFO)}
            ids = {(i.get("category"), i.get("type"))
                   for i in q.findall("{%s}identity" % NS_INFO)}
            if NS_MUC in feats and ("conference", "text") in ids:
                found.append(j)
        if service not in found:
            raise Fail("the services with the MUC feature: %s (items of "
                       "localhost: %s)" % (found, items))

    async def listed(self, service):
        # carol is in none of the hidden rooms: ejabberd lists a hidden
        # room to its occupants.
        b = self.clients["carol"]
        got, s = await self.items(b, service)
        self.exactly(service, got, "the list")
        if s is not None:
            self.tap.diag("%s: a <set/> without asking: %s" % (service,
                                                                show(s)))
        # Whether it pages at all: a <set/> in the answer to one.
        _, s = await self.items(b, service, "<max>%d</max>" % PAGE)
        self.pages[service] = s is not None

    async def paged(self, service):
        b = self.clients["carol"]
        got, after, counts, answers = [], None, set(), []
        for _ in range(PUBLIC + HIDDEN):
            rsm = "<max>%d</max>" % PAGE
            if after:
                rsm += "<after>%s</after>" % after
            page, s = await self.items(b, service, rsm)
            if s is None:
                raise Fail("no <set/> in the answer")
            counts.add(self.rsm_count(s))
            answers.append("%d items, %s" % (len(page), show(s)))
            if len(page) > PAGE:
                raise Fail("%d items in a page of %d" % (len(page), PAGE))
            if not page:
                break
            got += page
            after = s.findtext("{%s}last" % NS_RSM)
            if not after:
                raise Fail("a page without <last/>: %s" % show(s))
        self.exactly(service, got, "the pages (%s)" % "; ".join(answers))
        if counts != {len(self.public[service])}:
            raise Fail("counts %s, want %d" % (counts,
                                               len(self.public[service])))

    async def roominfo(self, service):
        room = "info@" + service
        q = await self.info(self.clients["bob"], room)
        ids = [(i.get("category"), i.get("type"), i.get("name"))
               for i in q.findall("{%s}identity" % NS_INFO)]
        if ("conference", "text", "Info Room") not in ids:
            raise Fail("identities %s" % ids)
        feats = {f.get("var") for f in q.findall("{%s}feature" % NS_INFO)}
        if NS_MUC not in feats:
            raise Fail("features %s" % sorted(feats))
        fields = roominfo(q)
        if fields is None:
            raise Fail("no muc#roominfo form: %s" % show(q))
        if first_value(fields, "muc#roominfo_description") != \
                "Where directories look":
            raise Fail("description: %s" % fields)
        if first_value(fields, "muc#roominfo_occupants") != "1":
            raise Fail("occupants: %s" % fields)
        self.info_of = getattr(self, "info_of", {})
        self.info_of[service] = (fields, feats)
        if service == COMPONENT and REFERENCE in self.info_of:
            ref_fields, ref_feats = self.info_of[REFERENCE]
            for var in sorted(set(ref_fields) | set(fields)):
                a, b = ref_fields.get(var), fields.get(var)
                if a != b:
                    self.tap.diag("roominfo %s: reference %s, imgroups %s"
                                  % (var, a, b))
            self.tap.diag("features only the reference has: %s"
                          % sorted(ref_feats - feats))
            self.tap.diag("features only imgroups has: %s"
                          % sorted(feats - ref_feats))
            # What both have must agree.
            for var in set(ref_fields) & set(fields):
                if var in ("muc#roomconfig_roomname",) and \
                        ref_fields[var] != fields[var]:
                    raise Fail("%s: reference %s, imgroups %s"
                               % (var, ref_fields[var], fields[var]))

    # --- imgroups alone ----------------------------------------------------
    async def backward(self, service):
        b = self.clients["bob"]
        last, s = await self.items(b, service, "<max>%d</max><before/>"
                                   % PAGE)
        first = s.findtext("{%s}first" % NS_RSM)
        before, _ = await self.items(b, service,
                                     "<max>%d</max><before>%s</before>"
                                     % (PAGE, first))
        every, _ = await self.items(b, service, "<max>100</max>")
        if before + last != every[-2 * PAGE:]:
            raise Fail("backward %s, forward's end %s"
                       % (before + last, every[-2 * PAGE:]))

    async def count_alone(self, service):
        got, s = await self.items(self.clients["bob"], service,
                                  "<max>0</max>")
        if got or self.rsm_count(s) != len(self.public[service]):
            raise Fail("items %s, set %s" % (got, show(s)))

    async def unknown_after(self, service):
        try:
            await self.items(self.clients["bob"], service,
                             "<after>h30</after>")
        except IqError as e:
            if e.iq["error"]["condition"] != "item-not-found":
                raise Fail("want <item-not-found/>: %s" % e.iq)
            return
        raise Fail("want <item-not-found/>, got a result")

    async def made_hidden(self, service):
        room = "p00@" + service
        await self.clients["alice"].iq(
            "set", room, "<query xmlns='%s'>%s</query>"
            % (NS_OWNER, data_form({"muc#roomconfig_publicroom": "0"})))
        self.public[service].discard(room)
        self.hidden[service].add(room)
        got, s = await self.items(self.clients["bob"], service,
                                  "<max>100</max>")
        self.exactly(service, got, "after hiding %s" % room)
        if self.rsm_count(s) != len(self.public[service]):
            raise Fail("count %s" % show(s))

    async def ours_more(self, service):
        c = self.clients["carol"]
        room = "info@" + service
        c.send("<message to='%s' type='groupchat'><subject>Crawled"
               "</subject></message>" % room)
        await c.wait(lambda el: el.get("from", "").startswith(room)
                     and el.findtext("{jabber:client}subject") == "Crawled",
                     "the subject")
        fields = roominfo(await self.info(self.clients["bob"], room))
        if first_value(fields, "muc#roominfo_subject") != "Crawled" or \
                first_value(fields, "muc#roomconfig_roomname") != "Info Room":
            raise Fail("fields %s" % fields)
        # A hidden room: bob, an outsider, sees no subject.
        await c.iq("set", room, "<query xmlns='%s'>%s</query>" % (
            NS_OWNER, data_form({"muc#roomconfig_publicroom": "0"})))
        fields = roominfo(await self.info(self.clients["bob"], room))
        if "muc#roominfo_subject" in fields:
            raise Fail("an outsider sees the subject: %s" % fields)

    # --- the end -----------------------------------------------------------
    def cleanup(self):
        self.finish((self.ig, self.server))


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
