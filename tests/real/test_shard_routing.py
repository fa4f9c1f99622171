"""ejabberd's domain_balancing against common/shard.c: which of several
connections of one external component (XEP-0114) gets which room JID, with
`type: bare_destination` and `component_number: N` (docs/cluster.md).
Prints TAP.

    /usr/bin/python3 tests/real/test_shard_routing.py /path/to/shard_of

Starts a private ejabberd 23.01 (tests/real/servers.py) whose listener
serves groups.localhost (balanced) and sender.localhost (one connection
that sends the stanzas), and connects raw component connections to it
(this file's Component: a socket, the handshake, a thread reading
stanzas). shard_of (tests/shard_of.c) gives the C side's answer. Waits for
events, never for time: a connection has received everything sent to it
before once it receives one of the "end" messages sent after (ejabberd
sends from the sender's process straight to the connection's process, and
Erlang keeps two processes' messages in order). Every process is stopped
by its PID at the end. IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import hashlib
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402  (tests/tap.py)

DOMAIN = "groups.localhost"
SENDER = "sender.localhost"
SECRET = "shard-secret"
ROOMS = 200
ENDS = 64  # "end" messages after each batch: every slot gets some
WAIT = 30  # seconds for one expected event
WATCHDOG = 600
NS_STREAM = "http://etherx.jabber.org/streams"


def rooms():
    """The 200 room JIDs: plain names, then names as a client may write
    them (upper case, a resource), which ejabberd folds before hashing."""
    names = ["room-%d" % i for i in range(ROOMS - 20)]
    names += ["caf\u00e9-%d" % i for i in range(10)]
    return ["%s@%s" % (n, DOMAIN) for n in names] + [
        "Lobby-%d@%s/Nick %d" % (i, DOMAIN, i) for i in range(10)]


def folded(jid):
    """What ejabberd's jid:tolower and remove_resource make of our JIDs
    (ASCII and é: nodeprep is lower-casing for them)."""
    return jid.split("/", 1)[0].lower()


def ends(batch):
    return ["end-%s-%d@%s" % (batch, j, DOMAIN) for j in range(ENDS)]


class Component:
    """One component connection (XEP-0114): connects, shakes hands, then a
    thread puts every stanza received on self.stanzas."""

    def __init__(self, port, domain, name):
        self.name = name
        self.domain = domain
        self.stanzas = queue.Queue()
        self.sock = socket.create_connection((servers.LOCAL, port), WAIT)
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.stream_id = None
        self.closed = threading.Event()
        self.sock.sendall((
            "<stream:stream xmlns='jabber:component:accept' "
            "xmlns:stream='%s' to=%s>" % (NS_STREAM, quoteattr(domain))
        ).encode())
        self._read_until(lambda: self.stream_id is not None)
        digest = hashlib.sha1((self.stream_id + SECRET).encode()).hexdigest()
        self.sock.sendall(("<handshake>%s</handshake>" % digest).encode())
        el = self._read_until(lambda: not self.stanzas.empty()) and \
            self.stanzas.get()
        if el.tag.rsplit("}", 1)[-1] != "handshake":
            raise tap.Abort("%s: handshake answered with %s"
                            % (name, ET.tostring(el)))
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self._reader, daemon=True)
        self.thread.start()

    def _feed(self, data):
        self.parser.feed(data)
        for ev, el in self.parser.read_events():
            if ev == "start":
                self.depth += 1
                if self.depth == 1:
                    self.stream_id = el.get("id")
            else:
                self.depth -= 1
                if self.depth == 1:
                    self.stanzas.put(el)

    def _read_until(self, done):
        while not done():
            data = self.sock.recv(65536)
            if not data:
                raise tap.Abort("%s: the server closed the stream"
                                % self.name)
            self._feed(data)
        return True

    def _reader(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self._feed(data)
        except (OSError, ET.ParseError):
            pass
        self.closed.set()

    def send(self, text):
        self.sock.sendall(text.encode())

    def abort(self):
        """Drops the connection without ending the stream, as a process
        that is killed does: its kernel closes the socket (shutdown here,
        as the reader thread still holds it)."""
        self.sock.shutdown(socket.SHUT_RDWR)
        self.closed.wait(WAIT)
        self.sock.close()

    def close(self):
        """Ends the stream as a component that stops does."""
        try:
            self.send("</stream:stream>")
        except OSError:
            pass
        self.closed.wait(WAIT)
        self.sock.close()


class BalancedEjabberd(servers.BalancedEjabberd):
    """servers.BalancedEjabberd whose listener serves DOMAIN (balanced:
    component_number as set; None: no such key) and SENDER."""

    def __init__(self, tmpdir):
        super().__init__(tmpdir, DOMAIN, SECRET, 2,
                         extra_hosts={SENDER: SECRET}, bus=False)


class Run:
    def __init__(self, shard_of, plan=None):
        self.shard_of = shard_of
        self.tmp = tempfile.mkdtemp(prefix="imgroups-shard-")
        self.server = None
        self.conns = []
        self.sender = None
        self.tap = tap.Tap(plan or PLAN)
        self.batches = 0
        self.late = {}  # conn name: stanzas of earlier batches it got

    # --- the server ------------------------------------------------------
    def start_server(self, component_number):
        """(Re)starts ejabberd with domain_balancing for DOMAIN: type
        bare_destination, component_number as given (None: no such key)."""
        self.stop_all()
        if self.server is None:
            self.server = BalancedEjabberd(self.tmp)
        self.server.component_number = component_number
        self.server.start()
        self.sender = Component(self.server.component_port, SENDER,
                                "sender")

    def connect(self, name):
        c = Component(self.server.component_port, DOMAIN, name)
        self.conns.append(c)
        return c

    def stop_all(self):
        for c in self.conns + ([self.sender] if self.sender else []):
            c.close()
        self.conns = []
        self.sender = None
        if self.server and self.server.alive():
            self.server.stop()

    def cleanup(self):
        try:
            self.stop_all()
        finally:
            if self.server:
                self.server.stop()
            if os.environ.get("IMGROUPS_KEEP_TMP"):
                self.tap.diag("kept %s" % self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def routes(self, server=None):
        """ejabberd's route table for DOMAIN, as server (by default
        self.server) sees it: [(local_hint, the node of its connection or
        None)] in the order mnesia returns them."""
        return (server or self.server).routes()

    def wait_free(self, n, server=None):
        """Waits until n slots of DOMAIN's route table have no connection
        (a closed connection's slot is freed by its process's terminate)."""
        deadline = time.monotonic() + WAIT
        while True:
            rows = self.routes(server)
            if sum(1 for _, p in rows if p is None) == n:
                self.tap.diag("routes: %s" % rows)
                return rows
            if time.monotonic() > deadline:
                raise tap.Abort("route table %s, not %d free" % (rows, n))

    # --- the C side --------------------------------------------------------
    def c_shards(self, jids, n):
        out = subprocess.run([self.shard_of, str(n)], check=True,
                             input="".join(folded(j) + "\n" for j in jids),
                             capture_output=True, text=True, timeout=30)
        return {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1])
                for line in out.stdout.splitlines()}

    # --- one batch ---------------------------------------------------------
    def batch(self, jids, live, via=None):
        """Sends a message to each of jids from the sender (or from via, a
        connection of DOMAIN itself, as probe@DOMAIN), then the "end"
        messages, and waits until every connection of live has received one
        of its ends. Returns ({conn name: [to, ...]}, [errors the sender
        got; none looked for with via]) for this batch."""
        self.batches += 1
        tag = "b%d" % self.batches
        last = ends(tag)
        out = []
        for i, to in enumerate(jids + last):
            out.append("<message from='probe@%s' to=%s id='%s-%d' "
                       "type='normal'><body>%d</body></message>"
                       % (via.domain if via else SENDER, quoteattr(to), tag,
                          i, i))
        (via or self.sender).send("".join(out))
        got = {}
        deadline = time.monotonic() + WAIT
        for c in live:
            got[c.name] = []
            while True:
                try:
                    el = c.stanzas.get(timeout=max(0.1, deadline
                                                   - time.monotonic()))
                except queue.Empty:
                    raise tap.Abort("%s got none of batch %s's ends within "
                                    "%d s (got %s; routes %s)"
                                    % (c.name, tag, WAIT, {
                                        k: len(v) for k, v in got.items()},
                                       self.routes()))
                if not (el.get("id") or "").startswith(tag + "-"):
                    if not el.get("to", "").startswith("end-"):
                        self.late.setdefault(c.name, []).append(el)
                    continue  # an earlier batch's
                to = el.get("to")
                if to in last:
                    break
                got[c.name].append(to)
        if via:
            return got, []
        # The sender's own domain is routed to it alone: a message to itself
        # after the batch comes back after any error ejabberd sent it.
        self.sender.send("<message from='probe@%s' to='probe@%s' "
                         "id='%s-self'/>" % (SENDER, SENDER, tag))
        errors = []
        while True:
            try:
                el = self.sender.stanzas.get(timeout=WAIT)
            except queue.Empty:
                raise tap.Abort("the sender's message to itself is lost")
            if el.get("id") == tag + "-self":
                break
            errors.append(el)
        return got, errors

    def check_slots(self, got, names, n, jids, what):
        """Each JID arrived once, at the connection in slot shard_of + 1."""
        want = self.c_shards(jids, n)
        bad = []
        seen = {}
        for name, tos in got.items():
            for to in tos:
                seen[to] = seen.get(to, 0) + 1
                slot = names.index(name) if name in names else None
                if slot is None or want[folded(to)] != slot:
                    bad.append("%s at %s, shard_of %d" %
                               (to, name, want[folded(to)]))
        for j in jids:
            if names[want[folded(j)]] is not None and seen.get(j) != 1:
                bad.append("%s arrived %d times" % (j, seen.get(j, 0)))
        counts = {name: len(tos) for name, tos in got.items()}
        return self.tap.check(not bad, what, "counts %s\n%s" % (
            counts, "\n".join(bad[:20])))

    # --- the checks --------------------------------------------------------
    def main(self):
        t = self.tap
        jids = rooms()

        # N = 2
        self.start_server(2)
        a, b = self.connect("a"), self.connect("b")
        got, errors = self.batch(jids, [a, b])
        t.diag("N=2: a %d, b %d" % (len(got["a"]), len(got["b"])))
        self.check_slots(got, ["a", "b"], 2, jids,
                         "with 2 connections each room JID goes to the one "
                         "in slot shard_of(jid, 2) + 1, once")
        again, _ = self.batch(jids, [a, b])
        t.check(sorted(again["a"]) == sorted(got["a"])
                and sorted(again["b"]) == sorted(got["b"]),
                "the same JIDs sent again go to the same connections")
        self.wait_free(0)
        got, _ = self.batch(jids, [a, b], via=b)
        self.check_slots(got, ["a", "b"], 2, jids,
                         "what a connection sends to its own domain is "
                         "balanced alike: b's messages reach a or b itself "
                         "by slot")
        b.close()
        self.conns.remove(b)
        self.wait_free(1)
        got, errors = self.batch(jids, [a])
        want = self.c_shards(jids, 2)
        lost = [j for j in jids if want[folded(j)] == 1]
        t.diag("N=2, b down: a got %d, the sender %d errors"
               % (len(got["a"]), len(errors)))
        self.check_slots(got, ["a", None], 2, jids,
                         "while b is down a still gets exactly its own "
                         "JIDs: nothing is rerouted to it")
        t.check(not errors, "while b is down its JIDs are dropped without "
                "an error to the sender", "%d errors, first %s" % (
                    len(errors), errors and ET.tostring(errors[0])))
        b2 = self.connect("b2")
        got, errors = self.batch(jids, [a, b2])
        self.check_slots(got, ["a", "b2"], 2, jids,
                         "a connection made after b closed takes b's slot")
        t.check(not self.late and len(got["b2"]) == len(lost),
                "what was sent while b was down never arrives later",
                "late: %s" % {k: len(v) for k, v in self.late.items()})
        self.wait_free(0)
        extra = self.connect("extra")
        got, errors = self.batch(jids, [a, b2])
        t.check(extra.stanzas.empty() and len(got["a"]) + len(got["b2"])
                == len(jids),
                "a third connection with component_number 2 is accepted "
                "and gets nothing")
        a.close()
        self.conns.remove(a)
        self.wait_free(1)
        got, _ = self.batch(jids, [b2])
        t.check(extra.stanzas.empty(),
                "the idle connection does not take a freed slot")

        # N = 3
        self.start_server(3)
        c1, c2, c3 = self.connect("c1"), self.connect("c2"), \
            self.connect("c3")
        got, _ = self.batch(jids, [c1, c2, c3])
        t.diag("N=3: %s" % {k: len(v) for k, v in got.items()})
        self.check_slots(got, ["c1", "c2", "c3"], 3, jids,
                         "with 3 connections each room JID goes to the one "
                         "in slot shard_of(jid, 3) + 1, once")
        c2.abort()
        self.wait_free(1)
        t.check(True, "a connection dropped without its stream's end "
                "frees its slot too")
        c3.close()
        self.wait_free(2)
        self.conns.remove(c2)
        self.conns.remove(c3)
        d = self.connect("d")  # the first back takes the first freed slot
        e = self.connect("e")
        got, _ = self.batch(jids, [c1, d, e])
        self.check_slots(got, ["c1", "d", "e"], 3, jids,
                         "after slots 2 and 3 close, the next two "
                         "connections take slots 2 and 3 in that order")
        e.close()
        self.wait_free(1)
        d.close()
        self.wait_free(2)
        self.conns.remove(d)
        self.conns.remove(e)
        f = self.connect("f")
        g = self.connect("g")
        got, _ = self.batch(jids, [c1, f, g])
        self.check_slots(got, ["c1", "g", "f"], 3, jids,
                         "freed in the order 3, 2, the slots are taken in "
                         "the order they were freed: 3 first")

        # No component_number: 23.01's get_component_number does
        # maps:get(component_number, Opts) without a default.
        self.start_server(None)
        try:
            self.connect("h1")
            refused = None
        except tap.Abort as e:
            refused = str(e)
        t.check(refused and "closed" in refused,
                "without component_number the handshake is accepted, then "
                "the connection closed (badkey component_number)",
                "connected")


PLAN = [
    "N=2 slots", "N=2 stable", "N=2 own domain", "N=2 b down, a own", "N=2 b down, no error",
    "N=2 b2 takes slot", "N=2 nothing late", "N=2 extra idle",
    "N=2 extra stays idle", "N=3 slots", "N=3 crash frees", "N=3 reconnect order",
    "N=3 freed order", "no component_number",
]


def main(argv, run=None, label="shard_routing"):
    """Runs run (a Run class; this file's by default) on argv's shard_of."""
    tap.usage(argv, "/path/to/shard_of", lambda a: len(a) == 1
              and os.access(a[0], os.X_OK))
    return tap.run(lambda: (run or Run)(os.path.abspath(argv[1])), WATCHDOG,
                   label)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
