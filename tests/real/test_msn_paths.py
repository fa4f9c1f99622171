"""The MSN plugin's paths the other tests leave alone, end to end:
imgroups with its libpurple worker running prpl-imgroups-msn against
fake_msn.py (a stand-in for a revival server: no real one can run here),
a private Prosody or ejabberd, and fake_msn.MsnClient people. Prints TAP.

    /usr/bin/python3 tests/real/test_msn_paths.py /path/to/imgroups /path/to/imgroups-purple [prosody|ejabberd]

Issue 13, item 8. The stand-in sends CHL after every login and checks the
QRY (MSNP11's challenge hash from MSNP11 on, MD5 before). A NAK for a line
to carol: the delivery fails, the line waits and reaches her once when she
is back. 217 to the bot's CAL though she is online: the same. The server
answering VER with MSNP11, 10, 9 and 8 in turn: each time the bot logs in
(QRY accepted) and relays both ways. A connection dropped right after an
authorization request reaches the plugin: the bot comes back. Under
AddressSanitizer (ASAN_OPTIONS set, an ASan build's binaries given) the
workers run with their leak check on, which the core turns off for them
(libpurple's plugins are unloaded by exit and their allocations cannot be
named): PURPLE_LEAKCHECK_HELP keeps them mapped, each worker gets a session
of its own so that it can finish the check after imgroups stops, and no
leak report may name the MSN plugin's sources (before the fix, ns.c's
authorization request was one). A plain build skips that check. The Passport login over HTTPS
with a self-signed certificate (made here with openssl): a bot whose
libpurple keeps that certificate in certificates/x509/tls_peers/ (as an
admin puts it there) logs in; one without it is an account error that says
so.
"""

import glob
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import (  # noqa: E402
        COMPONENT, WAIT, BridgeRun, alive, workers_of)
    from fake_msn import FakeMsnThread  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail, body, kind  # noqa: E402
    from xmppclient import occupant_said as groupchat  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_msn_paths.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

PATHS = "paths@" + COMPONENT
BOT = "pathbot@example.com"
TLSBOT = "tlsbot@example.com"
UNTRUSTED = "untrusted@example.com"
CAROL = "carol@example.com"
DAVE = "dave@example.com"
WATCHDOG = 400
# "account paths is offline: ..." said again within a minute is collapsed
# into a count: the plugin's own line says each drop.
DROPPED = r"paths: debug: purple: msn: giving up the connection"


class Run(BridgeRun):
    SLUG = "msn-paths"
    NAMES = [
        "the XMPP server starts", "the stand-in MSN server starts, HTTPS too",
        "imgroups starts, the bot logs in and answers the CHL",
        "alice joins; carol becomes a member",
        "NAK: the delivery fails, the line waits and reaches carol once",
        "217 to the bot's CAL: the line waits and reaches carol once",
        "MSNP11: logs in (QRY accepted) and relays both ways",
        "MSNP10: logs in (QRY accepted) and relays both ways",
        "MSNP9: logs in (QRY accepted) and relays both ways",
        "MSNP8: logs in (QRY accepted) and relays both ways",
        "a connection dropped under an authorization request: the bot "
        "comes back",
        "HTTPS Passport, certificate in the account's tls_peers: online",
        "HTTPS Passport, certificate unknown: an account error about it",
        "imgroups stops on SIGTERM with status 0",
        "under AddressSanitizer: no leak report names the MSN plugin"]

    def __init__(self, binary, worker, host):
        super().__init__(binary, worker)
        self.host = host

    def main(self):
        self.tap.diag("temp dir %s, the group on %s" % (self.tmp, self.host))
        self.carol = None
        self.check_start(self.NAMES[0],
                         lambda: self.start_xmpp(self.host, ["alice"]))
        self.check_start(self.NAMES[1], self.start_fake)
        self.leak_check = "ASAN_OPTIONS" in os.environ
        if self.leak_check:
            self.worker = self.leak_checked(self.worker)
        f = self.fake.server
        msn = self.msn_options()
        tls = dict(msn, **{"option.nexus": f.nexus_url(tls=True)})
        self.ig = self.new_imgroups([
            ("paths", dict(msn, username=BOT, password="botpw1",
                           group="paths")),
            ("tls", dict(tls, username=TLSBOT, password="tlspw1",
                         group="tls")),
            ("untrusted", dict(tls, username=UNTRUSTED, password="unpw1",
                               group="untrusted")),
        ])
        self.trust_certificate("tls")

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account paths is online", 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        kids = [p for a in ("paths", "tls", "untrusted")
                for p in workers_of(self.ig.pid, a)]
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-2], "exit status %s" % rc)
        if not self.leak_check:
            self.tap.diag("not an ASan run: the workers' leak check is "
                          "not made")
            self.tap.check(True, self.NAMES[-1])
            return
        why = self.plugin_leaks(kids)
        self.tap.check(why is None, self.NAMES[-1], why)

    def start_fake(self):
        cert = os.path.join(self.tmp, "passport-cert.pem")
        key = os.path.join(self.tmp, "passport-key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2",
             "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True)
        self.cert = cert
        self.fake = FakeMsnThread(
            seed=int(os.environ.get("MSN_SEED", "7")), challenge=True,
            tls=(cert, key),
            trace_file=os.path.join(self.tmp, "msn-trace.log")).start()
        f = self.fake.server
        self.tap.diag("fake MSN: ns %d sb %d http %d https %d"
                      % (f.ns_port, f.sb_port, f.http_port, f.https_port))
        for email, pw, name in ((BOT, "botpw1", "Paths"),
                                (TLSBOT, "tlspw1", "Tls"),
                                (UNTRUSTED, "unpw1", "Untrusted"),
                                (CAROL, "carolpw1", "Carol"),
                                (DAVE, "davepw1", "Dave")):
            self.fake.call(f.add_account, email, pw, name)

    def leak_checked(self, worker):
        """A wrapper that runs worker with LeakSanitizer on, reports in
        lsan.PID in the temp dir, in a session of its own."""
        path = os.path.join(self.tmp, "leak-checked-worker")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n"
                    "export ASAN_OPTIONS='detect_leaks=1:log_path=%s'\n"
                    "export PURPLE_LEAKCHECK_HELP=1 G_SLICE=always-malloc\n"
                    "exec setsid '%s' \"$@\"\n"
                    % (os.path.join(self.tmp, "lsan"),
                       os.path.abspath(worker)))
        os.chmod(path, stat.S_IRWXU)
        return path

    def plugin_leaks(self, kids):
        """None, or why: the workers' leak reports (they finish after
        imgroups stops) must not name transports/msn/."""
        deadline = time.monotonic() + 60
        while any(alive(p) for p in kids):
            if time.monotonic() > deadline:
                return "workers %s did not exit" % kids
            time.sleep(0.1)
        bad = []
        for path in glob.glob(os.path.join(self.tmp, "lsan.*")):
            with open(path) as f:
                text = f.read()
            if "transports/msn/" in text:
                bad.append(text)
        return "\n".join(bad)[:3000] if bad else None

    def trust_certificate(self, account):
        """What an admin does for a revival server with a certificate no
        CA signed: the certificate, as PEM, in the account's libpurple
        directory under certificates/x509/tls_peers/, named after the
        host in the Passport URL."""
        d = os.path.join(self.ig.storage, "purple", account, "certificates",
                         "x509", "tls_peers")
        os.makedirs(d, mode=0o700)
        with open(self.cert) as src, \
                open(os.path.join(d, "127.0.0.1"), "w") as dst:
            dst.write(src.read())

    # --- helpers ---------------------------------------------------------
    def qry_ok(self):
        return self.fake.call(lambda: sum(
            1 for w, d in self.fake.server.events
            if w == "qry-ok" and d == BOT))

    async def say(self, text):
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (PATHS, text))
        await a.wait(groupchat(PATHS, "alice", text), "the reflection")

    async def waits_then_arrives(self, text, mark):
        """text failed to reach carol and waits: she comes back (away,
        then available) and gets it once."""
        await self.wait_log(r"account paths: a delivery failed", 30, mark)
        c = self.carol
        if "<alice> " + text in c.texts_from(BOT):
            raise Fail("it reached carol all the same")
        c.set_status("AWY")
        c.set_status("NLN")
        await c.wait(lambda: "<alice> " + text in c.texts_from(BOT),
                     "the line after she came back", 60)
        await self.say("after " + text)
        await c.wait(lambda: "<alice> after " + text in c.texts_from(BOT),
                     "the line said after it", 60)
        n = c.texts_from(BOT).count("<alice> " + text)
        if n != 1:
            raise Fail("arrived %d times" % n)

    # --- the flows -------------------------------------------------------
    async def flows(self):
        if not await self.step(self.NAMES[3], self.member()):
            raise Abort
        steps = [self.nak, self.cal_refused]
        steps += [lambda v=v: self.dialect(v) for v in (11, 10, 9, 8)]
        steps += [self.dropped_under_request, self.tls_trusted,
                  self.tls_unknown]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[4 + i], fn())

    async def member(self):
        if self.qry_ok() < 1:
            raise Fail("the stand-in saw no right QRY")
        await self.join_room("alice", PATHS)
        c = self.carol = await self.msn_user(CAROL, "carolpw1")
        await c.add(BOT)
        await c.wait(lambda: c.presence.get(BOT) == "NLN",
                     "the bot's presence")
        await c.say(BOT, "hello paths")
        msg = await self.x["alice"].wait(
            lambda el: (kind(el) == "message" and body(el) == "hello paths"
                        and el.get("from", "").startswith(PATHS + "/")),
            "carol's line in the room")
        self.nick = msg.get("from").split("/", 1)[1]

    async def nak(self):
        f = self.fake.server
        mark = self.ig.log_mark()
        self.fake.call(f.nak, CAROL)
        await self.say("nak line")
        await self.waits_then_arrives("nak line", mark)

    async def cal_refused(self):
        f = self.fake.server
        c = self.carol
        for sb in list(c.sbs.values()):   # the bot must CAL her again
            sb.close()
        c.sbs.clear()
        await self.poll(lambda: f.sb_open(BOT) == 0,
                        "the bot's switchboards closed")
        mark = self.ig.log_mark()
        self.fake.call(f.refuse, CAROL)
        await self.say("refused line")
        await self.waits_then_arrives("refused line", mark)
        if not any(w == "cal-217" for w, _ in
                   self.fake.call(lambda: list(f.events))):
            raise Fail("the stand-in refused no CAL")

    async def dialect(self, version):
        f = self.fake.server
        before = self.qry_ok()
        mark = self.ig.log_mark()
        self.fake.call(setattr, f, "dialect", version)
        self.fake.call(f.drop, BOT)
        await self.wait_log(DROPPED, 30, mark)
        await self.wait_log(r"the server chose MSNP%d" % version, 60, mark)
        await self.wait_log(r"account paths is online", 60, mark)
        if self.qry_ok() <= before:
            raise Fail("no right QRY at MSNP%d" % version)
        c = self.carol
        line = "carol at MSNP%d" % version
        await c.say(BOT, line)
        await self.x["alice"].wait(groupchat(PATHS, self.nick, line),
                                   "carol's line in the room")
        line = "alice at MSNP%d" % version
        await self.say(line)
        await c.wait(lambda: "<alice> " + line in c.texts_from(BOT),
                     "alice's line at carol")

    async def dropped_under_request(self):
        f = self.fake.server
        mark = self.ig.log_mark()
        self.fake.call(setattr, f, "dialect", 12)
        self.fake.call(f.drop_after_push, BOT)
        dave = await self.msn_user(DAVE, "davepw1")
        await dave.add(BOT)
        await self.wait_log(r"%s added us: asking" % DAVE, 30, mark)
        await self.wait_log(DROPPED, 30, mark)
        await self.wait_log(r"account paths is online", 60, mark)
        # asked again at login, and answered (an open group) this time
        await self.poll(lambda: f.accounts[BOT].lists.get(DAVE, 0) & 2,
                        "dave on the bot's allow list")

    async def tls_trusted(self):
        await self.wait_log(r"account tls is online", 60)

    async def tls_unknown(self):
        lines = await self.wait_log(r"account untrusted is offline: ", 60)
        if "certificate" not in lines[0].lower():
            raise Fail("the reason says nothing of the certificate: %s"
                       % lines[0])


if __name__ == "__main__":
    sys.exit(bridgebase.main_on_host(sys.argv, Run, WATCHDOG))
