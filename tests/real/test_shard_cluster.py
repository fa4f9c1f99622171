"""ejabberd's domain_balancing across a two-node ejabberd cluster on
127.0.0.1: one connection of the balanced component on each node, the slots
shared by the nodes (docs/cluster.md). Prints TAP.

    /usr/bin/python3 tests/real/test_shard_cluster.py /path/to/shard_of

Starts servers.Cluster (a private epmd, two ejabberd nodes with one
cookie and the same balanced configuration, each with its own listeners,
the second joined to the first with ejabberd_admin:join_cluster), then
drives both with test_shard_routing.py's components and batches: where
each of 200 room JIDs lands, sent through either node, and what a killed
node does to its slot. Every process is stopped by its PID at the end.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
import test_shard_routing as routing  # noqa: E402
from test_shard_routing import (DOMAIN, SECRET, SENDER,  # noqa: E402
                                Component, rooms)


class Run(routing.Run):
    def __init__(self, shard_of):
        super().__init__(shard_of, PLAN)
        self.cluster = None
        self.senders = []

    def cleanup(self):
        for c in self.conns + self.senders:
            c.close()
        if self.cluster:
            self.cluster.stop()
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
        self.cluster = servers.Cluster(self.tmp, DOMAIN, SECRET, 2,
                                       extra_hosts={SENDER: SECRET},
                                       bus=False)
        n1, n2 = self.cluster.nodes
        self.server = n1
        self.cluster.start()
        db = self.cluster.db_nodes()
        t.check(sorted(db) == sorted([n1.node, n2.node]),
                "the second node joins the first: mnesia runs on both", db)

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
