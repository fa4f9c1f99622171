"""Scenario: SIGHUP reloads what can change without dropping the link
([limits], [service] admins and room creation, [log] levels, the workers'
level) and says so key by key; what needs a restart is said and left as
is; a bad file changes nothing."""

import configparser
import io
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SUITE, check, ping, test  # noqa: E402
from muclib import (A, C, ERR, create, empty_subject, groupchat_to,  # noqa: E402
                    join, say, self_presence, start)
from bridgeharness import Bridge  # noqa: E402

UNAVAILABLE = ("<iq type='error' id='%%s' from='%s' to='%s'><error type='cancel'>"
               "<service-unavailable %s/></error></iq>" % (C, A, ERR))


def rig(limits=None, **service):
    s, proc = start(limits=limits, **service)
    SUITE.track(s)
    SUITE.track(proc)
    return s, proc


def edit(proc, changes):
    """Rewrites proc's file: changes is {section: {key: value or None}}
    (None removes the key); returns the log offset before the SIGHUP that
    follows it."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(proc.config_path)
    for section, keys in changes.items():
        if not cp.has_section(section):
            cp.add_section(section)
        for k, v in keys.items():
            if v is None:
                cp.remove_option(section, k)
            else:
                cp.set(section, k, v)
    out = io.StringIO()
    cp.write(out)
    with open(proc.config_path, 'w') as f:
        f.write(out.getvalue())
    return proc.log_mark()


def hup(proc, changes, wait):
    """Edits the file, sends SIGHUP, waits for the line wait; returns the
    log offset from before the signal."""
    mark = edit(proc, changes)
    proc.proc.send_signal(signal.SIGHUP)
    proc.wait_log(wait, since=mark)
    return mark


def same_link(s, proc, ident):
    """The link the component made first is the one that answers: no
    reconnect happened."""
    ping(s, ident)
    check(len(s.conns) == 1 and len(s.attempts) == 1,
          '%d connections: the reload dropped the link' % len(s.attempts))
    check(proc.alive(), 'imgroups exited')


def refused_body(room, ident):
    return ("<message type='error' id='%s' from='%s@%s' to='%s'><error type='modify'>"
            "<policy-violation %s/></error></message>" % (ident, room, C, A, ERR))


@test('SIGHUP with a lower [limits] max_body: a body allowed before is refused '
      'after, on the same link, and the change is logged')
def limit():
    s, proc = rig({'max_body': '10'})
    create(s, 'r1')
    say(s, 'r1', 'm1', 'x' * 10)
    s.expect(groupchat_to('r1', 'alice', A, 'x' * 10, 'm1'))
    hup(proc, {'limits': {'max_body': '5'}},
        r'info config: reload: \[limits\] max_body: 10 -> 5$')
    say(s, 'r1', 'm2', 'x' * 10)
    s.expect(refused_body('r1', 'm2'))
    say(s, 'r1', 'm3', 'x' * 5)
    s.expect(groupchat_to('r1', 'alice', A, 'x' * 5, 'm3'))
    same_link(s, proc, 'p1')


@test('SIGHUP with a JID added to [service] admins: with room_creation = '
      'admins, that user may now create a group')
def admins():
    s, proc = rig(room_creation='admins')
    join(s, 'r2', 'alice', A)
    s.expect("<presence type='error' from='r2@%s/alice' to='%s'><error type='cancel'>"
             "<not-allowed %s/></error></presence>" % (C, A, ERR))
    hup(proc, {'service': {'admins': 'admin@localhost;alice@localhost'}},
        r'reload: \[service\] admins: admin@localhost -> '
        r'admin@localhost;alice@localhost$')
    join(s, 'r2', 'alice', A)
    s.expect(self_presence('r2', 'alice', A, 'owner', 'moderator', [110, 201]))
    s.expect(empty_subject('r2', A))
    same_link(s, proc, 'p2')


@test('SIGHUP with [log] level = debug shows debug lines, then level = warning '
      'hides info lines, each change logged')
def log_level():
    s, proc = rig()
    unknown = ("<iq type='get' id='%s' from='%s' to='%s'>"
               "<nothing xmlns='urn:example:nothing'/></iq>")
    s.send(unknown % ('q1', A, C))
    s.expect(UNAVAILABLE % 'q1')
    check(proc.count_log(r'debug router: ') == 0, 'debug lines at info')
    hup(proc, {'log': {'level': 'debug'}}, r'reload: \[log\] level: info -> debug$')
    mark = proc.log_mark()
    s.send(unknown % ('q2', A, C))
    s.expect(UNAVAILABLE % 'q2')
    proc.wait_log(r'debug router: iq <nothing/> refused', since=mark)
    # the server's stray element is an info line: shown now, not after
    s.send('<stray/>')
    proc.wait_log(r'info router: ignoring a <stray> element', since=mark)
    mark = hup(proc, {'log': {'level': 'warning'}},
               r'reload: \[log\] level: debug -> warning$')
    after = proc.wait_log(r'level: debug -> warning\n', since=mark).end()
    s.send('<stray/>')
    s.send(unknown % ('q3', A, C))
    s.expect(UNAVAILABLE % 'q3')
    # a warning-level line as the barrier: a file that cannot be read
    hup(proc, {'limits': {'rate': 'fast'}}, r'error config: reload refused: ')
    quiet = proc.log()[after:]
    check(not [l for l in quiet.splitlines()
               if ' info ' in l or ' debug ' in l],
          'info or debug lines at level warning:\n%s' % quiet)
    same_link(s, proc, 'p3')


@test('a bad file is refused as a whole: an error line says why and not even '
      'its good keys apply')
def bad_file():
    s, proc = rig({'max_body': '10'})
    create(s, 'r4')
    mark = hup(proc, {'limits': {'max_body': '5', 'burst': 'lots'}},
               r'error config: reload refused: .*\[limits\] burst: ')
    check(proc.count_log(r'reload: \[limits\]', since=mark) == 0,
          'a refused file changed something:\n%s' % proc.log()[mark:])
    say(s, 'r4', 'm1', 'x' * 10)
    s.expect(groupchat_to('r4', 'alice', A, 'x' * 10, 'm1'))
    same_link(s, proc, 'p4')


@test('what needs a restart (server port, secret) is said so and left as is: '
      'the link stays up, the secret is never written')
def restart_keys():
    s, proc = rig()
    mark = hup(proc, {'component': {'port': '1', 'secret': 'n3w-s3cret'}},
               r'reload: \[component\] secret: .*needs a restart')
    log = proc.log()[mark:]
    check(r'warning config: reload: [component] port: %d -> 1 (needs a restart; '
          'left as is)' % s.port in log, 'no port line:\n%s' % log)
    check('n3w-s3cret' not in proc.log() and 'changeme' not in proc.log(),
          'a secret was logged:\n%s' % log)
    same_link(s, proc, 'p5')


@test('a worker is told the level at start and again when [log] legacy changes')
def worker_level():
    b = Bridge({'irc': {'group': 'lobby'}}, log_level='info')
    w = b.w['irc']
    check(w.frames('log_level') == [(2,)], 'at start: %r' % (w.history[:4],))
    hup(b.proc, {'log': {'legacy': 'warning'}},
        r'reload: \[log\] legacy: info -> warning$')
    w.expect('log_level', match=lambda body: body == (1,))
    # a reload that leaves the level alone says nothing to the workers
    hup(b.proc, {'limits': {'burst': '7'}}, r'reload: \[limits\] burst: ')
    b.barrier()
    check(w.frames('log_level') == [], 'told again: %r' % w.frames('log_level'))


if __name__ == '__main__':
    SUITE.run()
