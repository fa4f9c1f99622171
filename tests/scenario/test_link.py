"""Scenario: the component link (XEP-0114): handshake, reconnects, backoff,
malformed input, clean stop."""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (COMPONENT_JID, Failure, FakeServer, Imgroups, base_config,  # noqa: E402
                     check, ping, stop_by_signal, test, tmpdir, SUITE)

LOG_LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)? '
                      r'(?:error|warning|info|debug) [a-z][a-z0-9_-]*: \S')


def start(server, **overrides):
    d = tmpdir()
    cfg = base_config(server.port, os.path.join(d, 'store'))
    for key, value in overrides.items():
        section, _, name = key.partition('__')
        cfg.setdefault(section, {})[name] = value
    return Imgroups(cfg, workdir=d)


def linked(ident, **overrides):
    """A FakeServer and an imgroups (start's overrides) linked to it, a ping
    ident answered."""
    server = FakeServer()
    proc = start(server, **overrides)
    server.wait_for_connection(10)
    ping(server, ident)
    return server, proc


def connected_rx(port):
    return r'^\S+ \w+ link: connected to 127\.0\.0\.1:%d as %s$' % (port, re.escape(COMPONENT_JID))


def delays(proc, what):
    """The N.N of every 'retrying/reconnecting in N.N s' line after what."""
    return [float(x) for x in re.findall(r'link: %s.*; (?:retrying|reconnecting) in (\d+\.\d) s$'
                                         % what, proc.log(), re.M)]


def within_backoff(value, k):
    """The k-th delay (0-based) of a 1 s doubling backoff with 25% jitter,
    printed to one decimal."""
    base = min(30.0, 2.0 ** k)
    return base * 0.75 - 0.05 <= value <= min(30.0, base * 1.25) + 0.05


@test('the component opens a jabber:component:accept stream to its jid and '
      'sends the SHA-1 handshake of stream id and secret')
def handshake():
    server = FakeServer()
    proc = start(server)
    conn = server.wait_for_connection(10)
    check(conn.authenticated, 'handshake refused')
    proc.wait_log(connected_rx(server.port))
    ping(server, 'hs1')
    check(len(server.attempts) == 1, 'expected one connection, saw %d' % len(server.attempts))
    bad = [line for line in proc.log().splitlines() if not LOG_LINE.match(line)]
    check(not bad, 'log lines not in the form "<ISO8601> <level> <area>: <message>":\n'
          + '\n'.join(bad[:5]))


@test('a refused secret is logged and retried after a backoff that grows')
def wrong_secret_backoff():
    server = FakeServer(secret='not-the-secret')
    proc = start(server)
    conn = server.wait_for_connection(10, expect_success=False)
    check(not conn.authenticated, 'the fake server accepted a wrong secret')
    import hashlib
    want = hashlib.sha1((conn.stream_id + 'changeme').encode()).hexdigest()
    check(conn.handshake_text == want, 'the handshake digest %r is not SHA-1(id + secret) %r'
          % (conn.handshake_text, want))
    first = server.attempts[0]
    proc.wait_log(r'^\S+ \w+ link: the server refused the secret for %s; retrying in \d+\.\d s$'
                  % re.escape(COMPONENT_JID))
    # keep refusing for 8 s after the first attempt
    while time.monotonic() < first + 8.0:
        try:
            server.wait_for_connection(first + 8.0 - time.monotonic(), expect_success=False)
        except Failure as e:
            if 'did not connect' not in str(e):
                raise
    times = [t - first for t in server.attempts if t - first <= 8.0]
    gaps = [b - a for a, b in zip(times, times[1:])]
    desc = 'attempts at %s s' % ', '.join('%.2f' % t for t in times)
    # 1 s, 2 s, 4 s (+-25%) → attempts near 0, 1, 3, 7
    check(3 <= len(times) <= 4, 'expected 3 or 4 attempts in 8 s; %s' % desc)
    check(min(gaps) >= 0.7, 'an attempt came sooner than 0.75 s after the last; %s' % desc)
    check(gaps[1] > gaps[0], 'the second gap is not longer than the first; %s' % desc)
    if len(gaps) > 2:
        check(gaps[2] > gaps[1], 'the third gap is not longer than the second; %s' % desc)
    ds = delays(proc, 'the server refused the secret')
    check(all(within_backoff(d, k) for k, d in enumerate(ds)),
          'logged delays %s are not 1, 2, 4 s within 25%%' % ds)
    check(proc.alive(), 'imgroups exited')


@test('the backoff starts again from 1 s after a link that stayed up 10 s')
def backoff_resets():
    server = FakeServer(secret='not-the-secret')
    proc = start(server)
    # two refusals: without a reset the next delay would be 4 s
    server.wait_for_connection(10, expect_success=False)
    server.wait_for_connection(10, expect_success=False)
    server.secret = 'changeme'
    server.wait_for_connection(15)
    ping(server, 'rs1')
    # A link that drops at once keeps doubling (a server that accepts and
    # drops is not hammered); one that stayed up 10 s counts as stable.
    time.sleep(10.5)
    ping(server, 'rs1b')
    mark = proc.log_mark()
    server.close()
    m = proc.wait_log(r'link: disconnected from 127\.0\.0\.1:%d \(.+\); reconnecting in (\d+\.\d) s$'
                      % server.port, since=mark)
    check(within_backoff(float(m.group(1)), 0),
          'after a stable link the reconnect delay is %s s, expected 1 s +-25%%'
          % m.group(1))
    server.wait_for_connection(5)
    ping(server, 'rs2')


@test('when the server closes the connection the component logs it, reconnects '
      'and answers again')
def server_closes():
    server, proc = linked('c1')
    mark = proc.log_mark()
    server.close()
    proc.wait_log(r'^\S+ \w+ link: disconnected from 127\.0\.0\.1:%d \(.+\); '
                  r'reconnecting in \d+\.\d s$' % server.port, since=mark)
    server.wait_for_connection(10)
    ping(server, 'c2')
    proc.wait_log(connected_rx(server.port), since=mark)
    n = proc.count_log(r'link: disconnected from', since=mark)
    check(n == 1, 'the disconnection was logged %d times' % n)
    check(len(server.attempts) == 2, 'expected 2 connections, saw %d' % len(server.attempts))


@test('a component started before the server listens connects once it does')
def server_late():
    server = FakeServer(listen=False)
    proc = start(server, log__level='debug')  # retries after the first: debug
    t0 = time.monotonic()
    unreachable = (r'^\S+ \w+ link: cannot reach 127\.0\.0\.1:%d \(.+\); retrying in \d+\.\d s$'
                   % server.port)
    m = proc.wait_log(unreachable, timeout=10)
    # a second attempt, refused too, before the server listens
    proc.wait_log(unreachable, timeout=10, since=m.end())
    elapsed = time.monotonic() - t0
    server.start_listening()
    server.wait_for_connection(15)
    ping(server, 'l1')
    proc.wait_log(connected_rx(server.port))
    # attempts possible in `elapsed` with the shortest delays 0.75, 1.5, 3 s
    possible, t, k = 1, 0.75, 0
    while t <= elapsed + 0.5:
        possible += 1
        k += 1
        t += 0.75 * 2 ** k
    n = proc.count_log(r'link: cannot reach')
    check(1 <= n <= possible, '"cannot reach" logged %d times in %.1f s (at most %d attempts)'
          % (n, elapsed, possible))


@test('malformed XML from the server makes the component reconnect, not crash')
def malformed_xml():
    server, proc = linked('m1')
    mark = proc.log_mark()
    server.send("<iq type='get' id='x'><<<")
    # more bytes, so that a parser waiting for the end of a token sees the error
    server.send("<iq type='get' id='m1b' from='user@localhost/res' to='groups.localhost'>"
                "<ping xmlns='urn:xmpp:ping'/></iq>")
    server.wait_eof(5)
    server.wait_for_connection(10)
    ping(server, 'm2')
    check(proc.alive(), 'imgroups exited')
    check(proc.count_log(r'^\S+ (?:error|warning|info) link: (?!connected to)', since=mark) >= 1,
          'nothing about the broken connection in the log')


@test("the server's </stream:stream> is answered with the component's own, "
      'then it reconnects')
def server_closes_stream():
    server, proc = linked('cs1')
    # RFC 6120 section 4.4: the receiving entity answers the closing tag
    # with its own before the TCP connection is closed
    server.send('</stream:stream>')
    extra = server.expect_stream_close(5)
    check(not extra, 'stanzas sent before closing: %s' % extra)
    server.wait_for_connection(10)
    ping(server, 'cs2')
    check(proc.alive(), 'imgroups exited')


@test('restricted XML from the server (a comment) gets a restricted-xml '
      'stream error, then a reconnect')
def restricted_xml():
    server, proc = linked('rx1')
    conn = server.conn
    server.send('<!-- not allowed -->')
    server.expect_stream_close(5)
    check(b'<restricted-xml' in bytes(conn.raw), 'no restricted-xml stream error '
          'in: %r' % bytes(conn.raw[-300:]))
    server.wait_for_connection(10)
    ping(server, 'rx2')


@test('SIGTERM while connected closes the stream and exits 0')
def sigterm_connected():
    server, proc = linked('t1')
    extra = stop_by_signal(server, proc, signal.SIGTERM)
    check(not extra, 'stanzas sent before closing: %s' % extra)


@test('SIGINT while connected closes the stream and exits 0')
def sigint_connected():
    server, proc = linked('i1')
    stop_by_signal(server, proc, signal.SIGINT)


@test('with [log] level = error a normal connection logs nothing')
def log_level_error():
    server, proc = linked('e1', log__level='error')
    stop_by_signal(server, proc, signal.SIGTERM)
    log = proc.log().strip()
    check(not log, 'log lines at level error:\n' + log)


if __name__ == '__main__':
    SUITE.run()
