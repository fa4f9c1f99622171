"""Chat mode, played from both sides: the bot joins one legacy chat for its
group; the chat's people are occupants of the room, their lines, nick
changes, departures and topic are the room's, and the room's lines and
subject go to the chat. Prints TAP.

    /usr/bin/python3 tests/scenario/test_bridge_chat.py /path/to/imgroups
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgeharness import (Bridge, C, USER_NS, OID, expect_stanzas,  # noqa: E402
                           groupchat, occupant)
from harness import SUITE, check, test  # noqa: E402

ACCT = 'chan-fake'
CHAT = '#chan'
A = 'alice@localhost/phone'
ADMIN = 'admin@localhost/desk'


def chan(joined=True):
    """A chat-mode bot for chan, in #chan (unless joined is False) with
    dave there; alice in the room."""
    b = Bridge({ACCT: {'group': 'chan', 'mode': 'chat', 'chat': CHAT}})
    w = b.w[ACCT]
    if joined:
        w.send('chat_joined', (ACCT, CHAT))
        w.send('chat_user_joined', (ACCT, CHAT, 'dave', True))
    b.join('chan', 'alice', A)
    w.forget()
    return b, w


@test("an account coming up asks to join its chat, and again after it was "
      "down and comes back")
def joins_its_chat():
    b = Bridge({ACCT: {'group': 'chan', 'mode': 'chat', 'chat': CHAT}})
    w = b.w[ACCT]
    b.barrier()
    check(w.frames('chat_join') == [(ACCT, CHAT)], 'after account_up: %r'
          % w.history)
    w.send('account_down', (ACCT, 'the network is gone'))
    b.barrier()
    check(w.frames('chat_join') == [], 'a chat_join while down')
    w.send('account_up', (ACCT,))
    b.barrier()
    check(w.frames('chat_join') == [(ACCT, CHAT)],
          'after coming back: %r' % w.history[-6:])


@test("the people in the chat are occupants of the room and their lines are "
      "said in it")
def chat_people_are_occupants():
    b, w = chan(joined=False)
    w.send('chat_joined', (ACCT, CHAT))
    w.send('chat_user_joined', (ACCT, CHAT, 'dave', True))
    expect_stanzas(b.barrier(), [occupant('chan', 'dave', A)])
    w.send('chat_received', (ACCT, CHAT, 'dave', 'dave', 'hello room'))
    expect_stanzas(b.barrier(), [groupchat('chan', 'dave', A, 'hello room')])


@test("a room line is said in the chat as '<nick> text'; the chat's own "
      "lines do not go back to it")
def room_line_to_chat():
    b, w = chan()
    expect_stanzas(b.say('chan', A, 'hi dave', 'c1'),
                   [groupchat('chan', 'alice', A, 'hi dave', 'c1')])
    check(w.sends('send_chat', CHAT) == ['<alice> hi dave'],
          'sent: %r' % w.sent)
    w.send('chat_received', (ACCT, CHAT, 'dave', 'dave', 'thanks'))
    b.barrier()
    check(w.sends() == [], 'the chat got its own line back: %r' % w.sent)


@test("a room line said while the bot is out of the chat is said there once "
      "it is back in")
def room_line_waits_for_chat():
    b, w = chan(joined=False)
    b.say('chan', A, 'anyone?', 'c2')
    check(w.sends() == [], 'sent to a chat the bot is not in: %r' % w.sent)
    w.send('chat_joined', (ACCT, CHAT))
    b.barrier()
    check(w.sends('send_chat', CHAT) == ['<alice> anyone?'],
          'sent after the join: %r' % w.sent)


@test("more lines than digest_after waiting for the chat go to it one by one, "
      "never as a digest: its people were not away, the bot was")
def chat_never_gets_a_digest():
    b = Bridge({ACCT: {'group': 'chan', 'mode': 'chat', 'chat': CHAT}},
               legacy={'digest_after': '3'})
    w = b.w[ACCT]
    b.join('chan', 'alice', A)
    for i in range(7):
        b.say('chan', A, 'line %d' % i, 'd%d' % i)
    w.send('chat_joined', (ACCT, CHAT))
    b.barrier()
    want = ['<alice> line %d' % i for i in range(7)]
    check(w.sends('send_chat', CHAT) == want,
          'sent after the join: %r' % w.sent)


@test("a line handed to the chat but not confirmed when the bot is kicked "
      "out of it is said again once the bot is back in")
def unconfirmed_line_again_after_rejoin():
    b, w = chan()
    w.auto_deliver = False
    b.say('chan', A, 'unconfirmed', 'u1')
    check(w.sends() == ['<alice> unconfirmed'], 'handed out: %r' % w.sent)
    w.send('chat_left', (ACCT, CHAT, 'kicked'))
    b.barrier()
    check(w.sends() == [], 'sent to a chat the bot is not in: %r' % w.sent)
    w.auto_deliver = True
    w.send('chat_joined', (ACCT, CHAT))
    b.barrier()
    check(w.sends('send_chat', CHAT) == ['<alice> unconfirmed'],
          'after the rejoin: %r' % w.sent)


@test("a nick change in the chat is the occupant's nick change (303)")
def rename_mirrored():
    b, w = chan()
    w.send('chat_user_renamed', (ACCT, CHAT, 'dave', 'david'))
    expect_stanzas(b.barrier(), [
        "<presence type='unavailable' from='%s/dave' to='%s'><x %s>"
        "<item affiliation='none' role='none' nick='david'/>"
        "<status code='303'/></x>%s</presence>" % ('chan@' + C, A, USER_NS, OID),
        occupant('chan', 'david', A)])


@test("someone leaving the chat leaves the room; the bot leaving it takes "
      "everyone from the chat out of the room")
def departures_mirrored():
    b, w = chan()
    w.send('chat_user_joined', (ACCT, CHAT, 'erin', False))
    b.barrier()
    w.send('chat_user_left', (ACCT, CHAT, 'dave', 'bye'))
    got = b.barrier()
    check(len(got) == 1 and got[0].get('type') == 'unavailable'
          and got[0].get('from') == 'chan@%s/dave' % C,
          'after dave left: %r' % [g.attrib for g in got])
    w.send('chat_left', (ACCT, CHAT, 'kicked'))
    expect_stanzas(b.barrier(), [occupant('chan', 'erin', A, unavailable=True)])


@test("the chat's topic is the room's subject, and a moderator's subject "
      "becomes the chat's topic")
def topic_both_ways():
    b, w = chan()
    w.send('chat_topic', (ACCT, CHAT, 'dave', 'new topic'))
    got = b.barrier()
    check(len(got) == 1 and got[0].findtext('{jabber:component:accept}subject')
          == 'new topic', 'after the topic: %r' % [g.attrib for g in got])
    b.join('chan', 'admin', ADMIN)
    b.server.send("<message type='groupchat' id='t1' from='%s' to='chan@%s'>"
                  "<subject>from xmpp</subject></message>" % (ADMIN, C))
    b.barrier()
    topics = w.frames('chat_topic')
    check(len(topics) == 1 and topics[0][1] == CHAT
          and topics[0][3] == 'from xmpp', 'chat_topic frames: %r' % topics)


if __name__ == '__main__':
    SUITE.run()
