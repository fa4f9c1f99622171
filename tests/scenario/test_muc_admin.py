"""Scenario: muc#admin (XEP-0045 sections 8 and 9) — kick with 307, voice,
moderator status, ban with 301 and the ban list, membership, the privilege
rules (forbidden / not-allowed / conflict), malformed items, all-or-nothing
sets, and bans that survive a restart."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SUITE, check, mismatch, parse_literal, render, test, tmpdir  # noqa: E402
import muclib  # noqa: E402
from muclib import (A, B, C, E, ERR, OID, USER_NS, create, empty_subject,  # noqa: E402
                    groupchat_to, join, say, start, two)

ADMIN = "xmlns='http://jabber.org/protocol/muc#admin'"
ERROR_TYPE = {'bad-request': 'modify', 'forbidden': 'auth', 'not-allowed': 'cancel',
              'item-not-found': 'cancel', 'conflict': 'cancel', 'jid-malformed': 'modify'}


def rig():
    s = muclib.rig()
    # What a failed test left unread is dropped, so that one failure does
    # not fail every test after it; each test ends with expect_nothing
    # where stray stanzas matter.
    conn = s._need_conn()
    while conn.next_stanza(0.1) is not None:
        pass
    return s


def x_user(item, codes=()):
    return "<x %s>%s%s</x>" % (USER_NS, item, ''.join("<status code='%d'/>" % c for c in codes))


def item(aff, role, jid=None, inner=''):
    attrs = "affiliation='%s' role='%s'" % (aff, role)
    if jid:
        attrs += " jid='%s'" % jid
    return "<item %s>%s</item>" % (attrs, inner) if inner else "<item %s/>" % attrs


def pres(room, nick, to, it, codes=(), typ=None):
    t = " type='%s'" % typ if typ else ''
    return ("<presence%s from='%s@%s/%s' to='%s'>%s%s</presence>"
            % (t, room, C, nick, to, x_user(it, codes), OID))








def admin_iq(s, room, ident, frm, typ, items):
    s.send("<iq type='%s' id='%s' from='%s' to='%s@%s'><query %s>%s</query></iq>"
           % (typ, ident, frm, room, C, ADMIN, items))


def result(room, ident, to, payload=''):
    return "<iq type='result' id='%s' from='%s@%s' to='%s'>%s</iq>" % (ident, room, C, to, payload)


def error(room, ident, to, cond):
    return ("<iq type='error' id='%s' from='%s@%s' to='%s'><error type='%s'><%s %s/></error></iq>"
            % (ident, room, C, to, ERROR_TYPE[cond], cond, ERR))




def refused(s, room, ident, frm, typ, items, cond):
    """An admin iq from frm, answered with the error cond."""
    admin_iq(s, room, ident, frm, typ, items)
    s.expect(error(room, ident, frm, cond))


def bob_becomes(s, room, ident, items, aff, role):
    """alice's admin set of items succeeds, and bob's new affiliation and
    role reach her and him (with 110)."""
    admin_iq(s, room, ident, A, 'set', items)
    s.expect(result(room, ident, A))
    s.expect_unordered([pres(room, 'bob', A, item(aff, role, B)),
                        pres(room, 'bob', B, item(aff, role, B), [110])])


def list_items(s, room, ident, frm, query_item):
    """Asks for a list; returns its items as dicts of their attributes (and
    'reason' when an item has one)."""
    admin_iq(s, room, ident, frm, 'get', query_item)
    st = s._need_conn().next_stanza(5)
    check(st is not None, 'no answer to the list request %s' % ident)
    check(st.get('type') == 'result' and st.get('id') == ident,
          'the list request %s was answered %s' % (ident, render(st)))
    q = st.find('{http://jabber.org/protocol/muc#admin}query')
    check(q is not None, 'a list result without its query: %s' % render(st))
    items = []
    for i in q.findall('{http://jabber.org/protocol/muc#admin}item'):
        d = dict(i.attrib)
        reason = i.findtext('{http://jabber.org/protocol/muc#admin}reason')
        if reason:
            d['reason'] = reason
        items.append(d)
    return items


@test('a moderator kicks a participant: the kicked one gets unavailable with 110, 307, '
      'actor and reason, then the moderator the result, then the others 307')
def kick():
    s = rig()
    two(s, 'k1')
    admin_iq(s, 'k1', 'kick1', A, 'set',
             "<item nick='bob' role='none'><reason>Avaunt!</reason></item>")
    why = "<actor nick='alice'/><reason>Avaunt!</reason>"
    s.expect(pres('k1', 'bob', B, item('none', 'none', B, why), [110, 307], 'unavailable'))
    s.expect(result('k1', 'kick1', A))
    s.expect(pres('k1', 'bob', A, item('none', 'none', B, why), [307], 'unavailable'))
    # bob is out: his messages are refused as a non-occupant's
    say(s, 'k1', 'g1', 'still here?', frm=B)
    s.expect("<message type='error' id='g1' from='k1@%s' to='%s'><error type='modify'>"
             "<not-acceptable %s/></error></message>" % (C, B, ERR))


@test('a participant cannot kick anyone (forbidden), and a kick of an absent nick '
      'is item-not-found')
def participant_cannot_kick():
    s = rig()
    two(s, 'k2')
    refused(s, 'k2', 'pk', B, 'set', "<item nick='alice' role='none'/>", 'forbidden')
    refused(s, 'k2', 'nk', A, 'set', "<item nick='nobody' role='none'/>", 'item-not-found')
    s.expect_nothing(0.3)


@test('an admin grants moderator status; that moderator cannot kick the owner '
      '(not-allowed) nor grant moderator status (forbidden)')
def moderator_cannot_kick_owner():
    s = rig()
    two(s, 'k3')
    join(s, 'k3', 'eve', E)
    s.expect_unordered([
        pres('k3', 'alice', E, item('owner', 'moderator')),
        pres('k3', 'bob', E, item('none', 'participant')),
        pres('k3', 'eve', A, item('none', 'participant', E)),
        pres('k3', 'eve', B, item('none', 'participant')),
        pres('k3', 'eve', E, item('none', 'participant', E), [110]),
        empty_subject('k3', E)])
    admin_iq(s, 'k3', 'mod1', A, 'set', "<item nick='bob' role='moderator'/>")
    s.expect(result('k3', 'mod1', A))
    s.expect_unordered([
        pres('k3', 'bob', A, item('none', 'moderator', B)),
        pres('k3', 'bob', B, item('none', 'moderator', B), [110]),
        pres('k3', 'bob', E, item('none', 'moderator'))])
    refused(s, 'k3', 'ko', B, 'set', "<item nick='alice' role='none'/>", 'not-allowed')
    refused(s, 'k3', 'gm', B, 'set', "<item nick='eve' role='moderator'/>", 'forbidden')
    # the moderator list shows both moderators to a moderator
    got = list_items(s, 'k3', 'ml', B, "<item role='moderator'/>")
    check(sorted((i['nick'], i['role'], i['affiliation'], i['jid']) for i in got) ==
          [('alice', 'moderator', 'owner', A), ('bob', 'moderator', 'none', B)],
          'moderator list %s' % got)
    s.expect_nothing(0.3)


@test('revoking voice makes a visitor whose messages are refused (forbidden); '
      'granting it back lets the message through')
def voice():
    s = rig()
    two(s, 'v1')
    bob_becomes(s, 'v1', 'rv', "<item nick='bob' role='visitor'/>", 'none', 'visitor')
    say(s, 'v1', 'm1', 'let me speak', frm=B)
    s.expect("<message type='error' id='m1' from='v1@%s' to='%s'><error type='auth'>"
             "<forbidden %s/></error></message>" % (C, B, ERR))
    bob_becomes(s, 'v1', 'gv', "<item nick='bob' role='participant'/>", 'none', 'participant')
    say(s, 'v1', 'm2', 'thanks', frm=B)
    s.expect_unordered([groupchat_to('v1', 'bob', A, 'thanks', 'm2'),
                        groupchat_to('v1', 'bob', B, 'thanks', 'm2')])


@test('an owner bans an occupant: result, then unavailable with 301 and affiliation '
      'outcast to both sides; the banned user cannot rejoin (forbidden)')
def ban():
    s = rig()
    two(s, 'b1')
    admin_iq(s, 'b1', 'ban1', A, 'set',
             "<item affiliation='outcast' jid='bob@localhost'><reason>Treason</reason></item>")
    why = "<actor nick='alice'/><reason>Treason</reason>"
    s.expect(result('b1', 'ban1', A))
    s.expect_unordered([
        pres('b1', 'bob', B, item('outcast', 'none', B, why), [110, 301], 'unavailable'),
        pres('b1', 'bob', A, item('outcast', 'none', B, why), [301], 'unavailable')])
    join(s, 'b1', 'bob', B)
    s.expect("<presence type='error' from='b1@%s/bob' to='%s'><error type='auth'>"
             "<forbidden %s/></error></presence>" % (C, B, ERR))
    s.expect_nothing(0.3)


@test('the ban list shows outcasts to owners; a ban of an absent user sends no '
      'presence; a participant asking for the list gets forbidden')
def ban_list():
    s = rig()
    two(s, 'b2')
    admin_iq(s, 'b2', 'ban2', A, 'set',
             "<item affiliation='outcast' jid='Eve@LocalHost/x'><reason>spam</reason></item>")
    s.expect(result('b2', 'ban2', A))
    s.expect_nothing(0.3)
    got = list_items(s, 'b2', 'bl', A, "<item affiliation='outcast'/>")
    check(got == [{'affiliation': 'outcast', 'jid': 'eve@localhost', 'reason': 'spam'}],
          'ban list (the JID is stored bare and folded) %s' % got)
    refused(s, 'b2', 'bl2', B, 'get', "<item affiliation='outcast'/>", 'forbidden')
    join(s, 'b2', 'eve', E)
    s.expect("<presence type='error' from='b2@%s/eve' to='%s'><error type='auth'>"
             "<forbidden %s/></error></presence>" % (C, E, ERR))
    # lifting the ban lets eve in
    admin_iq(s, 'b2', 'unban', A, 'set', "<item affiliation='none' jid='eve@localhost'/>")
    s.expect(result('b2', 'unban', A))
    check(list_items(s, 'b2', 'bl3', A, "<item affiliation='outcast'/>") == [],
          'the ban list is not empty after the ban was lifted')


@test('granting membership broadcasts the new affiliation and shows in the member '
      'list; revoking it takes it off')
def membership():
    s = rig()
    two(s, 'm1')
    bob_becomes(s, 'm1', 'mem1', "<item affiliation='member' jid='bob@localhost'/>",
                'member', 'participant')
    got = list_items(s, 'm1', 'ml', A, "<item affiliation='member'/>")
    check(got == [{'affiliation': 'member', 'jid': 'bob@localhost'}], 'member list %s' % got)
    bob_becomes(s, 'm1', 'mem2', "<item affiliation='none' nick='bob'/>", 'none', 'participant')
    check(list_items(s, 'm1', 'ml2', A, "<item affiliation='member'/>") == [],
          'the member list is not empty after revocation')


@test('in a members-only room, losing membership removes the occupant with 321')
def members_only_revoke():
    s = rig()
    two(s, 'm2')
    bob_becomes(s, 'm2', 'mem', "<item affiliation='member' jid='bob@localhost'/>",
                'member', 'participant')
    s.send("<iq type='set' id='cfg' from='%s' to='m2@%s'>"
           "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' "
           "type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig"
           "</value></field><field var='muc#roomconfig_membersonly'><value>1</value></field>"
           "</x></query></iq>" % (A, C))
    s.expect(result('m2', 'cfg', A))
    s.expect_unordered(["<message type='groupchat' from='m2@%s' to='%s'><x %s>"
                        "<status code='104'/></x></message>" % (C, to, USER_NS) for to in (A, B)])
    admin_iq(s, 'm2', 'rev', A, 'set', "<item affiliation='none' jid='bob@localhost'/>")
    s.expect(result('m2', 'rev', A))
    why = "<actor nick='alice'/>"
    s.expect_unordered([
        pres('m2', 'bob', B, item('none', 'none', B, why), [110, 321], 'unavailable'),
        pres('m2', 'bob', A, item('none', 'none', B, why), [321], 'unavailable')])
    s.expect_nothing(0.3)


@test('an admin is a moderator, cannot ban the owner (not-allowed), cannot grant '
      'admin status (forbidden) nor read the owner list (forbidden)')
def admin_limits():
    s = rig()
    two(s, 'a1')
    bob_becomes(s, 'a1', 'ad1', "<item affiliation='admin' jid='bob@localhost'/>",
                'admin', 'moderator')
    refused(s, 'a1', 'b', B, 'set', "<item affiliation='outcast' jid='alice@localhost'/>",
            'not-allowed')
    refused(s, 'a1', 'g', B, 'set', "<item affiliation='admin' jid='eve@localhost'/>", 'forbidden')
    refused(s, 'a1', 'ol', B, 'get', "<item affiliation='owner'/>", 'forbidden')
    got = list_items(s, 'a1', 'ol2', A, "<item affiliation='owner'/>")
    check(got == [{'affiliation': 'owner', 'jid': 'alice@localhost'}], 'owner list %s' % got)
    s.expect_nothing(0.3)


@test('the only owner cannot give up ownership (conflict), nor ban herself')
def last_owner():
    s = rig()
    create(s, 'o1')
    refused(s, 'o1', 'lo', A, 'set', "<item affiliation='admin' jid='alice@localhost'/>",
            'conflict')
    refused(s, 'o1', 'sb', A, 'set', "<item affiliation='outcast' jid='alice@localhost'/>",
            'conflict')
    s.expect_nothing(0.3)


MALFORMED = [
    ('no nick or jid', "<item role='none'/>", 'bad-request'),
    ('an unknown role', "<item nick='bob' role='king'/>", 'bad-request'),
    ('an unknown affiliation', "<item jid='bob@localhost' affiliation='friend'/>", 'bad-request'),
    ('both role and affiliation', "<item nick='bob' role='none' affiliation='outcast'/>",
     'bad-request'),
    ('neither role nor affiliation', "<item nick='bob'/>", 'bad-request'),
    ('no item at all', "", 'bad-request'),
    ('two items for one user', "<item nick='bob' role='visitor'/><item nick='bob' role='none'/>",
     'bad-request'),
    ('a malformed JID', "<item jid='@@' affiliation='member'/>", 'jid-malformed'),
]


@test('malformed items are refused with bad-request (table: %s)'
      % ', '.join(m[0] for m in MALFORMED))
def malformed():
    s = rig()
    two(s, 'x1')
    for n, (what, items, cond) in enumerate(MALFORMED):
        admin_iq(s, 'x1', 'bad%d' % n, A, 'set', items)
        got = s._need_conn().next_stanza(5)
        check(got is not None, '%s: no answer' % what)
        exp = error('x1', 'bad%d' % n, A, cond)
        why = mismatch(parse_literal(exp), got)
        check(why is None, '%s: expected %s, got %s (%s)' % (what, exp, render(got), why))
    refused(s, 'x1', 'badget', A, 'get', "<item affiliation='none'/>", 'bad-request')
    s.expect_nothing(0.3)


@test('a set is applied whole or not at all: a valid member grant next to a bad '
      'item changes nothing')
def all_or_nothing():
    s = rig()
    two(s, 'x2')
    admin_iq(s, 'x2', 'mix', A, 'set',
             "<item affiliation='member' jid='bob@localhost'/><item nick='ghost' role='none'/>")
    s.expect(error('x2', 'mix', A, 'item-not-found'))
    s.expect_nothing(0.3)
    check(list_items(s, 'x2', 'ml', A, "<item affiliation='member'/>") == [],
          'the member grant was stored although the set failed')
    # two good items: both applied, one result
    admin_iq(s, 'x2', 'two', A, 'set',
             "<item affiliation='member' jid='bob@localhost'/>"
             "<item affiliation='member' jid='carol@localhost'/>")
    s.expect(result('x2', 'two', A))
    s.expect_unordered([pres('x2', 'bob', A, item('member', 'participant', B)),
                        pres('x2', 'bob', B, item('member', 'participant', B), [110])])
    got = list_items(s, 'x2', 'ml2', A, "<item affiliation='member'/>")
    check(sorted(i['jid'] for i in got) == ['bob@localhost', 'carol@localhost'],
          'member list %s' % got)


@test('a ban survives a restart of imgroups on the same store')
def ban_persists():
    d = tmpdir()
    store = os.path.join(d, 'store')
    s, proc = start(store)
    SUITE.track(s)
    SUITE.track(proc)
    create(s, 'keepban')
    admin_iq(s, 'keepban', 'pb', A, 'set',
             "<item affiliation='outcast' jid='eve@localhost'><reason>spam</reason></item>")
    s.expect(result('keepban', 'pb', A))
    proc.proc.send_signal(signal.SIGTERM)
    s.expect(pres('keepban', 'alice', A, item('owner', 'none', A), [110, 332], 'unavailable'))
    check(proc.wait_exit(10) == 0, 'exit status %s' % proc.returncode)
    s.shutdown()
    s2, proc2 = start(store)
    SUITE.track(s2)
    SUITE.track(proc2)
    join(s2, 'keepban', 'eve', E)
    s2.expect("<presence type='error' from='keepban@%s/eve' to='%s'><error type='auth'>"
              "<forbidden %s/></error></presence>" % (C, E, ERR))
    got = list_items(s2, 'keepban', 'bl', A, "<item affiliation='outcast'/>")
    check(got == [{'affiliation': 'outcast', 'jid': 'eve@localhost', 'reason': 'spam'}], 'ban list %s' % got)


if __name__ == '__main__':
    SUITE.run()
