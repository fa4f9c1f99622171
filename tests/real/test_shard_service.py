"""Issue 14, item 2 (the service as one): two imgroups shards behind one
private ejabberd (domain_balancing bare_destination, component_number 2,
the shard bus hosts shard0/shard1.groups.localhost, global_routes false).
The instance that owns the service JID (ejabberd routes groups.localhost to
shard_of(groups.localhost)) answers for both: disco#items lists the public
rooms of both shards and pages them (XEP-0059 after/before) as one list;
the admins' `stats` adds up both shards' figures; an announcement reaches
occupants of rooms on both shards; with the other shard killed, stats
answers within the bus timeout with a note naming it and disco#items lists
the living shard's rooms. Prints TAP.

    /usr/bin/python3 tests/real/test_shard_service.py /path/to/imgroups \
        /path/to/tests/shard_of

Which shard owns a room is what tests/shard_of (the second argument) says.
Every wait is bounded; every process is stopped by its PID at the end.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402  (tests/tap.py)

try:
    from xmppclient import (  # noqa: E402
        Client, ClientRun, Fail, body, kind, presence_from)
except ImportError:
    sys.stderr.write("test_shard_service.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
SHARDS = 2
ROOMS_PER_SHARD = 4
USERS = ("alice", "bob", "admin")
NS_MUC = "http://jabber.org/protocol/muc"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_CMD = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
ANNOUNCE = "http://jabber.org/protocol/admin#announce"
PAGE = 3
WATCHDOG = 300
BUS_TIMEOUT = 3.0  # cluster/bus.h BUS_TIMEOUT_MS


class Run(ClientRun):
    NAMES = [
        "ejabberd starts with domain_balancing over 2 slots and the bus "
        "hosts",
        "alice, bob and admin registered",
        "shard 0 then shard 1 connect, each on its slot, both bus links up",
        "alice, bob and admin log in",
        "alice creates %d rooms of each shard (names interleaved); each "
        "answers with its self-presence" % ROOMS_PER_SHARD,
        "disco#items of the service lists the rooms of both shards, once "
        "each, in name order, with count %d" % (SHARDS * ROOMS_PER_SHARD),
        "disco#items paged by %d (after) joins to the same list, and paged "
        "backward (before) too" % PAGE,
        "an after naming no group is item-not-found",
        "stats: groups and occupants add up over both shards",
        "groups (the admins' listing) has the groups of both shards in name "
        "order",
        "announce: alice (in rooms of both shards) and bob (in a room of "
        "one) get the headline from the service; the note sums the shards'",
        "group-create of a group the other shard owns is made there: it is "
        "listed; group-destroy done there too: it is not",
        "the shard not owning the service killed: stats answers within "
        "the bus timeout with a warn note naming it",
        "with it down, disco#items lists the living shard's rooms",
    ]

    def __init__(self, binary, shard_of):
        super().__init__("ejabberd", binary, "shard-service")
        self.shard_of = shard_of
        self.igs = []
        self.rooms = {}  # shard -> [room JIDs]
        self.service_shard = None

    def owners(self, jids):
        out = subprocess.run(
            [self.shard_of, str(SHARDS)], check=True, capture_output=True,
            text=True, timeout=30, input="".join(j + "\n" for j in jids))
        return {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1])
                for line in out.stdout.splitlines()}

    def pick_rooms(self):
        owner = self.owners(["room%02d@%s" % (i, COMPONENT)
                             for i in range(60)] + [COMPONENT])
        self.service_shard = owner.pop(COMPONENT)
        for jid in sorted(owner):
            k = owner[jid]
            if len(self.rooms.setdefault(k, [])) < ROOMS_PER_SHARD:
                self.rooms[k].append(jid)
        if any(len(self.rooms.get(k, [])) < ROOMS_PER_SHARD
               for k in range(SHARDS)):
            raise tap.Abort("too few rooms per shard: %s" % self.rooms)

    def all_rooms(self):
        return sorted(j for k in range(SHARDS) for j in self.rooms[k])

    def main(self):
        t = self.tap
        t.diag("temp dir %s" % self.tmp)
        self.pick_rooms()
        t.diag("the service JID is shard %d's" % self.service_shard)
        try:
            srv = self.server = servers.BalancedEjabberd(
                self.tmp, COMPONENT, self.secret, SHARDS)
            srv.start()
            ok, why = srv.alive() and srv.accepts(), None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[0], why):
            raise tap.Abort
        try:
            for u in USERS:
                srv.register(u, u + "-pw")
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[1], why):
            raise tap.Abort
        try:
            self.igs = servers.start_shards(
                self.tmp, self.binary, COMPONENT, self.secret, [srv], SHARDS,
                log_level="debug")
            for ig in self.igs:
                ig.wait_log(r"bus: shard \d+ of \d+ connected", 15)
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[2], why):
            raise tap.Abort
        try:
            self.run_async(self.flows(), WATCHDOG - 60)
        finally:
            self.run_async(asyncio.gather(
                *(c.close() for c in self.clients.values()),
                return_exceptions=True), 30)

    # --- helpers -----------------------------------------------------------
    async def items(self, cl, rsm=None):
        payload = "<query xmlns='%s'>%s</query>" % (
            NS_ITEMS, "<set xmlns='%s'>%s</set>" % (NS_RSM, rsm)
            if rsm is not None else "")
        res = await cl.iq("get", COMPONENT, payload)
        q = res.xml.find("{%s}query" % NS_ITEMS)
        got = [i.get("jid") for i in q.findall("{%s}item" % NS_ITEMS)]
        s = q.find("{%s}set" % NS_RSM)
        return got, s

    @staticmethod
    def count(s):
        c = None if s is None else s.findtext("{%s}count" % NS_RSM)
        return int(c) if c is not None else None

    async def command(self, cl, node, sid=None, fields=None):
        """(the <command/>, {var: [values]} of its form, (note type, text))."""
        x = ""
        if fields is not None:
            x = "<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, "".join(
                "<field var='%s'>%s</field>" % (
                    var, "".join("<value>%s</value>" % v for v in vals))
                for var, vals in fields.items()))
        payload = "<command xmlns='%s' node='%s' action='execute'%s>%s" \
                  "</command>" % (NS_CMD, node,
                                  " sessionid='%s'" % sid if sid else "", x)
        res = await cl.iq("set", COMPONENT, payload, timeout=BUS_TIMEOUT + 7)
        c = res.xml.find("{%s}command" % NS_CMD)
        form = {}
        xf = c.find("{%s}x" % NS_DATA)
        if xf is not None:
            for f in xf.findall("{%s}field" % NS_DATA):
                form[f.get("var")] = [v.text or "" for v in
                                      f.findall("{%s}value" % NS_DATA)]
        note = c.find("{%s}note" % NS_CMD)
        return c, form, ((note.get("type"), note.text or "")
                         if note is not None else (None, None))

    # --- the flows ---------------------------------------------------------
    async def flows(self):
        for u in USERS:
            self.clients[u] = Client(self.loop, self.server.c2s_port, u)
        if not await self.step(self.NAMES[3], self.log_in_all()):
            raise tap.Abort
        a, b, adm = (self.clients[u] for u in USERS)
        if not await self.step(self.NAMES[4], self.create(a)):
            raise tap.Abort
        await self.step(self.NAMES[5], self.listed(adm))
        await self.step(self.NAMES[6], self.paged(adm))
        await self.step(self.NAMES[7], self.not_listed(adm))
        await self.step(self.NAMES[8], self.stats(adm))
        await self.step(self.NAMES[9], self.listing(adm))
        await self.step(self.NAMES[10], self.announce(a, b, adm))
        await self.step(self.NAMES[11], self.made_elsewhere(adm))
        await self.step(self.NAMES[12], self.partial(adm))
        await self.step(self.NAMES[13], self.living(adm))

    async def log_in_all(self):
        await asyncio.gather(*(c.login() for c in self.clients.values()))

    async def create(self, a):
        for room in self.all_rooms():
            a.send("<presence to='%s/alice'><x xmlns='%s'/></presence>"
                   % (room, NS_MUC))
            await a.wait(presence_from(room + "/alice"),
                         "the self-presence of %s" % room)

    async def listed(self, adm):
        got, s = await self.items(adm)
        if got != self.all_rooms() or self.count(s) not in (None, len(got)):
            raise Fail("got %s (count %s), want %s"
                       % (got, self.count(s), self.all_rooms()))

    async def paged(self, adm):
        fwd, after, counts = [], None, set()
        for _ in range(20):
            rsm = "<max>%d</max>" % PAGE + (
                "<after>%s</after>" % after if after else "")
            page, s = await self.items(adm, rsm)
            counts.add(self.count(s))
            if not page:
                break
            fwd += page
            after = s.findtext("{%s}last" % NS_RSM)
        back, before = [], ""
        for _ in range(20):
            page, s = await self.items(
                adm, "<max>%d</max><before>%s</before>" % (PAGE, before))
            if not page:
                break
            back = page + back
            before = s.findtext("{%s}first" % NS_RSM)
        want = self.all_rooms()
        if fwd != want or back != want or counts != {len(want)}:
            raise Fail("forward %s, backward %s, counts %s, want %s"
                       % (fwd, back, counts, want))

    async def not_listed(self, adm):
        from slixmpp.exceptions import IqError
        try:
            await self.items(adm, "<max>3</max><after>nosuch</after>")
        except IqError as e:
            cond = e.iq["error"]["condition"]
            if cond != "item-not-found":
                raise Fail("error %s" % cond)
            return
        raise Fail("a page after an unknown group was answered")

    async def stats(self, adm):
        c, form, note = await self.command(adm, "stats")
        groups = form.get("groups", ["?"])[0]
        occ = form.get("occupants", ["?"])[0]
        want = SHARDS * ROOMS_PER_SHARD
        if (c.get("status") != "completed" or groups != str(want)
                or not occ.startswith("%d " % want) or note[0] != "info"):
            raise Fail("status %s, groups %s, occupants %s (want %d), note %s"
                       % (c.get("status"), groups, occ, want, note))

    async def listing(self, adm):
        res = await adm.iq("set", COMPONENT,
                           "<command xmlns='%s' node='groups' "
                           "action='execute'/>" % NS_CMD,
                           timeout=BUS_TIMEOUT + 7)
        c = res.xml.find("{%s}command" % NS_CMD)
        xf = c.find("{%s}x" % NS_DATA)
        names = [f.findtext("{%s}value" % NS_DATA)
                 for it in xf.findall("{%s}item" % NS_DATA)
                 for f in it.findall("{%s}field" % NS_DATA)
                 if f.get("var") == "group"]
        want = [j.split("@")[0] for j in self.all_rooms()]
        note = c.find("{%s}note" % NS_CMD)
        text = note.text if note is not None else None
        if names != want or c.get("status") != "completed" or \
                text != "%d groups in all." % len(want):
            raise Fail("groups %s (want %s), status %s, note %r"
                       % (names, want, c.get("status"), text))

    async def announce(self, a, b, adm):
        # bob joins one room of the shard alice's first room is not on
        r1 = self.rooms[1 - self.owners([self.all_rooms()[0]])[
            self.all_rooms()[0]]][0]
        b.send("<presence to='%s/bob'><x xmlns='%s'/></presence>"
               % (r1, NS_MUC))
        await b.wait(presence_from(r1 + "/bob"), "bob's self-presence")
        a.forget()
        b.forget()
        c, form, note = await self.command(adm, ANNOUNCE)
        text = "maintenance at noon %d" % time.time()
        c, form, note = await self.command(
            adm, ANNOUNCE, c.get("sessionid"), {"announcement": [text]})
        # alice is in groups of both shards: each shard sends to its own
        # occupants, so she counts (and gets it) once per shard
        if c.get("status") != "completed" or note[0] != "info" or \
                not note[1].startswith("Sent to 3 XMPP users"):
            raise Fail("status %s, note %s" % (c.get("status"), note))
        for cl in (a, b):
            got = await cl.wait(
                lambda el: kind(el) == "message" and
                el.get("type") == "headline" and body(el) == text,
                "%s's announcement" % cl.user)
            if got.get("from") != COMPONENT:
                raise Fail("from %s" % got.get("from"))

    async def made_elsewhere(self, adm):
        other = 1 - self.service_shard
        owner = self.owners(["made%02d@%s" % (i, COMPONENT)
                             for i in range(40)])
        name = sorted(j for j, k in owner.items() if k == other)[0]
        c, form, note = await self.command(adm, "group-create")
        c, form, note = await self.command(
            adm, "group-create", c.get("sessionid"),
            {"group": [name.split("@")[0]]})
        if note[0] != "info" or "shard %d" % other not in note[1]:
            raise Fail("create: %s" % (note,))
        got, s = await self.items(adm)
        if name not in got:
            raise Fail("not listed after create: %s" % got)
        c, form, note = await self.command(adm, "group-destroy")
        c, form, note = await self.command(
            adm, "group-destroy", c.get("sessionid"),
            {"group": [name.split("@")[0]]})
        if note[0] != "info":
            raise Fail("destroy: %s" % (note,))
        got, s = await self.items(adm)
        if name in got or got != self.all_rooms():
            raise Fail("listed after destroy: %s" % got)

    async def partial(self, adm):
        other = 1 - self.service_shard
        ig = self.igs[other]
        await self.in_thread(ig.kill)
        start = self.loop.time()
        c, form, note = await self.command(adm, "stats")
        took = self.loop.time() - start
        want = "shard %d did not answer: figures are for shard %d." % (
            other, self.service_shard)
        groups = form.get("groups", ["?"])[0]
        if (note != ("warn", want) or took > BUS_TIMEOUT + 2
                or groups != str(ROOMS_PER_SHARD)):
            raise Fail("note %s (want warn %r), groups %s, after %.1f s"
                       % (note, want, groups, took))

    async def living(self, adm):
        got, s = await self.items(adm)
        want = sorted(self.rooms[self.service_shard])
        if got != want:
            raise Fail("got %s, want %s" % (got, want))

    # --- the end -----------------------------------------------------------
    def cleanup(self):
        self.finish(list(self.igs) + [self.server], self.report)

    def report(self):
        for ig in self.igs:
            if self.tap.failed:
                self.tap.diag("%s:\n%s" % (ig.name, ig.log_tails(20)))


def main(argv):
    tap.usage(argv, "/path/to/imgroups /path/to/shard_of",
              lambda a: len(a) == 2 and all(os.access(x, os.X_OK)
                                            for x in a))
    return tap.run(lambda: Run(os.path.abspath(argv[1]),
                               os.path.abspath(argv[2])), WATCHDOG,
                   "shard-service")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
