"""Scenario: groups as XEP-0045 rooms — create, join order, fan-out with
stanza-id and occupant-id, conflicts, private messages, nick change, leave,
history, self-ping, disco, persistence across a restart, shutdown."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SUITE, check, render, test, tmpdir  # noqa: E402
from muclib import (A, B, C, E, ERR, MUC, OID, USER_NS, create, empty_subject,  # noqa: E402
                    alice_says, groupchat_to, join, presence, rig, say, self_presence, start,
                    two)

@test('the first join creates the room: owner, moderator, statuses 110 and 201, '
      'then an empty subject')
def first_join():
    create(rig(), 'r1')


@test('a second joiner gets the occupants, then its own presence, then the subject; '
      'only moderators see real JIDs')
def second_join():
    two(rig(), 'r2')


@test('a nick held by someone else, also in another case or width, is refused '
      'with conflict')
def nick_conflict():
    s = rig()
    create(s, 'r3')
    join(s, 'r3', 'Alice', E)  # the same nick folded
    s.expect("<presence type='error' from='r3@%s/Alice' to='%s'><error type='cancel'>"
             "<conflict %s/></error></presence>" % (C, E, ERR))
    wide = '\uff41\uff4c\uff49\uff43\uff45'  # fullwidth 'alice'
    join(s, 'r3', wide, E)
    s.expect("<presence type='error' from='r3@%s/%s' to='%s'><error type='cancel'>"
             "<conflict %s/></error></presence>" % (C, wide, E, ERR))


@test('a groupchat message is archived and fanned out to everyone with the room '
      'stanza-id and occupant-id; a client-supplied stanza-id is stripped')
def fan_out():
    s = rig()
    two(s, 'r4')
    say(s, 'r4', 'm1', 'hello', extra="<stanza-id xmlns='urn:xmpp:sid:0' id='forged' "
        "by='r4@%s'/>" % C)
    got = s.expect_unordered([groupchat_to('r4', 'alice', A, 'hello', 'm1'),
                              groupchat_to('r4', 'alice', B, 'hello', 'm1')])
    ids = {g.find('{urn:xmpp:sid:0}stanza-id').get('id') for g in got}
    check(len(ids) == 1 and 'forged' not in ids, 'stanza-ids %s' % ids)
    oids = {g.find('{urn:xmpp:occupant-id:0}occupant-id').get('id') for g in got}
    check(len(oids) == 1, 'occupant-ids differ: %s' % oids)


@test('a message from a non-occupant is refused with not-acceptable')
def non_occupant_message():
    s = rig()
    create(s, 'r5')
    say(s, 'r5', 'x1', 'hi', frm=E)
    s.expect("<message type='error' id='x1' from='r5@%s' to='%s'><error type='modify'>"
             "<not-acceptable %s/></error></message>" % (C, E, ERR))


@test('a private message reaches the other occupant from the sender\'s room JID')
def private_message():
    s = rig()
    two(s, 'r6')
    s.send("<message type='chat' id='p1' from='%s' to='r6@%s/bob'><body>psst</body></message>"
           % (A, C))
    s.expect("<message type='chat' id='p1' from='r6@%s/alice' to='%s'><body>psst</body>"
             "<x %s/></message>" % (C, B, USER_NS))


@test('a nick change is an unavailable presence with 303 and the new nick, then '
      'available under the new nick')
def nick_change():
    s = rig()
    two(s, 'r7')
    s.send("<presence from='%s' to='r7@%s/robert'/>" % (B, C))
    item_b = "<item affiliation='none' role='participant' nick='robert'/>"
    item_a = "<item affiliation='none' role='participant' nick='robert' jid='%s'/>" % B
    s.expect_unordered([
        "<presence type='unavailable' from='r7@%s/bob' to='%s'><x %s>%s<status code='303'/>"
        "</x>%s</presence>" % (C, A, USER_NS, item_a.replace("role='participant'", "role='none'"), OID),
        "<presence type='unavailable' from='r7@%s/bob' to='%s'><x %s>%s<status code='303'/>"
        "<status code='110'/></x>%s</presence>"
        % (C, B, USER_NS, item_a.replace("role='participant'", "role='none'"), OID),
        presence('r7', 'robert', A, 'none', 'participant', jid=B),
        self_presence('r7', 'robert', B, 'none', 'participant', [110])])
    del item_b


@test('leaving sends unavailable to everyone, with 110 to the leaver')
def leave():
    s = rig()
    two(s, 'r8')
    s.send("<presence type='unavailable' from='%s' to='r8@%s/bob'/>" % (B, C))
    s.expect_unordered([
        "<presence type='unavailable' from='r8@%s/bob' to='%s'><x %s>"
        "<item affiliation='none' role='none' jid='%s'/></x>%s</presence>" % (C, A, USER_NS, B, OID),
        "<presence type='unavailable' from='r8@%s/bob' to='%s'><x %s>"
        "<item affiliation='none' role='none' jid='%s'/><status code='110'/></x>%s</presence>"
        % (C, B, USER_NS, B, OID)])
    say(s, 'r8', 'g', 'gone?', frm=B)
    s.expect("<message type='error' id='g' from='r8@%s' to='%s'><error type='modify'>"
             "<not-acceptable %s/></error></message>" % (C, B, ERR))


@test('history on join honours maxstanzas and carries a delay stamp')
def history():
    s = rig()
    create(s, 'r9')
    alice_says(s, 'r9', 3, 'h%d', 'n%d')
    join(s, 'r9', 'bob', B, "<history maxstanzas='2'/>")
    s.expect_unordered([presence('r9', 'alice', B, 'owner', 'moderator'),
                        presence('r9', 'bob', A, 'none', 'participant', jid=B)])
    s.expect(self_presence('r9', 'bob', B, 'none', 'participant', [110]))
    for i in (1, 2):
        s.expect("<message type='groupchat' from='r9@%s/alice' to='%s'><body>n%d</body>"
                 "<delay xmlns='urn:xmpp:delay' stamp='{any}' from='r9@%s'/>"
                 "<stanza-id xmlns='urn:xmpp:sid:0' id='{any}' by='r9@%s'/>"
                 "%s</message>" % (C, B, i, C, C, OID))
    s.expect(empty_subject('r9', B))


@test('a self-ping is answered for an occupant and refused with not-acceptable '
      'for anyone else (XEP-0410)')
def self_ping():
    s = rig()
    create(s, 'r10')
    ping = "<iq type='get' id='%s' from='%s' to='r10@%s/alice'><ping xmlns='urn:xmpp:ping'/></iq>"
    s.send(ping % ('sp1', A, C))
    s.expect("<iq type='result' id='sp1' from='r10@%s/alice' to='%s'/>" % (C, A))
    s.send(ping % ('sp2', E, C))
    s.expect("<iq type='error' id='sp2' from='r10@%s/alice' to='%s'><error type='modify'>"
             "<not-acceptable %s/></error></iq>" % (C, E, ERR))


@test('disco#info on a room gives the conference identity, MUC features and '
      'the roominfo form')
def room_disco():
    s = rig()
    create(s, 'r11')
    s.send("<iq type='get' id='d1' from='%s' to='r11@%s'>"
           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (E, C))
    st = s._need_conn().next_stanza(5)
    check(st is not None and st.get('type') == 'result', 'no result: %s'
          % (render(st) if st is not None else 'nothing'))
    q = st.find('{http://jabber.org/protocol/disco#info}query')
    ident = q.find('{http://jabber.org/protocol/disco#info}identity')
    check(ident.get('category') == 'conference' and ident.get('type') == 'text',
          'identity %s' % render(ident))
    feats = {f.get('var') for f in q.findall('{http://jabber.org/protocol/disco#info}feature')}
    for want in ('http://jabber.org/protocol/muc', 'muc_semianonymous', 'urn:xmpp:sid:0',
                 'urn:xmpp:occupant-id:0'):
        check(want in feats, '%s missing from %s' % (want, sorted(feats)))
    check(q.find('{jabber:x:data}x') is not None, 'no roominfo form')


@test('creation refused for non-admins when room_creation = admins (not-allowed)')
def creation_admins_only():
    s, proc = start(room_creation='admins', admins='alice@localhost')
    SUITE.track(s)
    SUITE.track(proc)
    join(s, 'newroom', 'eve', E)
    s.expect("<presence type='error' from='newroom@%s/eve' to='%s'><error type='cancel'>"
             "<not-allowed %s/></error></presence>" % (C, E, ERR))
    create(s, 'newroom')


@test('the room, its subject, owner and history survive a restart; shutdown '
      'tells occupants with status 332')
def persistence():
    d = tmpdir()
    store = os.path.join(d, 'store')
    s, proc = start(store)
    SUITE.track(s)
    SUITE.track(proc)
    create(s, 'keep')
    s.send("<message type='groupchat' id='t1' from='%s' to='keep@%s'><subject>Plans</subject>"
           "</message>" % (A, C))
    s.expect("<message type='groupchat' id='t1' from='keep@%s/alice' to='%s'>"
             "<subject>Plans</subject><stanza-id xmlns='urn:xmpp:sid:0' id='{any}' by='keep@%s'/>"
             "%s</message>" % (C, A, C, OID))
    say(s, 'keep', 't2', 'remember')
    s.expect(groupchat_to('keep', 'alice', A, 'remember', 't2'))
    proc.proc.send_signal(signal.SIGTERM)
    s.expect("<presence type='unavailable' from='keep@%s/alice' to='%s'><x %s>"
             "<item affiliation='owner' role='none' jid='%s'/><status code='110'/>"
             "<status code='332'/></x>%s</presence>" % (C, A, USER_NS, A, OID))
    check(proc.wait_exit(10) == 0, 'exit status %s' % proc.returncode)
    s.shutdown()
    s2, proc2 = start(store)
    SUITE.track(s2)
    SUITE.track(proc2)
    join(s2, 'keep', 'alice', A)
    s2.expect(self_presence('keep', 'alice', A, 'owner', 'moderator', [110]))
    s2.expect("<message type='groupchat' from='keep@%s/alice' to='%s'><body>remember</body>"
              "<delay xmlns='urn:xmpp:delay' stamp='{any}' from='keep@%s'/>"
              "<stanza-id xmlns='urn:xmpp:sid:0' id='{any}' by='keep@%s'/>"
              "%s<x %s><item jid='alice@localhost'/></x></message>"
              % (C, A, C, C, OID, USER_NS))  # a moderator sees who said it
    s2.expect("<message type='groupchat' from='keep@%s/alice' to='%s'><subject>Plans</subject>"
              "</message>" % (C, A))


MAM = 'urn:xmpp:mam:2'
RSM = 'http://jabber.org/protocol/rsm'


def mam_page(s, room, qid, rsm, frm=A):
    """Sends a MAM query; returns (results, fin) as elements."""
    s.send("<iq type='set' id='%s' from='%s' to='%s@%s'><query xmlns='%s' queryid='%s'>"
           "<set xmlns='%s'>%s</set></query></iq>" % (qid, frm, room, C, MAM, qid, RSM, rsm))
    results = []
    conn = s._need_conn()
    while True:
        st = conn.next_stanza(5)
        check(st is not None, 'MAM query %s: no answer' % qid)
        if st.tag.endswith('}iq'):
            check(st.get('type') == 'result' and st.get('id') == qid,
                  'MAM query %s answered %s' % (qid, render(st)))
            return results, st.find('{%s}fin' % MAM)
        r = st.find('{%s}result' % MAM)
        check(r is not None and r.get('queryid') == qid, 'not a MAM result: %s' % render(st))
        body = r.find('.//{jabber:client}body')
        check(r.find('{urn:xmpp:forward:0}forwarded/{urn:xmpp:delay}delay') is not None,
              'a result without a delay stamp: %s' % render(st))
        results.append((r.get('id'), body.text if body is not None else None))


@test('MAM pages through the archive with RSM, forward and backward, and says '
      'complete on the last page')
def mam_paging():
    s = rig()
    create(s, 'r12')
    alice_says(s, 'r12', 7, 'k%d', 'm%d')
    seen = []
    after = ''
    for page in range(3):
        res, fin = mam_page(s, 'r12', 'q%d' % page, '<max>3</max>' + after)
        seen += res
        last = fin.find('{%s}set/{%s}last' % (RSM, RSM))
        count = fin.find('{%s}set/{%s}count' % (RSM, RSM))
        check(count is not None and count.text == '7', 'count %s' % render(fin))
        want_complete = page == 2
        check((fin.get('complete') == 'true') == want_complete,
              'page %d: complete=%s' % (page, fin.get('complete')))
        after = '<after>%s</after>' % last.text
    check([b for _, b in seen] == ['m%d' % i for i in range(7)],
          'pages gave %s' % [b for _, b in seen])
    res, fin = mam_page(s, 'r12', 'qb', '<max>2</max><before/>')
    check([b for _, b in res] == ['m5', 'm6'], 'last page gave %s' % res)
    check(fin.get('complete') != 'true', 'the last page backwards is not complete')
    res, fin = mam_page(s, 'r12', 'qb2', '<max>10</max><before>%s</before>' % res[0][0])
    check([b for _, b in res] == ['m%d' % i for i in range(5)], 'before gave %s' % res)
    check(fin.get('complete') == 'true', 'reaching the start is complete')


@test('MAM refuses an unknown id with item-not-found and outsiders with forbidden')
def mam_errors():
    s = rig()
    create(s, 'r13')
    s.send("<iq type='set' id='u1' from='%s' to='r13@%s'><query xmlns='%s'><set xmlns='%s'>"
           "<after>00000000000000ff00000000</after></set></query></iq>" % (A, C, MAM, RSM))
    s.expect("<iq type='error' id='u1' from='r13@%s' to='%s'><error type='cancel'>"
             "<item-not-found %s/></error></iq>" % (C, A, ERR))
    s.send("<iq type='set' id='u2' from='%s' to='r13@%s'><query xmlns='%s'/></iq>" % (E, C, MAM))
    s.expect("<iq type='error' id='u2' from='r13@%s' to='%s'><error type='auth'>"
             "<forbidden %s/></error></iq>" % (C, E, ERR))


@test('a mediated invitation reaches the invitee from the room, naming the '
      'inviter; a decline goes back to the inviter')
def invitation():
    s = rig()
    create(s, 'r14')
    s.send("<message id='i1' from='%s' to='r14@%s'><x %s><invite to='eve@localhost'>"
           "<reason>join us</reason></invite></x></message>" % (A, C, USER_NS))
    s.expect("<message id='i1' from='r14@%s' to='eve@localhost'><x %s>"
             "<invite from='alice@localhost'><reason>join us</reason></invite></x></message>"
             % (C, USER_NS))
    s.send("<message id='i2' from='%s' to='r14@%s'><x %s><decline to='alice@localhost'>"
           "<reason>busy</reason></decline></x></message>" % (E, C, USER_NS))
    s.expect("<message id='i2' from='r14@%s' to='alice@localhost'><x %s>"
             "<decline from='eve@localhost'><reason>busy</reason></decline></x></message>"
             % (C, USER_NS))


@test('a nick with nothing visible, an invisible character or over the bound '
      'is refused with not-acceptable; spaces at its ends are removed (status 210)')
def bad_nick():
    s = rig()
    create(s, 'r15')
    for nick in ('\u200b', 'e\u00adve', 'x' * 129):
        s.send("<presence from='%s' to='r15@%s/%s'><x %s/></presence>" % (E, C, nick, MUC))
        s.expect("<presence type='error' from='r15@%s/%s' to='%s'><error type='modify'>"
                 "<not-acceptable %s/></error></presence>" % (C, nick, E, ERR))
    join(s, 'r15', ' eve ', E)
    s.expect_unordered([
        presence('r15', 'alice', E, 'owner', 'moderator'),
        presence('r15', 'eve', A, 'none', 'participant', jid=E),
        self_presence('r15', 'eve', E, 'none', 'participant', [110, 210]),
        empty_subject('r15', E)])


@test('unavailable presence from someone who is not in the room (a server '
      'cleaning up after a logout) is ignored')
def stray_unavailable():
    s = rig()
    create(s, 'r16')
    s.send("<presence type='unavailable' from='%s' to='r16@%s/ghost'/>" % (E, C))
    s.send("<presence type='unavailable' from='%s' to='nosuchroom@%s/ghost'/>" % (E, C))
    s.expect_nothing(0.5)


@test('what a client puts in its join presence (a vCard hash, caps) is passed '
      'on to the other occupants')
def presence_payload():
    s = rig()
    create(s, 'r17')
    s.send("<presence from='%s' to='r17@%s/bob'><x %s/><show>away</show>"
           "<x xmlns='vcard-temp:x:update'><photo/></x></presence>" % (B, C, MUC))
    s.expect_unordered([
        presence('r17', 'alice', B, 'owner', 'moderator'),
        "<presence from='r17@%s/bob' to='%s'><show>away</show>"
        "<x xmlns='vcard-temp:x:update'><photo/></x><x %s>"
        "<item affiliation='none' role='participant' jid='%s'/></x>%s</presence>"
        % (C, A, USER_NS, B, OID),
        "<presence from='r17@%s/bob' to='%s'><show>away</show>"
        "<x xmlns='vcard-temp:x:update'><photo/></x><x %s>"
        "<item affiliation='none' role='participant' jid='%s'/><status code='110'/></x>%s"
        "</presence>" % (C, B, USER_NS, B, OID),
        empty_subject('r17', B)])


@test('disco#items on a room lists the nicks to occupants and nothing to outsiders')
def room_items():
    s = rig()
    two(s, 'r18')
    q = "<query xmlns='http://jabber.org/protocol/disco#items'/>"
    s.send("<iq type='get' id='it1' from='%s' to='r18@%s'>%s</iq>" % (B, C, q))
    s.expect("<iq type='result' id='it1' from='r18@%s' to='%s'>"
             "<query xmlns='http://jabber.org/protocol/disco#items'>"
             "<item jid='r18@%s/alice' name='alice'/><item jid='r18@%s/bob' name='bob'/>"
             "</query></iq>" % (C, B, C, C))
    s.send("<iq type='get' id='it2' from='%s' to='r18@%s'>%s</iq>" % (E, C, q))
    s.expect("<iq type='result' id='it2' from='r18@%s' to='%s'>%s</iq>" % (C, E, q))


@test('history on join honours maxchars and seconds')
def history_limits():
    s = rig()
    create(s, 'r19')
    alice_says(s, 'r19', 3, 'hl%d', 'n%d')
    # maxchars 0: no history at all (XEP-0045 §7.2.14)
    join(s, 'r19', 'bob', B, "<history maxchars='0'/>")
    s.expect_unordered([presence('r19', 'alice', B, 'owner', 'moderator'),
                        presence('r19', 'bob', A, 'none', 'participant', jid=B)])
    s.expect(self_presence('r19', 'bob', B, 'none', 'participant', [110]))
    s.expect(empty_subject('r19', B))
    # seconds: messages of the last hour are all there
    join(s, 'r19', 'eve', E, "<history seconds='3600' maxstanzas='2'/>")
    s.expect_unordered([presence('r19', 'alice', E, 'owner', 'moderator'),
                        presence('r19', 'bob', E, 'none', 'participant'),
                        presence('r19', 'eve', A, 'none', 'participant', jid=E),
                        presence('r19', 'eve', B, 'none', 'participant')])
    s.expect(self_presence('r19', 'eve', E, 'none', 'participant', [110]))
    got = [s._need_conn().next_stanza(5) for _ in range(3)]
    bodies = [g.findtext('{jabber:component:accept}body') for g in got[:2]]
    check(bodies == ['n1', 'n2'], 'history %s' % [render(g) for g in got])
    check(got[2].find('{jabber:component:accept}subject') is not None, render(got[2]))


@test('MAM start and end select messages by time')
def mam_time():
    s = rig()
    create(s, 'r20')
    alice_says(s, 'r20', 2, 't%d', 't%d')
    form = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
            "<value>urn:xmpp:mam:2</value></field><field var='%s'><value>%s</value></field></x>")
    for var, stamp, want in (('start', '2000-01-01T00:00:00Z', 2),
                             ('end', '2000-01-01T00:00:00Z', 0),
                             ('start', '2999-01-01T00:00:00Z', 0)):
        s.send("<iq type='set' id='mt' from='%s' to='r20@%s'><query xmlns='urn:xmpp:mam:2'>%s"
               "</query></iq>" % (A, C, form % (var, stamp)))
        n = 0
        while True:
            st = s._need_conn().next_stanza(5)
            check(st is not None, 'no answer')
            if st.tag.endswith('}iq'):
                break
            n += 1
        check(n == want, '%s %s gave %d results, expected %d' % (var, stamp, n, want))


if __name__ == '__main__':
    SUITE.run()
