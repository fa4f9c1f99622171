"""Scenario: the limits a service keeps ([limits]): body length, message
rate per occupant, groups per user."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SUITE, test  # noqa: E402
from muclib import (A, C, E, ERR, create, groupchat_to, join, say, start)  # noqa: E402


def rig(limits):
    s, proc = start(limits=limits)
    SUITE.track(s)
    SUITE.track(proc)
    return s


@test('a body longer than [limits] max_body is refused with policy-violation')
def long_body():
    s = rig({'max_body': '10'})
    create(s, 'l1')
    say(s, 'l1', 'ok', 'x' * 10)
    s.expect(groupchat_to('l1', 'alice', A, 'x' * 10, 'ok'))
    say(s, 'l1', 'long', 'x' * 11)
    s.expect("<message type='error' id='long' from='l1@%s' to='%s'><error type='modify'>"
             "<policy-violation %s/></error></message>" % (C, A, ERR))


@test('past its burst an occupant sending too fast gets resource-constraint, '
      'and nothing of it is fanned out')
def rate():
    s = rig({'burst': '3', 'rate': '0.2'})
    create(s, 'l2')
    for i in range(3):
        say(s, 'l2', 'b%d' % i, 'm%d' % i)
        s.expect(groupchat_to('l2', 'alice', A, 'm%d' % i, 'b%d' % i))
    say(s, 'l2', 'b3', 'too fast')
    s.expect("<message type='error' id='b3' from='l2@%s' to='%s'><error type='wait'>"
             "<resource-constraint %s/></error></message>" % (C, A, ERR))
    s.expect_nothing(0.3)


@test('a user who owns [limits] max_rooms groups cannot create another '
      '(not-allowed)')
def max_rooms():
    s = rig({'max_rooms': '1'})
    create(s, 'l3')
    join(s, 'l4', 'alice', A)
    s.expect("<presence type='error' from='l4@%s/alice' to='%s'><error type='cancel'>"
             "<not-allowed %s/></error></presence>" % (C, A, ERR))
    # somebody else still may
    join(s, 'l4', 'eve', E)
    s.expect("<presence from='l4@%s/eve' to='%s'><x xmlns='http://jabber.org/protocol/muc#user'>"
             "<item affiliation='owner' role='moderator' jid='%s'/><status code='110'/>"
             "<status code='201'/></x><occupant-id xmlns='urn:xmpp:occupant-id:0' id='{any}'/>"
             "</presence>" % (C, E, E))


if __name__ == '__main__':
    SUITE.run()
