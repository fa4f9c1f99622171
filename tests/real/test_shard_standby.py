"""Issue 14, item 4: a standby answers for a dead shard's slot
(component/cluster/standby.c) through a private ejabberd with
domain_balancing (component_number 2) and two imgroups shards.

With shard 1 SIGKILLed, a message and a join to its group get
service-unavailable within seconds (ejabberd alone drops them silently)
from shard 0's standby connection, while shard 0's groups keep working;
shard 1 restarted proves its slot within 15 s (its probe closes the
standby, its next connection takes the freed slot) and serves its group
with the archive it had; the standby connection is gone. Waits for
events (log lines, stanzas), never for time.

usage: test_shard_standby.py /path/to/imgroups /path/to/shard_of"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
import test_shard_probe as probe  # noqa: E402  (its Run: rooms, joins)
import test_shard_routing as routing  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402

DOMAIN = routing.DOMAIN
SENDER = routing.SENDER
SECRET = routing.SECRET
WATCHDOG = 600
BODY = "said before the kill"
TEXT = "this group's instance is down; try again later"

PLAN = [
    "two shards started in order prove their slots",
    "a line said in shard 1's group before the kill is echoed",
    "shard 1 killed: shard 0 opens a standby connection within seconds",
    "a message to shard 1's group gets service-unavailable with the "
    "standby's text",
    "a join to shard 1's group gets service-unavailable",
    "shard 0's group is still served",
    "shard 1 restarted proves its slot within 15 s",
    "the standby connection is closed by its probe",
    "shard 1's group is served again, with the line said before the kill",
    "the route table holds two connections, neither of them a standby",
]


def text_of(el):
    return routing.ET.tostring(el).decode() if el is not None else "nothing"


class Run(probe.Run):
    def __init__(self, imgroups, shard_of):
        # probe.Run's own plan is not this one: its fields, this plan.
        self.imgroups = imgroups
        self.shard_of = shard_of
        self.tmp = tempfile.mkdtemp(prefix="imgroups-standby-")
        self.tap = tap.Tap(PLAN)
        self.server = None
        self.sender = None
        self.igs = []
        self.n = 0

    def is_error(self, el, cond):
        return (el is not None and el.get("type") == "error" and
                cond in text_of(el))

    def main(self):
        t = self.tap
        self.server = servers.BalancedEjabberd(
            self.tmp, DOMAIN, SECRET, 2, extra_hosts={SENDER: SECRET})
        self.server.start()
        self.sender = routing.Component(self.server.component_port, SENDER,
                                        "sender")
        self.igs = servers.start_shards(
            self.tmp, self.imgroups, DOMAIN, SECRET, [self.server], 2,
            proven=r"slot proven")
        t.check(True, t.name())
        room1, room0 = self.room_of(1), self.room_of(0)

        # A line in shard 1's group, kept in its store.
        got = self.join(room1)
        speaker = "u%d@%s/r" % (self.n, SENDER)
        self.sender.send(
            "<message type='groupchat' from='%s' to='%s' id='said'>"
            "<body>%s</body></message>" % (speaker, room1, BODY))
        echo = self.next_stanza(lambda el: el.get("to") == speaker and
                                el.get("id") == "said")
        t.check(got is not None and got.get("type") != "error" and
                echo is not None and echo.get("type") == "groupchat",
                t.name(), text_of(echo))

        # Shard 1 killed: ejabberd keeps its slot, empty.
        mark0 = self.igs[0].log_mark()
        self.igs[1].kill()
        try:
            self.igs[0].wait_log(r"cluster: standby connection up", 20,
                                 since=mark0)
            t.check(True, t.name())
        except servers.ServerError as e:
            t.check(False, t.name(), str(e))
        self.n += 1
        me = "u%d@%s/r" % (self.n, SENDER)
        self.sender.send("<message type='groupchat' from='%s' to='%s' "
                         "id='m%d'><body>hello</body></message>"
                         % (me, room1, self.n))
        got = self.next_stanza(lambda el: el.get("to") == me)
        t.check(self.is_error(got, "service-unavailable") and
                TEXT in text_of(got), t.name(), text_of(got))
        got = self.join(room1)
        t.check(self.is_error(got, "service-unavailable"), t.name(),
                text_of(got))
        got = self.join(room0)
        t.check(got is not None and got.get("type") != "error", t.name(),
                text_of(got))

        # Shard 1 back.
        mark0 = self.igs[0].log_mark()
        mark1 = self.igs[1].log_mark()
        self.igs[1].start()
        try:
            self.igs[1].wait_log(probe.proven(1), 15, since=mark1)
            t.check(True, t.name())
        except servers.ServerError as e:
            t.check(False, t.name(), str(e))
        try:
            self.igs[0].wait_log(r"cluster: standby connection closed: a "
                                 r"shard's slot probe reached it", 5,
                                 since=mark0)
            t.check(True, t.name())
        except servers.ServerError as e:
            t.check(False, t.name(), str(e))
        got = self.join(room1)
        me = "u%d@%s/r" % (self.n, SENDER)
        hist = self.next_stanza(lambda el: el.get("to") == me and
                                BODY in text_of(el))
        t.check(got is not None and got.get("type") != "error" and
                hist is not None, t.name(), text_of(got))
        # Two connections, each holding its own slot: a standby left
        # would be a third (or hold a slot and log no close).
        try:
            rows = self.server.wait_routes(
                lambda rows: sum(1 for _, p in rows if p) == 2, 10)
            log = self.igs[0].log_text(0)
            up = log.count("cluster: standby connection up")
            closed = log.count("cluster: standby connection closed")
            t.check(up >= 1 and up == closed, t.name(), "%s; %d up, %d closed"
                    % (rows, up, closed))
        except servers.ServerError as e:
            t.check(False, t.name(), str(e))


def main(argv):
    tap.usage(argv, "/path/to/imgroups /path/to/shard_of",
              lambda a: len(a) == 2 and all(os.access(x, os.X_OK)
                                            for x in a))
    return tap.run(lambda: Run(os.path.abspath(argv[1]),
                               os.path.abspath(argv[2])), WATCHDOG,
                   "shard_standby")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
