"""Scenario harness: plays the XMPP server's side of XEP-0114 toward imgroups.

A FakeServer listens on 127.0.0.1, accepts the component's connection, runs
the handshake of XEP-0114 section 3 and then reads the component's stream
stanza by stanza, comparing each one with an XML literal.  Imgroups starts
the binary under test with a config written into a temporary directory.
Suite runs the test functions of one file, one TAP line each, through
tests/tap.py.

Python 3 standard library only.
"""

import collections
import hashlib
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import tap  # noqa: E402  (tests/tap.py: the TAP lines and the run loop)

STREAM_NS = 'http://etherx.jabber.org/streams'
ACCEPT_NS = 'jabber:component:accept'
STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
STREAMS_ERR_NS = 'urn:ietf:params:xml:ns:xmpp-streams'
XML_NS = 'http://www.w3.org/XML/1998/namespace'
ANY = '{any}'

COMPONENT_JID = 'groups.localhost'
SECRET = 'changeme'

# The stream id of every handshake comes from this generator; the seed is
# printed in the TAP output so that a run can be repeated.
SEED = int(os.environ.get('IMGROUPS_TEST_SEED') or random.SystemRandom().randrange(1, 2**31))
RNG = random.Random(SEED)


class Failure(Exception):
    """A check failed; the message is the diagnostic (may span lines)."""


class StreamClosed(Failure):
    pass


# ---------------------------------------------------------------------------
# XML helpers


def split_tag(tag):
    if tag.startswith('{'):
        ns, _, local = tag[1:].partition('}')
        return ns, local
    return '', tag


def _esc(s, quote=False):
    s = s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
    if quote:
        s = s.replace("'", '&apos;')
    return s


def render(el, parent_ns=ACCEPT_NS):
    """Serialise an element the way a person writes it: xmlns only where the
    namespace changes, no generated prefixes."""
    ns, local = split_tag(el.tag)
    out = ['<', local]
    if ns != parent_ns:
        out.append(" xmlns='%s'" % _esc(ns, True))
    for k, v in el.attrib.items():
        kns, kl = split_tag(k)
        name = ('xml:' + kl) if kns == XML_NS else (k if not kns else kl)
        out.append(" %s='%s'" % (name, _esc(v, True)))
    text = (el.text or '').strip()
    children = list(el)
    if not text and not children:
        out.append('/>')
        return ''.join(out)
    out.append('>')
    out.append(_esc(text))
    for c in children:
        out.append(render(c, ns))
    out.append('</%s>' % local)
    return ''.join(out)


def parse_literal(literal):
    """Parse a stanza literal written in the component stream's default
    namespace (jabber:component:accept)."""
    try:
        wrap = ET.fromstring("<wrap xmlns='%s'>%s</wrap>" % (ACCEPT_NS, literal))
    except ET.ParseError as e:
        raise Failure('bad XML literal in the test (%s): %s' % (e, literal))
    kids = list(wrap)
    if len(kids) != 1:
        raise Failure('an XML literal must hold exactly one element: %s' % literal)
    return kids[0]


def _is_optional_child(got_child, exp_parent, got_parent, top):
    """Children the component may add that a literal need not mention: an
    error's <text/> (RFC 6120 section 8.3.2), and in an error stanza the
    original payload echoed back (RFC 6120 section 8.3.1)."""
    exp_tags = {c.tag for c in exp_parent}
    if got_child.tag in exp_tags:
        return False
    _, plocal = split_tag(got_parent.tag)
    if plocal == 'error' and got_child.tag == '{%s}text' % STANZAS_NS:
        return True
    if top and got_parent.get('type') == 'error' and split_tag(got_child.tag)[1] != 'error':
        return True
    return False


# attributes a reply may carry though the literal leaves them out
OPTIONAL_ATTRS = {('error', 'by')}


def mismatch(exp, got, top=True):
    """None when got matches the literal exp, else the first difference."""
    if exp.tag != got.tag:
        ens, el = split_tag(exp.tag)
        gns, gl = split_tag(got.tag)
        return '<%s xmlns=%r> where <%s xmlns=%r> was expected' % (gl, gns, el, ens)
    _, local = split_tag(exp.tag)
    for k, v in exp.attrib.items():
        if k not in got.attrib:
            return '<%s> has no %s attribute (expected %r)' % (local, k, v)
        if v != ANY and got.attrib[k] != v:
            return '<%s> has %s=%r, expected %r' % (local, k, got.attrib[k], v)
    for k in got.attrib:
        if k not in exp.attrib and (local, k) not in OPTIONAL_ATTRS:
            return '<%s> has an unexpected attribute %s=%r' % (local, k, got.attrib[k])
    et, gt = (exp.text or '').strip(), (got.text or '').strip()
    if et != ANY and et != gt:
        return '<%s> has text %r, expected %r' % (local, gt, et)
    exp_kids = list(exp)
    got_kids = [c for c in got if not _is_optional_child(c, exp, got, top)]
    if len(exp_kids) != len(got_kids):
        return '<%s> has %d children (%s), expected %d (%s)' % (
            local, len(got_kids), ', '.join(render(c) for c in got_kids) or 'none',
            len(exp_kids), ', '.join(render(c) for c in exp_kids) or 'none')
    # children are compared without regard to order
    why = []

    def assign(i, used):
        if i == len(exp_kids):
            return True
        for j, g in enumerate(got_kids):
            if j in used:
                continue
            m = mismatch(exp_kids[i], g, False)
            if m is None:
                if assign(i + 1, used | {j}):
                    return True
            else:
                why.append(m)
        return False

    if not assign(0, frozenset()):
        return 'the children of <%s> differ: %s' % (local, why[0] if why else '?')
    return None


def match_unordered(exps, gots):
    """Pair every literal with a distinct stanza; None or a reason."""
    n = len(exps)

    def assign(i, used):
        if i == n:
            return True
        for j in range(n):
            if j not in used and mismatch(exps[i], gots[j]) is None:
                if assign(i + 1, used | {j}):
                    return True
        return False

    if assign(0, frozenset()):
        return None
    for e in exps:
        if all(mismatch(e, g) is not None for g in gots):
            return 'nothing received matches %s' % render(e)
    return 'no one-to-one pairing of the literals with the stanzas'


# ---------------------------------------------------------------------------
# One connection from the component


class Conn:
    def __init__(self, sock, accepted_at):
        self.sock = sock
        self.accepted_at = accepted_at
        self.parser = ET.XMLPullParser(events=('start', 'end', 'start-ns'))
        self.depth = 0
        self.root = None
        self.root_ns = []
        self.stanzas = collections.deque()
        self.history = []          # every stanza received, rendered
        self.stream_closed = False  # the component sent </stream:stream>
        self.eof = False
        self.stream_id = None
        self.handshake_text = None
        self.authenticated = False
        self.raw = bytearray()

    # -- reading

    def _feed(self, data):
        self.raw += data
        try:
            self.parser.feed(data)
            events = list(self.parser.read_events())
        except ET.ParseError as e:
            raise Failure('the component sent malformed XML (%s); raw tail: %r'
                          % (e, bytes(self.raw[-300:])))
        for ev, obj in events:
            if ev == 'start-ns':
                if self.depth == 0:
                    self.root_ns.append(obj)
            elif ev == 'start':
                self.depth += 1
                if self.depth == 1:
                    self.root = obj
            elif ev == 'end':
                self.depth -= 1
                if self.depth == 1:
                    self.stanzas.append(obj)
                    self.history.append(render(obj))
                    self.root.remove(obj)
                elif self.depth == 0:
                    self.stream_closed = True

    def _pump(self, deadline):
        """Read once; False when the deadline passed without data."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            data = self.sock.recv(65536)
        except OSError:
            data = b''
        if not data:
            self.eof = True
        else:
            self._feed(data)
        return True

    def next_stanza(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.stanzas:
                return self.stanzas.popleft()
            if self.stream_closed:
                raise StreamClosed('the component closed its stream (</stream:stream>)')
            if self.eof:
                raise StreamClosed('the component closed the connection')
            if not self._pump(deadline):
                if time.monotonic() >= deadline:
                    return None

    def wait_header(self, timeout):
        deadline = time.monotonic() + timeout
        while self.root is None:
            if self.eof:
                raise StreamClosed('the component closed the connection before its stream header')
            if not self._pump(deadline) and time.monotonic() >= deadline:
                raise Failure('no stream header from the component in %.0f s; raw: %r'
                              % (timeout, bytes(self.raw[:300])))

    # -- writing

    def send(self, text):
        if isinstance(text, str):
            text = text.encode('utf-8')
        self.sock.sendall(text)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


# ---------------------------------------------------------------------------
# The fake XMPP server


class FakeServer:
    """The XMPP server's side of XEP-0114 on 127.0.0.1.

    attempts holds the time.monotonic() of every accepted connection, taken
    by the accepting thread as it arrives."""

    def __init__(self, jid=COMPONENT_JID, secret=SECRET, listen=True):
        self.jid = jid
        self.secret = secret
        self.attempts = []
        self.conn = None
        self.conns = []
        self._pending = collections.deque()
        self._cv = threading.Condition()
        self._lsock = None
        self._thread = None
        self._stop = False
        if listen:
            self.port = None
            self.start_listening()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(('127.0.0.1', 0))
            self.port = s.getsockname()[1]
            s.close()
        SUITE.track(self)

    # -- listening

    def start_listening(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', self.port or 0))
        s.listen(16)
        self.port = s.getsockname()[1]
        self._lsock = s
        self._stop = False
        self._thread = threading.Thread(target=self._accept_loop, args=(s,), daemon=True)
        self._thread.start()

    def _accept_loop(self, lsock):
        while not self._stop:
            try:
                r, _, _ = select.select([lsock], [], [], 0.05)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                s, _ = lsock.accept()
            except OSError:
                return
            t = time.monotonic()
            with self._cv:
                self.attempts.append(t)
                self._pending.append((s, t))
                self._cv.notify_all()

    def stop_listening(self):
        self._stop = True
        if self._thread:
            self._thread.join(2)
            self._thread = None
        if self._lsock:
            self._lsock.close()
            self._lsock = None
        with self._cv:
            while self._pending:
                s, _ = self._pending.popleft()
                s.close()

    # -- connections

    def accept(self, timeout=10):
        """The next TCP connection, without any handshake."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while not self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure('the component did not connect to 127.0.0.1:%d within %.0f s'
                                  % (self.port, timeout))
                self._cv.wait(left)
            s, t = self._pending.popleft()
        conn = Conn(s, t)
        self.conns.append(conn)
        self.conn = conn
        return conn

    def wait_for_connection(self, timeout=10, expect_success=True):
        """Accept a connection and run the handshake (XEP-0114 section 3).

        The stream header must be in jabber:component:accept and address
        this server's jid.  The handshake succeeds when the component's
        hex digest is the SHA-1 of stream id + self.secret; otherwise the
        server sends <not-authorized/> and closes.  With expect_success, a
        refused handshake is a Failure."""
        conn = self.accept(timeout)
        conn.wait_header(5)
        problems = []
        if conn.root.tag != '{%s}stream' % STREAM_NS:
            problems.append('the stream root is %s, not {%s}stream' % (conn.root.tag, STREAM_NS))
        if ('', ACCEPT_NS) not in conn.root_ns:
            problems.append('the stream default namespace is not %s (declarations: %r)'
                            % (ACCEPT_NS, conn.root_ns))
        if conn.root.get('to') != self.jid:
            problems.append('the stream header says to=%r, expected %r'
                            % (conn.root.get('to'), self.jid))
        if problems:
            conn.close()
            raise Failure('bad stream header:\n' + '\n'.join(problems))
        conn.stream_id = '%016x' % RNG.getrandbits(64)
        conn.send("<?xml version='1.0'?><stream:stream xmlns:stream='%s' xmlns='%s' "
                  "from='%s' id='%s'>" % (STREAM_NS, ACCEPT_NS, self.jid, conn.stream_id))
        st = conn.next_stanza(5)
        if st is None:
            raise Failure('no <handshake/> from the component within 5 s')
        if st.tag != '{%s}handshake' % ACCEPT_NS:
            raise Failure('expected <handshake>, received %s' % render(st))
        conn.handshake_text = (st.text or '').strip()
        want = hashlib.sha1((conn.stream_id + self.secret).encode('utf-8')).hexdigest()
        if conn.handshake_text == want:
            conn.send('<handshake/>')
            conn.authenticated = True
        else:
            conn.send("<stream:error><not-authorized xmlns='%s'/></stream:error>"
                      "</stream:stream>" % STREAMS_ERR_NS)
            conn.close()
            if expect_success:
                raise Failure('handshake digest %r for stream id %r; expected %r '
                              '(lowercase hex SHA-1 of id + secret)'
                              % (conn.handshake_text, conn.stream_id, want))
        return conn

    def _need_conn(self):
        if self.conn is None:
            raise Failure('no connection from the component')
        return self.conn

    def send(self, xml):
        self._need_conn().send(xml)

    def expect(self, literal, timeout=5):
        exp = parse_literal(literal)
        conn = self._need_conn()
        try:
            got = conn.next_stanza(timeout)
        except StreamClosed as e:
            raise Failure('expected: %s\nreceived: nothing, %s\n%s'
                          % (literal, e, self._history(conn)))
        if got is None:
            raise Failure('expected: %s\nreceived: nothing within %.0f s\n%s'
                          % (literal, timeout, self._history(conn)))
        why = mismatch(exp, got)
        if why:
            raise Failure('expected: %s\nreceived: %s\ndifference: %s'
                          % (literal, render(got), why))
        return got

    def expect_unordered(self, literals, timeout=5):
        exps = [parse_literal(x) for x in literals]
        conn = self._need_conn()
        deadline = time.monotonic() + timeout
        gots = []
        while len(gots) < len(exps):
            try:
                got = conn.next_stanza(max(0.0, deadline - time.monotonic()))
            except StreamClosed as e:
                got, closed = None, str(e)
            else:
                closed = 'nothing more within %.0f s' % timeout
            if got is None:
                raise Failure('expected (any order):\n  %s\nreceived:\n  %s\nthen %s'
                              % ('\n  '.join(literals),
                                 '\n  '.join(render(g) for g in gots) or '(nothing)', closed))
            gots.append(got)
        why = match_unordered(exps, gots)
        if why:
            raise Failure('expected (any order):\n  %s\nreceived:\n  %s\ndifference: %s'
                          % ('\n  '.join(literals), '\n  '.join(render(g) for g in gots), why))
        return gots

    def expect_nothing(self, seconds=0.5):
        conn = self._need_conn()
        try:
            got = conn.next_stanza(seconds)
        except StreamClosed as e:
            raise Failure('expected nothing, but %s' % e)
        if got is not None:
            raise Failure('expected nothing, received: %s' % render(got))

    def expect_stream_close(self, timeout=5):
        """Wait for </stream:stream>; stanzas before it are returned."""
        conn = self._need_conn()
        deadline = time.monotonic() + timeout
        extra = []
        while True:
            try:
                got = conn.next_stanza(max(0.0, deadline - time.monotonic()))
            except StreamClosed:
                if conn.stream_closed:
                    return extra
                raise Failure('the component dropped the connection without '
                              '</stream:stream>; received before: %s'
                              % (', '.join(render(g) for g in extra) or 'nothing'))
            if got is None:
                raise Failure('no </stream:stream> from the component within %.0f s' % timeout)
            extra.append(got)

    def wait_eof(self, timeout=5):
        """Wait until the component closes the current connection's socket;
        the stanzas it sent before (a stream error, say) are returned."""
        conn = self._need_conn()
        deadline = time.monotonic() + timeout
        got = []
        while not conn.eof:
            got.extend(conn.stanzas)
            conn.stanzas.clear()
            try:
                if not conn._pump(deadline) and time.monotonic() >= deadline:
                    raise Failure('the component did not close the connection within %.0f s; '
                                  'it sent: %s; stream closed with </stream:stream>: %s'
                                  % (timeout, ', '.join(render(g) for g in got) or 'nothing',
                                     'yes' if conn.stream_closed else 'no'))
            except Failure:
                if conn.eof:
                    break
                raise
        got.extend(conn.stanzas)
        conn.stanzas.clear()
        return got

    @staticmethod
    def _history(conn):
        if not conn.history:
            return 'stanzas received on this connection so far: none'
        return 'stanzas received on this connection so far (last 5):\n  ' + \
            '\n  '.join(conn.history[-5:])

    def close(self):
        """Abrupt close of the current connection."""
        if self.conn:
            self.conn.close()
            self.conn = None

    def shutdown(self):
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.conn = None
        self.stop_listening()


# ---------------------------------------------------------------------------
# Config and process


def base_config(port, storage, secret=SECRET, jid=COMPONENT_JID):
    """A good configuration as {section: {key: value}}."""
    return {
        'component': {'jid': jid, 'host': '127.0.0.1', 'port': str(port), 'secret': secret},
        'storage': {'path': storage},
        'service': {'admins': 'admin@localhost;', 'room_creation': 'anyone',
                    'first_contact_notice': 'no'},
        'log': {'level': 'info'},
    }


def render_config(cfg):
    """INI text; a value of None leaves the key out."""
    if isinstance(cfg, str):
        return cfg
    out = []
    for section, keys in cfg.items():
        out.append('[%s]' % section)
        for k, v in keys.items():
            if v is not None:
                out.append('%s = %s' % (k, v))
        out.append('')
    return '\n'.join(out)


def tmpdir(prefix='imgroups-scn-'):
    d = tempfile.mkdtemp(prefix=prefix)
    SUITE.track_dir(d)
    return d


SANITIZER_RE = re.compile(r'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer')


class Imgroups:
    """The binary under test run with a config written into a temp dir."""

    def __init__(self, config, workdir=None, args=(), preexec=None):
        self.workdir = workdir or tmpdir()
        self.config_path = os.path.join(self.workdir, 'imgroups.conf')
        with open(self.config_path, 'w') as f:
            f.write(render_config(config))
        n = len([x for x in os.listdir(self.workdir) if x.startswith('stderr')])
        self.log_path = os.path.join(self.workdir, 'stderr%d.log' % n)
        self.out_path = os.path.join(self.workdir, 'stdout%d.log' % n)
        self.returncode = None
        with open(self.log_path, 'wb') as err, open(self.out_path, 'wb') as out:
            self.proc = subprocess.Popen([SUITE.binary, '--config', self.config_path] + list(args),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         preexec_fn=preexec)
        SUITE.track(self)

    def log(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def log_mark(self):
        return len(self.log())

    def tail(self, n=20):
        lines = self.log().splitlines()
        return lines[-n:]

    def wait_log(self, regex, timeout=5, since=0):
        """The first match of regex (re.M) in the log after offset since."""
        rx = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), since)
            if m:
                return m
            if self.proc.poll() is not None:
                m = rx.search(self.log(), since)
                if m:
                    return m
                raise Failure('imgroups exited (status %s) before logging /%s/'
                              % (self.proc.returncode, regex))
            if time.monotonic() >= deadline:
                raise Failure('no log line matching /%s/ within %.0f s' % (regex, timeout))
            time.sleep(0.02)

    def count_log(self, regex, since=0):
        return len(re.findall(regex, self.log()[since:], re.M))

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout=10):
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure('imgroups did not exit within %.0f s (killed)' % timeout)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Send sig (SIGTERM by default) and wait; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_cli(args, timeout=10):
    """Run the binary to completion: (status, stdout, stderr)."""
    try:
        p = subprocess.run([SUITE.binary] + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure('imgroups %s did not exit within %.0f s; stderr: %s'
                      % (' '.join(args), timeout,
                         (e.stderr or b'').decode('utf-8', 'replace')[-600:]))
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def check(cond, msg):
    if not cond:
        raise Failure(msg)


# ---------------------------------------------------------------------------
# Common scenario steps

USER = 'user@localhost/res'


def ping(server, ident, frm=USER, timeout=5):
    server.send("<iq type='get' id='%s' from='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
                % (ident, frm, server.jid))
    server.expect("<iq type='result' id='%s' from='%s' to='%s'/>" % (ident, server.jid, frm),
                  timeout)


def stop_by_signal(server, proc, sig=signal.SIGTERM):
    """Sends sig to imgroups, waits for its </stream:stream>, answers with
    the server's own and closes; checks that imgroups then exits 0.
    Returns the stanzas it sent before closing."""
    proc.proc.send_signal(sig)
    extra = server.expect_stream_close(5)
    server.send('</stream:stream>')
    server.close()
    rc = proc.wait_exit(10)
    check(rc == 0, 'exit status %s after %s' % (rc, signal.Signals(sig).name))
    return extra


def disco_items(server, ident):
    server.send("<iq type='get' id='%s' from='%s' to='%s'>"
                "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
                % (ident, USER, server.jid))


# ---------------------------------------------------------------------------
# TAP runner


class Suite:
    def __init__(self):
        self.tests = []
        self.binary = None
        self._tracked = []
        self._dirs = []
        self._started_in_test = []
        self._shared = []

    def test(self, name, todo=None):
        """Registers a test function; todo: why it is known to fail for now
        (reported as TAP's TODO)."""
        def deco(fn):
            self.tests.append((name, fn, todo))
            return fn
        return deco

    def track(self, obj):
        """Objects are shut down when the test that made them ends, unless
        passed to shared()."""
        self._tracked.append(obj)
        if isinstance(obj, Imgroups):
            self._started_in_test.append(obj)

    def shared(self, obj):
        """Keep obj (a FakeServer or Imgroups) until the whole file ends."""
        if obj in self._tracked:
            self._tracked.remove(obj)
        self._shared.append(obj)
        return obj

    def track_dir(self, d):
        self._dirs.append(d)

    @staticmethod
    def _shut(objs):
        for obj in reversed(objs):
            try:
                if isinstance(obj, Imgroups):
                    obj.kill()
                else:
                    obj.shutdown()
            except Exception:
                pass

    def run(self, per_test_timeout=45):
        """Runs the test functions in order, one TAP line each; exits."""
        tap.usage(sys.argv, '/path/to/imgroups', lambda a: len(a) >= 1)
        self.binary = os.path.abspath(sys.argv[1])
        self.per_test_timeout = per_test_timeout
        self.tap = tap.Tap([name for name, _, _ in self.tests])
        sys.exit(tap.run(lambda: self, 0))

    # the run tap.run() drives: tap, main(), cleanup()
    def main(self):
        t = self.tap
        t.diag('seed %d (set IMGROUPS_TEST_SEED to repeat)' % SEED)
        if not os.access(self.binary, os.X_OK):
            raise tap.Abort('%s is not an executable' % self.binary)

        def on_alarm(signum, frame):
            raise Failure('the test took longer than %d s' % self.per_test_timeout)

        for name, fn, todo in self.tests:
            self._started_in_test = []
            t0 = time.monotonic()
            signal.signal(signal.SIGALRM, on_alarm)
            signal.alarm(self.per_test_timeout)
            try:
                fn()
                ok, diag = True, None
            except Failure as e:
                ok, diag = False, str(e)
            except Exception:
                ok, diag = False, traceback.format_exc()
            finally:
                signal.alarm(0)
            if ok:
                diag = self._sanitizer_report()
                ok = diag is None
            if not t.check(ok, name, diag, todo) and not todo:
                self._tails()
            self.cleanup()
            t.diag('%.1f s' % (time.monotonic() - t0))

    def _sanitizer_report(self):
        """A sanitizer report in the log of a process the test ran fails
        the test."""
        for p in self._started_in_test:
            if p.proc.poll() is not None:
                m = SANITIZER_RE.search(p.log())
                if m:
                    return ('sanitizer report in the log of imgroups:\n'
                            + p.log()[m.start():][:3000])
        return None

    def _tails(self):
        shown = [p for p in self._tracked + self._shared
                 if isinstance(p, Imgroups)
                 and (p in self._started_in_test or p.alive())]
        for p in shown[-2:]:
            self.tap.diag('--- tail of %s (%s) ---' % (
                p.log_path, 'running' if p.alive()
                else 'exit status %s' % p.proc.returncode))
            for line in p.tail(20):
                self.tap.diag(line)

    def cleanup(self):
        """Shuts down what the current test started; at the end of the
        file, also what was shared and the temp dirs."""
        self._shut(self._tracked)
        self._tracked = []
        if self.tap.n < self.tap.plan:
            return
        self._shut(self._shared)
        self._shared = []
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)
        self._dirs = []


SUITE = Suite()
test = SUITE.test
