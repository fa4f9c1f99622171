"""Scenario: the command line: --version, --help, --config, --check-config,
configuration problems and stop signals."""

import copy
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FakeServer, Imgroups, SUITE, base_config, check, render_config,  # noqa: E402
                     run_cli, test, tmpdir)


def good_config(d, port=5347):
    cfg = base_config(port, os.path.join(d, 'store'))
    cfg['component']['name'] = 'imgroups'
    cfg['account:bot'] = {'protocol': 'prpl-irc', 'username': 'bot@127.0.0.1',
                          'password': '', 'group': 'lobby', 'mode': 'contacts',
                          'option.port': '6667'}
    return cfg


def write(d, cfg, name='imgroups.conf'):
    path = os.path.join(d, name)
    with open(path, 'w') as f:
        f.write(render_config(cfg))
    return path


def show(rc, out, err):
    return 'exit status %s\nstdout: %s\nstderr: %s' % (rc, out.strip() or '(empty)',
                                                        err.strip() or '(empty)')


@test('--version prints imgroups 0.1.0 and exits 0')
def version():
    rc, out, err = run_cli(['--version'])
    check(rc == 0 and out.strip() == 'imgroups 0.1.0', show(rc, out, err))


@test('--help prints the usage and exits 0')
def help_():
    rc, out, err = run_cli(['--help'])
    text = out + err
    check(rc == 0 and '--config' in text and '--check-config' in text and '--version' in text,
          show(rc, out, err))


@test('without --config imgroups exits 2 with a message')
def no_config():
    rc, out, err = run_cli([])
    check(rc == 2 and 'config' in err, show(rc, out, err))


@test('--check-config accepts a good configuration and exits 0')
def good():
    d = tmpdir()
    path = write(d, good_config(d))
    rc, out, err = run_cli(['--config', path, '--check-config'])
    check(rc == 0 and (path in out + err or 'ok' in (out + err).lower()), show(rc, out, err))
    check(not os.path.exists(os.path.join(d, 'store')),
          '--check-config created the storage directory')


@test('--check-config accepts accounts in both modes with option.* keys of each type')
def good_accounts():
    d = tmpdir()
    cfg = good_config(d)
    cfg['log']['level'] = 'debug'
    cfg['service']['room_creation'] = 'admins'
    cfg['service']['admins'] = 'admin@localhost;other@example.org;'
    cfg['account:chat'] = {'protocol': 'prpl-irc', 'username': 'bot2@127.0.0.1',
                           'group': 'team', 'mode': 'chat', 'chat': '#team',
                           'option.port': '6697', 'option.ssl': 'true',
                           'option.encoding': 'UTF-8'}
    path = write(d, cfg)
    rc, out, err = run_cli(['--config', path, '--check-config'])
    check(rc == 0, show(rc, out, err))


def drop(section, key):
    def f(cfg):
        del cfg[section][key]
    return f


def put(section, key, value):
    def f(cfg):
        cfg[section][key] = value
    return f


def drop_section(section):
    def f(cfg):
        del cfg[section]
    return f


# (what is wrong, edit of the good config, "[group] key" the message must name)
BAD = [
    ('jid is missing', drop('component', 'jid'), '[component] jid'),
    ('jid is not a domain', put('component', 'jid', 'a@b'), '[component] jid'),
    ('port is not a number', put('component', 'port', 'abc'), '[component] port'),
    ('port is out of range', put('component', 'port', '70000'), '[component] port'),
    ('secret is missing', drop('component', 'secret'), '[component] secret'),
    ('storage path is missing', drop('storage', 'path'), '[storage] path'),
    ('room_creation is not anyone or admins', put('service', 'room_creation', 'everyone'),
     '[service] room_creation'),
    ('admins holds a bad JID', put('service', 'admins', 'admin@localhost;not a jid@@;'),
     '[service] admins'),
    ('log level is unknown', put('log', 'level', 'loud'), '[log] level'),
    ('an account has no protocol', drop('account:bot', 'protocol'), '[account:bot] protocol'),
    ('an account mode is unknown', put('account:bot', 'mode', 'party'), '[account:bot] mode'),
    ('a chat-mode account has no chat', put('account:bot', 'mode', 'chat'),
     '[account:bot] chat'),
    ('an account group is not a localpart', put('account:bot', 'group', 'bad@group'),
     '[account:bot] group'),
]


def bad_case(what, edit, key):
    def run():
        d = tmpdir()
        cfg = copy.deepcopy(good_config(d))
        edit(cfg)
        path = write(d, cfg)
        rc, out, err = run_cli(['--config', path, '--check-config'])
        check(rc == 2 and key in err, 'expected exit 2 and "%s" on stderr\n%s'
              % (key, show(rc, out, err)))
    return run


for _what, _edit, _key in BAD:
    test('--check-config refuses a config where %s, naming %s' % (_what, _key))(
        bad_case(_what, _edit, _key))


@test('--check-config reports every problem of a config, not only the first')
def every_problem():
    d = tmpdir()
    cfg = good_config(d)
    cfg['component']['port'] = 'abc'
    cfg['service']['room_creation'] = 'everyone'
    cfg['log']['level'] = 'loud'
    path = write(d, cfg)
    rc, out, err = run_cli(['--config', path, '--check-config'])
    missing = [k for k in ('[component] port', '[service] room_creation', '[log] level')
               if k not in err]
    check(rc == 2 and not missing, 'not named: %s\n%s' % (', '.join(missing) or '-',
                                                          show(rc, out, err)))


@test('a config file that does not exist is refused with exit 2, naming the file')
def no_such_file():
    d = tmpdir()
    path = os.path.join(d, 'nonexistent.conf')
    rc, out, err = run_cli(['--config', path, '--check-config'])
    check(rc == 2 and path in err, show(rc, out, err))
    rc, out, err = run_cli(['--config', path])
    check(rc == 2 and path in err, 'without --check-config: ' + show(rc, out, err))


@test('a config file that is not INI is refused with exit 2, naming the file')
def not_ini():
    d = tmpdir()
    path = write(d, 'this is not an ini file\n[unclosed\nkey value\n', 'broken.conf')
    rc, out, err = run_cli(['--config', path, '--check-config'])
    check(rc == 2 and path in err, show(rc, out, err))


@test('running with a bad config exits 2 with the same messages as --check-config')
def bad_config_run():
    d = tmpdir()
    cfg = good_config(d)
    cfg['component']['port'] = '70000'
    cfg['account:bot']['mode'] = 'party'
    path = write(d, cfg)
    rc1, out1, err1 = run_cli(['--config', path, '--check-config'])
    rc2, out2, err2 = run_cli(['--config', path])
    check(rc2 == 2, 'running: ' + show(rc2, out2, err2))
    lines1 = [x for x in err1.splitlines() if '[' in x]
    missing = [x for x in lines1 if x not in err2]
    check(lines1 and not missing, 'messages of --check-config missing when running: %s\n'
          'check: %s\nrun: %s' % (missing, show(rc1, out1, err1), show(rc2, out2, err2)))
    check(not os.path.exists(os.path.join(d, 'store')),
          'a refused config still created the storage directory')


def stop_unconnected(sig):
    server = FakeServer(listen=False)
    d = tmpdir()
    proc = Imgroups(good_config(d, server.port), workdir=d)
    proc.wait_log(r'link: cannot reach 127\.0\.0\.1:%d' % server.port, timeout=10)
    rc = proc.stop(sig, timeout=10)
    check(rc == 0, 'exit status %s' % rc)


@test('SIGTERM while the server is unreachable stops imgroups with exit 0')
def sigterm_unconnected():
    stop_unconnected(signal.SIGTERM)


@test('SIGINT while the server is unreachable stops imgroups with exit 0')
def sigint_unconnected():
    stop_unconnected(signal.SIGINT)


if __name__ == '__main__':
    SUITE.run()
