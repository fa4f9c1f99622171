"""Scenario: issue 9's attacks on the MUC side, each played as a client
would through its server: look-alike nicks (item 8), the rate limit across
rejoins and resources and the join limit (item 6), what an outsider of a
hidden members-only room learns (item 7), forged ids in relayed stanzas
(item 9), invitation amplification and unsolicited declines (item 10), and
every kept or re-sent string bounded where it enters."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FakeServer, Imgroups, SUITE, base_config, check,  # noqa: E402
                     parse_literal, render, test, tmpdir)
from muclib import (A, B, C, E, MUC, USER_NS, create, empty_subject,  # noqa: E402
                    groupchat_to, join, presence, rig, say, self_presence, two)

A2 = 'alice@localhost/tablet'
ADMIN = 'http://jabber.org/protocol/muc#admin'
OWNER = 'http://jabber.org/protocol/muc#owner'
INFO = 'http://jabber.org/protocol/disco#info'
_n = [0]


def own_rig(limits=None, component=None):
    server = FakeServer()
    d = tmpdir()
    cfg = base_config(server.port, os.path.join(d, 'store'))
    cfg['component'].update(component or {})
    cfg['limits'] = dict({'max_rooms': '1000', 'join_burst': '1000'},
                         **(limits or {}))
    proc = Imgroups(cfg, workdir=d)
    server.wait_for_connection(10)
    SUITE.track(server)
    SUITE.track(proc)
    return server


def _head_mismatch(exp, got):
    if exp.tag != got.tag:
        return '%s is not %s' % (got.tag, exp.tag)
    for k, v in exp.attrib.items():
        if v != '{any}' and got.get(k) != v:
            return '%s=%r, expected %r' % (k, got.get(k), v)
    return None


def loose(s, literal):
    """The next stanza, checked on its element and the literal's attributes
    only: the caller looks into its children."""
    return loose_unordered(s, [literal])[0]


def loose_unordered(s, literals):
    exps = [parse_literal(x) for x in literals]
    gots = []
    for _ in exps:
        got = s.conn.next_stanza(5)
        check(got is not None, 'expected %s; received %s, then nothing'
              % (literals, [render(g) for g in gots]))
        gots.append(got)
    left = list(gots)
    for e, lit in zip(exps, literals):
        hit = [g for g in left if _head_mismatch(e, g) is None]
        check(hit, 'nothing like %s among:\n  %s' % (lit, '\n  '.join(render(g) for g in gots)))
        left.remove(hit[0])
    return gots


def refused(s, literal, cond):
    """The next stanza is the error literal describes, with condition cond."""
    got = loose(s, literal)
    check(cond in error_of(got), 'expected %s: %s' % (cond, render(got)))


def synced(s, room, frm=A):
    """A ping the room answers after everything sent before it: what was
    not sent by then was not sent at all (no waiting on a clock)."""
    _n[0] += 1
    ident = 'sync%d' % _n[0]
    s.send("<iq type='get' id='%s' from='%s' to='%s@%s'><ping xmlns='urn:xmpp:ping'/></iq>"
           % (ident, frm, room, C))
    s.expect("<iq type='result' id='%s' from='%s@%s' to='%s'/>" % (ident, room, C, frm))


def error_of(got):
    err = got.find('{jabber:component:accept}error')
    if err is None:
        err = got.find('error')
    check(err is not None, 'not an error: %s' % render(got))
    return [c.tag.split('}')[1] for c in err if 'xmpp-stanzas' in c.tag]


def refused_join(s, room, nick, frm, cond, extra=''):
    join(s, room, nick, frm, extra)
    got = loose(s, "<presence type='error' from='%s@%s/%s' to='%s'/>" % (room, C, nick, frm))
    check(cond in error_of(got), 'join as %r: %s, expected %s'
          % (nick, render(got), cond))


# ---- item 8: nicks ----

LOOKALIKES = [
    ('two spaces', 'Big  Boss'),
    ('another case', 'BIG BOSS'),
    ('fullwidth', '\uff22ig Boss'),
    ('a no-break space', 'Big\u00a0Boss'),
    ('a trailing space', 'Big Boss '),
]

REFUSED = [
    ('U+3164 hangul filler', 'Big Boss\u3164'),
    ('zero width space', 'Big\u200bBoss'),
    ('zero width joiner', 'Big\u200dBoss'),
    ('soft hyphen', 'Big\u00adBoss'),
    ('right-to-left override', '\u202essoB giB'),
    ('left-to-right mark', 'Big Boss\u200e'),
    ('variation selector', 'Big Boss\ufe0f'),
    ('BOM', '\ufeffBig Boss'),
    ('tag character', 'Big Boss\U000e0041'),
    ('word joiner', 'Big\u2060Boss'),
]


@test('a look-alike of a present nick (spaces, case, width) gets conflict; '
      'invisible, bidi, variation, BOM and tag characters get not-acceptable')
def lookalike_nicks():
    s = rig()
    join(s, 'h1', 'Big Boss', A)
    s.expect(self_presence('h1', 'Big Boss', A, 'owner', 'moderator', [110, 201]))
    s.expect(empty_subject('h1', A))
    for what, nick in LOOKALIKES:
        refused_join(s, 'h1', nick, E, 'conflict')
    for what, nick in REFUSED:
        refused_join(s, 'h1', nick, E, 'not-acceptable')
    synced(s, 'h1')


@test('a nick change to a look-alike of another occupant gets conflict; to '
      'one\'s own nick in another case it is a rename')
def lookalike_nick_change():
    s = rig()
    two(s, 'h2')
    s.send("<presence from='%s' to='h2@%s/Alice'/>" % (B, C))
    refused(s, "<presence type='error' from='h2@%s/Alice' to='%s'/>" % (C, B), 'conflict')
    s.send("<presence from='%s' to='h2@%s/BOB'/>" % (B, C))
    loose_unordered(s, [
        "<presence type='unavailable' from='h2@%s/bob' to='%s'/>" % (C, A),
        "<presence type='unavailable' from='h2@%s/bob' to='%s'/>" % (C, B),
        "<presence from='h2@%s/BOB' to='%s'/>" % (C, A),
        "<presence from='h2@%s/BOB' to='%s'/>" % (C, B)])


# ---- item 6: rate limits ----

@test('the message rate is per bare JID in a room: leaving and rejoining, '
      'or a second resource, does not refill it')
def rate_survives_rejoin():
    s = own_rig({'burst': '3', 'rate': '0.001'})
    create(s, 'h3')
    say(s, 'h3', 'm1', 'one')
    s.expect(groupchat_to('h3', 'alice', A, 'one', 'm1'))
    s.send("<presence type='unavailable' from='%s' to='h3@%s/alice'/>" % (A, C))
    loose(s, "<presence type='unavailable' from='h3@%s/alice' to='%s'/>" % (C, A))
    join(s, 'h3', 'alice2', A)
    s.expect(self_presence('h3', 'alice2', A, 'owner', 'moderator', [110]))
    loose(s, "<message type='groupchat' from='h3@%s/alice'/>" % C)  # history
    s.expect(empty_subject('h3', A))
    say(s, 'h3', 'm2', 'two')
    s.expect(groupchat_to('h3', 'alice2', A, 'two', 'm2'))
    join(s, 'h3', 'alice2', A2)  # a second resource, same occupant
    loose_unordered(s, [
        presence('h3', 'alice2', A2, 'owner', 'moderator', jid=A2),
        "<message type='groupchat' from='h3@%s/alice' to='%s'/>" % (C, A2),
        "<message type='groupchat' from='h3@%s/alice2' to='%s'/>" % (C, A2),
        empty_subject('h3', A2)])
    say(s, 'h3', 'm3', 'three', frm=A2)
    s.expect_unordered([groupchat_to('h3', 'alice2', A, 'three', 'm3'),
                        groupchat_to('h3', 'alice2', A2, 'three', 'm3')])
    say(s, 'h3', 'm4', 'four', frm=A2)
    refused(s, "<message type='error' id='m4' from='h3@%s' to='%s'/>" % (C, A2), 'resource-constraint')
    synced(s, 'h3')


@test('joins per bare JID across rooms are limited ([limits] join_burst): '
      'past it a join gets resource-constraint, whatever the resource')
def join_limit():
    s = own_rig({'join_burst': '2', 'join_rate': '0.001'})
    create(s, 'h4')
    join(s, 'h5', 'alice', A2)
    s.expect(self_presence('h5', 'alice', A2, 'owner', 'moderator', [110, 201]))
    s.expect(empty_subject('h5', A2))
    refused_join(s, 'h4', 'alice', A2, 'resource-constraint')
    # a refused join creates no room: eve is the one who creates h6
    refused_join(s, 'h6', 'alice', A2, 'resource-constraint')
    join(s, 'h6', 'eve', E)
    s.expect(self_presence('h6', 'eve', E, 'owner', 'moderator', [110, 201]))
    s.expect(empty_subject('h6', E))
    # somebody else is not limited by alice's joins
    join(s, 'h4', 'eve', E)
    s.expect_unordered([presence('h4', 'alice', E, 'owner', 'moderator'),
                        presence('h4', 'eve', A, 'none', 'participant', jid=E),
                        self_presence('h4', 'eve', E, 'none', 'participant', [110]),
                        empty_subject('h4', E)])


# ---- item 7: privacy ----

def roominfo_vars(got):
    form = got.find('.//{jabber:x:data}x')
    return {f.get('var') for f in form} if form is not None else set()


@test('an outsider of a hidden members-only room gets no subject in '
      'disco#info (as Prosody); a member does')
def hidden_room_keeps_its_subject():
    s = rig()
    create(s, 'h6')
    s.send("<iq type='set' id='cfg' from='%s' to='h6@%s'><query xmlns='%s'>"
           "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
           "http://jabber.org/protocol/muc#roomconfig</value></field>"
           "<field var='muc#roomconfig_membersonly'><value>1</value></field>"
           "<field var='muc#roomconfig_publicroom'><value>0</value></field>"
           "</x></query></iq>" % (A, C, OWNER))
    s.expect("<iq type='result' id='cfg' from='h6@%s' to='%s'/>" % (C, A))
    loose(s, "<message type='groupchat' from='h6@%s' to='%s'/>" % (C, A))
    s.send("<message type='groupchat' id='su' from='%s' to='h6@%s'><subject>secret plans"
           "</subject></message>" % (A, C))
    loose(s, "<message type='groupchat' from='h6@%s/alice' to='%s'/>" % (C, A))
    for who, sees in ((E, False), (A, True)):
        s.send("<iq type='get' id='di' from='%s' to='h6@%s'><query xmlns='%s'/></iq>"
               % (who, C, INFO))
        got = loose(s, "<iq type='result' id='di' from='h6@%s' to='%s'/>" % (C, who))
        check(('muc#roominfo_subject' in roominfo_vars(got)) == sees
              and ('secret plans' in render(got)) == sees,
              '%s: %s' % (who, render(got)))


# ---- item 9: forged ids ----

@test('a private message loses a forged stanza-id by the room, delay, '
      'occupant-id and muc#user items; a stanza-id by someone else stays')
def forged_ids_in_private_messages():
    s = rig()
    two(s, 'h7')
    s.send("<message type='chat' id='pm' from='%s' to='h7@%s/bob'><body>hi</body>"
           "<stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='h7@%s'/>"
           "<stanza-id xmlns='urn:xmpp:sid:0' id='other' by='h8@%s'/>"
           "<stanza-id xmlns='urn:xmpp:sid:0' id='theirs' by='alice@localhost'/>"
           "<delay xmlns='urn:xmpp:delay' stamp='2001-01-01T00:00:00Z' from='h7@%s'/>"
           "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='bobs'/>"
           "<x %s><item jid='admin@localhost' role='moderator'/><status code='110'/></x>"
           "</message>" % (A, C, C, C, C, USER_NS))
    got = loose(s, "<message type='chat' id='pm' from='h7@%s/alice' to='%s'/>" % (C, B))
    ids = [e.get('id') for e in got.findall('{urn:xmpp:sid:0}stanza-id')]
    check(ids == ['theirs'], 'stanza-ids relayed: %s' % render(got))
    for tag in ('{urn:xmpp:delay}delay', '{urn:xmpp:occupant-id:0}occupant-id'):
        check(got.find(tag) is None, '%s relayed: %s' % (tag, render(got)))
    xs = got.findall('{http://jabber.org/protocol/muc#user}x')
    check(len(xs) == 1 and len(xs[0]) == 0, 'muc#user relayed: %s' % render(got))


# ---- item 10: invitations ----

@test('a stanza with two invitations is refused with bad-request and sends '
      'none; a decline from someone not invited is refused; an invitee\'s '
      'decline goes to the inviter only, once')
def invitations():
    s = rig()
    create(s, 'h9')
    s.send("<message id='i2' from='%s' to='h9@%s'><x %s><invite to='eve@localhost'/>"
           "<invite to='bob@localhost'/></x></message>" % (A, C, USER_NS))
    refused(s, "<message type='error' id='i2' from='h9@%s' to='%s'/>" % (C, A), 'bad-request')
    s.send("<message id='d0' from='%s' to='h9@%s'><x %s><decline to='alice@localhost'/>"
           "</x></message>" % (B, C, USER_NS))
    refused(s, "<message type='error' id='d0' from='h9@%s' to='%s'/>" % (C, B), 'not-acceptable')
    s.send("<message id='i1' from='%s' to='h9@%s'><x %s><invite to='eve@localhost'/>"
           "</x></message>" % (A, C, USER_NS))
    s.expect("<message id='i1' from='h9@%s' to='eve@localhost'><x %s>"
             "<invite from='alice@localhost'/></x></message>" % (C, USER_NS))
    s.send("<message id='d1' from='%s' to='h9@%s'><x %s><decline to='victim@localhost'>"
           "<reason>no</reason></decline></x></message>" % (E, C, USER_NS))
    s.expect("<message id='d1' from='h9@%s' to='alice@localhost'><x %s>"
             "<decline from='eve@localhost'><reason>no</reason></decline></x></message>"
             % (C, USER_NS))
    s.send("<message id='d2' from='%s' to='h9@%s'><x %s><decline to='alice@localhost'/>"
           "</x></message>" % (E, C, USER_NS))
    refused(s, "<message type='error' id='d2' from='h9@%s' to='%s'/>" % (C, E), 'not-acceptable')


# ---- bounds at entry ----

@test('a status over 1024 bytes is refused with policy-violation; one of '
      '1024 quotes is kept; only show, status, priority, caps and photo hash '
      'of a presence reach the others')
def presence_bounds():
    s = rig()
    create(s, 'h10')
    refused_join(s, 'h10', 'eve', E, 'policy-violation',
                 '</x><status>%s</status><x>' % ('x' * 1025))
    refused_join(s, 'h10', 'eve', E, 'bad-request', '</x><show>lol</show><x>')
    q = '&quot;' * 1024
    s.send("<presence from='%s' to='h10@%s/eve'><x %s><history maxstanzas='0'/>"
           "<password>pw</password></x><show>away</show><status>%s</status>"
           "<priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
           "node='n' ver='v' junk='j'/><x xmlns='vcard-temp:x:update'><photo>abc</photo>"
           "<extra/></x><foo xmlns='urn:example' a='1' b='2'/><nick xmlns="
           "'http://jabber.org/protocol/nick'>x</nick></presence>" % (E, C, MUC, q))
    got = loose_unordered(s, [
        presence('h10', 'alice', E, 'owner', 'moderator'),
        "<presence from='h10@%s/eve' to='%s'/>" % (C, A),
        "<presence from='h10@%s/eve' to='%s'/>" % (C, E),
        empty_subject('h10', E)])
    to_a = [g for g in got if g.get('to') == A][0]
    kids = [c.tag for c in to_a]
    want = ['{jabber:component:accept}show', '{jabber:component:accept}status',
            '{jabber:component:accept}priority', '{http://jabber.org/protocol/caps}c',
            '{vcard-temp:x:update}x', '{http://jabber.org/protocol/muc#user}x',
            '{urn:xmpp:occupant-id:0}occupant-id']
    check(kids == want, 'children: %s' % kids)
    status = to_a.find('{jabber:component:accept}status').text
    check(status == '"' * 1024, 'status of %d characters' % len(status))
    caps = to_a.find('{http://jabber.org/protocol/caps}c')
    check(caps.get('junk') is None and caps.get('ver') == 'v', render(caps))
    photo_x = to_a.find('{vcard-temp:x:update}x')
    check([c.tag.split('}')[1] for c in photo_x] == ['photo'], render(photo_x))


@test('an origin-id over 128 bytes and a subject over 4096 bytes are refused '
      'with policy-violation and nothing is fanned out')
def message_bounds():
    s = rig()
    create(s, 'h11')
    say(s, 'h11', 'o1', 'hi', extra="<origin-id xmlns='urn:xmpp:sid:0' id='%s'/>" % ('"' * 129))
    refused(s, "<message type='error' id='o1' from='h11@%s' to='%s'/>" % (C, A), 'policy-violation')
    s.send("<message type='groupchat' id='o2' from='%s' to='h11@%s'><subject>%s</subject>"
           "</message>" % (A, C, 'x' * 4097))
    refused(s, "<message type='error' id='o2' from='h11@%s' to='%s'/>" % (C, A), 'policy-violation')
    synced(s, 'h11')


@test('a kick reason is cut to 1024 bytes; an outcast list that would pass '
      'stanza_limit is answered with resource-constraint')
def reasons_and_lists():
    s = own_rig({'stanza_size': '8192'}, {'stanza_limit': '16384'})
    two(s, 'h12')
    long_reason = '\u00e9' * 700  # 1400 bytes: cut at a character boundary
    s.send("<iq type='set' id='k' from='%s' to='h12@%s'><query xmlns='%s'><item nick='bob' "
           "role='none'><reason>%s</reason></item></query></iq>" % (A, C, ADMIN, long_reason))
    got = loose_unordered(s, [
        "<presence type='unavailable' from='h12@%s/bob' to='%s'/>" % (C, B),
        "<presence type='unavailable' from='h12@%s/bob' to='%s'/>" % (C, A),
        "<iq type='result' id='k' from='h12@%s' to='%s'/>" % (C, A)])
    for g in got:
        r = g.find('.//{http://jabber.org/protocol/muc#user}reason')
        if r is not None:
            check(r.text == '\u00e9' * 512, 'reason of %d bytes' % len(r.text.encode()))
    for i in range(4):
        s.send("<iq type='set' id='b%d' from='%s' to='h12@%s'><query xmlns='%s'><item "
               "jid='spam%d@localhost' affiliation='outcast'><reason>%s</reason></item>"
               "</query></iq>" % (i, A, C, ADMIN, i, '&quot;' * 1000))
        s.expect("<iq type='result' id='b%d' from='h12@%s' to='%s'/>" % (i, C, A))
    s.send("<iq type='get' id='ol' from='%s' to='h12@%s'><query xmlns='%s'><item "
           "affiliation='outcast'/></query></iq>" % (A, C, ADMIN))
    refused(s, "<iq type='error' id='ol' from='h12@%s' to='%s'/>" % (C, A), 'resource-constraint')


if __name__ == '__main__':
    SUITE.run()
