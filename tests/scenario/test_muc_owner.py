"""Scenario: the owner's configuration form (XEP-0045 §10) and what each
room option does — members-only, password, max occupants, moderated,
non-anonymous, private messages — and room destruction."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SUITE, check, render, test, tmpdir  # noqa: E402
from muclib import (A, B, C, E, ERR, OID, USER_NS, create, empty_subject,  # noqa: E402
                      join, presence, rig, say, self_presence, start, two)

OWNER = 'http://jabber.org/protocol/muc#owner'


def configure(s, room, fields, frm=A, ident='cfg'):
    body = ''.join("<field var='%s'><value>%s</value></field>" % kv for kv in fields)
    s.send("<iq type='set' id='%s' from='%s' to='%s@%s'><query xmlns='%s'>"
           "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
           "http://jabber.org/protocol/muc#roomconfig</value></field>%s</x></query></iq>"
           % (ident, frm, room, C, OWNER, body))


def configured(s, room, code=104, to=(A,)):
    s.expect("<iq type='result' id='cfg' from='%s@%s' to='%s'/>" % (room, C, A))
    s.expect_unordered(["<message type='groupchat' from='%s@%s' to='%s'><x %s>"
                        "<status code='%d'/></x></message>" % (room, C, t, USER_NS, code)
                        for t in to])


def join_error(s, room, nick, frm, etype, cond, extra=''):
    join(s, room, nick, frm, extra)
    s.expect("<presence type='error' from='%s@%s/%s' to='%s'><error type='%s'><%s %s/>"
             "</error></presence>" % (room, C, nick, frm, etype, cond, ERR))


@test('the owner gets the muc#roomconfig form; anyone else is forbidden')
def form():
    s = rig()
    two(s, 'o1')
    s.send("<iq type='get' id='f1' from='%s' to='o1@%s'><query xmlns='%s'/></iq>" % (A, C, OWNER))
    st = s._need_conn().next_stanza(5)
    check(st is not None and st.get('type') == 'result', 'no result: %s'
          % (render(st) if st is not None else 'nothing'))
    x = st.find('{%s}query/{jabber:x:data}x' % OWNER)
    vars_ = {f.get('var') for f in x.findall('{jabber:x:data}field')}
    for want in ('FORM_TYPE', 'muc#roomconfig_roomname', 'muc#roomconfig_membersonly',
                 'muc#roomconfig_roomsecret', 'muc#roomconfig_whois',
                 'muc#roomconfig_maxusers', 'muc#roomconfig_moderatedroom'):
        check(want in vars_, '%s missing from the form: %s' % (want, sorted(vars_)))
    s.send("<iq type='get' id='f2' from='%s' to='o1@%s'><query xmlns='%s'/></iq>" % (B, C, OWNER))
    s.expect("<iq type='error' id='f2' from='o1@%s' to='%s'><error type='auth'>"
             "<forbidden %s/></error></iq>" % (C, B, ERR))


@test('members-only: non-members present are removed with 322, and a '
      'non-member joining gets registration-required')
def members_only():
    s = rig()
    two(s, 'o2')
    configure(s, 'o2', [('muc#roomconfig_membersonly', '1')])
    s.expect("<iq type='result' id='cfg' from='o2@%s' to='%s'/>" % (C, A))
    s.expect_unordered([
        "<presence type='unavailable' from='o2@%s/bob' to='%s'><x %s>"
        "<item affiliation='none' role='none' jid='%s'/><status code='110'/>"
        "<status code='322'/></x>%s</presence>" % (C, B, USER_NS, B, OID),
        "<presence type='unavailable' from='o2@%s/bob' to='%s'><x %s>"
        "<item affiliation='none' role='none' jid='%s'/><status code='322'/></x>%s</presence>"
        % (C, A, USER_NS, B, OID),
        "<message type='groupchat' from='o2@%s' to='%s'><x %s><status code='104'/></x>"
        "</message>" % (C, A, USER_NS)])
    join_error(s, 'o2', 'eve', E, 'auth', 'registration-required')


@test('a password-protected room refuses a join without the password '
      '(not-authorized) and admits one with it')
def password():
    s = rig()
    create(s, 'o3')
    configure(s, 'o3', [('muc#roomconfig_roomsecret', 'sesame')])
    configured(s, 'o3')
    join_error(s, 'o3', 'eve', E, 'auth', 'not-authorized')
    join_error(s, 'o3', 'eve', E, 'auth', 'not-authorized', '<password>wrong</password>')
    join(s, 'o3', 'eve', E, '<password>sesame</password>')
    s.expect_unordered([presence('o3', 'alice', E, 'owner', 'moderator'),
                        presence('o3', 'eve', A, 'none', 'participant', jid=E)])
    s.expect(self_presence('o3', 'eve', E, 'none', 'participant', [110]))
    s.expect(empty_subject('o3', E))


@test('a full room refuses a join with service-unavailable')
def full_room():
    s = rig()
    create(s, 'o4')
    configure(s, 'o4', [('muc#roomconfig_maxusers', '1')])
    configured(s, 'o4')
    join_error(s, 'o4', 'eve', E, 'cancel', 'service-unavailable')


@test('in a moderated room a newcomer is a visitor and may not speak')
def moderated():
    s = rig()
    create(s, 'o5')
    configure(s, 'o5', [('muc#roomconfig_moderatedroom', '1')])
    configured(s, 'o5')
    join(s, 'o5', 'eve', E)
    s.expect_unordered([presence('o5', 'alice', E, 'owner', 'moderator'),
                        presence('o5', 'eve', A, 'none', 'visitor', jid=E)])
    s.expect(self_presence('o5', 'eve', E, 'none', 'visitor', [110]))
    s.expect(empty_subject('o5', E))
    say(s, 'o5', 'v1', 'hi', frm=E)
    s.expect("<message type='error' id='v1' from='o5@%s' to='%s'><error type='auth'>"
             "<forbidden %s/></error></message>" % (C, E, ERR))


@test('making the room non-anonymous tells occupants (172) and shows real '
      'JIDs to everyone, with status 100 on join')
def non_anonymous():
    s = rig()
    create(s, 'o6')
    configure(s, 'o6', [('muc#roomconfig_whois', 'anyone')])
    configured(s, 'o6', code=172)
    join(s, 'o6', 'eve', E)
    s.expect_unordered([presence('o6', 'alice', E, 'owner', 'moderator', jid=A),
                        presence('o6', 'eve', A, 'none', 'participant', jid=E)])
    s.expect(self_presence('o6', 'eve', E, 'none', 'participant', [110, 100]))
    s.expect(empty_subject('o6', E))


@test('with private messages off, a private message is refused with not-allowed')
def no_pm():
    s = rig()
    two(s, 'o7')
    configure(s, 'o7', [('muc#roomconfig_allowpm', 'none')])
    s.expect("<iq type='result' id='cfg' from='o7@%s' to='%s'/>" % (C, A))
    s.expect_unordered(["<message type='groupchat' from='o7@%s' to='%s'><x %s>"
                        "<status code='104'/></x></message>" % (C, t, USER_NS)
                        for t in (A, B)])
    s.send("<message type='chat' id='pm' from='%s' to='o7@%s/alice'><body>x</body></message>"
           % (B, C))
    s.expect("<message type='error' id='pm' from='o7@%s/alice' to='%s'><error type='cancel'>"
             "<not-allowed %s/></error></message>" % (C, B, ERR))


@test('a bad value in the form is refused with not-acceptable and changes nothing')
def bad_value():
    s = rig()
    create(s, 'o8')
    configure(s, 'o8', [('muc#roomconfig_maxusers', 'many')])
    s.expect("<iq type='error' id='cfg' from='o8@%s' to='%s'><error type='modify'>"
             "<not-acceptable %s/></error></iq>" % (C, A, ERR))
    join(s, 'o8', 'eve', E)
    s.expect_unordered([presence('o8', 'alice', E, 'owner', 'moderator'),
                        presence('o8', 'eve', A, 'none', 'participant', jid=E)])
    s.expect(self_presence('o8', 'eve', E, 'none', 'participant', [110]))
    s.expect(empty_subject('o8', E))


@test('destroying the room sends unavailable with <destroy/>, reason and '
      'venue to every occupant, and the group is gone')
def destroy():
    s = rig()
    two(s, 'o9')
    s.send("<iq type='set' id='d1' from='%s' to='o9@%s'><query xmlns='%s'>"
           "<destroy jid='elsewhere@%s'><reason>moving</reason></destroy></query></iq>"
           % (A, C, OWNER, C))
    d = "<destroy jid='elsewhere@%s'><reason>moving</reason></destroy>" % C
    s.expect_unordered([
        "<presence type='unavailable' from='o9@%s/alice' to='%s'><x %s>"
        "<item affiliation='owner' role='none' jid='%s'/>%s</x>%s</presence>"
        % (C, A, USER_NS, A, d, OID),
        "<presence type='unavailable' from='o9@%s/bob' to='%s'><x %s>"
        "<item affiliation='none' role='none' jid='%s'/>%s</x>%s</presence>"
        % (C, B, USER_NS, B, d, OID),
        "<iq type='result' id='d1' from='o9@%s' to='%s'/>" % (C, A)])
    s.send("<iq type='get' id='d2' from='%s' to='o9@%s'>"
           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (E, C))
    s.expect("<iq type='error' id='d2' from='o9@%s' to='%s'><error type='cancel'>"
             "<item-not-found %s/></error></iq>" % (C, E, ERR))


@test('a temporary room (persistent off) goes when its last occupant leaves')
def temporary():
    s = rig()
    create(s, 'o10')
    configure(s, 'o10', [('muc#roomconfig_persistentroom', '0')])
    configured(s, 'o10')
    s.send("<presence type='unavailable' from='%s' to='o10@%s/alice'/>" % (A, C))
    s.expect("<presence type='unavailable' from='o10@%s/alice' to='%s'><x %s>"
             "<item affiliation='owner' role='none' jid='%s'/><status code='110'/></x>%s"
             "</presence>" % (C, A, USER_NS, A, OID))
    s.send("<iq type='get' id='t1' from='%s' to='o10@%s'>"
           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (E, C))
    s.expect("<iq type='error' id='t1' from='o10@%s' to='%s'><error type='cancel'>"
             "<item-not-found %s/></error></iq>" % (C, E, ERR))


@test('the configuration survives a restart')
def config_persists():
    d = tmpdir()
    store = os.path.join(d, 'store')
    s, proc = start(store)
    SUITE.track(s)
    SUITE.track(proc)
    create(s, 'keepcfg')
    configure(s, 'keepcfg', [('muc#roomconfig_roomsecret', 'pw'),
                             ('muc#roomconfig_roomname', 'Kept')])
    configured(s, 'keepcfg')
    proc.stop()
    s.shutdown()
    s2, proc2 = start(store)
    SUITE.track(s2)
    SUITE.track(proc2)
    join_error(s2, 'keepcfg', 'eve', E, 'auth', 'not-authorized')
    s2.send("<iq type='get' id='n' from='%s' to='keepcfg@%s'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (E, C))
    st = s2._need_conn().next_stanza(5)
    ident = st.find('{http://jabber.org/protocol/disco#info}query/'
                    '{http://jabber.org/protocol/disco#info}identity')
    check(ident is not None and ident.get('name') == 'Kept', render(st))
    feats = {f.get('var') for f in st.iter('{http://jabber.org/protocol/disco#info}feature')}
    check('muc_passwordprotected' in feats, sorted(feats))


if __name__ == '__main__':
    SUITE.run()
