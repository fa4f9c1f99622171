"""Typing and buzzes in contacts mode, played from both sides (issue 13,
item 6): a member's typing becomes chat states from their occupant, their
buzz one attention a minute; the XMPP occupants' chat states reach the
online, unmuted members as the bot's typing, one update per pace whatever
the typist does, in batches. Prints TAP.

    /usr/bin/python3 tests/scenario/test_bridge_cues.py /path/to/imgroups
"""

import base64
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgeharness import C, Bridge, render  # noqa: E402
from harness import SUITE, check, test  # noqa: E402

ACCT = 'lobby-fake'
A = 'alice@localhost/phone'
NS_CS = 'http://jabber.org/protocol/chatstates'
NS_ATT = 'urn:xmpp:attention:0'
MEMBERS = 300  # more than one send_typing batch (CUES_BATCH, 256)


def lobby():
    b = Bridge({ACCT: {'group': 'lobby', 'mode': 'contacts'}})
    b.join('lobby', 'alice', A)
    return b, b.w[ACCT]


def from_bob(got):
    return [g for g in got if g.get('from') == 'lobby@%s/bob' % C]


def child(st, ns, name=None):
    return [c for c in st
            if c.tag.startswith('{%s}' % ns) and
            (name is None or c.tag == '{%s}%s' % (ns, name))]


def body(st):
    b = [c for c in st if c.tag.endswith('}body') or c.tag == 'body']
    return b[0].text if b else None


@test("a member's typing reaches the room as chat states from their "
      "occupant, without a body")
def member_types():
    b, w = lobby()
    w.said('bob', 'hello')
    b.barrier()
    for state in ('composing', 'paused', 'active'):
        w.send('typing', (ACCT, 'bob', state))
        got = from_bob(b.barrier())
        check(len(got) == 1 and child(got[0], NS_CS, state) and
              body(got[0]) is None,
              '%s: %s' % (state, [render(g) for g in got]))
    # nobody in the room: nothing
    w.send('typing', (ACCT, 'stranger', 'composing'))
    got = b.barrier()
    check(got == [], 'a stranger typing: %s' % [render(g) for g in got])


@test("a member's buzz is one attention with a line; the second within a "
      "minute is dropped")
def member_buzzes():
    b, w = lobby()
    w.said('bob', 'hello')
    b.barrier()
    w.send('attention', (ACCT, 'bob'))
    w.send('attention', (ACCT, 'bob'))
    got = from_bob(b.barrier())
    check(len(got) == 1 and child(got[0], NS_ATT, 'attention') and
          body(got[0]) == '* bob buzzed the group',
          'the room got: %s' % [render(g) for g in got])


@test("a busy typist in a group of %d online members costs one update, in "
      "batches, to the unmuted members only" % MEMBERS)
def room_types():
    b, w = lobby()
    # a command makes a member without a line for everyone (O(n), not
    # O(n^2) deliveries)
    for i in range(MEMBERS):
        w.said('m%d' % i, '/help')
        if i % 50 == 49:
            b.barrier()  # each barrier waits 5 s at most (slow builds)
    w.said('m0', '/mute')
    w.send('buddy_presence', (ACCT, 'm1', 'm1', 'offline'))
    b.barrier()
    w.forget()
    # composing and paused, 40 times in a row
    for i in range(40):
        b.server.send("<message type='groupchat' from='%s' to='lobby@%s'>"
                      "<%s xmlns='%s'/></message>"
                      % (A, C, 'paused' if i % 2 else 'composing', NS_CS))
    b.barrier()
    frames = w.frames('send_typing')
    handles = [h for f in frames for h in f[1]]
    check(len(frames) == 2 and all(f[2] == 'composing' for f in frames) and
          all(len(f[1]) <= 256 for f in frames),
          'send_typing frames: %r' % [(len(f[1]), f[2]) for f in frames])
    check(sorted(handles) == sorted('m%d' % i for i in range(2, MEMBERS)),
          '%d handles; muted or offline among them: %s'
          % (len(handles), [h for h in handles if h in ('m0', 'm1')]))


CHAT_ACCT = 'chan-fake'
CHAT = '#chan'


def chan():
    """A chat-mode bot in #chan with dave there; alice in the room."""
    b = Bridge({CHAT_ACCT: {'group': 'chan', 'mode': 'chat', 'chat': CHAT}})
    w = b.w[CHAT_ACCT]
    w.send('chat_joined', (CHAT_ACCT, CHAT))
    w.send('chat_user_joined', (CHAT_ACCT, CHAT, 'dave', True))
    b.join('chan', 'alice', A)
    b.barrier()
    w.forget()
    return b, w


def from_dave(got):
    return [g for g in got if g.get('from') == 'chan@%s/dave' % C]


@test("a chat participant's typing reaches the room as chat states from "
      "their occupant; the room's typing is not sent to the chat")
def participant_types():
    b, w = chan()
    for state in ('composing', 'active'):
        w.send('chat_typing', (CHAT_ACCT, CHAT, 'dave', state))
        got = from_dave(b.barrier())
        check(len(got) == 1 and child(got[0], NS_CS, state) and
              body(got[0]) is None,
              '%s: %s' % (state, [render(g) for g in got]))
    w.send('chat_typing', (CHAT_ACCT, CHAT, 'erin', 'composing'))
    got = b.barrier()
    check(got == [], 'someone not in the chat typing: %s'
          % [render(g) for g in got])
    b.server.send("<message type='groupchat' from='%s' to='chan@%s'>"
                  "<composing xmlns='%s'/></message>" % (A, C, NS_CS))
    b.barrier()
    check(w.frames('send_typing') == [],
          'send_typing: %r' % w.frames('send_typing'))


@test("a chat participant's buzz is one attention with a line; the second "
      "within a minute is dropped")
def participant_buzzes():
    b, w = chan()
    w.send('chat_attention', (CHAT_ACCT, CHAT, 'dave'))
    w.send('chat_attention', (CHAT_ACCT, CHAT, 'dave'))
    got = from_dave(b.barrier())
    check(len(got) == 1 and child(got[0], NS_ATT, 'attention') and
          body(got[0]) == '* dave buzzed the group',
          'the room got: %s' % [render(g) for g in got])


NS_VUPD = 'vcard-temp:x:update'
PNG = b'\x89PNG\r\n\x1a\n' + b'a member picture'
ADMIN = 'admin@localhost/desk'


def photo(st):
    x = child(st, NS_VUPD, 'x')
    if not x:
        return None
    p = [c for c in x[0] if c.tag == '{%s}photo' % NS_VUPD]
    return (p[0].text or '') if p else None


@test("a member's picture is their occupant's XEP-0153 hash, told again "
      "only when it changes; a stranger's is not kept, one over "
      "avatar_size is none")
def member_picture():
    b, w = lobby()
    w.said('bob', 'hello')
    b.barrier()
    w.send('buddy_icon', (ACCT, 'bob', 'sum', PNG))
    got = from_bob(b.barrier())
    check(len(got) == 1 and photo(got[0]) == hashlib.sha1(PNG).hexdigest(),
          'the room got: %s' % [render(g) for g in got])
    w.send('buddy_icon', (ACCT, 'bob', 'sum', PNG))
    w.send('buddy_icon', (ACCT, 'carol', 'sum', PNG))
    got = b.barrier()
    check(got == [], 'the same picture again, a stranger\'s: %s'
          % [render(g) for g in got])
    w.send('buddy_icon', (ACCT, 'bob', 'big', b'x' * 40000))
    got = from_bob(b.barrier())
    check(len(got) == 1 and photo(got[0]) == '',
          'a picture over avatar_size: %s' % [render(g) for g in got])


@test("a chat participant's picture is their occupant's hash and vCard, "
      "told again only when it changes; after they leave and come back "
      "without one, none")
def participant_picture():
    b, w = chan()
    w.send('chat_user_icon', (CHAT_ACCT, CHAT, 'dave', 'sum', PNG))
    got = from_dave(b.barrier())
    sha1 = hashlib.sha1(PNG).hexdigest()
    check(len(got) == 1 and photo(got[0]) == sha1,
          'the room got: %s' % [render(g) for g in got])
    w.send('chat_user_icon', (CHAT_ACCT, CHAT, 'dave', 'sum', PNG))
    w.send('chat_user_icon', (CHAT_ACCT, CHAT, 'erin', 'sum', PNG))
    got = b.barrier()
    check(got == [], 'the same picture again, a stranger\'s: %s'
          % [render(g) for g in got])
    b.server.send("<iq type='get' id='vc1' from='%s' to='chan@%s/dave'>"
                  "<vCard xmlns='vcard-temp'/></iq>" % (A, C))
    got = [g for g in b.barrier() if g.get('id') == 'vc1']
    binval = [e.text for g in got for e in g.iter()
              if e.tag == '{vcard-temp}BINVAL']
    check(len(got) == 1 and got[0].get('type') == 'result' and
          binval and base64.b64decode(binval[0]) == PNG,
          'the vCard: %s' % [render(g) for g in got])
    w.send('chat_user_left', (CHAT_ACCT, CHAT, 'dave', ''))
    w.send('chat_user_joined', (CHAT_ACCT, CHAT, 'dave', False))
    got = from_dave(b.barrier())
    check(got and all(photo(g) in (None, '') for g in got),
          'dave back: %s' % [render(g) for g in got])
    b.server.send("<iq type='get' id='vc2' from='%s' to='chan@%s/dave'>"
                  "<vCard xmlns='vcard-temp'/></iq>" % (A, C))
    got = [g for g in b.barrier() if g.get('id') == 'vc2']
    check(len(got) == 1 and got[0].get('type') == 'error',
          'the vCard without a picture: %s' % [render(g) for g in got])


@test("the room's avatar becomes the bot's picture (set_icon) and its "
      "removal takes it away")
def room_avatar():
    b, w = lobby()
    b.server.send("<iq type='set' id='v1' from='%s' to='lobby@%s'>"
                  "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE>"
                  "<BINVAL>%s</BINVAL></PHOTO></vCard></iq>"
                  % (ADMIN, C, base64.b64encode(PNG).decode()))
    b.barrier()
    b.server.send("<iq type='set' id='v2' from='%s' to='lobby@%s'>"
                  "<vCard xmlns='vcard-temp'/></iq>" % (ADMIN, C))
    b.barrier()
    icons = [bytes(f[1]) for f in w.frames('set_icon')]
    check(icons == [PNG, b''], 'set_icon frames: %r' % icons)


if __name__ == '__main__':
    SUITE.run()
