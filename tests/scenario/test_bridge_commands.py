"""Member commands, played from both sides: what a legacy member of a
contacts-mode group can ask its bot (/help, /who, /nick, /mute and /unmute,
/history, /me, /leave), and what each does to the room. Prints TAP.

    /usr/bin/python3 tests/scenario/test_bridge_commands.py /path/to/imgroups
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgeharness import (Bridge, C, USER_NS, OID, expect_stanzas,  # noqa: E402
                           groupchat, occupant)
from harness import SUITE, check, test  # noqa: E402

ACCT = 'lobby-fake'
A = 'alice@localhost/phone'


def member():
    """A contacts-mode bot for lobby; alice in the room, bob an online
    member who has said one line."""
    b = Bridge({ACCT: {'group': 'lobby', 'mode': 'contacts'}})
    w = b.w[ACCT]
    b.join('lobby', 'alice', A)
    w.send('buddy_presence', (ACCT, 'bob', 'Bob', 'available'))
    w.said('bob', 'hello')
    b.barrier()
    w.forget()
    return b, w


def command(b, w, text):
    """bob sends text; (the stanzas the room got, the replies bob got)."""
    w.said('bob', text)
    got = b.barrier()
    return got, w.sends()


@test("/help answers with the commands and says nothing in the room")
def help_lists_commands():
    b, w = member()
    got, replies = command(b, w, '/help')
    expect_stanzas(got, [])
    check(len(replies) == 1 and replies[0].startswith('Commands: /who')
          and all(c in replies[0] for c in
                  ('/nick', '/mute', '/unmute', '/history', '/me', '/leave',
                   '/forgetme')), 'replies: %r' % replies)


@test("/who lists the room's occupants by nick")
def who_lists_occupants():
    b, w = member()
    got, replies = command(b, w, '/who')
    expect_stanzas(got, [])
    check(replies == ['In the group (2): alice, bob'], 'replies: %r' % replies)


@test("/nick changes the member's nick in the room (303) and confirms it")
def nick_changes_nick():
    b, w = member()
    got, replies = command(b, w, '/nick bobby')
    expect_stanzas(got, [
        "<presence type='unavailable' from='lobby@%s/bob' to='%s'><x %s>"
        "<item affiliation='none' role='none' nick='bobby'/>"
        "<status code='303'/></x>%s</presence>" % (C, A, USER_NS, OID),
        occupant('lobby', 'bobby', A)])
    check(replies == ['You are now bobby.'], 'replies: %r' % replies)
    w.said('bob', 'renamed')
    expect_stanzas(b.barrier(), [groupchat('lobby', 'bobby', A, 'renamed')])


@test("/mute stops the room's lines, /unmute brings the ones after it; what "
      "a muted member says is still said")
def mute_and_unmute():
    b, w = member()
    _, replies = command(b, w, '/mute')
    check(len(replies) == 1 and replies[0].startswith('Muted'),
          'replies: %r' % replies)
    b.say('lobby', A, 'while muted', 'm1')
    check(w.sends() == [], 'a muted member got %r' % w.sent)
    w.said('bob', 'still here')
    expect_stanzas(b.barrier(), [groupchat('lobby', 'bob', A, 'still here')])
    _, replies = command(b, w, '/unmute')
    check(len(replies) == 1 and replies[0].startswith('Unmuted'),
          'replies: %r' % replies)
    b.say('lobby', A, 'after', 'm2')
    check(w.sends() == ['<alice> after'], 'after /unmute: %r' % w.sent)


@test("/history N answers with the last N lines of the room, in order")
def history_last_lines():
    b, w = member()
    for i in range(4):
        b.say('lobby', A, 'line %d' % i, 'h%d' % i)
    w.forget()
    _, replies = command(b, w, '/history 2')
    # each line with the hour it was said (HH:MM), which the test does not fix
    check(len(replies) == 1 and re.fullmatch(
        r'The last 2 messages:\n\[\d\d:\d\d\] <alice> line 2\n'
        r'\[\d\d:\d\d\] <alice> line 3', replies[0]), 'replies: %r' % replies)


@test("/me is said in the room as an action and reaches others as '* nick'")
def me_is_an_action():
    b, w = member()
    got, replies = command(b, w, '/me waves')
    expect_stanzas(got, [groupchat('lobby', 'bob', A, '/me waves')])
    check(replies == [], 'replies: %r' % replies)
    b.say('lobby', A, '/me waves back', 'me1')
    check(w.sends() == ['* alice waves back'], 'bob got %r' % w.sent)


def departs(b, w, text, reply):
    """bob sends text (/leave, /forgetme): he leaves the room and the bot's
    buddies, and gets one reply in which reply is found."""
    got, replies = command(b, w, text)
    expect_stanzas(got, [occupant('lobby', 'bob', A, unavailable=True)])
    check(w.frames('buddy_remove') == [(ACCT, 'bob')],
          'buddy_remove frames: %r' % w.history[-6:])
    check(len(replies) == 1 and reply in replies[0], 'replies: %r' % replies)


@test("/leave takes the member out of the room and off the bot's buddies, "
      "and the room's lines stop")
def leave_stops_everything():
    b, w = member()
    departs(b, w, '/leave', 'You have left')
    b.say('lobby', A, 'after the leave', 'l1')
    check(w.sends() == [], 'a departed member got %r' % w.sent)


@test("/forgetme takes the member out of the room and off the bot's buddies "
      "at once; their next message makes them a new member, welcomed again")
def forgetme_then_new_member():
    b, w = member()
    departs(b, w, '/forgetme', 'erased')
    w.said('bob', 'hello again')
    expect_stanzas(b.barrier(), [occupant('lobby', 'bob', A),
                                 groupchat('lobby', 'bob', A, 'hello again')])
    replies = w.sends()
    check(len(replies) == 1 and replies[0].startswith('Welcome to the group'),
          'replies: %r' % replies)

if __name__ == '__main__':
    SUITE.run()
