"""Stand-in for an MSN revival server (Escargot-like), written from shared/protocols/msnp.md; no real one can run here.

It serves, on 127.0.0.1:
  - the notification server (NS): VER/CVR/USR TWN, SYN/LST, ADC/REM, BLP,
    PRP, UUX, CHG/ILN/NLN/FLN/UBX, XFR SB, RNG, PNG/QNG, OUT, and (when
    asked) a CHL challenge whose QRY it checks;
  - the switchboard (SB): USR, CAL (RINGING, 217 when the callee is not
    online; held unanswered for a callee given to hold() until release()),
    JOI, ANS/IRO, MSG relay with ACK/NAK, BYE, OUT; multi-party sessions
    as the real one has them (CAL of several people, each JOI to everyone
    in it, IRO listing who is there, MSG relayed to every other
    participant, BYE to the rest; idle_close() ends a session as the
    server's idle timeout does); a MSG payload
    over 1664 bytes closes the sender's switchboard connection, as the real
    one does; a connection with no USR/ANS within 60 s is closed;
  - the HTTP Passport 1.4 login: /rdr/pprdr.asp (PassportURLs: DALogin=...)
    and /login (Authentication-Info with a ticket valid 30 s, once; 401 for
    a wrong password); with tls=(certfile, keyfile) the same over HTTPS on
    a port of its own (https_port, nexus_url(tls=True)).
Things the real server does that it copies: 913 on XFR before the first CHG
(or while HDN), CHG without the capabilities number ignored, LST's trailing
empty groups field; someone who added you while you were offline is listed
with the pending flag 16, not RL 8 ("LST N=frank@example.com
F=frank@example.com 16 1"); 911 to USR TWN I with the address in another
case than registered; 217 to a CAL (or a switchboard MSG) of someone the
callee blocked; the MSNP8-9 list commands (ADD, REM with a list version)
for a client that chose them. dialect=N: the highest version answered to a
client offering it (an older server); a client offering only newer ones
still gets its best. Tickets, session ids and contact uuids come from a
random.Random(seed): the same seed gives the same values.

Command line:
    fake_msn.py [--seed N] [--ns-port P] [--sb-port P] [--http-port P]
                [--challenge] EMAIL:PASSWORD[:NAME] ...
prints "ns=P sb=P http=P" and serves until killed.

Python API: FakeMsn (asyncio, one loop) and FakeMsnThread (the same server
in a thread of its own, for tests whose own loop is not always running);
MsnClient, a small MSNP12 client for the tests' people on MSN.
"""

import argparse
import asyncio
import base64
import hashlib
import random
import re
import struct
import sys
import threading
import time
import urllib.parse

SB_PAYLOAD_MAX = 1664
CVR_REPLY = ("7.5.0324 7.5.0324 7.5.0324 https://escargot.log1p.xyz "
             "https://escargot.log1p.xyz")
TWN_CHALLENGE = "ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1"
SYN_TS = "2000-01-01T00:00:00.0-00:00"
MSNOBJ = "%3Cmsnobj%2F%3E"
TICKET_LIFE = 30.0
SB_TICKET_LIFE = 120.0
SB_SETUP = 60.0
LISTS = {"FL": 1, "AL": 2, "BL": 4, "RL": 8, "PL": 16}
PAYLOAD_CMDS = {"MSG", "UUX", "QRY"}

QRY_ID = "PROD0090YUAUV{2B"
QRY_KEY = "YMM8C_H7KCQ2S_KL"
QRY_OLD_ID = "msmsgs@msnmsgr.com"
QRY_OLD_KEY = "Q1P7W2E4J9R8U3S5"


def qry_answer(version, chl):
    """The answer a client owes to CHL chl (MSNP8-10: MD5 with the old
    pair; MSNP11+: the MSNP11 challenge hash)."""
    if version < 11:
        return hashlib.md5((chl + QRY_OLD_KEY).encode()).hexdigest()
    digest = hashlib.md5((chl + QRY_KEY).encode()).digest()
    parts = list(struct.unpack("<4I", digest))
    md5i = [p & 0x7FFFFFFF for p in parts]
    s = (chl + QRY_ID).encode()
    s += b"0" * ((8 - len(s) % 8) % 8)
    ints = struct.unpack("<%dI" % (len(s) // 4), s)
    mod = 0x7FFFFFFF
    high = low = 0
    for i in range(0, len(ints) - 1, 2):
        temp = (ints[i] * 0x0E79A9C1) % mod
        temp += high
        temp = (md5i[0] * temp + md5i[1]) % mod
        high = (ints[i + 1] + temp) % mod
        high = (md5i[2] * high + md5i[3]) % mod
        low += high + temp
    high = (high + md5i[1]) % mod
    low = (low + md5i[3]) % mod
    out = [parts[0] ^ high, parts[1] ^ low, parts[2] ^ high, parts[3] ^ low]
    return struct.pack("<4I", *out).hex()


class Account:
    def __init__(self, email, password, name=None):
        self.email = email.lower()
        self.registered = email     # as registered: USR must match its case
        self.password = password
        self.name = name or self.email.split("@")[0].capitalize()
        self.lists = {}      # other email -> bit mask of LISTS
        self.uuids = {}      # other email -> contact uuid
        self.blp = "AL"
        self.psm = ""
        self.msnobj = None   # the MSN object of the last CHG (URL-encoded)


class Conn:
    """What NS and SB connections share: a line (and payload) out, a close
    that happens once."""

    def send(self, line, payload=b""):
        if self.closed:
            return
        self.server.trace(self, "<<<", line, payload)
        self.writer.write(line.encode() + b"\r\n" + payload)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.writer.close()
            except Exception:
                pass


class NsSession(Conn):
    """One client on the notification server."""

    def __init__(self, server, reader, writer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.version = 0
        self.email = None
        self.acct = None
        self.authed = False
        self.status = None    # None until the first CHG
        self.caps = "0"
        self.closed = False
        self.chl = None


class SbConn(Conn):
    """One client on the switchboard."""

    def __init__(self, server, reader, writer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.email = None
        self.session = None
        self.closed = False


class SbSession:
    def __init__(self, sessid):
        self.sessid = sessid
        self.members = []    # SbConn in the session


async def read_command(reader):
    """(line, payload bytes) or None at EOF."""
    raw = await reader.readline()
    if not raw:
        return None
    line = raw.decode("utf-8", "replace").rstrip("\r\n")
    words = line.split(" ")
    payload = b""
    if words and words[0] in PAYLOAD_CMDS and len(words) >= 3:
        try:
            n = int(words[-1])
        except ValueError:
            n = -1
        if n < 0 or n > 65536:
            raise ValueError("bad payload length")
        payload = await reader.readexactly(n)
    return line, payload


class FakeMsn:
    def __init__(self, host="127.0.0.1", seed=0, challenge=False,
                 ns_port=0, sb_port=0, http_port=0, trace_file=None,
                 dialect=12, tls=None):
        self.host = host
        self.dialect = dialect
        self.tls = tls           # (certfile, keyfile): HTTPS Passport too
        self.https_port = None
        self.rng = random.Random(seed)
        self.challenge = challenge
        self.want_ports = (ns_port, sb_port, http_port)
        self.ns_port = self.sb_port = self.http_port = None
        self.accounts = {}
        self.ns = {}             # email -> NsSession (logged in)
        self.tickets = {}        # passport token -> (email, expiry)
        self.sb_tickets = {}     # sb ticket -> (email, expiry, session|None)
        self.sb_sessions = {}    # sessid -> SbSession
        self.servers = []
        self.trace_file = trace_file
        self.events = []         # (what, details) for tests to look at
        self.held = {}           # callee -> [(SbConn, trid)]: hold()
        self.nak_to = {}         # email -> MSGs to NAK: nak()
        self.locked_out = set()  # emails whose logins get 601: lock_out()
        self.issued = []         # every Passport ticket given, for tests
        self.drop_after = set()  # emails dropped after a push: drop_after_push()
        self.refuse_cal = {}     # email -> CALs to refuse: refuse()
        self.all_conns = set()

    # ---- setup -----------------------------------------------------------
    def add_account(self, email, password, name=None):
        a = Account(email, password, name)
        self.accounts[a.email] = a
        return a

    def add_contacts(self, a, b):
        """Makes a and b mutual contacts (FL, AL, RL on both sides)."""
        for x, y in ((a, b), (b, a)):
            acct = self.accounts[x.lower()]
            acct.lists[y.lower()] = 1 | 2 | 8
            acct.uuids[y.lower()] = self.uuid()

    async def start(self):
        ns, sb, http = self.want_ports
        s1 = await asyncio.start_server(self.serve_ns, self.host, ns)
        s2 = await asyncio.start_server(self.serve_sb, self.host, sb)
        s3 = await asyncio.start_server(self.serve_http, self.host, http)
        self.servers = [s1, s2, s3]
        if self.tls:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            s4 = await asyncio.start_server(self.serve_http, self.host, 0,
                                            ssl=ctx)
            self.servers.append(s4)
            self.https_port = s4.sockets[0].getsockname()[1]
        self.ns_port = s1.sockets[0].getsockname()[1]
        self.sb_port = s2.sockets[0].getsockname()[1]
        self.http_port = s3.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        for s in self.servers:
            s.close()
        for c in list(self.all_conns):
            c.close()
        for s in self.servers:
            try:
                await asyncio.wait_for(s.wait_closed(), 2)
            except Exception:
                pass

    def nexus_url(self, tls=False):
        return "%s://%s:%d/rdr/pprdr.asp" % (
            "https" if tls else "http", self.host,
            self.https_port if tls else self.http_port)

    def drop(self, email):
        """Closes email's NS connection without a word, as a network
        failure would (its switchboards stay as they are)."""
        s = self.ns.get(email.lower())
        if s:
            self.note("drop", email)
            s.close()
            return True
        return False

    def lock_out(self, email):
        """email's logins fail (601, server unavailable) until let_in()."""
        self.locked_out.add(email.lower())

    def drop_after_push(self, email):
        """email's NS connection closes right after the next list change
        pushed to it (an authorization request it cannot answer)."""
        self.drop_after.add(email.lower())

    def let_in(self, email):
        self.locked_out.discard(email.lower())

    def online(self, email):
        s = self.ns.get(email.lower())
        return bool(s and not s.closed and s.status)

    # ---- helpers ---------------------------------------------------------
    def hex(self, n):
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def uuid(self):
        h = self.hex(32)
        return "%s-%s-4%s-%s-%s" % (h[:8], h[8:12], h[13:16],
                                     "8" + h[17:20], h[20:32])

    def note(self, what, details=""):
        self.events.append((what, details))

    def trace(self, conn, arrow, line, payload=b""):
        if not self.trace_file:
            return
        who = conn.email or "?"
        kind = "SB" if isinstance(conn, SbConn) else "NS"
        extra = "  (+%d bytes)" % len(payload) if payload else ""
        with open(self.trace_file, "a") as f:
            f.write("[%s/%s] %s %s%s\n" % (who, kind, arrow, line, extra))

    def visible_to(self, owner, watcher):
        """Whether watcher may see owner's presence."""
        lists = owner.lists.get(watcher.email, 0)
        if lists & LISTS["BL"]:
            return False
        return bool(lists & LISTS["AL"]) or owner.blp == "AL"

    def presence_args(self, acct, status):
        return "%s %s %s %s %s" % (status, acct.email,
                                   urllib.parse.quote(acct.name),
                                   self.ns[acct.email].caps,
                                   acct.msnobj or MSNOBJ)

    def tell_watchers(self, acct):
        """NLN (or FLN) of acct to everyone online who has acct on FL."""
        me = self.ns.get(acct.email)
        status = me.status if me and not me.closed else None
        for email, s in list(self.ns.items()):
            if s.closed or not s.status or email == acct.email:
                continue
            if not (s.acct.lists.get(acct.email, 0) & LISTS["FL"]):
                continue
            if status and status != "HDN" and self.visible_to(acct, s.acct):
                s.send("NLN " + self.presence_args(acct, status))
            else:
                s.send("FLN %s" % acct.email)

    def tell_one(self, watcher, acct):
        """acct's presence to watcher (after a list change)."""
        w = self.ns.get(watcher.email)
        me = self.ns.get(acct.email)
        if not w or w.closed or not w.status:
            return
        if not (watcher.lists.get(acct.email, 0) & LISTS["FL"]):
            return
        if (me and not me.closed and me.status and me.status != "HDN"
                and self.visible_to(acct, watcher)):
            w.send("NLN " + self.presence_args(acct, me.status))
        else:
            w.send("FLN %s" % acct.email)

    # ---- HTTP Passport ---------------------------------------------------
    async def serve_http(self, reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except Exception:
            writer.close()
            return
        lines = head.decode("utf-8", "replace").split("\r\n")
        parts = lines[0].split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        if "://" in path:   # a proxy-style absolute URL
            path = urllib.parse.urlsplit(path).path or "/"
        headers = {}
        for l in lines[1:]:
            if ":" in l:
                k, _, v = l.partition(":")
                headers[k.strip().lower()] = v.strip()
        if path.startswith("/rdr/pprdr.asp"):
            port = writer.get_extra_info("sockname")[1]
            extra = ("PassportURLs: DARealm=Passport.Net,DALogin=%s:%d/login,"
                     "DAReg=%s:%d/register,Properties=,Privacy=,"
                     "GeneralRedir=,Help=,ConfigVersion=16\r\n"
                     % (self.host, port, self.host, port))
            self.respond(writer, "200 OK", extra, b"")
        elif path.startswith("/login"):
            self.login(writer, headers.get("authorization", ""))
        else:
            self.respond(writer, "404 Not Found", "", b"not found\n")
        try:
            await writer.drain()
            writer.close()
        except Exception:
            pass

    def respond(self, writer, status, extra, body):
        writer.write(("HTTP/1.1 %s\r\n%sContent-Type: text/html\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n"
                      % (status, extra, len(body))).encode() + body)

    def login(self, writer, auth):
        fields = {}
        if auth.startswith("Passport1.4 "):
            for f in auth[len("Passport1.4 "):].split(","):
                k, _, v = f.partition("=")
                fields[k] = v
        email = urllib.parse.unquote(fields.get("sign-in", "")).lower()
        pwd = urllib.parse.unquote(fields.get("pwd", ""))
        acct = self.accounts.get(email)
        if not acct or acct.password != pwd:
            self.note("login-failed", email)
            self.respond(writer, "401 Unauthorized",
                         "WWW-Authenticate: Passport1.4 da-status=failed,"
                         "srealm=Passport.NET,ts=-3,prompt\r\n",
                         b"<html>Unauthorized</html>\n")
            return
        token = self.hex(20)
        self.issued.append(token)
        self.tickets[token] = (email, time.monotonic() + TICKET_LIFE)
        self.respond(writer, "200 OK",
                     "Authentication-Info: Passport1.4 da-status=success,"
                     "from-PP='%s'\r\n" % token, b"<html>OK</html>\n")

    # ---- notification server -------------------------------------------
    async def serve_ns(self, reader, writer):
        s = NsSession(self, reader, writer)
        self.all_conns.add(s)
        try:
            while not s.closed:
                cmd = await read_command(reader)
                if cmd is None:
                    break
                line, payload = cmd
                self.trace(s, ">>>", line, payload)
                self.ns_command(s, line.split(" "), payload)
                try:
                    await writer.drain()
                except Exception:
                    break
        except (ValueError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.ns_gone(s)

    def ns_gone(self, s):
        s.close()
        self.all_conns.discard(s)
        if s.email and self.ns.get(s.email) is s:
            del self.ns[s.email]
            self.note("ns-gone", s.email)
            if s.status:
                s.status = None
                self.tell_watchers(s.acct)

    def ns_command(self, s, w, payload):
        cmd, trid = w[0], (w[1] if len(w) > 1 else "0")
        if cmd == "VER":
            versions = [int(v[4:]) for v in w[2:]
                        if re.fullmatch(r"MSNP\d+", v)]
            ok = [v for v in versions if 8 <= v <= 12]
            if not ok:
                s.send("VER %s 0" % trid)
                s.close()
                return
            old = [v for v in ok if v <= self.dialect]
            s.version = max(old or ok)
            s.send("VER %s MSNP%d" % (trid, s.version))
        elif cmd == "CVR":
            s.send("CVR %s %s" % (trid, CVR_REPLY))
        elif cmd == "USR":
            self.ns_usr(s, trid, w)
        elif cmd == "PNG":
            s.send("QNG 60")
        elif cmd == "OUT":
            s.close()
        elif not s.authed:
            s.send("302 %s" % trid)
        elif cmd == "SYN":
            self.ns_syn(s, trid)
        elif cmd == "CHG":
            self.ns_chg(s, trid, w)
        elif cmd == "XFR":
            if len(w) < 3 or w[2] != "SB":
                s.send("201 %s" % trid)
            elif not s.status or s.status == "HDN":
                s.send("913 %s" % trid)
            else:
                ticket = self.hex(20)
                self.sb_tickets[ticket] = (
                    s.email, time.monotonic() + SB_TICKET_LIFE, None)
                s.send("XFR %s SB %s:%d CKI %s"
                       % (trid, self.host, self.sb_port, ticket))
        elif cmd == "ADC" and s.version >= 10:
            self.ns_adc(s, trid, w)
        elif cmd == "ADD" and s.version < 10:
            self.ns_add(s, trid, w)
        elif cmd == "REM":
            self.ns_rem(s, trid, w)
        elif cmd == "BLP":
            if len(w) >= 3 and w[2] in ("AL", "BL"):
                s.acct.blp = w[2]
                s.send("BLP %s %s" % (trid, w[2]))
            else:
                s.send("201 %s" % trid)
        elif cmd == "PRP":
            if len(w) >= 4 and w[2] == "MFN":
                s.acct.name = urllib.parse.unquote(w[3])
            s.send(" ".join(w))
        elif cmd == "UUX":
            s.send("UUX %s 0" % trid)
        elif cmd == "QRY":
            want = qry_answer(s.version, s.chl or "")
            if s.chl and payload.decode("ascii", "replace") == want:
                s.chl = None
                self.note("qry-ok", s.email)
                s.send("QRY %s" % trid)
            else:
                self.note("qry-bad", s.email)
                s.send("540 %s" % trid)
                s.close()
        else:
            s.send("502 %s" % trid)

    def ns_usr(self, s, trid, w):
        if len(w) >= 5 and w[2] == "TWN" and w[3] == "I":
            acct = self.accounts.get(w[4].lower())
            if acct and acct.email in self.locked_out:
                s.send("601 %s" % trid)     # server unavailable
                s.close()
                return
            if acct and w[4] != acct.registered:
                # the address as registered, case and all
                self.note("usr-case", w[4])
                s.send("911 %s" % trid)
                s.close()
                return
            s.email = w[4].lower()
            s.send("USR %s TWN S %s" % (trid, TWN_CHALLENGE))
        elif len(w) >= 5 and w[2] == "TWN" and w[3] == "S":
            entry = self.tickets.pop(w[4], None)
            if (not entry or entry[0] != s.email
                    or entry[1] < time.monotonic()
                    or s.email not in self.accounts):
                s.send("911 %s" % trid)
                s.close()
                return
            old = self.ns.get(s.email)
            if old and old is not s:
                old.send("OUT OTH")
                old.close()
                self.ns_gone(old)
            s.acct = self.accounts[s.email]
            s.authed = True
            self.ns[s.email] = s
            self.note("login", s.email)
            s.send("USR %s OK %s 1 0" % (trid, s.email))
            profile = ("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile;"
                       " charset=UTF-8\r\nLoginTime: 946684800\r\n"
                       "EmailEnabled: 0\r\nMemberIdHigh: 0\r\n"
                       "MemberIdLow: 0\r\nlang_preference: 1033\r\n"
                       "country: US\r\nKid: 0\r\nFlags: 1027\r\n"
                       "sid: 507\r\nClientIP: 127.0.0.1\r\n"
                       "ClientPort: 0\r\n\r\n").encode()
            s.send("SBS 0 null")
            s.send("MSG Hotmail Hotmail %d" % len(profile), profile)
        else:
            s.send("911 %s" % trid)
            s.close()

    def ns_syn(self, s, trid):
        acct = s.acct
        contacts = [(e, l) for e, l in acct.lists.items() if l]
        if s.version >= 10:
            s.send("SYN %s %s %s %d 0" % (trid, SYN_TS, SYN_TS,
                                          len(contacts)))
        else:
            s.send("SYN %s 1 %d 0" % (trid, len(contacts)))
        s.send("GTC A")
        s.send("BLP %s" % acct.blp)
        s.send("PRP MFN %s" % urllib.parse.quote(acct.name))
        for email, lists in contacts:
            other = self.accounts.get(email)
            name = urllib.parse.quote(other.name if other else email)
            if s.version >= 10:
                uuid = acct.uuids.setdefault(email, self.uuid())
                net = " 1" if s.version >= 12 else ""
                s.send("LST N=%s F=%s C=%s %d%s " % (email, name, uuid,
                                                     lists, net))
            else:
                s.send("LST %s %s %d " % (email, name, lists))

    def ns_chg(self, s, trid, w):
        if len(w) < 4:
            self.note("chg-ignored", s.email)
            return      # no capabilities number: ignored, as Escargot does
        status = w[2]
        if status not in ("NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN",
                          "HDN"):
            s.send("201 %s" % trid)
            return
        first = s.status is None
        s.status, s.caps = status, w[3]
        s.acct.msnobj = w[4] if len(w) > 4 else None
        s.send("CHG %s %s %s" % (trid, status, w[3]))
        self.note("chg", "%s %s" % (s.email, status))
        if first:
            for email, lists in s.acct.lists.items():
                other = self.ns.get(email)
                if (lists & LISTS["FL"] and other and not other.closed
                        and other.status and other.status != "HDN"
                        and self.visible_to(other.acct, s.acct)):
                    s.send("ILN %s %s" % (trid, self.presence_args(
                        other.acct, other.status)))
                    psm = ("<Data><PSM>%s</PSM><CurrentMedia></CurrentMedia>"
                           "</Data>" % other.acct.psm).encode()
                    s.send("UBX %s %d" % (email, len(psm)), psm)
            if self.challenge:
                s.chl = "".join(self.rng.choice("0123456789")
                                for _ in range(20))
                s.send("CHL 0 %s" % s.chl)
        self.tell_watchers(s.acct)

    def list_arg(self, w, key):
        for a in w[3:]:
            if a.startswith(key + "="):
                return a[2:]
        return None

    def ns_adc(self, s, trid, w):
        if len(w) < 4 or w[2] not in ("FL", "AL", "BL"):
            s.send("201 %s" % trid)
            return
        lst = w[2]
        email = (self.list_arg(w, "N") or "").lower()
        if not email and lst == "FL" and self.list_arg(w, "C"):
            s.send(" ".join(w))     # a group assignment
            return
        self.list_add(s, trid, lst, email, self.list_arg(w, "F") or email)

    def ns_add(self, s, trid, w):
        """MSNP8-9: ADD trid list email name [group]."""
        if len(w) < 5 or w[2] not in ("FL", "AL", "BL"):
            s.send("201 %s" % trid)
            return
        self.list_add(s, trid, w[2], w[3].lower(), w[4])

    def push_list(self, on, verb, lst, acct):
        """Tells `on` (online) that acct put it on / took it off lst, in
        on's dialect."""
        if not on or on.closed:
            return
        self.send_push(on, verb, lst, acct)
        if on.email in self.drop_after:
            self.drop_after.discard(on.email)
            self.note("drop", on.email)
            on.close()      # drop_after_push(): gone before any answer

    @staticmethod
    def send_push(on, verb, lst, acct):
        """The push line itself, in on's dialect."""
        if on.version >= 10:
            on.send("%s 0 %s N=%s%s" % (
                verb, lst, acct.email, " F=%s" % urllib.parse.quote(
                    acct.name) if verb == "ADC" else ""))
        elif verb == "ADC":
            on.send("ADD 0 %s 1 %s %s" % (lst, acct.email,
                                          urllib.parse.quote(acct.name)))
        else:
            on.send("REM 0 %s 1 %s" % (lst, acct.email))

    def list_add(self, s, trid, lst, email, name):
        other = self.accounts.get(email)
        if not other:
            s.send("208 %s" % trid)
            return
        acct = s.acct
        lists = acct.lists.get(email, 0)
        if lists & LISTS[lst]:
            s.send("215 %s" % trid)
            return
        if lst in ("AL", "BL") and lists & LISTS["BL" if lst == "AL"
                                                 else "AL"]:
            s.send("219 %s" % trid)     # on the opposite list
            return
        if lists & LISTS["PL"]:
            # answered: the pending add becomes a reverse-list entry
            lists = (lists & ~LISTS["PL"]) | LISTS["RL"]
        acct.lists[email] = lists | LISTS[lst]
        old = s.version < 10
        if lst == "FL":
            uuid = acct.uuids.setdefault(email, self.uuid())
            if old:
                s.send("ADD %s FL 1 %s %s 0" % (trid, email, name))
            else:
                s.send("ADC %s FL N=%s F=%s C=%s" % (trid, email, name,
                                                     uuid))
            # they get us on their reverse list, or on the pending list
            # when they are offline (a real server's MSNP12 list download)
            was = other.lists.get(acct.email, 0)
            on = self.ns.get(email)
            if not was & (LISTS["RL"] | LISTS["PL"]):
                if on and not on.closed:
                    other.lists[acct.email] = was | LISTS["RL"]
                    self.push_list(on, "ADC", "RL", acct)
                else:
                    other.lists[acct.email] = was | LISTS["PL"]
            self.note("adc", "%s FL %s" % (acct.email, email))
            self.tell_one(acct, other)
        else:
            if old:
                s.send("ADD %s %s 1 %s %s" % (trid, lst, email, email))
            else:
                s.send("ADC %s %s N=%s" % (trid, lst, email))
            self.note("adc", "%s %s %s" % (acct.email, lst, email))
            self.tell_one(other, acct)

    def ns_rem(self, s, trid, w):
        if len(w) < 4 or w[2] not in ("FL", "AL", "BL"):
            s.send("201 %s" % trid)
            return
        lst, ident = w[2], w[3]
        acct = s.acct
        email = ident.lower()
        if lst == "FL":
            for e, u in acct.uuids.items():
                if u == ident:
                    email = e
        lists = acct.lists.get(email, 0)
        if not lists & LISTS[lst]:
            s.send("216 %s" % trid)
            return
        acct.lists[email] = lists & ~LISTS[lst]
        if s.version >= 10:
            s.send(" ".join(w[:4]))
        else:
            s.send("REM %s %s 1 %s" % (trid, lst, ident))
        self.note("rem", "%s %s %s" % (acct.email, lst, email))
        other = self.accounts.get(email)
        if lst == "FL" and other:
            other.lists[acct.email] = other.lists.get(acct.email, 0) & \
                ~(LISTS["RL"] | LISTS["PL"])
            self.push_list(self.ns.get(email), "REM", "RL", acct)
        elif other:
            self.tell_one(other, acct)

    # ---- switchboard ---------------------------------------------------
    async def serve_sb(self, reader, writer):
        c = SbConn(self, reader, writer)
        self.all_conns.add(c)
        try:
            first = await asyncio.wait_for(read_command(reader), SB_SETUP)
            if first is None:
                return
            self.trace(c, ">>>", *first)
            if not self.sb_enter(c, first[0].split(" ")):
                return
            await writer.drain()
            while not c.closed:
                cmd = await read_command(reader)
                if cmd is None:
                    break
                self.trace(c, ">>>", *cmd)
                self.sb_command(c, cmd[0].split(" "), cmd[1])
                try:
                    await writer.drain()
                except Exception:
                    break
        except (ValueError, ConnectionError, asyncio.IncompleteReadError,
                asyncio.TimeoutError):
            pass
        finally:
            self.sb_leave(c)

    def as_registered(self, given, email):
        """The switchboard, like USR TWN I, takes the address only as
        registered, case and all."""
        acct = self.accounts.get(email)
        return acct is not None and given == acct.registered

    def sb_enter(self, c, w):
        now = time.monotonic()
        if w[0] == "USR" and len(w) >= 4:
            entry = self.sb_tickets.pop(w[3], None)
            if (not entry or not self.as_registered(w[2], entry[0])
                    or entry[1] < now):
                c.send("911 %s" % w[1])
                c.close()
                return False
            c.email = entry[0]
            sessid = self.hex(31)
            c.session = SbSession(sessid)
            self.sb_sessions[sessid] = c.session
            c.session.members.append(c)
            c.send("USR %s OK %s %s" % (w[1], c.email, urllib.parse.quote(
                self.accounts[c.email].name)))
            return True
        if w[0] == "ANS" and len(w) >= 5:
            entry = self.sb_tickets.pop(w[3], None)
            sess = self.sb_sessions.get(w[4])
            if (not entry or not self.as_registered(w[2], entry[0])
                    or entry[1] < now or not sess or entry[2] is not sess):
                c.send("911 %s" % w[1])
                c.close()
                return False
            c.email = entry[0]
            c.session = sess
            others = [m for m in sess.members if not m.closed]
            for i, m in enumerate(others):
                c.send("IRO %s %d %d %s %s 0" % (
                    w[1], i + 1, len(others), m.email,
                    urllib.parse.quote(self.accounts[m.email].name)))
            c.send("ANS %s OK" % w[1])
            for m in others:
                m.send("JOI %s %s 0" % (c.email, urllib.parse.quote(
                    self.accounts[c.email].name)))
            sess.members.append(c)
            self.note("sb-join", c.email)
            return True
        c.close()
        return False

    def sb_command(self, c, w, payload):
        cmd, trid = w[0], (w[1] if len(w) > 1 else "0")
        sess = c.session
        if cmd == "CAL":
            callee = w[2].lower() if len(w) > 2 else ""
            if callee in self.held:
                # hold(): no answer, no RNG, until release()
                self.held[callee].append((c, trid))
                self.note("cal-held", "%s %s" % (c.email, callee))
                return
            self.sb_call(c, trid, callee)
        elif cmd == "MSG":
            if len(payload) > SB_PAYLOAD_MAX:
                self.note("sb-too-long", "%s %d" % (c.email, len(payload)))
                c.close()
                return
            others = [m for m in sess.members if m is not c and not m.closed]
            heard = [m for m in others if not self.blocks(m.email, c.email)]
            if others and not heard:
                c.send("217 %s" % trid)     # everyone there blocked c
                return
            if any(self.take(self.nak_to, m.email) for m in others):
                self.note("sb-nak", c.email)
                c.send("NAK %s" % trid)     # nak_to(): not delivered
                return
            others = heard
            name = urllib.parse.quote(self.accounts[c.email].name)
            for m in others:
                m.send("MSG %s %s %d" % (c.email, name, len(payload)),
                       payload)
            self.note("sb-msg", "%s %d" % (c.email, len(payload)))
            ack = w[2] if len(w) > 2 else "N"
            if not others and ack in ("N", "A"):
                c.send("NAK %s" % trid)
            elif ack == "A":
                c.send("ACK %s" % trid)
        elif cmd == "OUT":
            c.close()
        else:
            c.send("502 %s" % trid)

    def sb_call(self, c, trid, callee):
        """CAL trid callee from c: RINGING and an RNG, or 208/217."""
        sess = c.session
        ns = self.ns.get(callee)
        acct = self.accounts.get(callee)
        if not acct:
            c.send("208 %s" % trid)
        elif (not ns or ns.closed or not ns.status or ns.status == "HDN"
              or self.blocks(callee, c.email)
              or self.take(self.refuse_cal, callee)):
            self.note("cal-217", "%s %s" % (c.email, callee))
            c.send("217 %s" % trid)
        else:
            ticket = self.hex(20)
            self.sb_tickets[ticket] = (callee, time.monotonic()
                                       + SB_TICKET_LIFE, sess)
            c.send("CAL %s RINGING %s" % (trid, sess.sessid))
            ns.send("RNG %s %s:%d CKI %s %s %s" % (
                sess.sessid, self.host, self.sb_port, ticket, c.email,
                urllib.parse.quote(self.accounts[c.email].name)))

    def blocks(self, owner, who):
        """Whether owner has who on BL, or on neither AL nor BL with BLP
        BL ("only the allow list may write")."""
        acct = self.accounts.get(owner)
        lists = acct.lists.get(who, 0) if acct else 0
        return bool(acct and (lists & LISTS["BL"] or (
            acct.blp == "BL" and not lists & LISTS["AL"])))

    @staticmethod
    def take(counts, email):
        """One of the n given to nak()/refuse() for email, if any left."""
        if counts.get(email, 0) > 0:
            counts[email] -= 1
            return True
        return False

    def nak(self, email, n=1):
        """The next n switchboard MSGs to email are answered NAK (not
        delivered), as when the recipient's connection fails under it."""
        self.nak_to[email.lower()] = n

    def refuse(self, email, n=1):
        """The next n CALs to email get 217 though email is online (the
        server's view of them changed before the bot's did)."""
        self.refuse_cal[email.lower()] = n

    def hold(self, email):
        """From now on, CALs to email wait (no answer, no RNG): a
        switchboard to them stays half open until release()."""
        self.held.setdefault(email.lower(), [])

    def release(self, email):
        """Answers the CALs held for email whose switchboard connection is
        still open, and stops holding. Returns how many were answered."""
        n = 0
        for c, trid in self.held.pop(email.lower(), []):
            if not c.closed:
                self.sb_call(c, trid, email.lower())
                n += 1
        return n

    def held_calls(self, email):
        """CALs to email waiting now (their connection still open)."""
        return len([c for c, _ in self.held.get(email.lower(), [])
                    if not c.closed])

    def sb_open(self, email):
        """Switchboard connections of email still open."""
        return len([c for c in self.all_conns
                    if isinstance(c, SbConn) and c.email == email.lower()
                    and not c.closed])

    def idle_close(self, email):
        """Ends every switchboard session email is in, as the server's
        idle timeout does: all its connections closed, no BYE. Returns how
        many sessions."""
        email = email.lower()
        n = 0
        for sess in list(self.sb_sessions.values()):
            if any(m.email == email for m in sess.members):
                n += 1
                self.note("sb-idle", sess.sessid)
                for m in list(sess.members):
                    m.close()
        return n

    def sb_members(self, email):
        """The participants of each session email is in (sets of
        addresses, email included)."""
        email = email.lower()
        return [set(m.email for m in sess.members if not m.closed)
                for sess in self.sb_sessions.values()
                if any(m.email == email and not m.closed
                       for m in sess.members)]

    def sb_leave(self, c):
        c.close()
        self.all_conns.discard(c)
        sess = c.session
        if not sess or c not in sess.members:
            return
        sess.members.remove(c)
        for m in sess.members:
            m.send("BYE %s" % c.email)
        if not sess.members:
            self.sb_sessions.pop(sess.sessid, None)


class FakeMsnThread:
    """A FakeMsn on an event loop of its own, in a thread: it answers while
    the caller's loop is busy or stopped. call(fn, *args) runs fn in the
    server's thread and returns its result."""

    def __init__(self, **kw):
        self.loop = asyncio.new_event_loop()
        self.server = FakeMsn(**kw)
        self.thread = threading.Thread(target=self.loop.run_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(),
                                         self.loop).result(10)
        return self

    def call(self, fn, *args):
        async def run():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self):
        try:
            asyncio.run_coroutine_threadsafe(self.server.stop(),
                                             self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


# ---- a small MSNP12 client ---------------------------------------------

class MsnFail(Exception):
    """An expected MSN event did not come."""


def mime_text(text):
    return ("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            "X-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n"
            ).encode() + text.encode()


def parse_mime(payload):
    head, _, body = payload.partition(b"\r\n\r\n")
    headers = {}
    for l in head.decode("utf-8", "replace").split("\r\n"):
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return headers, body


class _Line:
    """One MSNP connection: lines and payloads in, a queue of them."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.trid = 0
        self.queue = asyncio.Queue()
        self.task = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            while True:
                raw = await self.reader.readline()
                if not raw:
                    break
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                w = line.split(" ")
                payload = b""
                if w[0] in ("MSG", "UBX", "GCF", "NOT", "IPG") or (
                        w[0] == "UUX" and len(w) > 2):
                    n = int(w[-1])
                    payload = await self.reader.readexactly(n)
                await self.queue.put((w, payload))
        except Exception:
            pass
        await self.queue.put(None)

    def send(self, cmd, args="", payload=None):
        self.trid += 1
        line = "%s %d%s" % (cmd, self.trid, " " + args if args else "")
        if payload is not None:
            line += " %d" % len(payload)
        self.writer.write(line.encode() + b"\r\n" + (payload or b""))
        return self.trid

    async def expect(self, pred, what, timeout=15):
        """The next item matching pred; others are given to self.other."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise MsnFail("no %s" % what)
            try:
                item = await asyncio.wait_for(self.queue.get(), left)
            except asyncio.TimeoutError:
                raise MsnFail("no %s" % what)
            if item is None:
                raise MsnFail("connection closed while waiting for %s"
                              % what)
            if pred(*item):
                return item
            self.other(*item)

    def other(self, w, payload):
        pass

    def close(self):
        self.task.cancel()
        try:
            self.writer.close()
        except Exception:
            pass


def msnobj_make(creator, data):
    """The MSN object (text) of a display picture."""
    sha1d = base64.b64encode(hashlib.sha1(data).digest()).decode()
    fields = ("Creator%sSize%dType3LocationTFR2C.tmpFriendlyAAA=SHA1D%s"
              % (creator, len(data), sha1d))
    sha1c = base64.b64encode(hashlib.sha1(fields.encode()).digest()).decode()
    return ('<msnobj Creator="%s" Size="%d" Type="3" Location="TFR2C.tmp" '
            'Friendly="AAA=" SHA1D="%s" SHA1C="%s"/>'
            % (creator, len(data), sha1d, sha1c))


def msnobj_attr(obj, name):
    m = re.search(r'\s%s="([^"]*)"' % name, obj)
    return m.group(1) if m else None


P2P_HEAD = struct.Struct("<IIQQIIIIQ")
EUF_PICTURE = "{A4268EEC-FEC5-49E5-95C3-F126696BDBF6}"


class P2pPeer:
    """What an MsnClient does with MSNP2P: serves its picture to an INVITE
    (200 OK, the data preparation message, the data; 603 when it has none
    or another is asked for) and fetches a peer's (INVITE, then the data,
    checked against SHA1D). Acks every whole message, as clients do."""

    def __init__(self, client):
        self.c = client
        self.next_id = 5000
        self.partial = {}      # (sender, id) -> bytearray
        self.fetching = {}     # session -> (peer, sha1d, size, call_id, buf)

    def send(self, sb, peer, session, data, footer, flags=0, msg_id=None,
             total=None, offset=0, ack=(0, 0, 0)):
        if msg_id is None:
            msg_id = self.next_id
            self.next_id += 1
        head = P2P_HEAD.pack(session, msg_id, offset,
                             len(data) if total is None else total,
                             len(data), flags, *ack)
        mime = ("MIME-Version: 1.0\r\nContent-Type: application/"
                "x-msnmsgrp2p\r\nP2P-Dest: %s\r\n\r\n" % peer).encode()
        sb.send("MSG", "D", mime + head + data + struct.pack(">I", footer))

    def message(self, sb, peer, session, data, footer, flags=0):
        msg_id = self.next_id
        self.next_id += 1
        for off in range(0, max(len(data), 1), 1202):
            self.send(sb, peer, session, data[off:off + 1202], footer, flags,
                      msg_id, len(data), off)

    def slp(self, sb, peer, start, call_id, branch, cseq, body):
        body = body.encode() + b"\0"
        text = ("%s\r\nTo: <msnmsgr:%s>\r\nFrom: <msnmsgr:%s>\r\n"
                "Via: MSNSLP/1.0/TLP ;branch=%s\r\nCSeq: %d \r\n"
                "Call-ID: %s\r\nMax-Forwards: 0\r\nContent-Type: "
                "application/x-msnmsgr-sessionreqbody\r\n"
                "Content-Length: %d\r\n\r\n"
                % (start, peer, self.c.email, branch, cseq, call_id,
                   len(body))).encode() + body
        self.message(sb, peer, 0, text, 0)

    def invite(self, sb, peer, obj):
        session = 100 + self.next_id
        call_id = "{%08X-0000-4000-8000-000000000001}" % self.next_id
        self.fetching[session] = (peer, msnobj_attr(obj, "SHA1D"),
                                  int(msnobj_attr(obj, "Size") or 0),
                                  call_id, bytearray())
        ctx = base64.b64encode(obj.encode() + b"\0").decode()
        self.slp(sb, peer, "INVITE MSNMSGR:%s MSNSLP/1.0" % peer, call_id,
                 "{B}", 0, "EUF-GUID: %s\r\nSessionID: %d\r\nAppID: 1\r\n"
                 "Context: %s\r\n\r\n" % (EUF_PICTURE, session, ctx))

    def ack(self, sb, peer, h):
        self.send(sb, peer, h[0], b"", 0, 2, total=h[3],
                  ack=(h[1], h[6], h[3]))

    def received(self, sb, sender, body):
        if len(body) < 52:
            return
        h = P2P_HEAD.unpack(body[:48])
        session, msg_id, offset, total, length, flags = h[:6]
        data = body[48:48 + length]
        if flags & 2:
            return
        if session:
            f = self.fetching.get(session)
            if not f or f[0] != sender:
                return
            if total == 4 and length == 4 and not flags & 0x20:
                self.ack(sb, sender, h)
                return
            buf = f[4]
            buf[offset:offset + length] = data
            if offset + length == total:
                self.ack(sb, sender, h)
                del self.fetching[session]
                got = bytes(buf)
                sha = base64.b64encode(hashlib.sha1(got).digest()).decode()
                if sha == f[1] and len(got) == f[2]:
                    self.c.pictures[sender] = got
                    self.c.events.set()
            return
        buf = self.partial.setdefault((sender, msg_id), bytearray())
        buf[offset:offset + length] = data
        if offset + length < total:
            return
        del self.partial[(sender, msg_id)]
        self.ack(sb, sender, h)
        self.slp_in(sb, sender, bytes(buf).rstrip(b"\0").decode("utf-8",
                                                                "replace"))

    def slp_in(self, sb, sender, text):
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        heads = dict((k.strip().lower(), v.strip()) for k, _, v in
                     (l.partition(":") for l in lines[1:]))
        fields = dict((k.strip().lower(), v.strip()) for k, _, v in
                      (l.partition(":") for l in body.split("\r\n") if l))
        call_id = heads.get("call-id", "")
        branch = heads.get("via", "").partition("branch=")[2]
        if lines[0].startswith("MSNSLP/1.0 603"):
            self.c.declines.append(sender)
            self.c.events.set()
            return
        if not lines[0].startswith("INVITE"):
            return
        ctx = base64.b64decode(fields.get("context", "")).rstrip(b"\0")
        want = msnobj_attr(ctx.decode("utf-8", "replace"), "SHA1D")
        pic = self.c.picture
        ours = pic and want == base64.b64encode(
            hashlib.sha1(pic).digest()).decode()
        session = int(fields.get("sessionid", "0") or 0)
        if fields.get("euf-guid") != EUF_PICTURE or not ours:
            self.slp(sb, sender, "MSNSLP/1.0 603 Decline", call_id, branch, 1,
                     "SessionID: %d\r\n\r\n" % session)
            return
        self.slp(sb, sender, "MSNSLP/1.0 200 OK", call_id, branch, 1,
                 "SessionID: %d\r\n\r\n" % session)
        self.message(sb, sender, session, b"\0\0\0\0", 1)
        self.message(sb, sender, session, pic, 1, 0x20)


class MsnClient:
    """A person on MSN: logs in (MSNP12, Passport over HTTP), keeps the NS
    open, answers RNGs, opens switchboards, and records what arrives:
    messages per sender (texts, in order) and presence of contacts."""

    def __init__(self, host, ns_port, nexus_url, email, password):
        self.host, self.ns_port = host, ns_port
        self.nexus_url = nexus_url
        self.email, self.password = email.lower(), password
        self.ns = None
        self.sbs = {}          # peer -> _Line with them in it
        self.people = {}       # _Line -> set of others in that switchboard
        self.messages = []     # (sender, text)
        self.typing = []       # senders of TypingUser controls, in order
        self.msnobjs = {}      # email -> their MSN object (ILN/NLN), text
        self.picture = None    # ours: set_picture()
        self.pictures = {}     # email -> their picture bytes: fetch_picture()
        self.declines = []     # who answered our picture INVITE with 603
        self.p2p = P2pPeer(self)
        self.nudges = []       # senders of nudges, in order
        self.payloads = []     # (sender, raw payload bytes)
        self.presence = {}     # email -> status ("FLN" offline)
        self.events = asyncio.Event()
        self.tasks = []

    async def _http(self, url, headers=""):
        u = urllib.parse.urlsplit(url)
        r, w = await asyncio.open_connection(u.hostname, u.port or 80)
        w.write(("GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n"
                 % (u.path or "/", u.netloc, headers)).encode())
        data = await r.read()
        w.close()
        return data.decode("utf-8", "replace")

    async def login(self, status="NLN"):
        r, w = await asyncio.open_connection(self.host, self.ns_port)
        self.ns = _Line(r, w)
        self.ns.other = self._ns_event
        ns = self.ns
        ns.send("VER", "MSNP12 CVR0")
        await ns.expect(lambda w, p: w[0] == "VER", "VER")
        ns.send("CVR", "0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs "
                + self.email)
        await ns.expect(lambda w, p: w[0] == "CVR", "CVR")
        ns.send("USR", "TWN I " + self.email)
        w, _ = await ns.expect(lambda w, p: w[0] == "USR", "USR TWN S")
        chl = w[4]
        head = await self._http(self.nexus_url)
        m = re.search(r"DALogin=([^,\r\n]+)", head)
        auth = ("Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%%3A%%2F"
                "%%2Fmessenger%%2Emsn%%2Ecom,sign-in=%s,pwd=%s,%s\r\n"
                % (urllib.parse.quote(self.email, safe=""),
                   urllib.parse.quote(self.password, safe=""), chl))
        resp = await self._http("http://" + m.group(1), auth)
        t = re.search(r"from-PP='([^']+)'", resp)
        if not t:
            raise MsnFail("Passport refused %s" % self.email)
        ns.send("USR", "TWN S " + t.group(1))
        await ns.expect(lambda w, p: w[0] == "USR" and w[2] == "OK",
                        "USR OK")
        ns.send("SYN", "0 0")
        await ns.expect(lambda w, p: w[0] == "SYN", "SYN")
        ns.send("CHG", "%s 0" % status)
        await ns.expect(lambda w, p: w[0] == "CHG", "CHG")
        self.tasks.append(asyncio.ensure_future(self._pump(ns)))

    async def _pump(self, line):
        while True:
            item = await line.queue.get()
            if item is None:
                break
            line.other(*item)
            self.events.set()
        # the server closed it: a switchboard is gone with its people
        for peer, sb in list(self.sbs.items()):
            if sb is line:
                del self.sbs[peer]
        self.people.pop(line, None)
        self.events.set()

    def _ns_event(self, w, payload):
        if w[0] in ("ILN",):
            self.presence[w[3].lower()] = w[2]
            if len(w) > 6:
                self.msnobjs[w[3].lower()] = urllib.parse.unquote(w[6])
        elif w[0] == "NLN":
            self.presence[w[2].lower()] = w[1]
            if len(w) > 5:
                self.msnobjs[w[2].lower()] = urllib.parse.unquote(w[5])
        elif w[0] == "FLN":
            self.presence[w[1].lower()] = "FLN"
        elif w[0] == "RNG":
            self.tasks.append(asyncio.ensure_future(self._answer(w)))
        self.events.set()

    async def _answer(self, w):
        host, _, port = w[2].rpartition(":")
        r, wr = await asyncio.open_connection(host, int(port))
        sb = _Line(r, wr)
        peer = w[5].lower()
        sb.other = lambda ww, p: self._sb_event(peer, sb, ww, p)
        self.people[sb] = set()
        sb.send("ANS", "%s %s %s" % (self.email, w[4], w[1]))

        def ans(ww, p):
            if ww[0] == "IRO":
                self.people[sb].add(ww[4].lower())
            return ww[0] == "ANS"
        await sb.expect(ans, "ANS OK")
        self.sbs[peer] = sb
        self.tasks.append(asyncio.ensure_future(self._pump(sb)))

    def _sb_event(self, peer, sb, w, payload):
        if w[0] == "MSG":
            headers, body = parse_mime(payload)
            sender = w[1].lower()
            ctype = headers.get("content-type", "")
            self.payloads.append((sender, payload))
            if ctype.startswith("text/plain"):
                self.messages.append((sender, body.decode("utf-8")))
            elif ctype.startswith("text/x-msmsgscontrol"):
                self.typing.append(sender)
            elif (ctype.startswith("text/x-msnmsgr-datacast")
                  and parse_mime(body)[0].get("id") == "1"):
                self.nudges.append(sender)
            elif (ctype.startswith("application/x-msnmsgrp2p")
                  and headers.get("p2p-dest", "").lower() == self.email):
                self.p2p.received(sb, sender, body)
        elif w[0] == "JOI":
            self.people.setdefault(sb, set()).add(w[1].lower())
        elif w[0] == "BYE":
            self.people.setdefault(sb, set()).discard(w[1].lower())
            if self.sbs.get(peer) is sb and not self.people[sb]:
                del self.sbs[peer]
        self.events.set()

    def with_(self, peer):
        """Who else is in the switchboard this client has with peer (an
        empty set when there is none)."""
        sb = self.sbs.get(peer.lower())
        return set(self.people.get(sb, ())) if sb else set()

    def _sb_of(self, peer):
        sb = self.sbs.get(peer.lower())
        if sb is None:
            raise MsnFail("%s: no switchboard with %s" % (self.email, peer))
        return sb

    def type_to(self, peer):
        """A typing notification in the switchboard with peer."""
        self._sb_of(peer).send("MSG", "U", (
            "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\n"
            "TypingUser: %s\r\n\r\n\r\n" % self.email).encode())

    def nudge(self, peer):
        """A nudge in the switchboard with peer."""
        self._sb_of(peer).send("MSG", "N", (
            "MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast"
            "\r\n\r\nID: 1\r\n\r\n").encode())

    def invite(self, peer, who):
        """CALs who into the switchboard this client has with peer."""
        self._sb_of(peer).send("CAL", who.lower())

    def leave(self, peer):
        """Leaves the switchboard with peer (OUT: the others see BYE)."""
        sb = self.sbs.pop(peer.lower(), None)
        if sb is not None:
            self.people.pop(sb, None)
            try:
                sb.writer.write(b"OUT\r\n")
            except Exception:
                pass
            sb.close()

    def set_picture(self, data):
        """Sets our display picture: an MSN object in a CHG (watchers get
        it in NLN), served to whoever asks over MSNSLP."""
        self.picture = data
        obj = msnobj_make(self.email, data)
        self.ns.send("CHG", "NLN 268435456 %s" % urllib.parse.quote(obj,
                                                                     safe=""))

    async def fetch_picture(self, peer, timeout=30):
        """Asks peer (over the switchboard we have with them) for the
        picture of their MSN object; returns its bytes once whole and
        matching its SHA1D."""
        peer = peer.lower()
        self.ask_picture(peer)
        return await self.wait(lambda: self.pictures.get(peer),
                               "the picture of %s" % peer, timeout)

    def ask_picture(self, peer):
        """Sends the INVITE for peer's picture (fetch_picture() without
        waiting: a 603 lands in self.declines)."""
        peer = peer.lower()
        obj = self.msnobjs.get(peer)
        if not obj or "SHA1D" not in obj:
            raise MsnFail("%s: no MSN object of %s" % (self.email, peer))
        self.pictures.pop(peer, None)
        self.p2p.invite(self._sb_of(peer), peer, obj)

    async def add(self, email):
        """Adds email to FL and AL (as a real client does)."""
        self.ns.send("ADC", "FL N=%s F=%s" % (email, email))
        self.ns.send("ADC", "AL N=%s" % email)

    def set_status(self, status):
        self.ns.send("CHG", "%s 0" % status)

    async def say(self, to, text):
        """Sends text to `to`, opening a switchboard if none is open."""
        to = to.lower()
        sb = self.sbs.get(to)
        if sb is None:
            done = asyncio.get_running_loop().create_future()
            orig = self.ns.other

            def watch(w, p):
                if w[0] == "XFR" and not done.done():
                    done.set_result(w)
                else:
                    orig(w, p)
            self.ns.other = watch
            self.ns.send("XFR", "SB")
            try:
                w = await asyncio.wait_for(done, 15)
            finally:
                self.ns.other = orig
            host, _, port = w[3].rpartition(":")
            r, wr = await asyncio.open_connection(host, int(port))
            sb = _Line(r, wr)
            sb.send("USR", "%s %s" % (self.email, w[5]))
            await sb.expect(lambda ww, p: ww[0] == "USR", "SB USR OK")
            sb.send("CAL", to)
            await sb.expect(lambda ww, p: ww[0] == "JOI", "JOI of " + to)
            sb.other = lambda ww, p, sb=sb: self._sb_event(to, sb, ww, p)
            self.people[sb] = {to}
            self.sbs[to] = sb
            self.tasks.append(asyncio.ensure_future(self._pump(sb)))
        sb.send("MSG", "N", mime_text(text))

    async def wait(self, pred, what, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            r = pred()
            if r:
                return r
            left = deadline - time.monotonic()
            if left <= 0:
                raise MsnFail("%s: no %s" % (self.email, what))
            self.events.clear()
            try:
                await asyncio.wait_for(self.events.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    def texts_from(self, sender):
        return [t for s, t in self.messages if s == sender.lower()]

    def pieces_making(self, sender, since, want):
        """The payloads from sender after the first `since` payloads when
        their texts, spaces aside, make `want` (a sender may cut a line at
        a space and drop it); else None."""
        got = [p for s, p in self.payloads[since:] if s == sender.lower()]
        texts = [p.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")
                 for p in got]
        joined = "".join(texts).replace(" ", "")
        return got if joined == want.replace(" ", "") else None

    async def quit(self):
        for t in self.tasks:
            t.cancel()
        for sb in list(self.sbs.values()):
            sb.close()
        self.sbs.clear()
        if self.ns:
            try:
                self.ns.writer.write(b"OUT\r\n")
            except Exception:
                pass
            self.ns.close()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ns-port", type=int, default=1863)
    ap.add_argument("--sb-port", type=int, default=1864)
    ap.add_argument("--http-port", type=int, default=8081)
    ap.add_argument("--challenge", action="store_true")
    ap.add_argument("--trace", help="append traffic here, transcript style")
    ap.add_argument("accounts", nargs="*", help="EMAIL:PASSWORD[:NAME]")
    args = ap.parse_args(argv[1:])

    async def run():
        srv = FakeMsn(seed=args.seed, challenge=args.challenge,
                      ns_port=args.ns_port, sb_port=args.sb_port,
                      http_port=args.http_port, trace_file=args.trace)
        for spec in args.accounts:
            parts = spec.split(":")
            srv.add_account(parts[0], parts[1],
                            parts[2] if len(parts) > 2 else None)
        await srv.start()
        print("ns=%d sb=%d http=%d" % (srv.ns_port, srv.sb_port,
                                       srv.http_port), flush=True)
        await asyncio.Event().wait()
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
