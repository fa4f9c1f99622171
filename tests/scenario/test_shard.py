"""Scenario: imgroups as one shard of several ([cluster] shards, shard;
docs/cluster.md). It serves the groups whose address ejabberd's
domain_balancing routes to its slot and refuses any other with
service-unavailable, never making a second copy of the group; one shard (the
default) serves every group, as before.

Which shard owns a group is common/shard.c's rule (tested bit for bit in
tests/test_shard.c and against ejabberd in tests/real/test_shard_routing.py);
the names here were placed with tests/shard_of: among 2 shards room-0 is
shard 0's, room-1 and room-2 shard 1's."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (ANY, FakeServer, Imgroups, SUITE,  # noqa: E402
                     base_config, render, test, tmpdir)
from muclib import A, C, ERR, create, join  # noqa: E402

ELSEWHERE = ("<text %s xml:lang='en'>this group is served by another "
             "instance of the service</text>" % ERR)


def refused_join(s, room, nick, to):
    s.expect("<presence type='error' from='%s@%s/%s' to='%s'>"
             "<error type='cancel'><service-unavailable %s/>%s</error>"
             "</presence>" % (room, C, nick, to, ERR, ELSEWHERE))


PROBE_NS = 'urn:imgroups:shard-probe:0'


def the_probe(s, shard=ANY):
    """The slot probe (cluster/probe.h) the instance sends after its
    handshake, from the component's own domain."""
    return s.expect("<message type='normal' from='%s' to='%s' id='%s'>"
                    "<probe xmlns='%s' shard='%s' nonce='%s'/></message>"
                    % (C, ANY, ANY, PROBE_NS, shard, ANY), timeout=10)


def prove_slot(s):
    """Plays ejabberd routing the probe back to the connection that sent
    it: the instance then serves its groups."""
    s.send(render(the_probe(s)))


def start(cluster=None, prove=True):
    server = FakeServer()
    d = tmpdir()
    cfg = base_config(server.port, os.path.join(d, 'store'))
    if cluster:
        # The shard bus goes nowhere here: a port nobody listens on.
        cluster = dict(cluster, bus_port=str(FakeServer(listen=False).port))
        cfg['cluster'] = cluster
    proc = Imgroups(cfg, workdir=d)
    server.wait_for_connection(10)
    if prove and cluster and cluster.get('shards', '1') != '1':
        prove_slot(server)
    return server, proc


_rigs = {}


def rig(k):
    """imgroups as shard k of 2, shared by the tests below."""
    if k not in _rigs:
        server, proc = start(cluster={'shards': '2', 'shard': str(k)})
        _rigs[k] = SUITE.shared(server)
        SUITE.shared(proc)
    return _rigs[k]


@test('shard 0 of 2 serves a group of its own: a join creates it')
def own_group_is_served():
    s = rig(0)
    create(s, 'room-0')


@test('shard 0 of 2 answers a join to a group of shard 1 with '
      'service-unavailable, and makes no such group')
def other_group_is_refused():
    s = rig(0)
    join(s, 'room-1', 'alice', A)
    refused_join(s, 'room-1', 'alice', A)
    s.send("<iq type='get' id='sh1' from='%s' to='groups.localhost'>"
           "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>" % A)
    s.expect("<iq type='result' id='sh1' from='%s' to='%s'>"
             "<query xmlns='http://jabber.org/protocol/disco#items'>"
             "<item jid='room-0@%s' name='room-0'/></query></iq>" % (C, A, C))


@test('the refusal follows the folded address: Room-2 is room-2, shard 1\'s')
def refusal_follows_the_fold():
    s = rig(0)
    join(s, 'Room-2', 'alice', A)
    refused_join(s, 'Room-2', 'alice', A)


@test('an iq to an occupant of another shard\'s group is refused the same way')
def occupant_iq_is_refused():
    s = rig(0)
    s.send("<iq type='get' id='sh2' from='%s' to='room-1@%s/bob'>"
           "<vCard xmlns='vcard-temp'/></iq>" % (A, C))
    s.expect("<iq type='error' id='sh2' from='room-1@%s/bob' to='%s'>"
             "<error type='cancel'><service-unavailable %s/>%s</error></iq>"
             % (C, A, ERR, ELSEWHERE))


@test('shard 1 of 2 serves room-1 and refuses room-0')
def the_other_shard_is_the_mirror():
    s = rig(1)
    create(s, 'room-1')
    join(s, 'room-0', 'alice', A)
    refused_join(s, 'room-0', 'alice', A)


@test('before its probe comes back, shard 0 refuses a join to its own group '
      'and keeps nothing of it')
def unproven_shard_refuses_its_own_groups():
    s, _ = start(cluster={'shards': '2', 'shard': '0'}, prove=False)
    probe = the_probe(s, shard='0')
    join(s, 'room-0', 'alice', A)
    refused_join(s, 'room-0', 'alice', A)
    s.send(render(probe))
    create(s, 'room-0')  # a fresh group: the refused join made none


@test('a probe of another shard reaching this connection makes shard 0 let '
      'go of the slot and come back')
def wrong_slot_is_let_go():
    s, _ = start(cluster={'shards': '2', 'shard': '0'}, prove=False)
    the_probe(s, shard='0')
    s.send("<message type='normal' from='%s' to='shard-probe-x@%s'>"
           "<probe xmlns='%s' shard='1' nonce='%s'/></message>"
           % (C, C, PROBE_NS, '5a' * 16))
    s.expect_stream_close()
    s.wait_for_connection(10)
    prove_slot(s)
    create(s, 'room-0')


@test('a probe from anyone but the component\'s own domain is dropped')
def forged_probe_is_dropped():
    s, _ = start(cluster={'shards': '2', 'shard': '0'})
    s.send("<message type='normal' from='%s' to='room-0@%s'>"
           "<probe xmlns='%s' shard='1' nonce='%s'/></message>"
           % (A, C, PROBE_NS, '5a' * 16))
    create(s, 'room-0')  # still connected, still serving


@test('a probe that does not come back makes shard 1 let go of the slot')
def lost_probe_is_let_go():
    s, _ = start(cluster={'shards': '2', 'shard': '1'}, prove=False)
    the_probe(s, shard='1')
    s.expect_stream_close(timeout=10)
    s.wait_for_connection(10)
    prove_slot(s)
    create(s, 'room-1')


@test('one shard, the default, serves every group')
def one_shard_serves_all():
    s, _ = start()
    for room in ('room-0', 'room-1', 'room-2'):
        create(s, room)


if __name__ == '__main__':
    SUITE.run()
