"""Stand-in for a Yahoo Messenger revival server (YMSG10), written from shared/protocols/ymsg.md; no real one can run here.

Accounts with passwords and buddy lists live in memory. It speaks what
transcripts/ymsg10.log shows a real revival server speak: VERIFY, the
AUTH challenge and the pre-YMSG16 AUTHRESP check (keys 6 and 96), LIST
(in two chunks, status 5 then 0, when a list has several buddies), LOGON,
PINGCONF, presence pushes (LOGON, ISAWAY, ISBACK, LOGOFF), FRIENDADD with
NEWCONTACT st=3 to the added user, FRIENDREMOVE, REJECTCONTACT, typing,
message relay with offline messages (MESSAGE st=5 at login), and PING.

Cookies, as the issue-13 revival server does them: LIST carries fresh Y
and T cookies (key 59) at each login; a second login of an id that has
been given cookies, while a session of it is live or ended less than
cookie_window seconds ago, is left without an answer (no LIST) unless its
AUTHRESP carries, as two key-59 pairs ("Y\t<value>", "T\t<value>"), a Y
and T pair the server issued to that id.

Conferences: the server keeps who is in each room. CONFINVITE (key 52 per
invitee) and CONFADDINVITE (key 51) reach each online invitee as an
invitation naming the inviter (50) and the members (53); CONFLOGON puts
the sender in and tells the others (53); CONFLOGOFF, or the sender's
connection closing, takes them out and tells the others (56); CONFDECLINE
is told to the members (54); CONFMSG from a member is relayed to every
other member (3: sender, 14: text).

Pictures, over HTTP on loopback (http_port): a client POSTs its picture
to /upload with its Y and T cookies (403 without cookies the server
gave); the server answers PICTURE_UPLOAD (0xC2, key 20: the URL) on its
YMSG connection; the client's PICTURE_CHECKSUM (0xBD, key 192) is pushed
to those who have it on their list, and is in its presence records (key
192). A PICTURE request (0xBE, 13 = 1) for someone with a picture is
answered by the server itself (13 = 2, 20: URL, 192: checksum), where a
real one passes it to that person's client. GET /pictures/<id> serves
it; every HTTP request is kept in http_requests (method, path, Cookie).

Also here: the codec, the login algorithm, and YmsgClient, a small YMSG10
client for tests playing Yahoo users. The server runs its own asyncio loop
in a thread (start()), so it serves while a test blocks; the client runs in
the caller's loop.

    /usr/bin/python3 tests/real/fake_ymsg.py --port 5050 \
        --account alice:alicepw1 --account bob:bobpw1 --buddy alice:bob
"""

import asyncio
import base64
import hashlib
import json
import os
import struct
import tempfile
import threading
import time
import zlib

SEP = b"\xc0\x80"
HEADER = struct.Struct(">4sHHHHII")

LOGON, LOGOFF, ISAWAY, ISBACK, MESSAGE = 0x01, 0x02, 0x03, 0x04, 0x06
NEWCONTACT, PINGCONF, NOTIFY, VERIFY = 0x0F, 0x12, 0x4B, 0x4C
AUTHRESP, LIST, AUTH = 0x54, 0x55, 0x57
FRIENDADD, FRIENDREMOVE, REJECTCONTACT, PING = 0x83, 0x84, 0x86, 0x8A
CONFINVITE, CONFLOGON, CONFDECLINE, CONFLOGOFF = 0x18, 0x19, 0x1A, 0x1B
CONFADDINVITE, CONFMSG = 0x1C, 0x1D
PICTURE_CHECKSUM, PICTURE, PICTURE_UPDATE, PICTURE_UPLOAD = \
    0xBD, 0xBE, 0xC1, 0xC2

NAMES = {LOGON: "LOGON", LOGOFF: "LOGOFF", ISAWAY: "ISAWAY",
         ISBACK: "ISBACK", MESSAGE: "MESSAGE", NEWCONTACT: "NEWCONTACT",
         PINGCONF: "PINGCONF", NOTIFY: "NOTIFY", VERIFY: "HANDSHAKE",
         AUTHRESP: "AUTHRESP", LIST: "LIST", AUTH: "AUTH",
         FRIENDADD: "FRIENDADD", FRIENDREMOVE: "FRIENDREMOVE",
         REJECTCONTACT: "REJECTCONTACT", PING: "PING",
         CONFINVITE: "CONFINVITE", CONFLOGON: "CONFLOGON",
         CONFDECLINE: "CONFDECLINE", CONFLOGOFF: "CONFLOGOFF",
         CONFADDINVITE: "CONFADDINVITE", CONFMSG: "CONFMSG",
         PICTURE_CHECKSUM: "PICTURE_CHECKSUM", PICTURE: "PICTURE",
         PICTURE_UPDATE: "PICTURE_UPDATE", PICTURE_UPLOAD: "PICTURE_UPLOAD"}

ST_SERVER, ST_ADDED, ST_MORE = 1, 3, 5
ST_FAILED, ST_MESSAGE = 0xFFFFFFFF, 0x5A55AA56
COOKIE_DOMAIN = "yahooloopback.log1p.xyz"


# --- the codec -----------------------------------------------------------
def encode(service, status=0, pairs=(), session=0, version=0, vendor=0):
    """One packet's bytes; pairs are (key, value), values str or int."""
    payload = b"".join(str(k).encode() + SEP + str(v).encode("utf-8") + SEP
                       for k, v in pairs)
    return HEADER.pack(b"YMSG", version, vendor, len(payload), service,
                       status, session) + payload


def decode_payload(payload):
    toks = payload.split(SEP)
    if toks and toks[-1] == b"":
        toks.pop()
    if len(toks) % 2:
        toks.append(b"")
    return [(int(toks[i]), toks[i + 1].decode("utf-8", "replace"))
            for i in range(0, len(toks), 2)]


class Reader:
    """Cuts packets (service, status, session, pairs) out of a stream."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= HEADER.size:
            magic, _v, _ven, plen, service, status, session = \
                HEADER.unpack_from(self.buf)
            if magic != b"YMSG":
                raise ValueError("not YMSG: %r" % self.buf[:8])
            if len(self.buf) < HEADER.size + plen:
                break
            payload = self.buf[HEADER.size:HEADER.size + plen]
            self.buf = self.buf[HEADER.size + plen:]
            out.append((service, status, session, decode_payload(payload)))
        return out


def parse_cookie(value):
    """("Y", value) from a key-59 value "Y\tv=1&…; expires=…" (the text
    after the tab up to the first ';'), or None for another cookie."""
    if len(value) < 3 or value[0] not in "YT" or value[1] != "\t":
        return None
    v = value[2:].split(";", 1)[0].strip()
    return (value[0], v) if v else None


def parse_cookie_header(header):
    """(Y, T) from an HTTP "Cookie: Y=…; T=…" value."""
    jar = {}
    for part in (header or "").split(";"):
        k, _, v = part.strip().partition("=")
        jar.setdefault(k, v)
    return jar.get("Y"), jar.get("T")


def get(pairs, key, default=None):
    for k, v in pairs:
        if k == key:
            return v
    return default


# --- the login algorithm -------------------------------------------------
Y64_TABLE = str.maketrans("+/=", "._-")
CRYPT_CHARS = ("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "abcdefghijklmnopqrstuvwxyz")


def y64(data):
    return base64.b64encode(data).decode().translate(Y64_TABLE)


def md5crypt(password, salt):
    """crypt(3)'s "$1$" scheme (Python's crypt module is going away)."""
    pw = password.encode("utf-8")
    if salt.startswith("$1$"):
        salt = salt[3:]
    s = salt.split("$", 1)[0][:8].encode()
    ctx = hashlib.md5(pw + b"$1$" + s)
    alt = hashlib.md5(pw + s + pw).digest()
    n = len(pw)
    while n > 0:
        ctx.update(alt[:min(n, 16)])
        n -= 16
    i = len(pw)
    while i:
        ctx.update(b"\0" if i & 1 else pw[:1])
        i >>= 1
    fin = ctx.digest()
    for i in range(1000):
        c = hashlib.md5()
        c.update(pw if i & 1 else fin)
        if i % 3:
            c.update(s)
        if i % 7:
            c.update(pw)
        c.update(fin if i & 1 else pw)
        fin = c.digest()

    def to64(v, n):
        out = ""
        for _ in range(n):
            out += CRYPT_CHARS[v & 0x3F]
            v >>= 6
        return out
    out = ""
    for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15),
                    (4, 10, 5)):
        out += to64((fin[a] << 16) | (fin[b] << 8) | fin[c], 4)
    out += to64(fin[11], 2)
    return "$1$" + s.decode() + "$" + out


def auth_response(yid, password, challenge):
    """Keys 6 and 96 of AUTHRESP for a challenge (key 94)."""
    pw_hash = y64(hashlib.md5(password.encode("utf-8")).digest())
    crypt_hash = y64(hashlib.md5(
        md5crypt(password, "$1$_2S43d5f").encode()).digest())
    sv = (ord(challenge[15]) % 8) % 5
    checksum = challenge[ord(challenge[(7, 9, 15, 1, 3)[sv]]) % 16]
    orders = (lambda h: h + yid + challenge, lambda h: yid + challenge + h,
              lambda h: challenge + h + yid, lambda h: yid + h + challenge,
              lambda h: h + challenge + yid)

    def one(h):
        text = checksum + orders[sv](h)
        return y64(hashlib.md5(text.encode("utf-8")).digest())
    return one(pw_hash), one(crypt_hash)


def new_challenge():
    return y64(os.urandom(16))


# --- the server ----------------------------------------------------------
class Account:
    def __init__(self, yid, password):
        self.id = yid
        self.password = password
        self.groups = {}      # buddy id -> group name, in insertion order
        self.conn = None      # Conn while logged in
        self.code = 0         # key 10
        self.msg = None       # key 19
        self.away = None      # key 47
        self.offline = []     # (from, text, time)
        self.pending_adds = []  # (adder, text) while offline
        self.issued = set()   # (Y value, T value) pairs given in LIST
        self.last_issued = None  # the pair of the last LIST
        self.picture = None   # bytes, once uploaded
        self.pic_checksum = None  # str, once the client said it
        self.last_live = None  # monotonic time a session of it was live


class Conn:
    def __init__(self, server, reader, writer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.session = int.from_bytes(os.urandom(4), "big") | 1
        self.verified = False
        self.challenge = None
        self.claimed = None   # the id of AUTH
        self.account = None   # once logged in

    def send(self, service, status, pairs):
        self.server.record(self.who(), "<<<", service, status, pairs)
        try:
            self.writer.write(encode(service, status, pairs, self.session))
        except Exception:
            pass

    def who(self):
        return (self.account.id if self.account else self.claimed) or "?"

    def close(self):
        try:
            self.writer.close()
        except Exception:
            pass


class FakeYmsg:
    """accounts: {id: password}; buddies: {id: [buddy id or (group, id)]};
    challenges: {id: challenge} to make a login exact (replays), else each
    is random."""

    def __init__(self, accounts, buddies=None, challenges=None,
                 host="127.0.0.1", port=0, ping_interval=60,
                 cookie_window=60):
        self.accounts = {k.lower(): Account(k, v) for k, v in
                         accounts.items()}
        for yid, lst in (buddies or {}).items():
            for b in lst:
                group, bid = b if isinstance(b, tuple) else ("(No Group)", b)
                self.accounts[yid.lower()].groups[bid] = group
        self.challenges = dict(challenges or {})
        self.host = host
        self.port = port
        self.ping_interval = ping_interval
        self.cookie_window = cookie_window
        self.unanswered = []    # (id, monotonic time): logins left hanging
        self.held = set()       # ids whose logins are cut off at once
        # (who, dir, service name, status, pairs, monotonic time)
        self.events = []
        self.lock = threading.Lock()
        self.loop = None
        self.thread = None
        self.server = None
        self.conns = set()
        self.confs = {}         # room -> {"members": [ids], "invited": set}
        self.http = None
        self.http_port = 0
        self.http_requests = []  # (method, path, Cookie header or None)

    # --- running ---------------------------------------------------------
    def start(self):
        """Serves from a thread of its own; returns the port."""
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(
                self.serve, self.host, self.port))
            self.port = self.server.sockets[0].getsockname()[1]
            self.http = self.loop.run_until_complete(asyncio.start_server(
                self.serve_http, self.host, 0))
            self.http_port = self.http.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()
            self.http.close()
            self.server.close()
            for c in list(self.conns):
                c.close()
            self.loop.run_until_complete(self.server.wait_closed())
            self.loop.close()
        self.thread = threading.Thread(target=run, daemon=True,
                                       name="fake-ymsg")
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake YMSG server did not start")
        return self.port

    def stop(self):
        if self.loop and self.thread:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        self.thread = None

    def call(self, fn, *args):
        """Runs fn(*args) in the server's thread and returns its value."""
        if threading.current_thread() is self.thread:
            return fn(*args)
        fut = asyncio.run_coroutine_threadsafe(self._call(fn, *args),
                                               self.loop)
        return fut.result(10)

    async def _call(self, fn, *args):
        return fn(*args)

    def record(self, who, direction, service, status, pairs):
        with self.lock:
            self.events.append((who, direction,
                                NAMES.get(service, hex(service)), status,
                                list(pairs), time.monotonic()))

    def seen(self, who=None, direction=None, service=None):
        with self.lock:
            return [e for e in self.events
                    if (who is None or e[0].lower() == who.lower())
                    and (direction is None or e[1] == direction)
                    and (service is None or e[2] == service)]

    # --- test hooks (thread-safe) -----------------------------------------
    def drop(self, yid, hold=False):
        """Closes yid's connection as a server going away would; with hold,
        its next logins are cut off too until release()."""
        def do():
            if hold:
                self.held.add(yid.lower())
            a = self.accounts.get(yid.lower())
            if a and a.conn:
                a.conn.close()
        self.call(do)

    def release(self, yid):
        self.call(self.held.discard, yid.lower())

    def online(self, yid):
        return self.call(lambda: bool(
            self.accounts.get(yid.lower()) and
            self.accounts[yid.lower()].conn))

    def buddies_of(self, yid):
        return self.call(lambda: list(self.accounts[yid.lower()].groups))

    # --- serving ----------------------------------------------------------
    async def serve(self, reader, writer):
        c = Conn(self, reader, writer)
        self.conns.add(c)
        r = Reader()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for service, status, _session, pairs in r.feed(data):
                    self.record(c.who(), ">>>", service, status, pairs)
                    self.handle(c, service, status, pairs)
                await writer.drain()
        except (ConnectionError, ValueError):
            pass
        finally:
            self.conns.discard(c)
            self.gone(c)
            c.close()

    def handle(self, c, service, status, pairs):
        fn = {VERIFY: self.on_verify, AUTH: self.on_auth,
              AUTHRESP: self.on_authresp}.get(service)
        if fn:
            return fn(c, pairs)
        if not c.account:
            return
        fn = {ISBACK: self.on_status, ISAWAY: self.on_status,
              MESSAGE: self.on_message, NOTIFY: self.on_notify,
              FRIENDADD: self.on_friendadd,
              FRIENDREMOVE: self.on_friendremove,
              REJECTCONTACT: self.on_reject, PING: self.on_ping,
              LIST: self.on_list, CONFINVITE: self.on_confinvite,
              CONFADDINVITE: self.on_confinvite, CONFLOGON: self.on_conflogon,
              CONFLOGOFF: self.on_conflogoff,
              CONFDECLINE: self.on_confdecline,
              CONFMSG: self.on_confmsg, PICTURE: self.on_picture,
              PICTURE_CHECKSUM: self.on_picture_checksum}.get(service)
        if fn:
            fn(c, service, status, pairs)
        # anything else (LOGOFF included) is ignored, as by the real one

    def on_verify(self, c, pairs):
        c.verified = True
        c.send(VERIFY, ST_SERVER, [])

    def on_auth(self, c, pairs):
        if not c.verified:
            return    # without VERIFY first, no challenge
        yid = get(pairs, 1, "")
        c.claimed = yid
        c.challenge = self.challenges.get(yid.lower()) or new_challenge()
        c.send(AUTH, ST_SERVER, [("1", yid), ("94", c.challenge)])

    def on_authresp(self, c, pairs):
        yid = get(pairs, 0) or get(pairs, 1) or ""
        a = self.accounts.get(yid.lower())
        if not c.challenge or not a:
            return self.refuse(c, 3)
        r6, r96 = auth_response(yid, a.password, c.challenge)
        if get(pairs, 6) != r6 or get(pairs, 96) != r96:
            return self.refuse(c, 13)
        if yid.lower() in self.held:
            c.close()
            return
        if not self.cookies_pass(a, pairs):
            # What the real server does: no LIST, no refusal, nothing.
            with self.lock:
                self.unanswered.append((a.id, time.monotonic()))
            return
        if a.conn:
            a.conn.send(LOGOFF, ST_FAILED, [])
            old, a.conn = a.conn, None
            old.account = None
            old.close()
        c.account = a
        a.conn = c
        a.last_live = time.monotonic()
        a.code, a.msg, a.away = 0, None, None
        self.send_list(c, a)
        online = [self.accounts[b.lower()] for b in a.groups
                  if b.lower() in self.accounts
                  and self.accounts[b.lower()].conn]
        logon = [("0", a.id), ("1", a.id), ("8", str(len(online)))]
        for b in online:
            logon += self.record_of(b)
        c.send(LOGON, 0, logon)
        c.send(PINGCONF, 0, [("143", str(self.ping_interval)),
                             ("144", "13")])
        if a.offline:
            msgs = []
            for frm, text, when in a.offline:
                msgs += [("31", "6"), ("32", "6"), ("4", frm), ("5", a.id),
                         ("14", text), ("15", str(when)), ("97", "1")]
            a.offline = []
            c.send(MESSAGE, ST_MORE, msgs)
        for adder, text in a.pending_adds:
            c.send(NEWCONTACT, ST_ADDED, [("1", a.id), ("3", adder),
                                          ("14", text)])
        a.pending_adds = []
        self.push(a, LOGON, lambda to: [("0", to.id)] + self.record_of(a))

    def cookies_pass(self, a, pairs):
        """A login is answered if the id was never given cookies, if no
        session of it was live within cookie_window seconds, or if it
        sends back a Y and T pair it was given."""
        if not a.issued or a.last_live is None:
            return True
        if not a.conn and \
                time.monotonic() - a.last_live > self.cookie_window:
            return True
        sent = dict(parse_cookie(v) for k, v in pairs if k == 59
                    and parse_cookie(v))
        return (sent.get("Y"), sent.get("T")) in a.issued

    def refuse(self, c, code):
        c.send(AUTHRESP, ST_FAILED, [("66", str(code))])
        asyncio.get_running_loop().call_later(0.2, c.close)

    def cookies(self, a):
        """Fresh Y and T cookies for a login of a (a real server makes
        them up per login), remembered as issued to a."""
        token = os.urandom(10).hex()
        expires = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                time.gmtime(time.time() + 365 * 86400))
        tail = "; expires=%s; path=/; domain=%s" % (expires, COOKIE_DOMAIN)
        y = "v=1&n=&l=%s&p=&r=&lg=&intl=&np=" % token[:5]
        t = "z=%s&a=&sk=%s&ks=%s&kt=&ku=&d=%s" % ((token,) * 4)
        a.issued.add((y, t))
        a.last_issued = (y, t)
        return [("59", "Y\t" + y + tail), ("59", "T\t" + t + tail),
                ("59", "C\tmg=1")]

    def send_list(self, c, a):
        by_group = {}
        for b, g in a.groups.items():
            by_group.setdefault(g, []).append(b)
        lines = ["%s:%s\n" % (g, ",".join(bs)) for g, bs in by_group.items()]
        tail = [("88", ""), ("89", a.id)] + self.cookies(a) + [
            ("3", a.id), ("90", "1"), ("100", "0"), ("101", ""),
            ("102", ""), ("93", "86400")]
        if len(a.groups) <= 1:
            c.send(LIST, 0, [("87", "".join(lines))] + tail)
            return
        # Several buddies: two chunks, the first saying more follow.
        flat = [(g, b) for g, bs in by_group.items() for b in bs]
        half = len(flat) // 2

        def text(part):
            out = {}
            for g, b in part:
                out.setdefault(g, []).append(b)
            return "".join("%s:%s\n" % (g, ",".join(bs))
                           for g, bs in out.items())
        c.send(LIST, ST_MORE, [("87", text(flat[:half]))])
        c.send(LIST, 0, [("87", text(flat[half:]))] + tail)

    def on_list(self, c, service, status, pairs):
        self.send_list(c, c.account)

    def record_of(self, a, online=True):
        rec = [("7", a.id), ("10", str(a.code)), ("11", "0")]
        if a.msg is not None:
            rec.append(("19", a.msg))
        if a.away is not None:
            rec.append(("47", str(a.away)))
        if a.pic_checksum is not None:
            rec.append(("192", a.pic_checksum))
        return rec + [("17", "0"), ("13", "1" if online else "0")]

    def watchers(self, a):
        """Online accounts that have a on their list."""
        return [o for o in self.accounts.values()
                if o.conn and o is not a
                and a.id.lower() in (b.lower() for b in o.groups)]

    def push(self, a, service, pairs_for):
        for o in self.watchers(a):
            o.conn.send(service, ST_SERVER, pairs_for(o))

    def gone(self, c):
        a = c.account
        if not a or a.conn is not c:
            return
        for room in list(self.confs):
            self.conf_leave(a, room)
        a.conn = None
        a.last_live = time.monotonic()
        a.code, a.msg, a.away = 0, None, None
        self.push(a, LOGOFF, lambda to: [("7", a.id), ("10", "0"),
                                         ("11", "0"), ("17", "0"),
                                         ("13", "0")])

    def on_status(self, c, service, status, pairs):
        a = c.account
        if service == ISBACK:
            a.code, a.msg, a.away = int(get(pairs, 10, status) or 0), None, \
                None
        else:
            a.code = int(get(pairs, 10, status) or 0)
            a.msg = get(pairs, 19)
            a.away = get(pairs, 47)
        self.push(a, service, lambda to: [("0", to.id)] + self.record_of(a))

    def on_message(self, c, service, status, pairs):
        a = c.account
        to_id, text = get(pairs, 5), get(pairs, 14, "")
        to = self.accounts.get((to_id or "").lower())
        if not to:
            return
        if not to.conn:
            to.offline.append((a.id, text, int(time.time())))
            return
        out = [("5", to.id), ("4", a.id), ("14", text)]
        out += [(str(k), v) for k, v in pairs if k in (63, 64)]
        out += [(str(k), v) for k, v in pairs if k == 97]
        to.conn.send(MESSAGE, ST_SERVER, out)

    def on_notify(self, c, service, status, pairs):
        to = self.accounts.get((get(pairs, 5) or "").lower())
        if to and to.conn:
            to.conn.send(NOTIFY, ST_SERVER, [
                ("5", to.id), ("4", c.account.id),
                ("49", get(pairs, 49, "")), ("14", get(pairs, 14, " ")),
                ("13", get(pairs, 13, "0"))])

    def on_friendadd(self, c, service, status, pairs):
        a = c.account
        bid, group = get(pairs, 7, ""), get(pairs, 65, "Friends")
        b = self.accounts.get(bid.lower())
        head = [("1", a.id), ("7", bid), ("65", group)]
        if not b:
            return c.send(FRIENDADD, ST_SERVER, head + [("66", "3")])
        if b.id.lower() in (x.lower() for x in a.groups):
            return c.send(FRIENDADD, ST_SERVER, head + [("66", "2")])
        a.groups[b.id] = group
        c.send(FRIENDADD, ST_SERVER, head + [("66", "0")])
        if b.conn:
            c.send(NEWCONTACT, ST_SERVER, self.record_of(b))
            b.conn.send(NEWCONTACT, ST_ADDED, [
                ("1", b.id), ("3", a.id), ("14", get(pairs, 14, ""))])
        else:
            b.pending_adds.append((a.id, get(pairs, 14, "")))

    def on_friendremove(self, c, service, status, pairs):
        a = c.account
        bid = get(pairs, 7, "")
        for k in [k for k in a.groups if k.lower() == bid.lower()]:
            del a.groups[k]
        c.send(FRIENDREMOVE, ST_SERVER, [("1", a.id), ("7", bid),
                                         ("65", get(pairs, 65, "")),
                                         ("66", "0")])

    def on_reject(self, c, service, status, pairs):
        a = c.account
        adder = self.accounts.get((get(pairs, 7) or "").lower())
        if not adder:
            return
        for k in [k for k in adder.groups if k.lower() == a.id.lower()]:
            del adder.groups[k]
        if adder.conn:
            adder.conn.send(REJECTCONTACT, ST_SERVER, [
                ("1", adder.id), ("3", a.id), ("14", get(pairs, 14, ""))])

    # --- conferences ---------------------------------------------------
    def conf_members(self, room):
        conf = self.confs.get(room)
        return list(conf["members"]) if conf else []

    def conf_tell(self, room, but, service, pairs_for):
        for mid in self.conf_members(room):
            m = self.accounts.get(mid.lower())
            if m and m.conn and mid.lower() != but.lower():
                m.conn.send(service, ST_SERVER, pairs_for(m))

    def on_confinvite(self, c, service, status, pairs):
        a = c.account
        room = get(pairs, 57)
        if not room:
            return
        conf = self.confs.setdefault(room, {"members": [], "invited": set()})
        if service == CONFINVITE and a.id not in conf["members"]:
            conf["members"].append(a.id)    # the creator is in it
        key = 52 if service == CONFINVITE else 51
        for k, who in pairs:
            b = self.accounts.get(who.lower()) if k == key else None
            if not b or not b.conn or b is a:
                continue
            conf["invited"].add(b.id.lower())
            b.conn.send(service, ST_SERVER,
                        [("1", b.id), ("57", room), ("50", a.id)]
                        + [("53", m) for m in conf["members"]
                           if m.lower() != b.id.lower()]
                        + [("58", get(pairs, 58, "")), ("13", "0")])

    def on_conflogon(self, c, service, status, pairs):
        a = c.account
        room = get(pairs, 57)
        conf = self.confs.setdefault(room, {"members": [], "invited": set()})
        conf["invited"].discard(a.id.lower())
        # a member answering a new invitation to a conference it is in
        # (its creator came back) logs on again: relayed all the same
        if a.id not in conf["members"]:
            conf["members"].append(a.id)
        self.conf_tell(room, a.id, CONFLOGON,
                       lambda to: [("1", to.id), ("57", room), ("53", a.id)])

    def conf_leave(self, a, room):
        if a.id not in self.conf_members(room):
            return
        self.confs[room]["members"].remove(a.id)
        self.conf_tell(room, a.id, CONFLOGOFF,
                       lambda to: [("1", to.id), ("57", room), ("56", a.id)])
        if not self.confs[room]["members"]:
            del self.confs[room]

    def on_conflogoff(self, c, service, status, pairs):
        self.conf_leave(c.account, get(pairs, 57, ""))

    def on_confdecline(self, c, service, status, pairs):
        a = c.account
        room = get(pairs, 57, "")
        if room in self.confs:
            self.confs[room]["invited"].discard(a.id.lower())
        self.conf_tell(room, a.id, CONFDECLINE,
                       lambda to: [("1", to.id), ("57", room), ("54", a.id),
                                   ("14", get(pairs, 14, ""))])

    def on_confmsg(self, c, service, status, pairs):
        a = c.account
        room = get(pairs, 57, "")
        if a.id not in self.conf_members(room):
            return
        self.conf_tell(room, a.id, CONFMSG,
                       lambda to: [("1", to.id), ("57", room), ("3", a.id),
                                   ("14", get(pairs, 14, "")), ("97", "1")])

    def conference(self, room):
        """Who is in room, as the server knows (thread-safe)."""
        return self.call(lambda: self.conf_members(room))

    # --- pictures ------------------------------------------------------
    def picture_url(self, a):
        return "http://%s:%d/pictures/%s.png" % (self.host, self.http_port,
                                                 a.id)

    def account_of_cookie(self, header):
        pair = parse_cookie_header(header)
        for a in self.accounts.values():
            if pair in a.issued:
                return a
        return None

    async def serve_http(self, reader, writer):
        """One HTTP/1.0 request: POST /upload or GET /pictures/<id>.png."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ")[:2]
            headers = {}
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                headers[k.strip().lower()] = v.strip()
            cookie = headers.get("cookie")
            with self.lock:
                self.http_requests.append((method, path, cookie))
            status, body = b"404 Not Found", b""
            if method == "POST" and path == "/upload":
                size = int(headers.get("content-length", "0"))
                data = await reader.readexactly(min(size, 1 << 20))
                a = self.account_of_cookie(cookie)
                if a is None:
                    status = b"403 Forbidden"
                else:
                    a.picture = data
                    status = b"200 OK"
                    if a.conn:
                        a.conn.send(PICTURE_UPLOAD, ST_SERVER, [
                            ("5", a.id), ("20", self.picture_url(a)),
                            ("38", "604800")])
            elif method == "GET" and path.startswith("/pictures/"):
                a = self.accounts.get(path[len("/pictures/"):]
                                      .rsplit(".", 1)[0].lower())
                if a and a.picture is not None:
                    status, body = b"200 OK", a.picture
            writer.write(b"HTTP/1.0 " + status + b"\r\nContent-Type: "
                         b"image/png\r\nContent-Length: %d\r\n\r\n"
                         % len(body) + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                asyncio.TimeoutError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def on_picture_checksum(self, c, service, status, pairs):
        a = c.account
        a.pic_checksum = get(pairs, 192)
        self.push(a, PICTURE_CHECKSUM, lambda to: [
            ("4", a.id), ("5", to.id), ("192", a.pic_checksum)])

    def on_picture(self, c, service, status, pairs):
        who = self.accounts.get((get(pairs, 5) or "").lower())
        if get(pairs, 13) != "1" or not who or who.picture is None:
            return
        c.send(PICTURE, ST_SERVER, [
            ("4", who.id), ("5", c.account.id), ("13", "2"),
            ("20", self.picture_url(who)),
            ("192", who.pic_checksum or "0")])

    def set_picture(self, yid, data, checksum):
        """Test hook: yid's picture changes to data, as after an upload
        and its checksum (pushed to those who have yid on their list)."""
        def do():
            a = self.accounts[yid.lower()]
            a.picture = data
            a.pic_checksum = checksum
            self.push(a, PICTURE_CHECKSUM, lambda to: [
                ("4", a.id), ("5", to.id), ("192", checksum)])
        self.call(do)

    def on_ping(self, c, service, status, pairs):
        c.send(PING, ST_SERVER, [("1", c.account.id)])


# --- a client, for tests playing Yahoo users -----------------------------
class YmsgFail(Exception):
    pass


# Cookies the clients were given, by "host port lower-case-id": a real
# client keeps them on disk and sends them back at its next login, so they
# are kept in a file too (a second run of tests/real/legacy_chat.py as the
# same user is let in).
JAR_PATH = os.path.join(tempfile.gettempdir(),
                        "fake-ymsg-cookies-%d.json" % os.getuid())
JAR_MAX = 200


def jar_get(host, port, yid):
    try:
        with open(JAR_PATH, encoding="utf-8") as f:
            return json.load(f).get("%s %d %s" % (host, port, yid.lower()),
                                    {})
    except (OSError, ValueError):
        return {}


def jar_put(host, port, yid, cookies):
    try:
        with open(JAR_PATH, encoding="utf-8") as f:
            jar = json.load(f)
    except (OSError, ValueError):
        jar = {}
    key = "%s %d %s" % (host, port, yid.lower())
    jar.pop(key, None)
    jar[key] = cookies
    # the newest JAR_MAX: every test run's server has ports of its own
    jar = dict(list(jar.items())[-JAR_MAX:])
    tmp = "%s.%d" % (JAR_PATH, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(jar, f)
    os.replace(tmp, JAR_PATH)


class YmsgClient:
    """A Yahoo user in the caller's asyncio loop: logs in, then records
    every packet received as (service, status, pairs). Cookies from LIST
    are kept (jar_put) and sent back at the next login of the same id."""

    def __init__(self, port, yid, password, host="127.0.0.1"):
        self.port = port
        self.host = host
        self.id = yid
        self.password = password
        self.reader = self.writer = None
        self.inbox = []
        self.log = []
        self.arrived = asyncio.Event()
        self.task = None
        self.session = 0

    def send(self, service, status=0, pairs=()):
        self.writer.write(encode(service, status, pairs, self.session,
                                 version=10))

    async def login(self, timeout=10):
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port)
        self.task = asyncio.ensure_future(self.pump())
        self.send(VERIFY)
        await self.wait(lambda p: p[0] == VERIFY, "VERIFY's answer", timeout)
        self.send(AUTH, 0, [(1, self.id)])
        p = await self.wait(lambda p: p[0] == AUTH, "the challenge", timeout)
        r6, r96 = auth_response(self.id, self.password, get(p[2], 94))
        kept = jar_get(self.host, self.port, self.id)
        self.send(AUTHRESP, 0, [(0, self.id), (6, r6), (96, r96),
                                (2, self.id), (1, self.id),
                                (135, "5, 5, 0, 1246")]
                  + [(59, "%s\t%s" % (k, kept[k])) for k in "YT"
                     if k in kept])
        p = await self.wait(lambda p: p[0] in (LIST, AUTHRESP),
                            "the login's answer", timeout)
        if p[0] == AUTHRESP:
            raise YmsgFail("%s: login refused (66=%s)"
                           % (self.id, get(p[2], 66)))

        await self.wait(lambda p: p[0] == PINGCONF, "PINGCONF", timeout)
        # the cookies are in LIST's last chunk
        got = dict(c for c in (parse_cookie(v) for p in self.log
                               if p[0] == LIST for k, v in p[2] if k == 59)
                   if c)
        if "Y" in got and "T" in got:
            jar_put(self.host, self.port, self.id, got)

    async def pump(self):
        r = Reader()
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                for service, status, session, pairs in r.feed(data):
                    self.session = self.session or session
                    p = (service, status, pairs)
                    self.inbox.append(p)
                    self.log.append(p)
                    self.arrived.set()
        except (ConnectionError, asyncio.CancelledError):
            pass

    async def wait(self, pred, what, timeout=10):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, p in enumerate(self.inbox):
                if pred(p):
                    del self.inbox[i]
                    return p
            left = deadline - loop.time()
            if left <= 0:
                raise YmsgFail("%s did not get %s within %d s; unread: %s"
                               % (self.id, what, timeout,
                                  [(NAMES.get(s, hex(s)), st, pr)
                                   for s, st, pr in self.inbox[-8:]]))
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def wait_message(self, frm, pred, what, timeout=10):
        """The text of the next MESSAGE from frm matching pred."""
        p = await self.wait(
            lambda p: p[0] == MESSAGE and (get(p[2], 4) or "").lower()
            == frm.lower() and pred(get(p[2], 14, "")), what, timeout)
        return get(p[2], 14, "")

    def messages_from(self, frm):
        return [get(p[2], 14, "") for p in self.log
                if p[0] == MESSAGE and (get(p[2], 4) or "").lower()
                == frm.lower()]

    def message(self, to, text):
        self.send(MESSAGE, ST_MESSAGE, [(1, self.id), (5, to), (14, text),
                                        (97, 1), (63, ";0"), (64, 0)])

    def add_buddy(self, who, group="Friends", text=""):
        self.send(FRIENDADD, 0, [(1, self.id), (7, who), (65, group),
                                 (14, text)])

    def away(self, code, text=None, busy=None):
        pairs = [(10, code)]
        if text is not None:
            pairs.append((19, text))
        if busy is not None:
            pairs.append((47, busy))
        self.send(ISAWAY, 0, pairs)

    def back(self):
        self.send(ISBACK, 0, [(10, 0)])

    def typing(self, to, on=True):
        self.send(NOTIFY, 0, [(4, self.id), (5, to), (14, " "),
                              (13, 1 if on else 0), (49, "TYPING")])

    def buzz(self, to):
        self.send(MESSAGE, ST_MESSAGE, [(1, self.id), (5, to),
                                        (14, "<ding>"), (97, 1)])

    def conf_invite(self, room, who, text=""):
        """Opens room, inviting who (a list)."""
        self.send(CONFINVITE, 0, [(1, self.id), (50, self.id), (57, room),
                                  (58, text), (97, 1)]
                  + [(52, w) for w in who] + [(13, 0)])

    def conf_logon(self, room, members=()):
        """Joins room (accepts its invitation)."""
        self.send(CONFLOGON, 0, [(1, self.id), (3, self.id), (57, room)]
                  + [(3, m) for m in members])

    def conf_logoff(self, room):
        self.send(CONFLOGOFF, 0, [(1, self.id), (57, room)])

    def conf_message(self, room, text):
        self.send(CONFMSG, 0, [(1, self.id), (57, room), (14, text),
                               (97, 1)])

    async def wait_conf_message(self, room, frm, pred, what, timeout=10):
        """The text of the next CONFMSG in room from frm matching pred."""
        p = await self.wait(
            lambda p: p[0] == CONFMSG and get(p[2], 57) == room
            and (get(p[2], 3) or "").lower() == frm.lower()
            and pred(get(p[2], 14, "")), what, timeout)
        return get(p[2], 14, "")

    async def upload_picture(self, data, http_port, timeout=10):
        """Sets data as this user's picture the way YMSG10 clients do: an
        HTTP POST carrying the Y and T cookies, the server's
        PICTURE_UPLOAD answer, then PICTURE_CHECKSUM to the buddies.
        Returns the checksum (zlib.crc32, where Yahoo clients hash their
        own way)."""
        kept = jar_get(self.host, self.port, self.id)
        r, w = await asyncio.open_connection(self.host, http_port)
        w.write(b"POST /upload HTTP/1.0\r\nHost: %s:%d\r\n"
                b"Cookie: Y=%s; T=%s\r\nContent-Length: %d\r\n\r\n"
                % (self.host.encode(), http_port,
                   kept.get("Y", "").encode(), kept.get("T", "").encode(),
                   len(data)) + data)
        answer = await asyncio.wait_for(r.read(), timeout)
        w.close()
        if not answer.startswith(b"HTTP/1.0 200"):
            raise YmsgFail("%s: upload refused: %r" % (self.id, answer[:40]))
        await self.wait(lambda p: p[0] == PICTURE_UPLOAD, "PICTURE_UPLOAD",
                        timeout)
        checksum = str(zlib.crc32(data))
        self.send(PICTURE_CHECKSUM, 0, [(1, self.id), (212, 1),
                                        (192, checksum)])
        return checksum

    async def quit(self):
        """Logs off the Yahoo way: closes the socket."""
        if self.writer:
            try:
                self.writer.close()
                await asyncio.wait_for(self.writer.wait_closed(), 5)
            except Exception:
                pass
        if self.task:
            self.task.cancel()
        self.writer = None


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=5050)
    ap.add_argument("--account", action="append", default=[],
                    help="ID:PASSWORD")
    ap.add_argument("--buddy", action="append", default=[],
                    help="ID:BUDDY (BUDDY on ID's list)")
    args = ap.parse_args(argv[1:])
    accounts = dict(a.split(":", 1) for a in args.account)
    buddies = {}
    for b in args.buddy:
        yid, bid = b.split(":", 1)
        buddies.setdefault(yid, []).append(bid)
    fake = FakeYmsg(accounts, buddies, port=args.port)
    print("fake YMSG server on 127.0.0.1:%d" % fake.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv))
