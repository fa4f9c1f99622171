"""The stand-in YMSG server (fake_ymsg.py) against the session captured from
a real revival server: transcripts/ymsg10.log is replayed, alice's and bob's
packets sent as they were, with their captured challenges injected, and
every server packet is checked against the transcript's: service, status
and every key/value pair in order. Masked: in the LIST cookies (key 59)
the expiry dates and the session tokens (l=, z=, sk=, ks=, d=), which a
real server makes up per login. Then what the transcript does not show:
refused logins, LIST in chunks, adding a buddy, offline messages, and the
cookies: a cookie-less second login of an id left without LIST while a
session of it is recent, one sending its cookies back answered; and
conferences: invitation, logon, message relay, a member gone. Prints
TAP.

    /usr/bin/python3 tests/real/test_fake_ymsg.py [path/to/ymsg10.log]

Without a path the transcript is looked for in ../shared/protocols/
beside the repository, else the copy below is used.
"""

import ast
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402  (tests/tap.py)
import fake_ymsg  # noqa: E402
from fake_ymsg import FakeYmsg, Reader, encode, get  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "..", "shared", "protocols",
                       "transcripts", "ymsg10.log")

# shared/protocols/transcripts/ymsg10.log as captured.
COPY = r"""[alice/Y] >>> HANDSHAKE st=0x0 []
[alice/Y] <<< HANDSHAKE st=0x1 []
[alice/Y] >>> AUTH st=0x0 [(1, 'alice')]
[alice/Y] <<< AUTH st=0x1 [('1', 'alice'), ('94', 'OE08AAA6Qqyv3KucDIKOrg--')]
[alice/Y] >>> AUTHRESP st=0x0 [(0, 'alice'), (6, 'K4r0Jl2KpyjpW0vRObZOnA--'), (96, 'gSsLJE5ocZv_OyusJ9DMnw--'), (2, 'alice'), (1, 'alice'), (135, '5, 5, 0, 1246')]
[alice/Y] <<< LIST st=0x0 [('87', '(No Group):bob\n'), ('88', ''), ('89', 'alice'), ('59', 'Y\tv=1&n=&l=0b824&p=&r=&lg=&intl=&np=; expires=Thu, 26 Nov 2026 05:39:20 GMT; path=/; domain=yahooloopback.log1p.xyz'), ('59', 'T\tz=2d59eb68235f7fb0d79a&a=&sk=2d59eb68235f7fb0d79a&ks=2d59eb68235f7fb0d79a&kt=&ku=&d=2d59eb68235f7fb0d79a; expires=Thu, 26 Nov 2026 05:39:20 GMT; path=/; domain=yahooloopback.log1p.xyz'), ('59', 'C\tmg=1'), ('3', 'alice'), ('90', '1'), ('100', '0'), ('101', ''), ('102', ''), ('93', '86400')]
[alice/Y] <<< LOGON st=0x0 [('0', 'alice'), ('1', 'alice'), ('8', '0')]
[alice/Y] <<< PINGCONF st=0x0 [('143', '60'), ('144', '13')]
[bob/Y] >>> HANDSHAKE st=0x0 []
[bob/Y] <<< HANDSHAKE st=0x1 []
[bob/Y] >>> AUTH st=0x0 [(1, 'bob')]
[bob/Y] <<< AUTH st=0x1 [('1', 'bob'), ('94', 'kCtWh4oPSqKAr5CdiOUmMw--')]
[bob/Y] >>> AUTHRESP st=0x0 [(0, 'bob'), (6, 'Kt5kxaJrV.BIUoBIbYLP.Q--'), (96, 'w4DnlKYdYM8yhhakbyP8fA--'), (2, 'bob'), (1, 'bob'), (135, '5, 5, 0, 1246')]
[bob/Y] <<< LIST st=0x0 [('87', '(No Group):alice\n'), ('88', ''), ('89', 'bob'), ('59', 'Y\tv=1&n=&l=1e1&p=&r=&lg=&intl=&np=; expires=Thu, 26 Nov 2026 05:39:21 GMT; path=/; domain=yahooloopback.log1p.xyz'), ('59', 'T\tz=167ad8de504bcdfc2f3c&a=&sk=167ad8de504bcdfc2f3c&ks=167ad8de504bcdfc2f3c&kt=&ku=&d=167ad8de504bcdfc2f3c; expires=Thu, 26 Nov 2026 05:39:21 GMT; path=/; domain=yahooloopback.log1p.xyz'), ('59', 'C\tmg=1'), ('3', 'bob'), ('90', '1'), ('100', '0'), ('101', ''), ('102', ''), ('93', '86400')]
[bob/Y] <<< LOGON st=0x0 [('0', 'bob'), ('1', 'bob'), ('8', '1'), ('7', 'alice'), ('10', '0'), ('11', '0'), ('17', '0'), ('13', '1')]
[bob/Y] <<< PINGCONF st=0x0 [('143', '60'), ('144', '13')]
[alice/Y] <<< LOGON st=0x1 [('0', 'alice'), ('7', 'bob'), ('10', '0'), ('11', '0'), ('17', '0'), ('13', '1')]
[alice/Y] >>> ISBACK st=0x0 [(10, 0)]
[bob/Y] <<< ISBACK st=0x1 [('0', 'bob'), ('7', 'alice'), ('10', '0'), ('11', '0'), ('17', '0'), ('13', '1')]
[bob/Y] >>> ISAWAY st=0x0 [(10, 99), (19, 'in a meeting'), (47, 1)]
[alice/Y] <<< ISAWAY st=0x1 [('0', 'alice'), ('7', 'bob'), ('10', '99'), ('11', '0'), ('19', 'in a meeting'), ('47', '1'), ('17', '0'), ('13', '1')]
[alice/Y] >>> NOTIFY st=0x0 [(4, 'alice'), (5, 'bob'), (14, ' '), (13, 1), (49, 'TYPING')]
[bob/Y] <<< NOTIFY st=0x1 [('5', 'bob'), ('4', 'alice'), ('49', 'TYPING'), ('14', ' '), ('13', '1')]
[alice/Y] >>> MESSAGE st=0x5a55aa56 [(1, 'alice'), (5, 'bob'), (14, 'hello from alice (ymsg)'), (97, 1), (63, ';0'), (64, 0)]
[bob/Y] <<< MESSAGE st=0x1 [('5', 'bob'), ('4', 'alice'), ('14', 'hello from alice (ymsg)'), ('63', ';0'), ('64', '0'), ('97', '1')]
[bob/Y] >>> MESSAGE st=0x5a55aa56 [(1, 'bob'), (5, 'alice'), (14, 'hi alice'), (97, 1)]
[alice/Y] <<< MESSAGE st=0x1 [('5', 'alice'), ('4', 'bob'), ('14', 'hi alice'), ('97', '1')]
[alice/Y] <<< LOGOFF st=0x1 [('7', 'bob'), ('10', '0'), ('11', '0'), ('17', '0'), ('13', '0')]
"""

LINE = re.compile(r"^\[(\w+)/Y\] (>>>|<<<) (\w+) st=0x([0-9a-f]+) (\[.*\])$")
SERVICES = {v: k for k, v in fake_ymsg.NAMES.items()}
PASSWORDS = {"alice": "alicepw1", "bob": "bobpw1"}   # from ymsg.md
COOKIE_MASKS = [(re.compile(r"expires=[^;]*"), "expires=*"),
                (re.compile(r"\b(l|z|sk|ks|d)=[0-9a-f]+"), r"\1=*")]


def mask(key, value):
    if key != "59":
        return value
    for rx, repl in COOKIE_MASKS:
        value = rx.sub(repl, value)
    return value


def parse(text):
    steps = []
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            who, d, name, st, pairs = m.groups()
            steps.append((who, d, SERVICES[name], int(st, 16),
                          ast.literal_eval(pairs)))
    return steps


class Sock:
    """A blocking YMSG connection for the replay."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.r = Reader()
        self.queue = []

    def send(self, service, status, pairs):
        self.s.sendall(encode(service, status, pairs, version=10))

    def next(self, timeout=5):
        deadline = time.monotonic() + timeout
        while not self.queue:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return None
            if not data:
                return None
            self.queue += self.r.feed(data)
        return self.queue.pop(0)

    def close(self):
        self.s.close()


def replay(tap, port, steps):
    socks = {}
    for who, d, service, status, pairs in steps:
        if d == ">>>":
            if who not in socks:
                socks[who] = Sock(port)
            socks[who].send(service, status, pairs)
            continue
        name = fake_ymsg.NAMES[service]
        want = [(k, mask(k, v)) for k, v in pairs]
        # A buddy's LOGOFF comes when their socket closes (not logged).
        if service == fake_ymsg.LOGOFF and get(pairs, "7") in socks:
            socks.pop(get(pairs, "7")).close()
        got = socks[who].next()
        if got is None:
            tap.check(False, "%s gets %s st=%#x" % (who, name, status),
                      "nothing came")
            continue
        g_service, g_status, _session, g_pairs = got
        have = [(str(k), mask(str(k), v)) for k, v in g_pairs]
        ok = (g_service, g_status, have) == (service, status, want)
        tap.check(ok, "%s gets %s st=%#x as captured" % (who, name, status),
                  "got %s st=%#x %r\nwant %s st=%#x %r"
                  % (fake_ymsg.NAMES.get(g_service, hex(g_service)),
                     g_status, have, name, status, want))
    for s in socks.values():
        s.close()


def login(port, yid, password, cookies=()):
    s = Sock(port)
    s.send(fake_ymsg.VERIFY, 0, [])
    s.next()
    s.send(fake_ymsg.AUTH, 0, [(1, yid)])
    chal = get(s.next()[3], 94)
    r6, r96 = fake_ymsg.auth_response(yid, password, chal)
    s.send(fake_ymsg.AUTHRESP, 0, [(0, yid), (6, r6), (96, r96), (2, yid),
                                   (1, yid), (135, "5, 5, 0, 1246")]
           + [(59, "%s\t%s" % c) for c in cookies])
    return s


def cookies_of(packets):
    """The (letter, value) Y and T cookies of the LIST packets."""
    return [c for p in packets if p[0] == fake_ymsg.LIST
            for k, v in p[3] if k == 59
            for c in [fake_ymsg.parse_cookie(v)] if c]


def wait_unanswered(fake, n, timeout=5):
    """Waits until the server has left n logins without an answer."""
    deadline = time.monotonic() + timeout
    while len(fake.unanswered) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return len(fake.unanswered) >= n


def cookie_checks(tap, fake, port):
    """The issue-13 behaviour: a cookie-less second login of an id that
    was given cookies is left hanging while a session of it is recent;
    one sending its cookies back is answered."""
    d = login(port, "dave", "davepw")
    got = until(d, fake_ymsg.PINGCONF)
    jar = cookies_of(got)
    tap.check(sorted(c[0] for c in jar) == ["T", "Y"],
              "LIST gives a Y and a T cookie", repr(jar))
    again = login(port, "dave", "davepw")
    hung = wait_unanswered(fake, 1)
    tap.check(hung and again.next(timeout=0.5) is None,
              "a cookie-less second login while a session is live gets no "
              "LIST", repr(fake.unanswered))
    again.close()
    d.close()
    back = login(port, "dave", "davepw", jar)
    got = until(back, fake_ymsg.PINGCONF)
    tap.check(any(p[0] == fake_ymsg.LIST for p in got) and
              cookies_of(got) and cookies_of(got) != jar,
              "a login sending its cookies back gets LIST, and fresh "
              "cookies", repr(got[:2]))
    back.close()
    stale = login(port, "dave", "davepw", [("Y", "v=1"), ("T", "z=1")])
    tap.check(wait_unanswered(fake, 2),
              "cookies the server never gave count as none",
              repr(fake.unanswered))
    stale.close()


def until(s, service):
    """Packets up to and including the first of service."""
    out = []
    while True:
        p = s.next()
        if p is None:
            return out
        out.append(p)
        if p[0] == service:
            return out


def more_checks(tap, port):
    s = login(port, "alice", "wrong")
    p = s.next()
    tap.check(p is not None and p[0] == fake_ymsg.AUTHRESP and
              p[1] == fake_ymsg.ST_FAILED and get(p[3], 66) == "13",
              "a wrong password is refused with 66=13", repr(p))
    s.close()
    s = login(port, "nobody", "x")
    p = s.next()
    tap.check(p is not None and p[0] == fake_ymsg.AUTHRESP and
              get(p[3], 66) == "3", "an unknown id is refused with 66=3",
              repr(p))
    s.close()
    s = Sock(port)
    s.send(fake_ymsg.AUTH, 0, [(1, "alice")])
    tap.check(s.next(timeout=1) is None, "no challenge without VERIFY")
    s.close()

    # carol has three buddies: LIST in two chunks, st=5 then st=0.
    c = login(port, "carol", "carolpw")
    got = until(c, fake_ymsg.PINGCONF)
    lists = [p for p in got if p[0] == fake_ymsg.LIST]
    names = "".join(get(p[3], 87, "") for p in lists)
    tap.check([p[1] for p in lists] == [5, 0] and
              all(n in names for n in ("alice", "bob", "dave")),
              "a list of three comes in two chunks, st=5 then st=0",
              repr(lists))

    # carol adds erin (offline): erin is told at login; a message to her
    # waits for her too.
    c.send(fake_ymsg.FRIENDADD, 0, [(1, "carol"), (7, "erin"),
                                    (65, "Friends"), (14, "hi erin")])
    p = c.next()
    tap.check(p is not None and p[0] == fake_ymsg.FRIENDADD and
              get(p[3], 66) == "0", "FRIENDADD is answered 66=0", repr(p))
    c.send(fake_ymsg.MESSAGE, fake_ymsg.ST_MESSAGE,
           [(1, "carol"), (5, "erin"), (14, "while you were out"), (97, 1)])
    # a barrier: the server answers carol's PING after her MESSAGE
    c.send(fake_ymsg.PING, 0, [(0, "carol")])
    until(c, fake_ymsg.PING)
    e = login(port, "erin", "erinpw")
    got = until(e, fake_ymsg.NEWCONTACT)
    offline = [p for p in got if p[0] == fake_ymsg.MESSAGE]
    tap.check(len(offline) == 1 and offline[0][1] == 5 and
              get(offline[0][3], 4) == "carol" and
              get(offline[0][3], 14) == "while you were out",
              "an offline message arrives at login as MESSAGE st=5",
              repr(got))
    add = got[-1] if got else None
    tap.check(add is not None and add[0] == fake_ymsg.NEWCONTACT and
              add[1] == 3 and get(add[3], 3) == "carol",
              "the added user gets NEWCONTACT st=3 naming the adder",
              repr(got))
    c.send(fake_ymsg.PING, 0, [(0, "carol")])
    p = None
    for _ in range(5):
        p = c.next()
        if p is None or p[0] == fake_ymsg.PING:
            break
    tap.check(p is not None and p[0] == fake_ymsg.PING and
              get(p[3], 1) == "carol", "PING is answered", repr(p))
    for x in (c, e):
        x.close()


def conference_checks(tap, port):
    """Conferences: an invitation reaches the invitee naming the inviter,
    a logon is told to the members, a message is relayed to every other
    member, a logoff is told to them."""
    c = login(port, "fay", "faypw")
    until(c, fake_ymsg.PINGCONF)
    e = login(port, "gus", "guspw")
    until(e, fake_ymsg.PINGCONF)
    c.send(fake_ymsg.CONFINVITE, 0, [(1, "fay"), (50, "fay"),
                                     (57, "room1"), (58, "come"),
                                     (52, "gus"), (13, 0)])
    got = until(e, fake_ymsg.CONFINVITE)
    p = got[-1] if got else None
    tap.check(p is not None and p[0] == fake_ymsg.CONFINVITE and
              get(p[3], 57) == "room1" and get(p[3], 50) == "fay" and
              get(p[3], 58) == "come",
              "an invitation reaches the invitee, naming the inviter",
              repr(got))
    e.send(fake_ymsg.CONFLOGON, 0, [(1, "gus"), (3, "gus"), (57, "room1"),
                                    (3, "fay")])
    got = until(c, fake_ymsg.CONFLOGON)
    tap.check(got and got[-1][0] == fake_ymsg.CONFLOGON and
              get(got[-1][3], 53) == "gus",
              "a logon is told to the members", repr(got))
    e.send(fake_ymsg.CONFMSG, 0, [(1, "gus"), (57, "room1"),
                                  (14, "hi all"), (97, 1)])
    got = until(c, fake_ymsg.CONFMSG)
    tap.check(got and get(got[-1][3], 3) == "gus" and
              get(got[-1][3], 14) == "hi all",
              "a message is relayed to the other members", repr(got))
    e.close()
    got = until(c, fake_ymsg.CONFLOGOFF)
    tap.check(got and get(got[-1][3], 56) == "gus",
              "a member whose connection closes is told gone", repr(got))
    c.close()


def main(argv):
    path = argv[1] if len(argv) > 1 else DEFAULT
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    else:
        text = COPY
    steps = parse(text)
    replies = [s for s in steps if s[1] == "<<<"]
    challenges = {s[0]: get(s[4], "94") for s in steps
                  if s[1] == "<<<" and s[2] == fake_ymsg.AUTH}
    fake = FakeYmsg(dict(PASSWORDS, carol="carolpw", dave="davepw",
                         erin="erinpw", fay="faypw", gus="guspw"),
                    {"alice": ["bob"], "bob": ["alice"],
                     "carol": ["alice", "bob", ("Work", "dave")]},
                    challenges=challenges)

    def run(t):
        t.diag("transcript: %s (%d server packets)"
               % (path if text is not COPY else "the copy in this file",
                  len(replies)))
        port = fake.start()
        replay(t, port, steps)
        more_checks(t, port)
        cookie_checks(t, fake, port)
        conference_checks(t, port)
    return tap.run(lambda: tap.FnRun(len(replies) + 16, run, fake.stop), 90)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
