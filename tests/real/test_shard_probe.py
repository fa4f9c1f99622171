"""Issue 14, item 1: the slot probe (component/cluster/probe.c) and the
shard bus (component/cluster/bus.c) through a private ejabberd with
domain_balancing (bare_destination, component_number 2, global_routes
false, the shard bus hosts on the same listener) and two imgroups shards.

Started in the wrong order (instance 1 first, so it takes slot 1, shard
0's), both still end up each on its own slot and serve only their own
groups; one killed and restarted proves its slot again; a bus request from
another shard's bus JID is answered; a service-wide request with the other
shard killed is answered by the owner of the service JID, which reports
the dead shard down within the bus timeout. Waits for events (log lines,
stanzas), never for time.

usage: test_shard_probe.py /path/to/imgroups /path/to/shard_of"""
import os
import queue
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
import test_shard_routing as routing  # noqa: E402  (its Component)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402

DOMAIN = routing.DOMAIN
SENDER = routing.SENDER
SECRET = routing.SECRET
PROBE_NS = "urn:imgroups:shard-probe:0"
WAIT = 60
WATCHDOG = 600

PLAN = [
    "started in the wrong order (instance 1 first), shard 1 of 2 proves "
    "its slot",
    "and so does shard 2 of 2",
    "the route table then holds both slots",
    "a join to a group of shard 0 is served (by its owner)",
    "a join to a group of shard 1 is served (by its owner)",
    "shard 2 killed and restarted proves its slot again",
    "its group is served again after the restart",
    "a bus request from another shard's bus JID is answered with a result",
    "the same request from any other JID is refused with "
    "service-unavailable",
    "with the other shard killed, the owner of the service JID answers a "
    "disco#items request",
    "and logs the other shard down (bus_ask_all's down list)",
]


def proven(k):
    return r"cluster: shard %d of 2: slot proven" % (k + 1)


class Run:
    def __init__(self, imgroups, shard_of):
        self.imgroups = imgroups
        self.shard_of = shard_of
        self.tmp = tempfile.mkdtemp(prefix="imgroups-probe-")
        self.tap = tap.Tap(PLAN)
        self.server = None
        self.sender = None
        self.igs = []
        self.n = 0

    def owner(self, jid):
        out = subprocess.run([self.shard_of, "2"], input=jid + "\n",
                             capture_output=True, text=True,
                             check=True).stdout
        return int(out.split()[-1])

    def room_of(self, k):
        """The first room-<i> that shard k owns."""
        for i in range(100):
            room = "room-%d@%s" % (i, DOMAIN)
            if self.owner(room) == k:
                return room
        raise tap.Abort("no room for shard %d" % k)

    def next_stanza(self, pred):
        """The next stanza the sender gets that pred accepts."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                el = self.sender.stanzas.get(timeout=1)
            except Exception:
                continue
            if pred(el):
                return el
        return None

    def join(self, room):
        """A MUC join from the sender; the presence it gets back."""
        self.n += 1
        me = "u%d@%s/r" % (self.n, SENDER)
        self.sender.send(
            "<presence from='%s' to='%s/nick%d'>"
            "<x xmlns='http://jabber.org/protocol/muc'/></presence>"
            % (me, room, self.n))
        return self.next_stanza(lambda el: el.get("to") == me and
                                el.tag.endswith("presence"))

    def iq(self, frm, to, payload):
        self.n += 1
        ident = "q%d" % self.n
        self.sender.send("<iq type='get' id='%s' from='%s' to='%s'>%s</iq>"
                         % (ident, frm, to, payload))
        return self.next_stanza(lambda el: el.get("id") == ident)

    def instance(self, k):
        return servers.Imgroups(
            self.tmp, self.imgroups, DOMAIN, servers.LOCAL,
            self.server.component_port, SECRET, name="imgroups%d" % k,
            sections=[("cluster", {"shard": k, "shards": 2})])

    def main(self):
        t = self.tap
        self.server = servers.BalancedEjabberd(
            self.tmp, DOMAIN, SECRET, 2, extra_hosts={SENDER: SECRET})
        self.server.start()
        self.sender = routing.Component(self.server.component_port, SENDER,
                                        "sender")
        self.igs = [self.instance(0), self.instance(1)]
        # Instance 1 first: ejabberd gives it slot 1, shard 0's.
        self.igs[1].start()
        self.igs[1].wait_log(r"link: connected to .* as %s" % DOMAIN, WAIT)
        self.igs[0].start()
        for k in (0, 1):
            try:
                self.igs[k].wait_log(proven(k), 120)
                t.check(True, t.name())
            except servers.ServerError as e:
                t.check(False, t.name(), str(e))
                raise tap.Abort()
        rows = self.server.wait_routes(
            lambda rows: sum(1 for _, p in rows if p) == 2)
        t.check(True, t.name(), rows)
        for k in (0, 1):
            got = self.join(self.room_of(k))
            t.check(got is not None and got.get("type") != "error",
                    t.name(), got is not None and routing.ET.tostring(got))

        # Shard 2 (instance 1) killed and restarted.
        mark = self.igs[1].log_mark()
        self.igs[1].kill()
        self.igs[1].start()
        try:
            self.igs[1].wait_log(proven(1), 120, since=mark)
            t.check(True, t.name())
        except servers.ServerError as e:
            t.check(False, t.name(), str(e))
        got = self.join(self.room_of(1))
        t.check(got is not None and got.get("type") != "error", t.name(),
                got is not None and routing.ET.tostring(got))

        # A bus request: the test plays shard 1's bus while instance 1 is
        # down (its bus JID is free), asking shard 0 over ejabberd.
        self.igs[1].kill()
        bus1 = routing.Component(self.server.component_port,
                                 self.server.bus_jid(1), "bus1")
        got = None
        try:
            # Until ejabberd has dropped the killed instance's route for
            # shard 1's bus JID, the answer may go there: ask again.
            for i in range(6):
                bus1.send("<iq type='set' id='b%d' from='%s' to='%s'>"
                          "<landed xmlns='%s' nonce='%s'/></iq>"
                          % (i, self.server.bus_jid(1),
                             self.server.bus_jid(0), PROBE_NS, "00" * 16))
                # The live shard's standby heartbeat (a beat iq to this
                # bus JID) may come first: only the answer counts.
                got = None
                try:
                    while got is None or got.get("id") != "b%d" % i:
                        got = bus1.stanzas.get(timeout=10)
                    break
                except queue.Empty:
                    got = None
                    continue
            t.check(got is not None and got.get("type") == "result",
                    t.name(), got is not None and routing.ET.tostring(got))
        finally:
            bus1.close()
        got = self.iq("x@%s/r" % SENDER, self.server.bus_jid(0),
                      "<landed xmlns='%s' nonce='%s'/>" % (PROBE_NS,
                                                           "00" * 16))
        t.check(got is not None and got.get("type") == "error" and
                b"service-unavailable" in routing.ET.tostring(got),
                t.name(), got is not None and routing.ET.tostring(got))

        # The service JID's owner asks the other shard, which is down.
        owner = self.owner(DOMAIN)
        other = 1 - owner
        for k in (0, 1):
            if k != other and not self.igs[k].alive():
                mark = self.igs[k].log_mark()
                self.igs[k].start()
                self.igs[k].wait_log(proven(k), 120, since=mark)
        if self.igs[other].alive():
            self.igs[other].kill()
        mark = self.igs[owner].log_mark()
        got = self.iq("x@%s/r" % SENDER, DOMAIN,
                      "<query xmlns='http://jabber.org/protocol/disco#items'"
                      "/>")
        t.check(got is not None and got.get("type") == "result", t.name(),
                got is not None and routing.ET.tostring(got))
        try:
            self.igs[owner].wait_log(r"bus: 1 of 1 shards asked did not "
                                     r"answer", 10, since=mark)
            t.check(True, t.name())
        except servers.ServerError as e:
            t.check(False, t.name(), str(e))

    def cleanup(self):
        for ig in self.igs:
            ig.stop()
        if self.sender:
            self.sender.close()
        if self.server:
            self.server.stop()


def main(argv):
    tap.usage(argv, "/path/to/imgroups /path/to/shard_of",
              lambda a: len(a) == 2 and all(os.access(x, os.X_OK)
                                            for x in a))
    return tap.run(lambda: Run(os.path.abspath(argv[1]),
                               os.path.abspath(argv[2])), WATCHDOG,
                   "shard_probe")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
