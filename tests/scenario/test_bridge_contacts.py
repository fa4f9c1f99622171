"""Contacts mode, played from both sides: legacy users who message the bot
of a group become its members and occupants, their lines are said in the
room, the room's lines reach them one by one or as a digest after an
absence, and their buddy presence is their occupant's. Prints TAP.

    /usr/bin/python3 tests/scenario/test_bridge_contacts.py /path/to/imgroups
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgeharness import (Bridge, expect_stanzas, groupchat,  # noqa: E402
                           occupant)
from harness import SUITE, check, test  # noqa: E402

ACCT = 'lobby-fake'
A = 'alice@localhost/phone'
WELCOME = ('Welcome to the group lobby@groups.localhost. Everything you send '
           'me is said in the group as "bob" and kept in its archive for 30 '
           'days; what the group says reaches you from me. Members see your '
           'nick, never your address. Send /help for commands, /leave to '
           'stop, /forgetme to leave and erase what the group keeps about '
           'you.')


def lobby(**kw):
    """A contacts-mode bot for lobby, alice in the room."""
    b = Bridge({ACCT: {'group': 'lobby', 'mode': 'contacts'}}, **kw)
    b.join('lobby', 'alice', A)
    return b, b.w[ACCT]


def bob_member(b, w):
    """bob, online, says his first line."""
    w.send('buddy_presence', (ACCT, 'bob', 'Bob', 'available'))
    w.said('bob', 'hello there')
    got = b.barrier()
    w.forget()
    return got


def bob_is(b, w, status):
    """bob's buddy presence becomes status; the stanzas the room got."""
    w.send('buddy_presence', (ACCT, 'bob', 'Bob', status))
    return b.barrier()


@test("a legacy user's first message makes them a buddy and an occupant, "
      "welcomes them, and is said in the room")
def first_contact():
    b, w = lobby()
    w.send('buddy_presence', (ACCT, 'bob', 'Bob', 'available'))
    w.said('bob', 'hello there')
    got = b.barrier()
    expect_stanzas(got, [occupant('lobby', 'bob', A),
                         groupchat('lobby', 'bob', A, 'hello there')])
    check(w.frames('buddy_add') == [(ACCT, 'bob')],
          'buddy_add frames: %r' % w.frames('buddy_add'))
    sent = w.sends()
    check(sent == [WELCOME], 'sent to bob: %r' % sent)


@test("a room line reaches an online member as '<nick> text' and the "
      "member's own line is not echoed back to them")
def room_line_reaches_member():
    b, w = lobby()
    bob_member(b, w)
    expect_stanzas(b.say('lobby', A, 'hi bob', 'm1'),
                   [groupchat('lobby', 'alice', A, 'hi bob', 'm1')])
    check(w.sends() == ['<alice> hi bob'], 'sent: %r' % w.sent)
    w.said('bob', 'and hi alice')
    expect_stanzas(b.barrier(), [groupchat('lobby', 'bob', A, 'and hi alice')])
    check(w.sends() == [], 'bob got his own line back: %r' % w.sent)


@test("a member's line does not send their unchanged presence to the room "
      "again")
def line_sends_no_presence():
    b, w = lobby()
    bob_member(b, w)
    w.said('bob', 'a second line')
    expect_stanzas(b.barrier(), [groupchat('lobby', 'bob', A, 'a second line')])


@test("a member's buddy presence is their occupant's: away shows away, "
      "offline leaves the room, available comes back")
def presence_follows_buddy():
    b, w = lobby()
    bob_member(b, w)
    for status, seen in (
            ('away', occupant('lobby', 'bob', A, show='away')),
            ('dnd', occupant('lobby', 'bob', A, show='dnd')),
            ('offline', occupant('lobby', 'bob', A, unavailable=True)),
            ('available', occupant('lobby', 'bob', A))):
        expect_stanzas(bob_is(b, w, status), [seen])


@test("a buddy presence that changes nothing sends nothing to the room")
def same_presence_twice_is_silent():
    b, w = lobby()
    bob_member(b, w)
    expect_stanzas(bob_is(b, w, 'available'), [])


@test("lines said while a member is offline reach them on return, in order, "
      "each once")
def offline_lines_on_return():
    b, w = lobby()
    bob_member(b, w)
    bob_is(b, w, 'offline')
    for i in range(3):
        b.say('lobby', A, 'line %d' % i, 'o%d' % i)
    check(w.sends() == [], 'sent to an offline member: %r' % w.sent)
    bob_is(b, w, 'available')
    sent = w.sends()
    check(sent == ['<alice> line %d' % i for i in range(3)],
          'sent on return: %r' % sent)


@test("an account going down takes its members out of the room; lines said "
      "meanwhile reach them once it is up and they are online")
def account_down_and_up():
    b, w = lobby()
    bob_member(b, w)
    w.send('account_down', (ACCT, 'the network is gone'))
    expect_stanzas(b.barrier(), [occupant('lobby', 'bob', A, unavailable=True)])
    b.say('lobby', A, 'while down', 'd1')
    w.send('account_up', (ACCT,))
    b.barrier()
    check(w.frames('buddy_add') == [(ACCT, 'bob')],
          'the members are not made buddies again: %r' % w.history[-6:])
    check(w.sends() == [], 'sent before bob is online: %r' % w.sent)
    expect_stanzas(bob_is(b, w, 'available'), [occupant('lobby', 'bob', A)])
    check(w.sends() == ['<alice> while down'], 'sent: %r' % w.sent)


@test("more lines than digest_after while away arrive as one digest of the "
      "last ones, not one by one")
def digest_on_return():
    b, w = lobby(legacy={'digest_after': '3'})
    bob_member(b, w)
    bob_is(b, w, 'offline')
    for i in range(7):
        b.say('lobby', A, 'line %d' % i, 'o%d' % i)
    bob_is(b, w, 'available')
    sent = w.sends()
    check(sent == ['(7 messages while you were away; the last 3:)\n'
                   '<alice> line 4\n<alice> line 5\n<alice> line 6'],
          'sent on return: %r' % sent)


@test("a delivery the worker reports failed takes the member out of the "
      "room; it and the lines after it go again, in order, once they are back")
def failed_delivery_waits_for_return():
    b, w = lobby()
    bob_member(b, w)
    w.auto_deliver = False
    b.say('lobby', A, 'first', 'f1')
    b.say('lobby', A, 'second', 'f2')
    sent = w.frames('send_im')
    check([x[2:] for x in sent] == [('bob', '<alice> first'),
                                    ('bob', '<alice> second')],
          'handed out: %r' % sent)
    w.send('failed', (sent[0][0], 'the network said no'))
    expect_stanzas(b.barrier(), [occupant('lobby', 'bob', A, unavailable=True)])
    w.forget()
    w.auto_deliver = True
    bob_is(b, w, 'available')
    check(w.sends() == ['<alice> first', '<alice> second'],
          'sent on return: %r' % w.sent)


@test("a buddy request from a stranger to an open group is accepted")
def buddy_requests():
    b, w = lobby()
    w.send('auth_request', (ACCT, 'carol', 'let me in'))
    b.barrier()
    check((ACCT, 'carol', True) in w.frames('auth_answer'),
          'carol was not accepted into an open group')


if __name__ == '__main__':
    SUITE.run()
