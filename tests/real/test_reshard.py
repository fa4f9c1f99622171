"""Issue 14, item 4 (adding a shard): two imgroups shards behind a private
ejabberd (domain_balancing bare_destination, component_number 2) hold
rooms with messages; `imgroups --reshard` refuses while they run and
refuses a new store's directory that is not empty; both stopped, it moves
the rooms into 3 new stores; ejabberd given component_number 3 and three
instances started in order 0, 1, 2 on the new stores, every room's MAM
archive is there through a client, the same bodies and stanza-ids. Prints
TAP.

    /usr/bin/python3 tests/real/test_reshard.py /path/to/imgroups \
        /path/to/tests/shard_of

Every wait is bounded; every process is stopped by its PID at the end.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402  (tests/tap.py)

try:
    from xmppclient import (  # noqa: E402
        Client, ClientRun, Fail, groupchat_from, presence_from)
except ImportError:
    sys.stderr.write("test_reshard.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
ROOMS = 12
NS_MUC = "http://jabber.org/protocol/muc"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_SID = "urn:xmpp:sid:0"
CLIENT = "{jabber:client}"
WATCHDOG = 400


class Run(ClientRun):
    NAMES = [
        "ejabberd starts with domain_balancing over 2 slots; alice "
        "registered",
        "shards 0 and 1 connect, each on its slot",
        "alice makes %d rooms on both shards and says 1 to 3 lines in each; "
        "MAM has them" % ROOMS,
        "--reshard refuses while the instances run (a store in use), "
        "nothing written",
        "--reshard refuses a new store's directory that is not empty",
        "both stopped, --reshard --to 3 moves the rooms and says so",
        "ejabberd with component_number 3, the three new instances connect "
        "in order 0, 1, 2",
        "every room's MAM archive is whole on its new shard: the same "
        "bodies and stanza-ids",
        "a line said in each room after the move is archived after the "
        "old ones",
    ]

    def __init__(self, binary, shard_of):
        super().__init__("ejabberd", binary, "reshard")
        self.shard_of = shard_of
        self.igs = []
        self.rooms = ["r%02d@%s" % (i, COMPONENT) for i in range(ROOMS)]
        self.before = {}  # room -> [(stanza-id, body)]

    def owners(self, shards):
        out = subprocess.run(
            [self.shard_of, str(shards)], check=True, capture_output=True,
            text=True, timeout=30, input="".join(j + "\n" for j in self.rooms))
        return {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1])
                for line in out.stdout.splitlines()}

    def reshard(self, news, extra=()):
        old = [ig.storage for ig in self.igs]
        return subprocess.run(
            [self.binary, "--reshard", "--config", self.igs[0].config_path,
             "--to", str(len(news))] + old + list(news),
            capture_output=True, text=True, timeout=120)

    def main(self):
        t = self.tap
        t.diag("temp dir %s" % self.tmp)
        o2, o3 = self.owners(2), self.owners(3)
        if len(set(o2.values())) != 2 or len(set(o3.values())) != 3:
            raise tap.Abort("the rooms do not cover every shard")
        t.diag("rooms changing shard: %d of %d" % (
            sum(1 for r in self.rooms if o2[r] != o3[r]), ROOMS))
        try:
            srv = self.server = servers.BalancedEjabberd(
                self.tmp, COMPONENT, self.secret, 2)
            srv.start()
            srv.register("alice", "alice-pw")
            ok, why = srv.alive() and srv.accepts(), None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[0], why):
            raise tap.Abort
        try:
            self.igs = servers.start_shards(
                self.tmp, self.binary, COMPONENT, self.secret, [srv], 2,
                prefix="old")
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[1], why):
            raise tap.Abort
        self.clients["alice"] = Client(self.loop, srv.c2s_port, "alice")
        try:
            if not self.run_async(self.step(self.NAMES[2], self.fill()),
                                  WATCHDOG / 3):
                raise tap.Abort
        finally:
            self.run_async(self.clients["alice"].close(), 30)
        news = [os.path.join(self.tmp, "new%d" % k, "store")
                for k in range(3)]
        got = self.reshard(news)
        t.check(got.returncode == 1 and "in use by another imgroups"
                in got.stderr and not any(os.path.exists(n) for n in news),
                self.NAMES[3], "exit %d: %s" % (got.returncode, got.stderr))
        for ig in self.igs:
            ig.stop()
        os.makedirs(news[2])
        with open(os.path.join(news[2], "left-over"), "w") as f:
            f.write("x")
        got = self.reshard(news)
        t.check(got.returncode == 1 and "not empty" in got.stderr and
                not os.path.exists(news[0]), self.NAMES[4],
                "exit %d: %s" % (got.returncode, got.stderr))
        os.remove(os.path.join(news[2], "left-over"))
        got = self.reshard(news)
        t.diag(got.stdout.strip())
        if not t.check(got.returncode == 0 and "2 shards -> 3" in got.stdout
                       and all(os.path.exists(os.path.join(n, "data.mdb"))
                               for n in news), self.NAMES[5],
                       "exit %d: %s%s" % (got.returncode, got.stdout,
                                          got.stderr)):
            raise tap.Abort
        try:
            srv.stop()
            srv.shards = srv.component_number = 3
            srv.start()
            self.igs = servers.start_shards(
                self.tmp, self.binary, COMPONENT, self.secret, [srv], 3,
                prefix="new")
            ok, why = all(ig.storage == n for ig, n in zip(self.igs, news)), \
                [ig.storage for ig in self.igs]
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, self.NAMES[6], why):
            raise tap.Abort
        self.clients["alice"] = Client(self.loop, srv.c2s_port, "alice")
        try:
            self.run_async(self.after(), WATCHDOG / 3)
        finally:
            self.run_async(self.clients["alice"].close(), 30)

    # --- helpers -----------------------------------------------------------
    async def join(self, a, room):
        a.send("<presence to='%s/alice'><x xmlns='%s'>"
               "<history maxstanzas='0'/></x></presence>" % (room, NS_MUC))
        await a.wait(presence_from(room + "/alice"),
                     "the self-presence of %s" % room)

    async def say(self, a, room, text):
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (room, text))
        await a.wait(groupchat_from(room + "/alice", text),
                     "the reflection of %r in %s" % (text, room))

    async def mam(self, a, room):
        """[(stanza-id, body)] of room's archive, oldest first."""
        qid = "q-" + room.split("@")[0]
        res = await a.iq("set", room,
                         "<query xmlns='%s' queryid='%s'><set xmlns='%s'>"
                         "<max>50</max></set></query>" % (NS_MAM, qid, NS_RSM))
        got = a.take_all(lambda el: el.find("{%s}result" % NS_MAM)
                         is not None and el.find(
                             "{%s}result" % NS_MAM).get("queryid") == qid)
        out = []
        for _, el in got:
            r = el.find("{%s}result" % NS_MAM)
            fwd = r.find("{%s}forwarded" % NS_FWD)
            inner = None if fwd is None else fwd.find(CLIENT + "message")
            if inner is not None:
                out.append((r.get("id"), inner.findtext(CLIENT + "body")))
        if res.xml.find("{%s}fin" % NS_MAM) is None:
            raise Fail("%s: MAM answer without <fin>" % room)
        return out

    # --- the flows ---------------------------------------------------------
    async def fill(self):
        a = self.clients["alice"]
        await a.login()
        for i, room in enumerate(self.rooms):
            await self.join(a, room)
            for n in range(1 + i % 3):
                await self.say(a, room, "line %d of %s" % (n, room))
        for room in self.rooms:
            self.before[room] = await self.mam(a, room)
            if len(self.before[room]) != 1 + self.rooms.index(room) % 3:
                raise Fail("%s: MAM has %s" % (room, self.before[room]))

    async def after(self):
        a = self.clients["alice"]
        await a.login()
        for room in self.rooms:
            await self.join(a, room)
        await self.step(self.NAMES[7], self.whole(a))
        await self.step(self.NAMES[8], self.goes_on(a))

    async def whole(self, a):
        for room in self.rooms:
            got = await self.mam(a, room)
            if got != self.before[room]:
                raise Fail("%s: before %s, after %s"
                           % (room, self.before[room], got))

    async def goes_on(self, a):
        for room in self.rooms:
            await self.say(a, room, "after the move")
            got = await self.mam(a, room)
            if got[:-1] != self.before[room] or \
                    got[-1][1] != "after the move" or \
                    got[-1][0] <= got[-2][0]:
                raise Fail("%s: %s" % (room, got))

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
                   "reshard")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
