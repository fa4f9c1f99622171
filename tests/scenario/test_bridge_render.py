"""What legacy members read for the whole message, played from both sides:
an XMPP occupant corrects, reacts, replies and shares a file, and the
member of a contacts-mode bot reads each in words. Prints TAP.

    /usr/bin/python3 tests/scenario/test_bridge_render.py /path/to/imgroups
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgeharness import Bridge, C  # noqa: E402
from harness import SUITE, Failure, check, test  # noqa: E402

ACCT = 'lobby-fake'
A = 'alice@localhost/phone'
SID = '{urn:xmpp:sid:0}stanza-id'


def lobby(*handles):
    """A contacts-mode bot for lobby, alice in the room, each handle an
    online member (its welcome forgotten)."""
    b = Bridge({ACCT: {'group': 'lobby', 'mode': 'contacts'}})
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


def reads(w, *want):
    """bob was sent exactly the lines want, since the last look."""
    sent = got(w)
    check(sent == list(want), 'sent: %r, expected %r' % (sent, list(want)))


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


if __name__ == '__main__':
    SUITE.run()
