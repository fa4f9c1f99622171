"""/mydata, played from both sides: a legacy member of a contacts-mode group
asks its bot what the service keeps about them and gets it in notices (their
membership and nick, their messages, nobody else's), paged; nothing is said
in the room (issue 12, item 7). Prints TAP.

    /usr/bin/python3 tests/scenario/test_bridge_mydata.py /path/to/imgroups
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridgeharness import Bridge, expect_stanzas  # noqa: E402
from harness import SUITE, check, test  # noqa: E402

ACCT = 'lobby-fake'
A = 'alice@localhost/phone'
PAGE = 50  # MYDATA_PAGE (component/admin/mydata.h)


def member(lines=('hello',)):
    """A contacts-mode bot for lobby; alice in the room and saying her own
    line, bob an online member who has said lines."""
    b = Bridge({ACCT: {'group': 'lobby', 'mode': 'contacts'}},
               limits={'burst': '200'})
    w = b.w[ACCT]
    b.join('lobby', 'alice', A)
    w.send('buddy_presence', (ACCT, 'bob', 'Bob', 'available'))
    for text in lines:
        w.said('bob', text)
    b.say('lobby', A, 'alice-only-words', 'a1')
    b.barrier()
    w.forget()
    return b, w


@test("/mydata answers in notices with bob's membership, nick and messages, "
      "nothing of alice, and says nothing in the room")
def mydata_holds_only_theirs():
    b, w = member(('hello', 'zebra-words'))
    w.said('bob', '/mydata')
    expect_stanzas(b.barrier(), [])
    replies = w.sends()
    text = '\n'.join(replies)
    for want in ('bob on ' + ACCT, 'group lobby through ' + ACCT, 'nick bob',
                 'zebra-words', 'hello', '2 messages'):
        check(want in text, 'no %r in %r' % (want, text))
    for other in ('alice', 'alice-only-words'):
        check(other not in text, '%r in %r' % (other, text))
    check(all(len(r.encode()) <= 400 + 200 for r in replies),
          'a notice longer than a chunk: %r' % [len(r) for r in replies])


@test("/mydata pages: the first page says /mydata 2, which brings the rest")
def mydata_pages():
    b, w = member(['line %d' % i for i in range(PAGE + 3)])
    w.said('bob', '/mydata')
    b.barrier()
    first = '\n'.join(w.sends())
    check('/mydata 2 for the next page' in first and 'line 0' in first
          and 'line %d' % PAGE not in first, 'first page: %r' % first[-300:])
    w.said('bob', '/mydata 2')
    b.barrier()
    second = '\n'.join(w.sends())
    check('line %d' % (PAGE + 2) in second and 'line 0\n' not in second
          and 'next page' not in second, 'second page: %r' % second[-300:])


if __name__ == '__main__':
    SUITE.run()
