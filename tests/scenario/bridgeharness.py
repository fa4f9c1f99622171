"""Bridge scenario harness: plays both the XMPP server (harness.FakeServer)
and the libpurple worker toward imgroups, so that contacts mode, chat mode,
member commands and delivery are tested in milliseconds, with no network
and no libpurple.

imgroups runs tests/scenario/fake_worker.py as its `[legacy] worker`; the
stand-in hands its end of the socketpair to this harness over a unix
socket, and the harness speaks the core–worker protocol on it
(transports/protocol.h, framed by tests/real/wire.py). Nothing waits for
time: barrier() sends the worker a question whose answer proves every frame
before it was handled, then pings the component over XMPP, whose answer
proves every stanza before it was sent.
"""

import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'real'))
from harness import (COMPONENT_JID, FakeServer, Failure, Imgroups, SUITE,  # noqa: E402
                     base_config, check, match_unordered, parse_literal,
                     render, tmpdir)
import wire  # noqa: E402  (needs python3-gi: run with /usr/bin/python3)

C = COMPONENT_JID
FAKE_WORKER = os.path.join(HERE, 'fake_worker.py')
WAIT = 5  # seconds for any one expected frame
PINGER = 'barrier@localhost/harness'


class Worker(wire.Wire):
    """One account's worker as the harness plays it. Delivery ids of the
    send_im / send_chat frames it receives are confirmed at once unless
    auto_deliver is False."""

    def __init__(self, sock, account):
        super().__init__(sock)
        self.account = account
        self.auto_deliver = True
        self.sent = []  # (kind, target, body) of every send_im/send_chat
        self._barriers = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def recv(self, timeout):
        msg = super().recv(timeout)
        if msg and msg[0] in ('send_im', 'send_chat'):
            ident, _, target, body = msg[1]
            self.sent.append((msg[0], target, body))
            if self.auto_deliver:
                self.send('delivered', (ident,))
        return msg

    def expect(self, name, match=None, timeout=WAIT):
        """The next frame called name (whose body satisfies match, if
        given); frames before it are kept in seen. Fails when none comes."""
        msg = super().expect(name, timeout, match)
        if msg is None:
            raise Failure('the worker of %s got no %s within %.0f s; got:\n%s'
                          % (self.account, name, timeout,
                             '\n'.join('  %s %r' % m for m in self.history[-10:])))
        return msg[1]

    def start(self, up=True):
        """The worker's side of the start: hello both ways, account_add
        answered with account_up (or nothing, when up is False)."""
        self.expect('hello')
        self.send('hello', (wire_version(),))
        body = self.expect('account_add')
        check(body[0] == self.account, 'account_add for %r, expected %r'
              % (body[0], self.account))
        if up:
            self.send('account_up', (self.account,))
        return body

    def said(self, handle, body, alias=None):
        """handle sends the bot an IM."""
        self.send('im_received', (self.account, handle, alias or handle, body))

    def ask(self):
        """One round: a buddy request of a handle nobody uses, answered
        after every frame sent before it was handled. Returns how many other
        frames arrived meanwhile (kept in seen)."""
        self._barriers += 1
        handle = 'barrier-%d' % self._barriers
        before = len(self.history)
        self.send('auth_request', (self.account, handle, ''))
        if not self.wait_for(lambda n, b: n == 'auth_answer' and b[1] == handle,
                             WAIT):
            raise Failure('the core did not answer the buddy request of %s '
                          'within %.0f s' % (handle, WAIT))
        # an accepted request adds the buddy: not the test's business
        self.seen = [m for m in self.seen
                     if not (m[0] == 'buddy_add' and m[1][1] == handle)]
        return sum(1 for m in self.history[before:]
                   if m[1][1:2] != (handle,))

    def sends(self, kind=None, target=None):
        """The bodies sent (send_im/send_chat) so far, optionally only of
        one kind or to one target; forgets them."""
        got = [b for k, t, b in self.sent
               if (kind is None or k == kind) and (target is None or t == target)]
        self.sent = [s for s in self.sent
                     if not ((kind is None or s[0] == kind)
                             and (target is None or s[1] == target))]
        return got

    def forget(self):
        """Drops what was received so far."""
        self.seen = []
        self.sent = []

    def frames(self, name):
        """The bodies of the frames called name received (and skipped) so
        far; forgets them."""
        got = [b for n, b in self.seen if n == name]
        self.seen = [m for m in self.seen if m[0] != name]
        return got


def wire_version():
    with open(wire.PROTOCOL_H) as f:
        for line in f:
            if line.startswith('#define PROTO_VERSION'):
                return int(line.split()[2])
    raise Failure('no PROTO_VERSION in %s' % wire.PROTOCOL_H)


class Bridge:
    """imgroups with legacy accounts, the fake server and one Worker per
    account. accounts: {name: {key: value}} (protocol and username get
    defaults); the workers are started (hello, account_up) unless up is
    False."""

    def __init__(self, accounts, up=True, service=None, limits=None,
                 legacy=None, log_level='debug'):
        d = tmpdir()
        self.ctl_path = os.path.join(d, 'workers.sock')
        self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctl.bind(self.ctl_path)
        self.ctl.listen(16)
        self.ctls = []
        self.server = FakeServer()
        cfg = base_config(self.server.port, os.path.join(d, 'store'))
        cfg['log']['level'] = log_level
        cfg['service'].update(service or {})
        cfg['legacy'] = dict(legacy or {}, worker=FAKE_WORKER)
        if limits:
            cfg['limits'] = limits
        for name, keys in accounts.items():
            cfg['account:' + name] = dict(
                {'protocol': 'prpl-fake', 'username': name + 'bot@legacy',
                 'pace_burst': '1000', 'pace_rate': '1000'},
                **keys)
        # the workers inherit imgroups' environment
        os.environ['IMGROUPS_FAKE_WORKER'] = self.ctl_path
        self.proc = Imgroups(cfg, workdir=d)
        SUITE.track(self)
        self.server.wait_for_connection(10)
        self.w = {}
        self._pings = 0
        for _ in accounts:
            w = self.accept()
            self.w[w.account] = w
        for w in self.w.values():
            w.start(up)
        if up:
            for name in accounts:
                self.proc.wait_log(r'account %s is online' % name)

    def accept(self, timeout=10):
        """The next worker the core starts."""
        self.ctl.settimeout(timeout)
        try:
            c, _ = self.ctl.accept()
        except socket.timeout:
            raise Failure('no worker started within %.0f s' % timeout)
        msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
        if not fds:
            raise Failure('the stand-in worker passed no descriptor')
        self.ctls.append(c)
        return Worker(socket.socket(fileno=fds[0]), msg.decode())

    def barrier(self):
        """Every frame and stanza sent to the core so far has been handled,
        and everything it sent because of them has arrived: each worker
        answers a buddy request, then the component a ping. Returns the
        stanzas the component sent before the ping's answer."""
        got = self.ping()
        # The outbox pump runs in the main-loop turn after the one that woke
        # it: two passes in a row in which no worker got any other frame
        # prove it has nothing more to send (pacing apart: tests give the
        # accounts a burst larger than they use).
        quiet = 0
        for _ in range(200):
            busy = sum(w.ask() for w in self.w.values())
            quiet = 0 if busy else quiet + 1
            if quiet == 2:
                return got + self.ping()
        raise Failure('the workers still get frames after 200 rounds')

    def ping(self):
        """The stanzas the component sends before answering a ping."""
        self._pings += 1
        ident = 'barrier-%d' % self._pings
        self.server.send("<iq type='get' id='%s' from='%s' to='%s'>"
                         "<ping xmlns='urn:xmpp:ping'/></iq>" % (ident, PINGER, C))
        got = []
        while True:
            st = self.server.conn.next_stanza(WAIT)
            if st is None:
                raise Failure('no answer to the ping %s within %.0f s; before it:\n%s'
                              % (ident, WAIT, '\n'.join(render(g) for g in got)))
            if st.get('id') == ident and st.get('to') == PINGER:
                check(st.get('type') == 'result', 'the ping got %s' % render(st))
                return got
            got.append(st)

    def shutdown(self):
        for w in self.w.values():
            w.close()
        for c in self.ctls:
            c.close()
        self.ctl.close()
        self.proc.kill()
        self.server.shutdown()

    def join(self, room, nick, frm):
        """frm joins room as nick; the stanzas the component sent."""
        self.server.send("<presence from='%s' to='%s@%s/%s'>"
                         "<x xmlns='http://jabber.org/protocol/muc'/></presence>"
                         % (frm, room, C, nick))
        return self.barrier()

    def say(self, room, frm, body, ident):
        """frm says body in room; the stanzas the component sent."""
        self.server.send("<message type='groupchat' id='%s' from='%s' to='%s@%s'>"
                         "<body>%s</body></message>" % (ident, frm, room, C, body))
        return self.barrier()


def expect_stanzas(gots, literals):
    """gots (from barrier()) are exactly the literals, in any order."""
    exps = [parse_literal(x) for x in literals]
    why = (match_unordered(exps, gots) if len(exps) == len(gots)
           else '%d stanzas, expected %d' % (len(gots), len(exps)))
    if why:
        raise Failure('expected (any order):\n  %s\nreceived:\n  %s\ndifference: %s'
                      % ('\n  '.join(literals),
                         '\n  '.join(render(g) for g in gots) or '(nothing)', why))


USER_NS = "xmlns='http://jabber.org/protocol/muc#user'"
OID = "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='{any}'/>"


def occupant(room, nick, to, show=None, unavailable=False):
    """A legacy occupant's presence as an ordinary occupant sees it."""
    return ("<presence%s from='%s@%s/%s' to='%s'>%s<x %s><item affiliation='none' "
            "role='%s'/></x>%s</presence>"
            % (" type='unavailable'" if unavailable else '', room, C, nick, to,
               '<show>%s</show>' % show if show else '', USER_NS,
               'none' if unavailable else 'participant', OID))


def groupchat(room, nick, to, body, ident=None):
    """A line said in room by nick, as to receives it."""
    return ("<message type='groupchat'%s from='%s@%s/%s' to='%s'><body>%s</body>"
            "<stanza-id xmlns='urn:xmpp:sid:0' id='{any}' by='%s@%s'/>%s</message>"
            % (" id='%s'" % ident if ident else '', room, C, nick, to, body,
               room, C, OID))
