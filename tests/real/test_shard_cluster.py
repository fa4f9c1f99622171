"""ejabberd's domain_balancing across a two-node ejabberd cluster on
127.0.0.1: one connection of the balanced component on each node, the slots
shared by the nodes (docs/cluster.md). Prints TAP.

    /usr/bin/python3 tests/real/test_shard_cluster.py /path/to/shard_of

Starts a private epmd on a free port (so that two private nodes find each
other, which servers.py's epmd-less nodes cannot), two ejabberd nodes
with the same cookie and the same balanced configuration (each with its
own listeners), joins the second to the first with
ejabberd_admin:join_cluster, then drives both with
test_shard_routing.py's components and batches: where each of 200 room
JIDs lands, sent through either node, and what a killed node does to its
slot. Every process is stopped by its PID at the end.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
import test_shard_routing as routing  # noqa: E402
from test_shard_routing import (DOMAIN, SENDER, Component,  # noqa: E402
                                rooms, tap)

class Epmd(servers.Process):
    """A private Erlang port mapper on 127.0.0.1:port, in the foreground."""

    def __init__(self, tmpdir, port):
        super().__init__(tmpdir, "epmd")
        self.port = port

    def _command(self):
        return ["epmd", "-address", servers.LOCAL, "-port", str(self.port)]

    def _ready(self):
        return servers.port_accepts(self.port)


class Node(routing.BalancedEjabberd):
    """A node that registers with the private epmd (servers.Ejabberd's
    nodes have none: each listens on a port of its own that every node
    would have to share)."""

    def __init__(self, tmpdir, epmd_port, cookie=None):
        super().__init__(tmpdir)
        self.epmd_port = epmd_port
        if cookie:
            self.cookie = cookie

    def _erl_common(self):
        return ["-setcookie", self.cookie, "-start_epmd", "false",
                "-kernel", "inet_dist_use_interface", "{127,0,0,1}"]

    def _env(self):
        env = super()._env()
        env["ERL_EPMD_PORT"] = str(self.epmd_port)
        return env

    def _ready(self):
        return self._ports_accept(self.c2s_port, self.component_port)


class Run(routing.Run):
    def __init__(self, shard_of):
        super().__init__(shard_of, PLAN)
        self.epmd = None
        self.nodes = []
        self.senders = []

    def cleanup(self):
        for c in self.conns + self.senders:
            c.close()
        for p in reversed(self.nodes + ([self.epmd] if self.epmd else [])):
            p.stop()
        self.conns = []
        self.senders = []
        self.sender = None
        if os.environ.get("IMGROUPS_KEEP_TMP"):
            self.tap.diag("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def connect_to(self, node, name):
        c = Component(node.component_port, DOMAIN, name)
        self.conns.append(c)
        return c

    def sender_on(self, node, name):
        c = Component(node.component_port, SENDER, name)
        self.senders.append(c)
        return c

    def main(self):
        t = self.tap
        jids = rooms()
        self.epmd = Epmd(self.tmp, servers.free_port())
        self.epmd.start()
        n1 = Node(os.path.join(self.tmp, "n1"), self.epmd.port)
        n2 = Node(os.path.join(self.tmp, "n2"), self.epmd.port,
                  cookie=n1.cookie)
        self.nodes = [n1, n2]
        n1.start()
        n2.start()
        self.server = n1
        n2.rpc("case rpc:call(Node, ejabberd_admin, join_cluster, [<<\"%s\">>],"
               " 120000) of {ok, _} -> ok; X -> X end" % n1.node,
               timeout=150)
        out = n1.rpc("begin io:format(\"DB ~w~n\", [lists:sort(rpc:call("
                     "Node, mnesia, system_info, [running_db_nodes]))]), ok "
                     "end")
        t.check(n1.node in out and n2.node in out,
                "the second node joins the first: mnesia runs on both", out)
        # join_cluster restarts ejabberd on the second node: its listeners
        # are back once its ports accept again.
        if not n2._ready():
            raise tap.Abort("the second node's listeners did not come back")

        s1 = self.sender_on(n1, "sender1")
        s2 = self.sender_on(n2, "sender2")
        a = self.connect_to(n1, "a")
        self.wait_free(1, n1)
        b = self.connect_to(n2, "b")
        rows1 = self.wait_free(0, n1)
        rows2 = self.wait_free(0, n2)
        t.check(sorted(rows1) == sorted(rows2)
                == sorted([("1", n1.node), ("2", n2.node)]),
                "slot 1 is a's on the first node, slot 2 b's on the second, "
                "and both nodes see the same table", "%s\n%s"
                % (rows1, rows2))
        for sender, where in ((s1, "first"), (s2, "second")):
            self.sender = sender
            got, errors = self.batch(jids, [a, b])
            t.diag("through the %s node: %s" % (where, {
                k: len(v) for k, v in got.items()}))
            self.check_slots(got, ["a", "b"], 2, jids,
                             "sent through the %s node, each room JID goes "
                             "to the connection of slot shard_of + 1, on "
                             "whichever node it is" % where)

        n2.kill()
        self.senders.remove(s2)
        self.conns.remove(b)
        rows = self.wait_free(1, n1)
        t.check(rows.count(("1", n1.node)) == 1,
                "the second node killed, the first frees its slot and keeps "
                "a's", rows)
        self.sender = s1
        got, errors = self.batch(jids, [a])
        self.check_slots(got, ["a", None], 2, jids,
                         "meanwhile a gets exactly its own JIDs, the rest "
                         "are dropped")
        t.check(not errors, "and the sender gets no error for them",
                "%d errors" % len(errors))

        n2.start()
        b2 = self.connect_to(n2, "b2")
        rows = self.wait_free(0, n1)
        got, _ = self.batch(jids, [a, b2])
        self.check_slots(got, ["a", "b2"], 2, jids,
                         "the second node back in the cluster, a connection "
                         "to it takes slot 2 again")


PLAN = ["join", "slots on two nodes", "through node 1", "through node 2",
        "node 2 killed frees", "a own only", "no error", "node 2 back"]


if __name__ == "__main__":
    sys.exit(routing.main(sys.argv, Run, "shard_cluster"))
