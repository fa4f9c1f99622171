"""Scenario: the disk fills up under a busy room, or the store reaches its
[storage] map_size. imgroups must log it, stay up, acknowledge nothing it
could not store, and lose nothing it did acknowledge (checked through MAM
after a restart with room to write)."""

import os
import resource
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FakeServer, Imgroups, SUITE, base_config, check, render, test, tmpdir  # noqa: E402
from muclib import A, C, MUC, create  # noqa: E402

LIMIT = 1024 * 1024  # bytes the store's file may reach: a small "disk"


def limited():
    # SIGXFSZ ignored: a write past the limit then fails with EFBIG, as on a
    # full disk, instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def start(store, preexec=None, map_size=None):
    server = FakeServer()
    d = tmpdir()
    cfg = base_config(server.port, store)
    cfg['storage']['map_size'] = map_size
    cfg['limits'] = {'rate': '10000', 'burst': '10000'}
    proc = Imgroups(cfg, workdir=d, preexec=preexec)
    server.wait_for_connection(10)
    return server, proc


def fill_then_check(preexec, map_size, logged):
    """Floods a room until the store refuses, then checks what was
    acknowledged against MAM after a restart with room to write."""
    store = os.path.join(tmpdir(), 'store')
    s, proc = start(store, preexec, map_size)
    create(s, 'full')
    acked = []
    refused = 0
    body = 'x' * 4000
    for i in range(400):
        s.send("<message type='groupchat' id='d%d' from='%s' to='full@%s'><body>%s</body>"
               "</message>" % (i, A, C, body))
        st = s._need_conn().next_stanza(3)
        if st is None:
            refused += 1
            if refused >= 3:
                break
            continue
        check(st.get('type') in ('groupchat', 'error'), render(st))
        if st.get('type') == 'groupchat':
            acked.append(st.find('{urn:xmpp:sid:0}stanza-id').get('id'))
        else:
            refused += 1
            if refused >= 3:
                break
    print('# %d messages stored before the disk filled' % len(acked))
    check(refused >= 1, 'the store never filled (%d messages stored)' % len(acked))
    check(len(acked) > 10, 'only %d messages were stored before the disk filled' % len(acked))
    proc.wait_log(logged, timeout=5)
    check(proc.alive(), 'imgroups died when the disk filled')
    proc.stop()
    s.shutdown()

    s2, proc2 = start(store)
    s2.send("<presence from='%s' to='full@%s/alice'><x %s><history maxstanzas='0'/></x>"
            "</presence>" % (A, C, MUC))
    for _ in range(2):  # self-presence, subject
        check(s2._need_conn().next_stanza(5) is not None, 'rejoin not answered')
    s2.send("<iq type='set' id='all' from='%s' to='full@%s'><query xmlns='urn:xmpp:mam:2'>"
            "<set xmlns='http://jabber.org/protocol/rsm'><max>250</max></set></query></iq>"
            % (A, C))
    stored = []
    while True:
        st = s2._need_conn().next_stanza(5)
        check(st is not None, 'MAM query not answered')
        if st.tag.endswith('}iq'):
            break
        stored.append(st.find('{urn:xmpp:mam:2}result').get('id'))
    missing = [x for x in acked if x not in stored]
    check(not missing, '%d acknowledged messages are missing after the restart: %s'
          % (len(missing), missing[:5]))


@test('when the disk fills, imgroups logs it, stays up, acknowledges only what '
      'it stored, and every acknowledged message survives a restart')
def disk_full():
    fill_then_check(limited, None, r'error store: .*(commit|write)')


@test('when the store reaches [storage] map_size, it is a full disk: logged as '
      'such, nothing unstored acknowledged, nothing acknowledged lost')
def map_full():
    fill_then_check(None, '1M', r'error store: .*map_size')


if __name__ == '__main__':
    SUITE.run()
