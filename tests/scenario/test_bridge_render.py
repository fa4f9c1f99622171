"""What legacy members read for the whole message, played from both sides:
an XMPP occupant corrects, reacts, replies, shares a file and retracts,
and the member of a contacts-mode bot reads each in words; a retraction is
news only to members who had the message, and a copy still waiting is never
sent, one by one or in a digest. Prints TAP.

    /usr/bin/python3 tests/scenario/test_bridge_render.py /path/to/imgroups
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgeharness import Bridge, C  # noqa: E402
from harness import SUITE, Failure, check, render, test  # noqa: E402

ACCT = 'lobby-fake'
A = 'alice@localhost/phone'
ADMIN = 'admin@localhost/desk'
SID = '{urn:xmpp:sid:0}stanza-id'


def lobby(*handles, **kw):
    """A contacts-mode bot for lobby, alice in the room, each handle an
    online member (its welcome forgotten)."""
    b = Bridge({ACCT: {'group': 'lobby', 'mode': 'contacts'}}, **kw)
    b.join('lobby', 'alice', A)
    w = b.w[ACCT]
    for h in handles:
        w.send('buddy_presence', (ACCT, h, h, 'available'))
        w.said(h, 'hello from %s' % h)
    b.barrier()
    w.forget()
    return b, w


def send(b, ident, children):
    """alice sends a groupchat message with these children; the room's
    stanza-id of it, read from alice's echo."""
    b.server.send("<message type='groupchat' id='%s' from='%s' to='lobby@%s'>"
                  "%s</message>" % (ident, A, C, children))
    for st in b.barrier():
        if st.get('to') == A and st.get('id') == ident:
            sid = st.find(SID)
            if sid is not None:
                return sid.get('id')
    raise Failure('alice got no echo with a stanza-id of %s' % ident)


def said(b, ident, body):
    return send(b, ident, '<body>%s</body>' % body)


def got(w, handle='bob'):
    return w.sends('send_im', handle)


def reads(w, *want, handle='bob'):
    """handle was sent exactly the lines want, since the last look."""
    sent = got(w, handle)
    check(sent == list(want), 'sent to %s: %r, expected %r'
          % (handle, sent, list(want)))


CAKE = 'We should bake a cake for the party on Saturday evening'
QUOTE = 'We should bake a cake for the party on\u2026'


@test("a correction reaches a member as '<nick> (correction) new text'")
def correction():
    b, w = lobby('bob')
    said(b, 'm1', 'helo bob')
    send(b, 'm2', "<body>hello bob</body>"
         "<replace xmlns='urn:xmpp:message-correct:0' id='m1'/>")
    reads(w, '<alice> helo bob', '<alice> (correction) hello bob')


@test("a reaction reaches a member as '* nick reacted \U0001f44d to \"first "
      "words\u2026\"'")
def reaction():
    b, w = lobby('bob')
    sid = said(b, 'm1', CAKE)
    send(b, 'r1', "<reactions xmlns='urn:xmpp:reactions:0' id='%s'>"
         "<reaction>\U0001f44d</reaction></reactions>"
         "<store xmlns='urn:xmpp:hints'/>" % sid)
    reads(w, '<alice> ' + CAKE,
          '* alice reacted \U0001f44d to "%s"' % QUOTE)


@test("a reply reaches a member with the words it answers, its fallback "
      "quote dropped and no JID shown")
def reply():
    b, w = lobby('bob')
    sid = said(b, 'm1', CAKE)
    body = '> alice wrote:\n> %s\nGreat idea!' % CAKE
    end = len(body) - len('Great idea!')
    send(b, 'p1', "<body>%s</body>"
         "<reply xmlns='urn:xmpp:reply:0' to='lobby@%s/alice' id='%s'/>"
         "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>"
         "<body start='0' end='%d'/></fallback>" % (body, C, sid, end))
    reads(w, '<alice> ' + CAKE,
          '<alice> (replying to alice: "%s") Great idea!' % QUOTE)


@test("a file link (XEP-0066) reaches a member as its URL, with the words "
      "sent beside it")
def file_link():
    b, w = lobby('bob')
    url = 'https://upload.localhost/abc/cake.jpg'
    send(b, 'f1', "<body>%s</body><x xmlns='jabber:x:oob'><url>%s</url></x>"
         % (url, url))
    send(b, 'f2', "<body>the cake</body><x xmlns='jabber:x:oob'><url>%s</url>"
         "</x>" % url)
    reads(w, '<alice> ' + url, '<alice> the cake ' + url)


def retract(b, ident, sid):
    """alice withdraws her message sid (XEP-0424)."""
    send(b, ident, "<retract xmlns='urn:xmpp:message-retract:1' id='%s'/>"
         "<fallback xmlns='urn:xmpp:fallback:0' "
         "for='urn:xmpp:message-retract:1'/>"
         "<body>This person attempted to retract a previous message, but "
         "it's unsupported by your client.</body>"
         "<store xmlns='urn:xmpp:hints'/>" % sid)


@test("a retraction reaches the members who had the message as '* nick "
      "deleted a message'; a member who had not gets nothing, not even the "
      "copy that waited")
def retraction():
    b, w = lobby('bob', 'carol')
    w.send('buddy_presence', (ACCT, 'carol', 'carol', 'offline'))
    b.barrier()
    sid = said(b, 'm1', 'a line said in haste')
    reads(w, '<alice> a line said in haste')
    reads(w, handle='carol')  # offline
    retract(b, 'x1', sid)
    reads(w, '* alice deleted a message')
    w.send('buddy_presence', (ACCT, 'carol', 'carol', 'available'))
    b.barrier()
    said(b, 'm2', 'and now')
    reads(w, '<alice> and now', handle='carol')


@test("a retraction of a line still in flight to a member (handed to "
      "the network, not yet confirmed) tells them too")
def retraction_in_flight():
    b, w = lobby('bob')
    w.auto_deliver = False
    sid = said(b, 'm1', 'a line said in haste')
    sent = w.frames('send_im')
    check([x[2:] for x in sent] == [('bob', '<alice> a line said in haste')],
          'handed out: %r' % sent)
    retract(b, 'x1', sid)
    notice = w.frames('send_im')
    check([x[2:] for x in notice] == [('bob', '* alice deleted a message')],
          'handed out after the retraction: %r' % notice)
    for x in sent + notice:
        w.send('delivered', (x[0],))
    w.auto_deliver = True
    w.forget()
    said(b, 'm2', 'and now')
    reads(w, '<alice> and now')


@test("a member back from an absence does not find a withdrawn line in "
      "the digest of what was said meanwhile")
def retraction_while_away():
    b, w = lobby('carol', legacy={'digest_after': '3'})
    w.send('buddy_presence', (ACCT, 'carol', 'carol', 'offline'))
    b.barrier()
    sids = [said(b, 'a%d' % i, 'line %d' % i) for i in range(5)]
    retract(b, 'x1', sids[3])
    w.send('buddy_presence', (ACCT, 'carol', 'carol', 'available'))
    b.barrier()
    reads(w, '(4 messages while you were away; the last 3:)\n'
          '<alice> line 1\n<alice> line 2\n<alice> line 4', handle='carol')


@test("a moderator's retraction (XEP-0425) of a member's line reaches the "
      "members who had it as '* mod deleted a message by nick', not its "
      "sender")
def moderation():
    b, w = lobby('bob', 'carol')
    b.join('lobby', 'mod', ADMIN)  # the service's admins own every group
    w.said('bob', 'buy cheap watches')
    sid = None
    for st in b.barrier():
        el = st.find(SID)
        if st.get('to') == A and el is not None:
            sid = el.get('id')
    check(sid is not None, "alice got bob's line with no stanza-id")
    reads(w, '<bob> buy cheap watches', handle='carol')
    b.server.send("<iq type='set' id='mod1' from='%s' to='lobby@%s'>"
                  "<moderate xmlns='urn:xmpp:message-moderate:1' id='%s'>"
                  "<retract xmlns='urn:xmpp:message-retract:1'/>"
                  "<reason>spam</reason></moderate></iq>" % (ADMIN, C, sid))
    answers = [st for st in b.barrier() if st.get('id') == 'mod1']
    check([st.get('type') for st in answers] == ['result'],
          'the moderation was answered %s'
          % ' '.join(render(st) for st in answers))
    reads(w, '* mod deleted a message by bob', handle='carol')
    reads(w)  # bob, who said it


if __name__ == '__main__':
    SUITE.run()
