"""Scenario: --check-config looks past the file (issue 12, item 4): the
accounts' protocols and option.* against the plugins imgroups-purple can load
(it lists them), the storage path, and prosodyctl-check-style hints for the
server's side of the link. Each problem is one line naming section and key;
exit status 2."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import base_config, check, render_config, run_cli, test, tmpdir, SUITE  # noqa: E402


def config(d, port=5347, **account):
    cfg = base_config(port, os.path.join(d, 'store'))
    acct = {'protocol': 'prpl-irc', 'username': 'bot@127.0.0.1', 'group': 'lobby',
            'option.port': '6667', 'option.ssl': 'false'}
    acct.update(account)
    cfg['account:bot'] = acct
    return cfg


def run_check(cfg, d):
    path = os.path.join(d, 'imgroups.ini')
    with open(path, 'w') as f:
        f.write(render_config(cfg))
    rc, out, err = run_cli(['--config', path, '--check-config'], timeout=30)
    return rc, out, err, path


def show(rc, out, err):
    return 'exit status %s\nstdout: %s\nstderr: %s' % (rc, out.strip() or '(empty)',
                                                        err.strip() or '(empty)')


def refused_with(cfg, d, line):
    """Exit 2 and exactly this problem line on stderr (after 'FILE: ')."""
    rc, out, err, path = run_check(cfg, d)
    lines = [l[len(path) + 2:] for l in err.splitlines() if l.startswith(path + ': ')]
    check(rc == 2 and line in lines and 'configuration OK' not in out,
          'expected the line %r\n%s' % (line, show(rc, out, err)))
    return lines


@test('a good file with an IRC account passes with exit 0')
def good_file_passes():
    d = tmpdir()
    rc, out, err, path = run_check(config(d), d)
    check(rc == 0 and '%s: configuration OK' % path in out and not err.strip(),
          show(rc, out, err))


@test('an unknown protocol (prpl-ircc) is refused, the known ones listed')
def unknown_protocol():
    d = tmpdir()
    rc, out, err, path = run_check(config(d, protocol='prpl-ircc'), d)
    want = "[account:bot] protocol: 'prpl-ircc' is not a protocol plugin imgroups-purple can load"
    hit = [l for l in err.splitlines() if l.startswith('%s: %s (known: ' % (path, want))]
    check(rc == 2 and len(hit) == 1 and 'prpl-irc,' in hit[0], show(rc, out, err))


@test('an option the plugin does not have is refused with the plugin\'s list')
def unknown_option():
    d = tmpdir()
    rc, out, err, path = run_check(config(d, **{'option.portt': '6667'}), d)
    hit = [l for l in err.splitlines()
           if l.startswith("%s: [account:bot] option.portt: prpl-irc has no option 'portt' "
                           "(its options: " % path)]
    check(rc == 2 and len(hit) == 1 and ' port,' in hit[0], show(rc, out, err))


@test('an int option that is not a number is refused without quoting the value')
def wrong_int():
    d = tmpdir()
    refused_with(config(d, **{'option.port': 'sixty'}), d,
                 "[account:bot] option.port: must be an integer (prpl-irc's port is of type int)")


@test('a bool option that is not true or false is refused')
def wrong_bool():
    d = tmpdir()
    refused_with(config(d, **{'option.ssl': 'maybe'}), d,
                 "[account:bot] option.ssl: must be true or false (yes/no, 1/0) "
                 "(prpl-irc's ssl is of type bool)")


@test('a choice option (XMPP\'s connection_security) outside its choices is refused with them')
def wrong_choice():
    d = tmpdir()
    refused_with(config(d, protocol='prpl-jabber', username='bot@localhost/x',
                        **{'option.port': '5222', 'option.ssl': None,
                           'option.connection_security': 'tls_please'}), d,
                 "[account:bot] option.connection_security: must be one of: require_tls, "
                 "opportunistic_tls, old_ssl (prpl-jabber's connection_security is a choice)")
    rc, out, err, path = run_check(config(d, protocol='prpl-jabber', username='bot@localhost/x',
                                          **{'option.port': '5222', 'option.ssl': None,
                                             'option.connection_security': 'require_tls'}), d)
    check(rc == 0, 'require_tls:\n' + show(rc, out, err))


@test('a storage path that cannot be created (/proc/nope) is refused')
def storage_in_proc():
    d = tmpdir()
    cfg = config(d)
    cfg['storage']['path'] = '/proc/nope'
    refused_with(cfg, d, "[storage] path: '/proc/nope' cannot be created: cannot write in "
                         "/proc: No such file or directory")


@test('a storage path under a file is refused')
def storage_under_a_file():
    d = tmpdir()
    f = os.path.join(d, 'plain')
    open(f, 'w').close()
    cfg = config(d)
    cfg['storage']['path'] = os.path.join(f, 'store')
    refused_with(cfg, d, "[storage] path: '%s/store' cannot be created: %s is not a directory"
                 % (f, f))


@test('a storage path that does not exist yet but can be created passes, and is not created')
def storage_to_be_created():
    d = tmpdir()
    cfg = config(d)
    cfg['storage']['path'] = os.path.join(d, 'a', 'b', 'store')
    rc, out, err, path = run_check(cfg, d)
    check(rc == 0 and not os.path.exists(os.path.join(d, 'a')) and os.listdir(d) == ['imgroups.ini'],
          show(rc, out, err) + '\n' + repr(os.listdir(d)))


@test('a worker that cannot run is named under [legacy] worker, the accounts left unchecked')
def worker_missing():
    d = tmpdir()
    cfg = config(d, protocol='prpl-ircc')
    cfg['legacy'] = {'worker': os.path.join(d, 'no-such-worker')}
    rc, out, err, path = run_check(cfg, d)
    lines = err.splitlines()
    check(rc == 2 and len(lines) == 1 and lines[0].startswith(
        '%s: [legacy] worker: cannot run %s/no-such-worker: ' % (path, d)), show(rc, out, err))


@test('every problem is reported, each on its own line, in one run')
def all_problems_at_once():
    d = tmpdir()
    cfg = config(d, protocol='prpl-ircc')
    cfg['account:two'] = {'protocol': 'prpl-irc', 'username': 'b@127.0.0.1', 'group': 'lobby',
                          'option.port': 'x', 'option.nope': '1'}
    cfg['storage']['path'] = '/proc/nope'
    rc, out, err, path = run_check(cfg, d)
    keys = sorted(l.split(': ')[1] for l in err.splitlines())
    check(rc == 2 and keys == ['[account:bot] protocol', '[account:two] option.nope',
                               '[account:two] option.port', '[storage] path'],
          show(rc, out, err))


@test('a port other than 5347 gets the hint that component_ports goes in Prosody\'s global section')
def hint_port():
    d = tmpdir()
    rc, out, err, path = run_check(config(d, port=5348), d)
    check(rc == 0 and 'hint: [component] port 5348: in Prosody, component_ports = { 5348 } goes '
          'in the global section, before any VirtualHost or Component line' in out,
          show(rc, out, err))
    rc, out, err, path = run_check(config(d, port=5347), d)
    check(rc == 0 and 'component_ports' not in out, 'port 5347:\n' + show(rc, out, err))


@test('nothing listening on the component port gets a hint saying so; a listener, none')
def hint_reach():
    d = tmpdir()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(('127.0.0.1', 0))
        port = listener.getsockname()[1]
        rc, out, err, path = run_check(config(d, port=port), d)
        want = 'hint: [component] host, port: nothing accepts a connection at 127.0.0.1:%d now' % port
        check(rc == 0 and want in out, 'bound, not listening:\n' + show(rc, out, err))
        listener.listen(4)
        rc, out, err, path = run_check(config(d, port=port), d)
        check(rc == 0 and 'nothing accepts' not in out, 'listening:\n' + show(rc, out, err))
    finally:
        listener.close()


@test('the secret gets the hint naming Prosody\'s component_secret, and a weak one a warning')
def hint_secret():
    d = tmpdir()
    rc, out, err, path = run_check(config(d), d)
    check('hint: [component] secret: must equal Prosody\'s component_secret under Component '
          '"groups.localhost"' in out and 'shorter than 16 characters' in out, show(rc, out, err))
    cfg = config(d)
    cfg['component']['secret'] = 'k3J9v0q2ZxW8pL5tR7mN'
    rc, out, err, path = run_check(cfg, d)
    check(rc == 0 and 'shorter than 16' not in out, show(rc, out, err))


if __name__ == '__main__':
    SUITE.run()
