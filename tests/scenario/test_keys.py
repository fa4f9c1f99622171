"""Scenario: names the store cannot key (schema/store.h) are refused where
they enter, with an error that says which bound, and never reach an
error-level log line (issue 9, item 11)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SUITE, check, ping, test  # noqa: E402
from muclib import (A, C, ERR, MUC, create, empty_subject, join,  # noqa: E402
                    self_presence, start)

GROUP_MAX = 128  # STORE_GROUP_MAX
JID_MAX = 382    # STORE_JID_MAX
TOO_LONG_GROUP = 'the group name is longer than %d bytes' % GROUP_MAX
TOO_LONG_JID = 'your address is longer than %d bytes' % JID_MAX
# A log line at error or warning level (component/log.c's format).
LOUD = re.compile(r'^\S+ (error|warning) ', re.M)

_rig = {}


def rig():
    if 'server' not in _rig:
        s, proc = start()
        _rig['server'], _rig['proc'] = SUITE.shared(s), SUITE.shared(proc)
    return _rig['server'], _rig['proc']


def refusal(kind, frm, to, text, ident=None):
    return ("<%s type='error'%s from='%s' to='%s'><error type='modify'>"
            "<not-acceptable %s/><text %s xml:lang='en'>%s</text></error></%s>"
            % (kind, " id='%s'" % ident if ident else '', frm, to, ERR, ERR, text, kind))


def quiet_about(proc, mark, name):
    """Nothing at error or warning level since mark, and the name nowhere."""
    log = proc.log()[mark:]
    check(not LOUD.search(log), 'a loud log line: %s' % LOUD.findall(log))
    check(name not in log, 'the name reached the log')


@test('a join to a 600-byte room name gets not-acceptable naming the bound, '
      'and no error-level log line holds the name')
def join_600_bytes():
    s, proc = rig()
    mark = proc.log_mark()
    room = 'r' * 600
    join(s, room, 'alice', A)
    s.expect(refusal('presence', '%s@%s/alice' % (room, C), A, TOO_LONG_GROUP))
    ping(s, 'k1')
    quiet_about(proc, mark, room)


@test('a room name of exactly 128 bytes is a room; 129 bytes is refused')
def at_the_bound():
    s, proc = rig()
    create(s, 'b' * GROUP_MAX)
    join(s, 'b' * (GROUP_MAX + 1), 'alice', A)
    s.expect(refusal('presence', '%s@%s/alice' % ('b' * (GROUP_MAX + 1), C), A,
                     TOO_LONG_GROUP))


@test('the bound applies to the folded name: 128 bytes that fold to 129 are '
      'refused')
def folded_name():
    s, proc = rig()
    room = 'f' * (GROUP_MAX - 2) + '\u0149'  # ŉ (2 bytes) folds to ʼn (3)
    check(len(room.encode()) == GROUP_MAX, 'the name is 128 bytes as sent')
    join(s, room, 'alice', A)
    s.expect(refusal('presence', '%s@%s/alice' % (room, C), A, TOO_LONG_GROUP))


@test('messages and iqs to an over-long room get the same error; an '
      'unavailable presence to it gets none')
def other_stanzas():
    s, proc = rig()
    mark = proc.log_mark()
    room = 'm' * 600
    s.send("<message type='groupchat' id='g1' from='%s' to='%s@%s'><body>hi</body></message>"
           % (A, room, C))
    s.expect(refusal('message', '%s@%s' % (room, C), A, TOO_LONG_GROUP, 'g1'))
    s.send("<iq type='get' id='q1' from='%s' to='%s@%s'>"
           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (A, room, C))
    s.expect(refusal('iq', '%s@%s' % (room, C), A, TOO_LONG_GROUP, 'q1'))
    s.send("<presence type='unavailable' from='%s' to='%s@%s/alice'/>" % (A, room, C))
    ping(s, 'k2')  # answered next: the presence got nothing
    quiet_about(proc, mark, room)


@test('a sender whose bare JID is longer than 382 bytes gets not-acceptable '
      'from a room, and the service still answers them')
def long_sender():
    s, proc = rig()
    mark = proc.log_mark()
    user = 'u' * (JID_MAX - len('@localhost') + 1)
    frm = '%s@localhost/r' % user
    s.send("<presence from='%s' to='k1@%s/u'><x %s/></presence>" % (frm, C, MUC))
    s.expect(refusal('presence', 'k1@%s/u' % C, frm, TOO_LONG_JID))
    ping(s, 'k3', frm=frm)
    quiet_about(proc, mark, user)
    # one byte less is a user like any other
    frm = '%s@localhost/r' % user[1:]
    join(s, 'k1', 'u', frm)
    s.expect(self_presence('k1', 'u', frm, 'owner', 'moderator', [110, 201],
                           jid=frm))
    s.expect(empty_subject('k1', frm))


if __name__ == '__main__':
    SUITE.run()
