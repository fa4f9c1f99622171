"""Issue 14's cluster test: two imgroups shards behind a two-node ejabberd
cluster on 127.0.0.1 (docs/cluster.md, "The whole thing on two nodes").
Rooms created through either node land in their owner's store only and
work from clients on both nodes; disco#items of the service lists both
shards' rooms; an admin's stats add up; an IRC bot account runs only on
the shard owning its group; one shard killed (SIGKILL) and restarted while
a client keeps sending to rooms of both shards: the other shard's room
reflects every message throughout, and no message whose reflection came
back (acknowledged) is missing from its room's archive afterwards;
`imgroups --reshard` from 2 shards to 3 and the cluster restarted with
component_number 3: every room's archive intact. Prints TAP.

    /usr/bin/python3 tests/real/test_cluster.py /path/to/imgroups \
        /path/to/tests/shard_of /path/to/imgroups-purple

Starts servers.Cluster (a private epmd, two ejabberd 23.01 nodes joined,
domain_balancing bare_destination with component_number 2, the shard bus
hosts on each node's listener, global_routes false), a private ngircd,
and, with servers.start_shards, instance 0 on node 1 then instance 1 on
node 2, each on its own slot (proven, with a binary that has the slot
probe). alice and admin log in to node 1, bob to node 2. Which shard owns
a room is what tests/shard_of (the second argument) says for it; which
store holds it is what `imgroups --dump` of each store shows. Every wait
is bounded; every process is stopped by its PID at the end.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402  (tests/tap.py)

try:
    from bridgebase import workers_of  # noqa: E402
    from xmppclient import (  # noqa: E402
        Client, ClientRun, Fail, body, codes, groupchat_from, kind,
        presence_from, show, stanza_error)
except ImportError:
    sys.stderr.write("test_cluster.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
SHARDS = 2
USERS = ("alice", "bob", "admin")   # admin@localhost: the service admin
NS_MUC = "http://jabber.org/protocol/muc"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_CMD = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
CLIENT = "{jabber:client}"
WAIT = 10        # seconds for any one expected stanza or answer
WATCHDOG = 540   # the whole run, whatever hangs
ROUNDS_UP = 40   # load rounds before the kill and after the return
ROUND_GAP = 0.02  # the load's pace (its rate, not a wait for anything)
MAM_MAX = 100
# alice's load is far above a person's pace: [limits] lets it through.
LOAD_LIMITS = {"rate": 1000, "burst": 1000}


def join_xml(room, nick):
    return ("<presence to='%s/%s'><x xmlns='%s'><history maxstanzas='0'/>"
            "</x></presence>" % (room, nick, NS_MUC))


def say_xml(room, text):
    return ("<message type='groupchat' to='%s' id='%s'><body>%s</body>"
            "</message>" % (room, text, text))


def proof_of(binary):
    """The log line that says an instance proved its slot (the slot probe,
    docs/cluster.md "Which connection holds which slot"), or None for a
    binary without the probe, which serves as soon as it is connected."""
    with open(binary, "rb") as f:
        return r"shard \d+ of \d+: slot proven" if b"slot proven" in \
            f.read() else None


def dump_store(binary, config_path, store=None):
    """The groups a store holds, from `imgroups --dump` (beside a running
    instance is fine): the groups database's keys. store: another store
    than the config's (a config naming it is written beside it)."""
    if store is not None:
        with open(config_path) as f:
            text = f.read()
        config_path = os.path.join(os.path.dirname(store), "dump.conf")
        with open(config_path, "w") as f:
            f.write(re.sub(r"(?m)^path = .*$", "path = %s" % store, text, 1))
    out = subprocess.run([binary, "--config", config_path, "--dump"],
                         stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise Fail("--dump of %s failed (%d): %s" % (
            store or config_path, out.returncode, out.stderr[-2000:]))
    names, cur = set(), None
    for line in out.stdout.splitlines():
        m = re.match(r"^\[(\w+)\] ", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"^\('([^']*)'\) = ", line)
        if cur == "groups" and m:
            names.add(m.group(1))
    return names


class Run(ClientRun):
    NAMES = [
        "a two-node ejabberd cluster starts: mnesia runs on both",
        "alice, bob and admin registered (once, for the whole cluster)",
        "ngircd starts; shard 0 connects to node 1 and holds slot 1, "
        "shard 1 to node 2 and slot 2",
        "alice and admin log in to node 1, bob to node 2",
        "alice creates a room of each shard through node 1 and bob one of "
        "each through node 2: each answered with 201 by its owner",
        "each room is in its owner's store and not in the other's",
        "in each of the four rooms, alice (node 1) and bob (node 2) get "
        "each other's messages",
        "disco#items of the service, asked through node 2, lists the four "
        "rooms and the two bots' groups of both shards, each once",
        "an admin's stats through node 1 add up over both shards: 6 groups "
        "(the four rooms, the bots' two), 8 occupants, no shard missing",
        "each IRC bot account (the same config on both shards) runs only "
        "on the shard owning its group: its worker under that instance "
        "alone, online in that log alone",
        "with alice sending to a room of each shard, shard 1 killed "
        "(SIGKILL): shard 0's standby takes its slot and alice's messages "
        "to its room get service-unavailable",
        "while shard 1 is down, every message to shard 0's room is "
        "reflected to alice and reaches bob on the other node",
        "shard 1 restarted takes slot 2 again; alice and bob rejoin its "
        "room and its messages are reflected again, the load still going",
        "no acknowledged message is lost: the archive of each room (MAM, "
        "from bob on node 2) has every message whose reflection alice got, "
        "once, in order",
        "both shards stop on SIGTERM with status 0",
        "imgroups --reshard --to 3 moves the rooms from the two stores to "
        "three: each room is in the store of shard_of(room, 3) only",
        "the cluster restarted with component_number 3 and three shards "
        "(in order, each on its slot): every room answers a join without "
        "201 and its archive (MAM) is what it was before the move",
    ]

    def __init__(self, binary, shard_of, worker):
        super().__init__("ejabberd", binary, "cluster")
        self.shard_of = shard_of
        self.worker = worker
        self.proven = proof_of(binary)
        self.irc = None
        self.bot_accounts, self.bot_shard = [], {}
        self.cluster = None
        self.igs = []
        self.rooms = {}     # shard -> [room JIDs]
        self.acked = {}     # room -> [bodies alice got back, in order]
        self.loader = None  # the load's task

    # --- setup -----------------------------------------------------------
    def owners(self, names, shards=SHARDS):
        out = subprocess.run(
            [self.shard_of, str(shards)], check=True, capture_output=True,
            text=True, timeout=30,
            input="".join("%s@%s\n" % (n, COMPONENT) for n in names))
        return {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1])
                for line in out.stdout.splitlines()}

    def pick_rooms(self):
        """Two room JIDs of each shard, together owned by each of the three
        shards after the move to 3 (so that every new store gets some)."""
        names = ["team-%d" % i for i in range(60)]
        two, three = self.owners(names), self.owners(names, SHARDS + 1)
        jids = sorted(two, key=lambda j: int(j.split("-")[1].split("@")[0]))
        covered = set()
        for new_first in (True, False):
            for jid in jids:
                k = two[jid]
                picked = self.rooms.setdefault(k, [])
                if len(picked) < 2 and jid not in picked and (
                        not new_first or three[jid] not in covered):
                    picked.append(jid)
                    covered.add(three[jid])
        if (any(len(self.rooms.get(k, [])) < 2 for k in range(SHARDS))
                or len(covered) < SHARDS + 1):
            raise tap.Abort("tests/shard_of gives too few rooms per shard: "
                            "%s" % self.rooms)

    def main(self):
        t = self.tap
        t.diag("temp dir %s; the binary %s" % (
            self.tmp, "proves its slot" if self.proven else
            "has no slot probe"))
        self.pick_rooms()
        self.cluster = servers.Cluster(self.tmp, COMPONENT, self.secret,
                                       SHARDS)
        try:
            self.cluster.start()
            db = self.cluster.db_nodes()
            ok, why = sorted(db) == sorted(n.node for n in
                                           self.cluster.nodes), db
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[0], why):
            raise tap.Abort
        try:
            for u in USERS:
                self.cluster.register(u, u + "-pw")
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[1], why):
            raise tap.Abort
        try:
            self.irc = servers.Ngircd(self.tmp)
            self.irc.start()
            self.bot_accounts, self.bot_shard = self.accounts()
            self.igs = servers.start_shards(
                self.tmp, self.binary, COMPONENT, self.secret,
                self.cluster.nodes, SHARDS, log_level="debug",
                **self.shard_kw())
            rows = self.cluster.nodes[1].routes()
            n1, n2 = (n.node for n in self.cluster.nodes)
            ok = sorted(rows) == [("1", n1), ("2", n2)]
            why = rows
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[2], why):
            raise tap.Abort
        self.server = self.cluster.nodes[0]
        try:
            self.run_async(self.flows(), WATCHDOG - 120)
        finally:
            self.run_async(asyncio.gather(
                *(c.close() for c in self.clients.values()),
                return_exceptions=True), 30)

    def shard_kw(self):
        """What every instance's config has besides [cluster]: the same
        bot accounts, the worker, the load's [limits]."""
        return {"accounts": self.bot_accounts, "proven": self.proven,
                "sections": [("limits", LOAD_LIMITS),
                             ("legacy", {"worker": self.worker})]}

    async def log_in_cluster(self):
        """alice and admin on node 1, bob on node 2 (new sessions)."""
        nodes = self.cluster.nodes
        for u, node in zip(USERS, (nodes[0], nodes[1], nodes[0])):
            self.clients[u] = Client(self.loop, node.c2s_port, u)
        await asyncio.gather(*(c.login() for c in self.clients.values()))

    # --- the flows ---------------------------------------------------------
    async def flows(self):
        t = self.tap
        if not await self.step(self.NAMES[3], self.log_in_cluster()):
            raise tap.Abort
        a, b = self.clients["alice"], self.clients["bob"]
        if not await self.step(self.NAMES[4], self.create(a, b)):
            raise tap.Abort
        await self.step(self.NAMES[5], self.in_stores())
        if not await self.step(self.NAMES[6], self.both_ways(a, b)):
            raise tap.Abort
        await self.step(self.NAMES[7], self.listed(b))
        await self.step(self.NAMES[8], self.stats(self.clients["admin"]))
        await self.step(self.NAMES[9], self.bots())
        await self.failover(a, b)
        await self.step(self.NAMES[13], self.archives(b))
        before = {}
        for k in range(SHARDS):
            for room in self.rooms[k]:
                before[room] = await self.mam(b, room)
        rcs = []
        for ig in self.igs:
            rcs.append(await self.in_thread(ig.stop))
        if not t.check(rcs == [0] * SHARDS, self.NAMES[14], rcs):
            raise tap.Abort
        if not await self.step(self.NAMES[15], self.reshard()):
            raise tap.Abort
        await self.step(self.NAMES[16], self.after_reshard(before))

    async def create(self, a, b):
        problems = []
        for cl, i in ((a, 0), (b, 1)):
            nick = cl.user
            for k in range(SHARDS):
                room = self.rooms[k][i]
                cl.send(join_xml(room, nick))
                pres = await cl.wait(presence_from("%s/%s" % (room, nick)),
                                     "the self-presence of %s" % room)
                if not {110, 201} <= codes(pres):
                    problems.append("%s: %s" % (room, show(pres)))
        if problems:
            raise Fail("no 201 (created):\n" + "\n".join(problems))

    async def in_stores(self):
        held = []
        for ig in self.igs:
            held.append(await self.in_thread(dump_store, self.binary,
                                             ig.config_path))
        problems = []
        for k in range(SHARDS):
            for room in self.rooms[k]:
                name = room.split("@")[0]
                where = [j for j in range(SHARDS) if name in held[j]]
                if where != [k]:
                    problems.append("%s (shard %d) is in the stores of %s"
                                    % (name, k, where))
        if problems:
            raise Fail("\n".join(problems + ["stores: %s" % held]))

    async def both_ways(self, a, b):
        for cl in (a, b):  # each joins the rooms the other created
            for k in range(SHARDS):
                room = self.rooms[k][0 if cl is b else 1]
                cl.send(join_xml(room, cl.user))
                await cl.wait(presence_from("%s/%s" % (room, cl.user)),
                              "the self-presence of %s" % room)
        for cl, other in ((a, b), (b, a)):
            for k in range(SHARDS):
                for room in self.rooms[k]:
                    text = "hi-%s-%s" % (cl.user, room.split("@")[0])
                    cl.send(say_xml(room, text))
                    await other.wait(groupchat_from("%s/%s" % (room, cl.user),
                                                    text),
                                     "%s's message in %s" % (cl.user, room))

    # --- the service as one (sv) -------------------------------------------
    async def listed(self, b):
        res = await b.iq("get", COMPONENT, "<query xmlns='%s'/>" % NS_ITEMS)
        q = res.xml.find("{%s}query" % NS_ITEMS)
        got = [i.get("jid") for i in q.findall("{%s}item" % NS_ITEMS)]
        want = sorted([r for k in range(SHARDS) for r in self.rooms[k]]
                      + ["%s@%s" % (keys["group"], COMPONENT)
                         for _, keys in self.bot_accounts])
        if sorted(got) != want:
            raise Fail("items %s, want %s" % (got, want))

    async def stats(self, adm):
        res = await adm.iq("set", COMPONENT,
                           "<command xmlns='%s' node='stats' "
                           "action='execute'/>" % NS_CMD, timeout=WAIT)
        c = res.xml.find("{%s}command" % NS_CMD)
        form = {}
        for f in c.iter("{%s}field" % NS_DATA):
            form[f.get("var")] = [v.text or "" for v in
                                  f.findall("{%s}value" % NS_DATA)]
        note = c.find("{%s}note" % NS_CMD)
        groups = form.get("groups", ["?"])[0]
        occ = form.get("occupants", ["?"])[0]
        if (c.get("status") != "completed" or groups != "6"
                or not occ.startswith("8 ")
                or (note is not None and note.get("type") != "info")):
            raise Fail("status %s, groups %s, occupants %s, note %s"
                       % (c.get("status"), groups, occ,
                          None if note is None else show(note)))

    # --- bots on their owner (bt) -----------------------------------------
    def accounts(self):
        """One chat-mode IRC bot per shard, group irc-<i> of that shard:
        (section name, keys) for servers.Imgroups, and {account: shard}."""
        names = ["irc-%d" % i for i in range(40)]
        owner = self.owners(names)
        out, where = [], {}
        for jid in sorted(owner, key=lambda j: int(j.split("-")[1]
                                                   .split("@")[0])):
            k = owner[jid]
            if k in where.values():
                continue
            group = jid.split("@")[0]
            acct = "bot-%s" % group
            where[acct] = k
            out.append((acct, {"protocol": "prpl-irc",
                               "username": "%s@127.0.0.1" % group.replace(
                                   "-", ""),
                               "group": group, "chat": "#" + group,
                               "mode": "chat",
                               "option.port": str(self.irc.port)}))
        return out, where

    async def bots(self):
        problems = []
        for acct, k in self.bot_shard.items():
            await self.in_thread(self.igs[k].wait_log,
                                 r"account %s is online" % acct, 60)
            for j, ig in enumerate(self.igs):
                n = len(workers_of(ig.pid, acct))
                online = re.search(r"account %s is online" % re.escape(acct),
                                   ig.log_text())
                if (n, bool(online)) != ((1, True) if j == k else (0, False)):
                    problems.append("shard %d runs %d worker(s) of %s (its "
                                    "group is shard %d's), online in its "
                                    "log: %s" % (j, n, acct, k, bool(online)))
        if len(self.bot_shard) != SHARDS:
            problems.append("bots for shards %s only" % self.bot_shard)
        if problems:
            raise Fail("\n".join(problems))

    # --- resharding (rs) -------------------------------------------------
    async def reshard(self):
        """--reshard from the two stores to three new ones, where the three
        new instances will keep them."""
        self.new_stores = [os.path.join(self.tmp, "three%d" % k, "store")
                           for k in range(SHARDS + 1)]
        for d in self.new_stores:
            os.makedirs(os.path.dirname(d), exist_ok=True)
        r = await self.in_thread(lambda: subprocess.run(
            [self.binary, "--config", self.igs[0].config_path, "--reshard",
             "--to", str(SHARDS + 1)] + [ig.storage for ig in self.igs]
            + self.new_stores, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=120))
        self.tap.diag("--reshard said:\n" + r.stdout.strip())
        if r.returncode != 0:
            raise Fail("--reshard exited %d: %s" % (r.returncode,
                                                    r.stderr[-2000:]))
        names = [room for k in range(SHARDS) for room in self.rooms[k]]
        owner = self.owners([n.split("@")[0] for n in names],
                            SHARDS + 1)
        held = []
        for d in self.new_stores:
            held.append(await self.in_thread(dump_store, self.binary,
                                             self.igs[0].config_path, d))
        problems = []
        for room in names:
            name = room.split("@")[0]
            where = [k for k in range(SHARDS + 1) if name in held[k]]
            if where != [owner[room]]:
                problems.append("%s (shard %d of 3) is in the new stores %s"
                                % (name, owner[room], where))
        if problems:
            raise Fail("\n".join(problems + ["stores: %s" % held]))

    async def after_reshard(self, before):
        await self.close_clients()
        n = SHARDS + 1
        await self.in_thread(self.cluster.reconfigure, n)
        igs = await self.in_thread(lambda: servers.start_shards(
            self.tmp, self.binary, COMPONENT, self.secret,
            self.cluster.nodes, n, prefix="three", log_level="debug",
            **self.shard_kw()))
        self.igs = igs
        await self.log_in_cluster()
        b = self.clients["bob"]
        problems = []
        for room, bodies in before.items():
            b.send(join_xml(room, "bob"))
            pres = await b.wait(presence_from(room + "/bob"),
                                "the self-presence of %s" % room)
            if 201 in codes(pres) or 110 not in codes(pres):
                problems.append("%s: joined with %s" % (room,
                                                        sorted(codes(pres))))
            now = await self.mam(b, room)
            if now != bodies:
                problems.append("%s: %d archived before, %d after; first "
                                "difference %s" % (
                                    room, len(bodies), len(now),
                                    next(((x, y) for x, y in zip(bodies, now)
                                          if x != y), None)))
        if problems:
            raise Fail("\n".join(problems))

    async def close_clients(self):
        await asyncio.gather(*(c.close() for c in self.clients.values()),
                             return_exceptions=True)

    # --- the failover under load ---------------------------------------
    async def load(self, a, b, rooms, stop, phase):
        """alice sends a round (one message to each of rooms) every
        ROUND_GAP seconds until `stop` is set; a message is acknowledged
        when her own reflection comes back. The first room's (shard 0's)
        reflection must come back to alice, and reach bob, within WAIT
        seconds, whatever phase[0] says shard 1 is doing."""
        n = 0
        while not stop.is_set():
            n += 1
            texts = []
            for room in rooms:
                text = "load-%d-%s-%s" % (n, phase[0], room.split("@")[0])
                a.send(say_xml(room, text))
                texts.append(text)
            frm = "%s/alice" % rooms[0]
            await a.wait(groupchat_from(frm, texts[0]),
                         "the reflection of %s (shard 0, %s)"
                         % (texts[0], phase[0]))
            await b.wait(groupchat_from(frm, texts[0]),
                         "alice's %s (shard 0, %s)" % (texts[0], phase[0]))
            phase[1][phase[0]] = phase[1].get(phase[0], 0) + 1
            self.drain(a)
            self.drain(b)
            await asyncio.sleep(ROUND_GAP)  # the load's rate
        return n

    @staticmethod
    def drain(cl):
        """Drops the load's messages from cl's inbox (its log keeps them):
        the waits then scan a short list."""
        cl.take_all(lambda el: (body(el) or "").startswith("load-"))

    def acks(self, a):
        """{room: [bodies of alice's load messages reflected to her, in
        arrival order]}, from everything she received."""
        out = {}
        for _, el in a.log:
            if kind(el) != "message" or el.get("type") != "groupchat":
                continue
            room = el.get("from", "").split("/")[0]
            text = body(el) or ""
            if (el.get("from") == room + "/alice"
                    and text.startswith("load-")
                    and not text.startswith("load-end")):
                out.setdefault(room, []).append(text)
        return out

    async def rounds(self, phase, name, count):
        """Waits until `count` load rounds of phase `name` were made."""
        deadline = self.loop.time() + WAIT * 3
        while phase[1].get(name, 0) < count:
            if self.loader.done():
                self.loader.result()  # the load's failure, as this one's
                raise Fail("the load stopped")
            if self.loop.time() > deadline:
                raise Fail("only %d load rounds in phase %s"
                           % (phase[1].get(name, 0), name))
            await asyncio.sleep(0.05)

    async def failover(self, a, b):
        t = self.tap
        r0, r1 = self.rooms[0][0], self.rooms[1][0]
        ig1 = self.igs[1]
        nodes = self.cluster.nodes
        stop = asyncio.Event()
        phase = ["up", {}]
        a.forget()
        b.forget()
        loader = self.loader = self.loop.create_task(self.load(a, b, [r0, r1], stop,
                                                 phase))

        async def killed():
            await self.rounds(phase, "up", ROUNDS_UP)
            phase[0] = "killing"
            mark = len(a.log)
            await self.in_thread(ig1.kill)
            # ejabberd drops what reaches an empty slot; the lowest live
            # shard's standby (component/cluster/standby.c) holds it and
            # answers for the dead shard
            deadline = self.loop.time() + 30
            while not any(el.get("type") == "error"
                          and el.get("from", "").startswith(r1)
                          and stanza_error(el) == "service-unavailable"
                          for _, el in a.log[mark:]):
                if self.loop.time() > deadline:
                    raise Fail("no service-unavailable from %s within 30 s "
                               "of shard 1's kill" % r1)
                if self.loader.done():
                    self.loader.result()
                    raise Fail("the load stopped")
                await asyncio.sleep(0.05)
            phase[0] = "down"

        async def down():
            await self.rounds(phase, "down", ROUNDS_UP)

        async def back():
            phase[0] = "restarting"
            mark = ig1.log_mark()
            await self.in_thread(ig1.start)
            await self.in_thread(ig1.wait_log, self.proven or r"connected to",
                                 30, mark)
            await self.in_thread(nodes[0].wait_routes, lambda rows: all(
                p for _, p in rows))
            for cl in (a, b):
                cl.send(join_xml(r1, cl.user))
                await cl.wait(presence_from("%s/%s" % (r1, cl.user)),
                              "the self-presence of %s after the restart"
                              % r1)
            phase[0] = "back"
            await self.rounds(phase, "back", ROUNDS_UP)
            text = "after-%s" % r1.split("@")[0]
            a.send(say_xml(r1, text))
            await b.wait(groupchat_from(r1 + "/alice", text),
                         "alice's message in %s after the restart" % r1)

        await self.step(self.NAMES[10], killed())
        ok = await self.step(self.NAMES[11], down())
        if ok:
            await self.step(self.NAMES[12], back())
        else:
            t.check(False, self.NAMES[12], "the load stopped")
        stop.set()
        try:
            n = await asyncio.wait_for(loader, WAIT * 2)
            t.diag("load: %d rounds, %s" % (n, phase[1]))
            errs = {}
            for _, el in a.log:
                if el.get("type") == "error" and \
                        el.get("from", "").startswith(r1):
                    cond = stanza_error(el)
                    errs[cond] = errs.get(cond, 0) + 1
            t.diag("errors alice got from shard 1's room (service-"
                   "unavailable from the standby while it is down, none in "
                   "the moments ejabberd drops before the standby holds the "
                   "slot; not-acceptable once it is back and she has not "
                   "rejoined): %s" % errs)
        except Exception as e:
            t.diag("load ended with %s: %s" % (type(e).__name__, e))
        # The last round's reflections: a message to itself... each room's
        # last message is acknowledged or not once a later one to the same
        # room came back; one more to each room settles that.
        for room in (r0, r1):
            a.send(say_xml(room, "load-end-%s" % room.split("@")[0]))
            await a.wait(groupchat_from(room + "/alice",
                                        "load-end-%s" % room.split("@")[0]),
                         "the last reflection in %s" % room)
        self.acked = self.acks(a)
        t.diag("acknowledged: %s" % {r: len(v) for r, v in
                                     self.acked.items()})

    async def mam(self, cl, room):
        """Every body in room's archive, oldest first, paged by RSM."""
        bodies, after, page = [], None, 0
        while True:
            page += 1
            qid = "q%d" % page
            rsm = "<max>%d</max>" % MAM_MAX + (
                "<after>%s</after>" % after if after else "")
            res = await cl.iq("set", room,
                              "<query xmlns='%s' queryid='%s'><set xmlns='%s'>"
                              "%s</set></query>" % (NS_MAM, qid, NS_RSM, rsm))
            got = cl.take_all(lambda el: el.find("{%s}result" % NS_MAM)
                              is not None and el.find(
                                  "{%s}result" % NS_MAM).get("queryid")
                              == qid)
            for _, el in got:
                fwd = el.find("{%s}result/{%s}forwarded" % (NS_MAM, NS_FWD))
                inner = None if fwd is None else fwd.find(CLIENT + "message")
                if inner is not None:
                    bodies.append(inner.findtext(CLIENT + "body"))
            fin = res.xml.find("{%s}fin" % NS_MAM)
            if fin is None:
                raise Fail("%s: MAM answer without <fin>" % room)
            last = fin.findtext("{%s}set/{%s}last" % (NS_RSM, NS_RSM))
            if fin.get("complete") in ("true", "1") or not got or not last:
                return bodies
            after = last

    async def archives(self, b):
        problems = []
        for room, acked in self.acked.items():
            have = [x for x in await self.mam(b, room)
                    if x and x.startswith("load-")]
            missing = [x for x in acked if x not in set(have)]
            twice = sorted({x for x in have if have.count(x) > 1})
            order = [x for x in have if x in set(acked)]
            self.tap.diag("%s: %d acknowledged, %d archived"
                          % (room, len(acked), len(have)))
            if missing:
                problems.append("%s: %d acknowledged but not archived, e.g. "
                                "%s" % (room, len(missing), missing[:5]))
            if twice:
                problems.append("%s: archived twice: %s" % (room, twice[:5]))
            if order != acked and not missing:
                problems.append("%s: archive order differs" % room)
        if len(self.acked) < 2:
            problems.append("acknowledged messages in %d rooms only"
                            % len(self.acked))
        if problems:
            raise Fail("\n".join(problems))

    # --- the end -----------------------------------------------------------
    def cleanup(self):
        procs = list(self.igs) + [self.irc]
        if self.cluster:
            procs += [self.cluster]
        self.finish([p for p in procs], self.report)

    def report(self):
        for ig in self.igs:
            if self.tap.failed:
                self.tap.diag("%s:\n%s" % (ig.name, ig.log_tails(15)))


def main(argv):
    tap.usage(argv, "/path/to/imgroups /path/to/shard_of "
              "/path/to/imgroups-purple",
              lambda a: len(a) == 3 and all(os.access(x, os.X_OK)
                                            for x in a))
    return tap.run(lambda: Run(*(os.path.abspath(x) for x in argv[1:4])),
                   WATCHDOG, "cluster")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
