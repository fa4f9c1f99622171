"""Scenario: run as systemd runs it (stderr connected to the journal's
stream), imgroups writes records to the journal itself, with PRIORITY,
IMGROUPS_AREA and GROUP fields, and nothing to the stream. The journal is
journal_standin.py in a private mount namespace (unshare -m): the host's
/run is not touched."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SUITE, FakeServer, Failure, base_config, check,  # noqa: E402
                     render_config, test, tmpdir)
from muclib import create  # noqa: E402

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'journal_standin.py')
WAIT = 5


class Journaled:
    """imgroups under journal_standin.py; records() reads what it got."""

    def __init__(self, cfg):
        self.dir = tmpdir()
        path = os.path.join(self.dir, 'imgroups.conf')
        with open(path, 'w') as f:
            f.write(render_config(cfg))
        unshare = shutil.which('unshare')
        check(unshare, 'no unshare(1): the journal stand-in needs a mount namespace')
        # as root a mount namespace; otherwise a user namespace with one
        self.proc = subprocess.Popen(
            [unshare, '-m' if os.geteuid() == 0 else '-rm', STANDIN, self.dir, '--', SUITE.binary, '--config', path],
            stdin=subprocess.DEVNULL)
        SUITE.track(self)

    def records(self):
        try:
            with open(os.path.join(self.dir, 'journal.jsonl')) as f:
                return [json.loads(line) for line in f if line.endswith('\n')]
        except FileNotFoundError:
            return []

    def stream(self):
        try:
            with open(os.path.join(self.dir, 'stream.log'), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def wait_record(self, **want):
        """The first record holding every field of want."""
        deadline = time.monotonic() + WAIT
        while True:
            for r in self.records():
                if all(r.get(k) == v for k, v in want.items()):
                    return r
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failure('no journal record with %r; got:\n%s' % (
                    want, '\n'.join(json.dumps(r) for r in self.records()[-10:])))
            time.sleep(0.02)

    def shutdown(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # passed on to imgroups
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@test('under systemd, records go to the journal with PRIORITY, IMGROUPS_AREA and '
      'GROUP, and nothing to the stream')
def journal():
    s = FakeServer()
    SUITE.track(s)
    d = tmpdir()
    j = Journaled(base_config(s.port, os.path.join(d, 'store')))
    s.wait_for_connection(10)
    j.wait_record(MESSAGE='connected to 127.0.0.1:%d as groups.localhost' % s.port,
                  PRIORITY='6', IMGROUPS_AREA='link', SYSLOG_IDENTIFIER='imgroups')
    create(s, 'j1')
    r = j.wait_record(GROUP='j1')
    check(r.get('MESSAGE') == 'group j1@groups.localhost created'
          and r.get('PRIORITY') == '6' and r.get('IMGROUPS_AREA') == 'router',
          'the record about j1: %r' % r)
    # a bad file on SIGHUP (passed on by the stand-in) is an error record
    with open(os.path.join(j.dir, 'imgroups.conf'), 'a') as f:
        f.write('[limits]\nburst = lots\n')
    j.proc.send_signal(signal.SIGHUP)
    r = j.wait_record(PRIORITY='3', IMGROUPS_AREA='config')
    check(r['MESSAGE'].startswith('reload refused: '), 'the error: %r' % r)
    j.proc.send_signal(signal.SIGTERM)  # passed on to imgroups
    s.expect_stream_close(5)
    s.send('</stream:stream>')
    s.close()
    j.proc.wait(10)
    check(j.proc.returncode == 0, 'exit status %s' % j.proc.returncode)
    j.wait_record(MESSAGE='stopped', PRIORITY='6', IMGROUPS_AREA='main')
    check(j.stream() == '', 'written to the stream:\n%s' % j.stream()[-600:])


if __name__ == '__main__':
    SUITE.run()
