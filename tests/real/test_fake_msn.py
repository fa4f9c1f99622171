"""The stand-in MSN server (fake_msn.py) against the captured session
shared/protocols/transcripts/msnp12.log: alice's login (VER, CVR, USR TWN I,
the HTTP Passport login, USR TWN S) is replayed line for line and every
server line must equal the transcript's byte for byte. The one random field
is the Passport ticket: it is masked (compared as 20 lower-case hex digits)
in the HTTP answer, and the ticket the fake gave is what USR TWN S sends.
Then the behaviours the notes say a client must survive: 913 on XFR before
CHG, CHG without capabilities ignored, the 1664-byte switchboard limit,
401 for a wrong password, 911 for an address in another case than
registered, an add made while the other is offline listed pending (16), and
the CHL/QRY answer. Prints TAP.

    /usr/bin/python3 tests/real/test_fake_msn.py [path/to/msnp12.log]
"""

import asyncio
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402  (tests/tap.py)
from fake_msn import FakeMsn, MsnClient, mime_text, qry_answer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = re.compile(r"from-PP='[0-9a-f]{20}'")

# alice's login, as captured, for a tree without shared/ beside it.
EMBEDDED = """\
[alice/NS] >>> VER 1 MSNP12 CVR0
[alice/NS] <<< VER 1 MSNP12
[alice/NS] >>> CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 7.5.0324 msmsgs alice@example.com
[alice/NS] <<< CVR 2 7.5.0324 7.5.0324 7.5.0324 https://escargot.log1p.xyz https://escargot.log1p.xyz
[alice/NS] >>> USR 3 TWN I alice@example.com
[alice/NS] <<< USR 3 TWN S ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1
[http] GET /login -> Authentication-Info: Passport1.4 da-status=success,from-PP='23ecad032b909c9a416d'
[alice/NS] >>> USR 4 TWN S 23ecad032b909c9a416d
[alice/NS] <<< USR 4 OK alice@example.com 1 0
"""


def transcript_text(argv):
    cands = argv[1:2] + [os.path.join(HERE, *[".."] * n, "shared",
                                      "protocols", "transcripts",
                                      "msnp12.log") for n in (2, 3)]
    for c in cands:
        if os.path.exists(c):
            with open(c) as f:
                return f.read(), c
    return EMBEDDED, "embedded copy"


def alice_login(text):
    """[(kind, line)] of alice's login: kind '>>>', '<<<' or 'http'."""
    steps = []
    for raw in text.splitlines():
        if raw.startswith("[alice/NS] "):
            arrow, _, line = raw[len("[alice/NS] "):].partition(" ")
            steps.append((arrow, line))
            if arrow == "<<<" and re.match(r"USR \d+ OK ", line):
                break
        elif raw.startswith("[http] GET /login -> ") and steps:
            steps.append(("http", raw.split(" -> ", 1)[1]))
    return steps


async def readline(r, timeout=5):
    raw = await asyncio.wait_for(r.readline(), timeout)
    return raw.decode("utf-8").rstrip("\r\n")


async def http_get(srv, path, auth=None):
    r, w = await asyncio.open_connection("127.0.0.1", srv.http_port)
    w.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sConnection: close"
             "\r\n\r\n" % (path, "Authorization: %s\r\n" % auth
                           if auth else "")).encode())
    data = (await asyncio.wait_for(r.read(), 5)).decode()
    w.close()
    return data


async def replay(tap, srv, steps):
    """Every step of alice's login; one check per server line."""
    r, w = await asyncio.open_connection("127.0.0.1", srv.ns_port)
    token = None
    chl = None
    for kind, line in steps:
        if kind == ">>>":
            if token and line.startswith("USR ") and " TWN S " in line:
                line = re.sub(r"TWN S \S+", "TWN S " + token, line)
            w.write(line.encode() + b"\r\n")
        elif kind == "<<<":
            got = await readline(r)
            tap.check(got == line, "replay: %s" % line,
                      "got      %r\nexpected %r" % (got, line))
            m = re.match(r"USR \d+ TWN S (\S+)", got)
            if m:
                chl = m.group(1)
        else:
            auth = ("Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger"
                    "%2Emsn%2Ecom,sign-in=alice%40example.com,pwd=alicepw1,"
                    + (chl or ""))
            resp = await http_get(srv, "/login", auth)
            got = next((l for l in resp.split("\r\n")
                        if l.startswith("Authentication-Info:")), "")
            m = re.search(r"from-PP='([0-9a-f]{20})'", got)
            token = m.group(1) if m else None
            tap.check(TOKEN.sub("from-PP=<token>", got)
                      == TOKEN.sub("from-PP=<token>", line),
                      "replay: HTTP %s (ticket masked)" % line.split(":")[0],
                      "got      %r\nexpected %r" % (got, line))
    return r, w


async def main_async(tap, steps):
    srv = FakeMsn(seed=1)
    srv.add_account("alice@example.com", "alicepw1", "Alice")
    srv.add_account("bob@example.com", "bobpw1", "Bob")
    srv.add_contacts("alice@example.com", "bob@example.com")
    await srv.start()
    try:
        r, w = await replay(tap, srv, steps)

        # 913 on XFR before the first CHG
        w.write(b"XFR 5 SB\r\n")
        line = await readline(r)
        while not line.startswith(("XFR", "913")):
            if line.startswith("MSG "):
                await r.readexactly(int(line.split()[-1]))
            line = await readline(r)
        tap.check(line == "913 5", "XFR before CHG is refused with 913",
                  line)

        # CHG without capabilities is ignored; with them, answered
        w.write(b"CHG 6 NLN\r\n")
        try:
            got = await readline(r, 1)
        except asyncio.TimeoutError:
            got = None
        w.write(b"CHG 7 NLN 0\r\n")
        got2 = await readline(r)
        tap.check(got is None and got2 == "CHG 7 NLN 0",
                  "CHG without capabilities ignored, with them answered",
                  "%r then %r" % (got, got2))

        # a wrong password: 401
        resp = await http_get(srv, "/login", "Passport1.4 OrgVerb=GET,"
                              "sign-in=bob%40example.com,pwd=nope,ct=1")
        tap.check(resp.startswith("HTTP/1.1 401 "),
                  "a wrong password gets HTTP 401", resp[:60])

        # the switchboard: 1664 bytes relayed, 1665 closes the sender's SB
        bob = MsnClient("127.0.0.1", srv.ns_port, srv.nexus_url(),
                        "bob@example.com", "bobpw1")
        await bob.login()
        w.write(b"XFR 8 SB\r\n")
        line = await readline(r)
        while not line.startswith("XFR"):
            line = await readline(r)
        host, _, port = line.split()[3].rpartition(":")
        sr, sw = await asyncio.open_connection(host, int(port))
        sw.write(("USR 1 alice@example.com %s\r\n" % line.split()[5])
                 .encode())
        await readline(sr)
        sw.write(b"CAL 2 bob@example.com\r\n")
        await readline(sr)
        joi = await readline(sr)
        body = mime_text("x" * (1664 - len(mime_text(""))))
        sw.write(b"MSG 3 A %d\r\n" % len(body) + body)
        ack = await readline(sr)
        await bob.wait(lambda: bob.texts_from("alice@example.com"),
                       "the 1664-byte message")
        big = body + b"y"
        sw.write(b"MSG 4 A %d\r\n" % len(big) + big)
        eof = await asyncio.wait_for(sr.read(), 5)
        tap.check(joi.startswith("JOI bob@example.com") and ack == "ACK 3"
                  and eof == b"" and len(bob.texts_from(
                      "alice@example.com")[0]) == 1664 - len(mime_text("")),
                  "a 1664-byte payload is relayed; 1665 closes the SB",
                  "%r %r %r" % (joi, ack, eof))
        sw.close()
        await bob.quit()

        # USR TWN I with the address in another case than registered: 911
        cr, cw = await asyncio.open_connection("127.0.0.1", srv.ns_port)
        cw.write(b"VER 1 MSNP12 CVR0\r\nUSR 2 TWN I Alice@example.com\r\n")
        got = [await readline(cr), await readline(cr)]
        tap.check(got == ["VER 1 MSNP12", "911 2"],
                  "USR TWN I in another case than registered gets 911",
                  repr(got))
        cw.close()

        # an add made while the other is offline: the pending flag 16
        carol = srv.add_account("carol@example.com", "carolpw1", "Carol")
        bob = MsnClient("127.0.0.1", srv.ns_port, srv.nexus_url(),
                        "bob@example.com", "bobpw1")
        await bob.login()
        await bob.add("carol@example.com")
        for _ in range(50):
            if carol.lists.get("bob@example.com"):
                break
            await asyncio.sleep(0.1)
        tap.check(carol.lists.get("bob@example.com") == 16,
                  "an add while offline is listed pending (16), not RL (8)",
                  repr(carol.lists))
        await bob.quit()

        # CHL/QRY: the published MSNP11 and MSNP8 answers
        tap.check(qry_answer(11, "22210219642164014968")
                  == "85ecb0db8f32113df79ce0892b9a102c" and
                  qry_answer(8, "15570131571988941333")
                  == "8f2f5a91b72102cd28355e9fc9000d6e",
                  "QRY answers match the published examples")
        w.close()
    finally:
        await srv.stop()


def main(argv):
    text, where = transcript_text(argv)
    steps = alice_login(text)
    server_lines = sum(1 for k, _ in steps if k != ">>>")

    def run(t):
        t.diag("transcript: %s (%d steps)" % (where, len(steps)))
        asyncio.run(asyncio.wait_for(main_async(t, steps), 60))
    return tap.run(lambda: tap.FnRun(server_lines + 7, run), 90)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
