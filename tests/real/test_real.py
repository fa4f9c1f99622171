"""imgroups against a real XMPP server: service discovery, version, ping,
errors, surviving a server crash, and a refused secret. Prints TAP.

    /usr/bin/python3 tests/real/test_real.py prosody|ejabberd /path/to/imgroups

Starts a private server (tests/real/servers.py) under a temp dir, a private
ngircd for the demo-style IRC account, and imgroups attached to the server;
talks to imgroups through a real slixmpp client session (plain text on
loopback). Every process is stopped by its PID at the end, also on failure.
Exits 0 only if every check passed. IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from tap import Abort, Tap  # noqa: E402  (tests/tap.py)

# Before slixmpp's import, which warns about its stringprep fallback.
logging.basicConfig(level=logging.CRITICAL)
try:
    import slixmpp
    import xmppclient  # noqa: E402
    from slixmpp.exceptions import IqError, IqTimeout
except ImportError:
    sys.stderr.write("test_real.py needs slixmpp: run it with /usr/bin/python3 "
                     "(Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
ROOM = "lobby@" + COMPONENT
USER, PASSWORD = "alice", "alice-pw"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
VERSION = "jabber:iq:version"
PING = "urn:xmpp:ping"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
IQ_TIMEOUT = 10
RECONNECT_WITHIN = 60
WATCHDOG = 240  # seconds for the whole run, whatever hangs


class Client:
    """One slixmpp session, driven from the test's event loop."""

    def __init__(self, loop, port):
        self.loop = loop
        self.port = port
        self.xmpp = None

    async def login(self, timeout=20):
        x = slixmpp.ClientXMPP(
            "%s@localhost/test" % USER, PASSWORD,
            plugin_config={"feature_mechanisms": {"unencrypted_plain": True}})
        self.xmpp = x
        done = self.loop.create_future()

        def finish(result):
            if not done.done():
                done.set_result(result)

        x.add_event_handler("session_start", lambda _: finish(None))
        x.add_event_handler("failed_all_auth",
                            lambda _: finish("authentication failed"))
        x.add_event_handler("connection_failed",
                            lambda e: finish("connection failed: %s" % e))
        x.add_event_handler("disconnected",
                            lambda e: finish("disconnected: %s" % e))
        x.connect(("127.0.0.1", self.port), use_ssl=False,
                  force_starttls=False, disable_starttls=True)
        try:
            err = await asyncio.wait_for(done, timeout)
        except asyncio.TimeoutError:
            err = "no session within %d s" % timeout
        if err:
            raise RuntimeError(err)

    async def iq_get(self, payload, to=COMPONENT, timeout=IQ_TIMEOUT):
        """Sends <iq type='get'> with `payload` (an XML string); returns the
        result's payload element list. Raises IqError or IqTimeout."""
        iq = self.xmpp.Iq()
        iq["id"] = self.xmpp.new_id()
        iq["type"] = "get"
        iq["to"] = to
        iq.xml.append(ET.fromstring(payload))
        return await iq.send(timeout=timeout)

    async def close(self):
        if self.xmpp is None:
            return
        try:
            fut = self.xmpp.disconnect(wait=1.0)
            if fut is not None:
                await asyncio.wait_for(fut, 5)
        except Exception:  # closing a session must never fail a test
            pass
        self.xmpp = None


def children(el, tag):
    return [c for c in el if c.tag == tag]


def iq_error(e):
    """A short description of an IqError / IqTimeout / other exception."""
    if isinstance(e, IqError):
        return "error %s/%s: %s" % (e.iq["error"]["type"],
                                    e.iq["error"]["condition"], e.iq)
    if isinstance(e, IqTimeout):
        return "no answer within %d s" % IQ_TIMEOUT
    return "%s: %s" % (type(e).__name__, e)


class Run:
    # Short names of the checks, in order, for the lines of those not run.
    NAMES = [
        "server starts", "user registered", "ngircd starts",
        "imgroups connects", "client logs in", "disco#info identity",
        "disco#info features", "disco#items", "jabber:iq:version",
        "urn:xmpp:ping", "unsupported iq gets service-unavailable",
        "server killed", "server restarted on the same ports",
        "disco#info answers again after the crash",
        "imgroups log shows the reconnection",
        "wrong secret is refused", "wrong secret: alive and retrying",
        "imgroups stops on SIGTERM with status 0"]
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        self.kind = kind
        self.binary = binary
        self.tap = Tap(self.NAMES)
        self.tmp = tempfile.mkdtemp(prefix="imgroups-real-%s-" % kind)
        os.chmod(self.tmp, 0o755)
        self.secret = os.urandom(12).hex()
        self.server = None  # made in main(): a missing server is a failure
        self.irc = servers.Ngircd(self.tmp)
        self.ig = None
        self.bad = None
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def run_async(self, coro, timeout=60):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def imgroups(self, name, secret):
        accounts = [("lobby-irc", {
            "protocol": "prpl-irc",
            "username": "lobbybot@127.0.0.1",
            "password": "",
            "group": "lobby",
            "mode": "chat",
            "chat": "#lobby",
            "option.port": str(self.irc.port),
        })]
        return servers.Imgroups(self.tmp, self.binary, COMPONENT, "127.0.0.1",
                                self.server.component_port, secret, name=name,
                                accounts=accounts, log_level="debug")

    # --- the checks ----------------------------------------------------------
    def main(self):
        t = self.tap
        t.diag("%s, temp dir %s" % (self.kind, self.tmp))
        cls = {"prosody": servers.Prosody,
               "ejabberd": servers.Ejabberd}[self.kind]
        try:
            srv = self.server = cls(self.tmp, COMPONENT, self.secret)
            srv.start()
        except servers.ServerError as e:
            t.check(False, "%s starts" % self.kind, e)
            raise Abort
        t.check(srv.alive() and srv.accepts(),
                "%s starts and accepts on 127.0.0.1 (c2s %d, component %d)"
                % (self.kind, srv.c2s_port, srv.component_port),
                srv.log_tails())
        try:
            srv.register(USER, PASSWORD)
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, "user %s@localhost registered" % USER, why):
            raise Abort
        try:
            self.irc.start()
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        t.check(ok, "ngircd starts (IRC port %d, for the lobby account)"
                % self.irc.port, why)

        self.ig = self.imgroups("imgroups", self.secret)
        try:
            self.ig.start()
            self.ig.wait_log(r"connected to", 15)
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, "imgroups connects to %s as %s"
                       % (self.kind, COMPONENT), why):
            raise Abort

        client = Client(self.loop, srv.c2s_port)
        try:
            self.run_async(client.login())
            ok, why = True, None
        except Exception as e:
            ok, why = False, "%s\n%s" % (e, srv.log_tails(15))
        if not t.check(ok, "client %s@localhost logs in (plain text, no TLS)"
                       % USER, why):
            raise Abort
        try:
            self.run_async(self.service_checks(client), 120)
        finally:
            self.run_async(client.close())

        self.crash_checks()
        self.secret_checks()

        rc = self.ig.stop()
        rc_bad = self.bad.stop() if self.bad else None
        t.check(rc == 0 and rc_bad in (0, None),
                "imgroups stops on SIGTERM with status 0",
                "status %s (wrong-secret instance: %s)\n%s"
                % (rc, rc_bad, self.ig.log_tails(10)))

    async def service_checks(self, c):
        t = self.tap
        # disco#info
        try:
            res = await c.iq_get("<query xmlns='%s'/>" % DISCO_INFO)
            q = res.xml.find("{%s}query" % DISCO_INFO)
            ids = [(i.get("category"), i.get("type"))
                   for i in children(q, "{%s}identity" % DISCO_INFO)]
            feats = {f.get("var")
                     for f in children(q, "{%s}feature" % DISCO_INFO)}
            t.check(("conference", "text") in ids,
                    "disco#info: identity category conference, type text",
                    "identities: %s\n%s" % (ids, res))
            want = {DISCO_INFO, VERSION, PING}
            t.check(want <= feats,
                    "disco#info: features include disco#info, "
                    "jabber:iq:version, urn:xmpp:ping",
                    "missing %s; got %s" % (sorted(want - feats),
                                            sorted(feats)))
        except Exception as e:
            t.check(False, "disco#info: identity category conference, "
                    "type text", iq_error(e))
            t.check(False, "disco#info: features include disco#info, "
                    "jabber:iq:version, urn:xmpp:ping", "no result")

        # disco#items
        try:
            res = await c.iq_get("<query xmlns='%s'/>" % DISCO_ITEMS)
            q = res.xml.find("{%s}query" % DISCO_ITEMS)
            items = [i.get("jid")
                     for i in children(q, "{%s}item" % DISCO_ITEMS)]
            t.check(ROOM in items,
                    "disco#items: a result listing %s" % ROOM,
                    "items: %s\n%s" % (items, res))
        except Exception as e:
            t.check(False, "disco#items: a result listing %s" % ROOM,
                    iq_error(e))

        # jabber:iq:version
        try:
            res = await c.iq_get("<query xmlns='%s'/>" % VERSION)
            q = res.xml.find("{%s}query" % VERSION)
            name = q.findtext("{%s}name" % VERSION)
            ver = q.findtext("{%s}version" % VERSION)
            t.check(name == "imgroups" and bool(ver and ver.strip()),
                    "jabber:iq:version: name imgroups and a version",
                    "name %r version %r\n%s" % (name, ver, res))
            t.diag("version: %s %s" % (name, ver))
        except Exception as e:
            t.check(False, "jabber:iq:version: name imgroups and a version",
                    iq_error(e))

        # urn:xmpp:ping
        try:
            res = await c.iq_get("<ping xmlns='%s'/>" % PING)
            t.check(res["type"] == "result", "urn:xmpp:ping: a result",
                    str(res))
        except Exception as e:
            t.check(False, "urn:xmpp:ping: a result", iq_error(e))

        # an iq nobody handles
        desc = ("unsupported iq get (jabber:iq:last): error "
                "service-unavailable")
        try:
            res = await c.iq_get("<query xmlns='jabber:iq:last'/>")
            t.check(False, desc, "got a result: %s" % res)
        except IqError as e:
            cond = e.iq["error"]["condition"]
            t.check(cond == "service-unavailable", desc, iq_error(e))
        except Exception as e:
            t.check(False, desc, iq_error(e))

    def crash_checks(self):
        t = self.tap
        srv = self.server
        ports = (srv.c2s_port, srv.component_port)
        mark = self.ig.log_mark()
        rc = srv.kill()
        t.check(rc == -signal.SIGKILL and not srv.alive(),
                "%s killed with SIGKILL" % self.kind, "status %s" % rc)
        try:
            srv.start()
            ok, why = (srv.c2s_port, srv.component_port) == ports, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, "%s restarted on the same ports" % self.kind, why):
            raise Abort
        t0 = time.monotonic()
        try:
            err = self.run_async(self.disco_again(mark), RECONNECT_WITHIN + 30)
        except Exception as e:
            err = "%s: %s" % (type(e).__name__, e)
        t.check(err is None,
                "after the crash, disco#info answers again within %d s "
                "(imgroups not restarted)" % RECONNECT_WITHIN,
                "%s\n%s" % (err, self.ig.log_tails(15)))
        if err is None:
            t.diag("imgroups answered again %.1f s after the restart"
                   % (time.monotonic() - t0))
        log = self.ig.log_text(mark)
        lost = re.search(r"disconnected|reconnecting|retrying", log)
        back = re.search(r"\bconnected to", log[lost.end():] if lost else "")
        t.check(bool(lost and back) and self.ig.alive(),
                "imgroups log shows the link lost and re-established",
                "log since the crash:\n%s" % "\n".join(log.splitlines()[-15:]))

    async def disco_again(self, mark):
        """None once imgroups has logged its link back (after log offset
        mark) and disco#info to the component then gets a result."""
        try:
            await self.loop.run_in_executor(
                None, self.ig.wait_log, r"\bconnected to", RECONNECT_WITHIN,
                mark)
        except servers.ServerError as e:
            return "the link did not come back: %s" % e
        c = Client(self.loop, self.server.c2s_port)
        try:
            await c.login()
            res = await c.iq_get("<query xmlns='%s'/>" % DISCO_INFO,
                                 timeout=IQ_TIMEOUT)
            q = res.xml.find("{%s}query" % DISCO_INFO)
            ids = [(i.get("category"), i.get("type")) for i in
                   children(q, "{%s}identity" % DISCO_INFO)]
            if ("conference", "text") not in ids:
                return "disco#info result without the identity: %s" % res
            return None
        except (IqError, IqTimeout) as e:
            return iq_error(e)
        finally:
            await c.close()

    def secret_checks(self):
        t = self.tap
        self.bad = self.imgroups("imgroups-wrong-secret", "not-" + self.secret)
        try:
            self.bad.start()
            hits = self.bad.wait_log(r"refused the secret", 15)
            ok, why = True, None
            t.diag(hits[0])
        except servers.ServerError as e:
            ok, why = False, e
        t.check(ok, "imgroups with a wrong secret: log shows "
                "'refused the secret'", why)
        # A retry is a second refusal (imgroups logs repeats at debug level;
        # this instance runs at debug), announced by the first.
        try:
            hits = self.bad.wait_log(r"refused the secret", 15, count=2)
            ok = self.bad.alive() and bool(
                re.search(r"retrying|reconnecting", hits[0]))
            why = "log:\n%s" % self.bad.log_tails(10)
        except servers.ServerError as e:
            ok, why = False, e
        t.check(ok, "imgroups with a wrong secret stays alive and retries",
                why)

    # --- running -------------------------------------------------------------
    def cleanup(self):
        for p in (self.bad, self.ig, self.irc, self.server):
            if p is not None:
                try:
                    p.stop()
                except Exception as e:  # keep stopping the others
                    self.tap.diag("stopping %s: %s" % (p.name, e))
        try:
            # slixmpp leaves tasks behind (its send queue filters): end them
            # before closing the loop, or they complain at exit.
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            self.loop.run_until_complete(
                asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()
        except Exception:
            pass
        if self.tap.failed or os.environ.get("IMGROUPS_KEEP_TMP"):
            self.tap.diag("logs kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
