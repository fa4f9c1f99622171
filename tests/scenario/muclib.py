"""Shared pieces of the MUC scenario tests: a shared imgroups behind a fake
server, and the stanzas rooms send, as XML literals."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FakeServer, Imgroups, SUITE, base_config, check,  # noqa: E402
                     render, tmpdir)

C = 'groups.localhost'
A = 'alice@localhost/phone'
B = 'bob@localhost/laptop'
E = 'eve@localhost/x'
MUC = "xmlns='http://jabber.org/protocol/muc'"
USER_NS = "xmlns='http://jabber.org/protocol/muc#user'"
OID = "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='{any}'/>"
ERR = "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'"

_rig = {}


def start(store_dir=None, limits=None, **service):
    server = FakeServer()
    d = tmpdir()
    cfg = base_config(server.port, store_dir or os.path.join(d, 'store'))
    cfg.setdefault('service', {}).update(service)
    # tests create and join many rooms as one user; the limits have their
    # own tests
    cfg['limits'] = dict({'max_rooms': '1000', 'join_burst': '1000'},
                         **(limits or {}))
    proc = Imgroups(cfg, workdir=d)
    server.wait_for_connection(10)
    return server, proc


def rig():
    if 'server' not in _rig:
        server, proc = start()
        _rig['server'] = SUITE.shared(server)
        _rig['proc'] = SUITE.shared(proc)
    return _rig['server']


def join(s, room, nick, frm, extra=''):
    s.send("<presence from='%s' to='%s@%s/%s'><x %s>%s</x></presence>"
           % (frm, room, C, nick, MUC, extra))


def self_presence(room, nick, to, aff, role, codes, jid=None):
    item = "<item affiliation='%s' role='%s' jid='%s'/>" % (aff, role, jid or to)
    sts = ''.join("<status code='%d'/>" % c for c in codes)
    return ("<presence from='%s@%s/%s' to='%s'><x %s>%s%s</x>%s</presence>"
            % (room, C, nick, to, USER_NS, item, sts, OID))


def presence(room, nick, to, aff, role, jid=None):
    item = ("<item affiliation='%s' role='%s' jid='%s'/>" % (aff, role, jid) if jid
            else "<item affiliation='%s' role='%s'/>" % (aff, role))
    return ("<presence from='%s@%s/%s' to='%s'><x %s>%s</x>%s</presence>"
            % (room, C, nick, to, USER_NS, item, OID))


def empty_subject(room, to):
    return "<message type='groupchat' from='%s@%s' to='%s'><subject/></message>" % (room, C, to)


def create(s, room):
    join(s, room, 'alice', A)
    s.expect(self_presence(room, 'alice', A, 'owner', 'moderator', [110, 201]))
    s.expect(empty_subject(room, A))


def two(s, room):
    create(s, room)
    join(s, room, 'bob', B)
    got = s.expect_unordered([
        presence(room, 'alice', B, 'owner', 'moderator'),
        presence(room, 'bob', A, 'none', 'participant', jid=B),
        self_presence(room, 'bob', B, 'none', 'participant', [110]),
        empty_subject(room, B)])
    to_b = [g for g in got if g.get('to') == B]
    order = ['alice' in to_b[0].get('from'), 'bob' in to_b[1].get('from'),
             to_b[2].tag.endswith('message')]
    check(all(order), 'the joiner must get the occupants, then itself, then '
          'the subject: %s' % ' | '.join(render(g) for g in to_b))


def say(s, room, ident, body, frm=A, extra=''):
    """frm sends body (and extra) to the room as groupchat message ident."""
    s.send("<message type='groupchat' id='%s' from='%s' to='%s@%s'><body>%s</body>%s</message>"
           % (ident, frm, room, C, body, extra))


def groupchat_to(room, nick, to, body, ident):
    return ("<message type='groupchat' id='%s' from='%s@%s/%s' to='%s'><body>%s</body>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='{any}' by='%s@%s'/>%s</message>"
            % (ident, room, C, nick, to, body, room, C, OID))


def alice_says(s, room, n, ident, body):
    """alice, alone in room, says body % i as message ident % i for i in
    range(n), each reflected to her before the next."""
    for i in range(n):
        say(s, room, ident % i, body % i)
        s.expect(groupchat_to(room, 'alice', A, body % i, ident % i))


