"""Scenario: the storage directory and what persists in it across runs."""

import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FakeServer, Imgroups, SANITIZER_RE, SUITE, USER, base_config,  # noqa: E402
                     check, disco_items, stop_by_signal, test, tmpdir)

C = 'groups.localhost'
ITEMS_LOBBY = ("<iq type='result' id='%%s' from='%s' to='%s'>"
               "<query xmlns='http://jabber.org/protocol/disco#items'>"
               "<item jid='lobby@%s' name='lobby'/></query></iq>" % (C, USER, C))

ACCOUNT = {'protocol': 'prpl-irc', 'username': 'lobbybot@127.0.0.1', 'group': 'lobby',
           'mode': 'contacts'}

_shared = {}


def run_once(store, with_account, ident):
    """Start imgroups on store, check disco#items lists lobby once, stop it
    cleanly (exit 0)."""
    server = FakeServer()
    d = tmpdir()
    cfg = base_config(server.port, store)
    if with_account:
        cfg['account:lobby-irc'] = dict(ACCOUNT)
    proc = Imgroups(cfg, workdir=d)
    server.wait_for_connection(10)
    disco_items(server, ident)
    server.expect(ITEMS_LOBBY % ident)
    stop_by_signal(server, proc)


@test('the storage directory is created with mode 0700')
def created_0700():
    server = FakeServer()
    d = tmpdir()
    store = os.path.join(d, 'store')
    old = os.umask(0o022)
    try:
        Imgroups(base_config(server.port, store), workdir=d)
    finally:
        os.umask(old)
    server.wait_for_connection(10)
    check(os.path.isdir(store), '%s was not created' % store)
    mode = stat.S_IMODE(os.stat(store).st_mode)
    check(mode == 0o700, '%s has mode %o, expected 700' % (store, mode))


@test('a storage path that cannot be created stops imgroups with a message naming it')
def uncreatable():
    server = FakeServer()
    d = tmpdir()
    blocker = os.path.join(d, 'a-file')
    with open(blocker, 'w') as f:
        f.write('not a directory\n')
    store = os.path.join(blocker, 'store')
    proc = Imgroups(base_config(server.port, store), workdir=d)
    rc = proc.wait_exit(10)
    log = proc.log()
    check(rc > 0, 'exit status %s (expected 2, or at least a non-zero exit, not a signal)' % rc)
    check(store in log, 'the log does not name %s' % store)
    check(not SANITIZER_RE.search(log), 'sanitizer report')
    check(not server.attempts, 'imgroups connected to the server with no store')


@test('groups of configured accounts are stored: a restart without the account '
      'still lists the group')
def groups_persist():
    d = tmpdir()
    store = os.path.join(d, 'store')
    _shared['store'] = store
    run_once(store, True, 'gp1')
    run_once(store, False, 'gp2')


@test('starting again with the same account does not list its group twice')
def no_duplicate():
    store = _shared.get('store')
    check(store, 'the previous test did not run')
    run_once(store, True, 'gp3')


if __name__ == '__main__':
    SUITE.run()
