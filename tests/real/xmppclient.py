"""What the real-server tests share on the XMPP side: a slixmpp session
that records every stanza it receives and waits for the ones a check
expects, and small readers of those stanzas."""

import asyncio
import copy
import logging
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402  (tests/tap.py: the TAP lines and the run loop)

# Before slixmpp's import, which warns about its stringprep fallback.
logging.basicConfig(level=logging.CRITICAL)
import slixmpp  # noqa: E402
from slixmpp.exceptions import IqError, IqTimeout  # noqa: E402
from slixmpp.xmlstream import tostring  # noqa: E402
from slixmpp.xmlstream.handler import Callback  # noqa: E402
from slixmpp.xmlstream.matcher import MatchXPath  # noqa: E402

CLIENT = "{jabber:client}"
NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = NS_MUC + "#user"
NS_OID = "urn:xmpp:occupant-id:0"
NS_MAM = "urn:xmpp:mam:2"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
WAIT = 10        # seconds for any one expected stanza or answer


class Fail(Exception):
    """One check failed; the message says why."""


def show(el):
    """One stanza as XML text, for diagnostics."""
    if el is None:
        return "(none)"
    try:
        return tostring(el)
    except Exception:
        return ET.tostring(el, encoding="unicode")


def bare(jid):
    return (jid or "").split("/", 1)[0]


def kind(el):
    return el.tag[len(CLIENT):] if el.tag.startswith(CLIENT) else el.tag


def ptype(el):
    return el.get("type") or "available"


def user_x(el):
    return el.find("{%s}x" % NS_USER)


def codes(el):
    x = user_x(el)
    if x is None:
        return set()
    out = set()
    for s in x.findall("{%s}status" % NS_USER):
        try:
            out.add(int(s.get("code")))
        except (TypeError, ValueError):
            pass
    return out


def item(el):
    x = user_x(el)
    return None if x is None else x.find("{%s}item" % NS_USER)


def body(el):
    return el.findtext(CLIENT + "body")


def occupant_id(el):
    o = el.find("{%s}occupant-id" % NS_OID)
    return None if o is None else o.get("id")


# --- predicates over received stanzas ------------------------------------
def presence_from(frm, typ="available"):
    return lambda el: (kind(el) == "presence" and el.get("from") == frm
                       and ptype(el) == typ)


def groupchat_from(frm, text):
    return lambda el: (kind(el) == "message" and el.get("from") == frm
                       and el.get("type") == "groupchat" and body(el) == text)


def occupant_said(room, nick, text):
    """A groupchat message text from room/nick."""
    return groupchat_from("%s/%s" % (room, nick), text)


def mam_result(room, queryid):
    """A MAM (XEP-0313) result message from room for the query queryid."""
    def pred(el):
        if kind(el) != "message" or el.get("from") != room:
            return False
        r = el.find("{%s}result" % NS_MAM)
        return r is not None and r.get("queryid") == queryid
    return pred


def occupant_show(room, nick, value):
    """An available presence of room/nick whose <show/> is value (None:
    none)."""
    return lambda el: (kind(el) == "presence" and
                       el.get("from") == "%s/%s" % (room, nick) and
                       el.get("type") is None and
                       el.findtext(CLIENT + "show") == value)


class Client:
    """One slixmpp session that records every message and presence it
    receives, numbered in arrival order."""

    def __init__(self, loop, port, user, host="localhost", password=None):
        self.loop = loop
        self.port = port
        self.user = user
        self.password = password or user + "-pw"
        self.jid = "%s@%s/muc-test" % (user, host)
        self.xmpp = None
        self.inbox = []    # (n, element) not yet taken by a wait
        self.log = []      # (n, element), all of them
        self.count = 0
        self.arrived = asyncio.Event()

    def _record(self, stanza):
        el = copy.deepcopy(stanza.xml)
        self.count += 1
        self.inbox.append((self.count, el))
        self.log.append((self.count, el))
        self.arrived.set()

    async def login(self, timeout=20):
        x = slixmpp.ClientXMPP(
            self.jid, self.password,
            plugin_config={"feature_mechanisms": {"unencrypted_plain": True}})
        self.xmpp = x
        for what in ("message", "presence"):
            x.register_handler(Callback(
                "muc-test %s" % what,
                MatchXPath("{%s}%s" % (x.default_ns, what)), self._record))
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
            raise RuntimeError("%s: %s" % (self.user, err))
        self.jid = str(x.boundjid)

    def send(self, xml):
        """Sends a raw stanza (the stream's default namespace is
        jabber:client)."""
        self.xmpp.send_raw(xml)

    async def iq(self, typ, to, payload, timeout=WAIT):
        iq = self.xmpp.Iq()
        iq["id"] = self.xmpp.new_id()
        iq["type"] = typ
        iq["to"] = to
        iq.xml.append(ET.fromstring(payload))
        return await iq.send(timeout=timeout)

    def forget(self):
        """Drops what arrived so far (not from the log)."""
        self.inbox.clear()

    def take_all(self, pred):
        got = [(n, el) for n, el in self.inbox if pred(el)]
        self.inbox = [(n, el) for n, el in self.inbox if not pred(el)]
        return got

    async def wait_n(self, pred, what, timeout=WAIT):
        """The first unread stanza matching `pred` as (n, element), waiting
        up to `timeout` seconds; Fail names `what` and lists what came."""
        deadline = self.loop.time() + timeout
        while True:
            for i, (n, el) in enumerate(self.inbox):
                if pred(el):
                    del self.inbox[i]
                    return n, el
            left = deadline - self.loop.time()
            if left <= 0:
                raise Fail("%s did not get %s within %d s; unread:\n%s"
                           % (self.user, what, timeout, self.unread()))
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def wait(self, pred, what, timeout=WAIT):
        return (await self.wait_n(pred, what, timeout))[1]

    def unread(self, last=8):
        if not self.inbox:
            return "  (nothing)"
        return "\n".join("  %d: %s" % (n, show(el))
                         for n, el in self.inbox[-last:])

    def received_between(self, lo, hi):
        return [(n, el) for n, el in self.log if lo < n < hi]

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


def iq_error(e):
    if isinstance(e, IqError):
        return "error %s/%s: %s" % (e.iq["error"]["type"],
                                    e.iq["error"]["condition"], e.iq)
    if isinstance(e, IqTimeout):
        return "no answer within %d s" % WAIT
    return "%s: %s" % (type(e).__name__, e)


def join_answer(room, nick):
    """The answer to a join of `room` as `nick`: the self-presence or an
    error (other occupants' presences come from other nicks)."""
    return lambda el: (kind(el) == "presence"
                       and el.get("from") == "%s/%s" % (room, nick)
                       and ptype(el) in ("available", "error"))


def stanza_error(el):
    """The defined condition of an error stanza, or None."""
    e = el.find(CLIENT + "error")
    if e is None:
        return None
    for ch in e:
        if ch.tag.startswith("{%s}" % NS_STANZAS) and \
                not ch.tag.endswith("}text"):
            return ch.tag[len(NS_STANZAS) + 2:]
    return None


def data_form(fields, typ="submit", form_type=NS_MUC + "#roomconfig"):
    """A data form (XEP-0004) from {var: value}, values already XML text:
    the room configuration by default."""
    out = ["<x xmlns='jabber:x:data' type='%s'><field var='FORM_TYPE'>"
           "<value>%s</value></field>" % (typ, form_type)]
    for var, value in fields.items():
        out.append("<field var='%s'><value>%s</value></field>" % (var, value))
    return "".join(out) + "</x>"


def item_reason(el):
    it = item(el)
    return None if it is None else it.findtext("{%s}reason" % NS_USER)


def end_loop(loop):
    """Ends the tasks slixmpp leaves behind (its send queue filters) and
    closes `loop`; never raises (it runs while a test cleans up)."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks,
                                               return_exceptions=True))
        loop.close()
    except Exception:
        pass


class ClientRun:
    """What the real-server runs with client sessions share: a TAP plan of
    NAMES checks, a private temp dir, the shared secret, the asyncio loop the
    clients run on, and one check per step. A subclass sets NAMES, PLAN and
    its own fields."""

    PLAN = 0

    def __init__(self, kind, binary, prefix):
        import tempfile
        self.kind = kind
        self.binary = binary
        self.tap = tap.Tap(self.NAMES)
        self.tmp = tempfile.mkdtemp(prefix="imgroups-%s-%s-" % (prefix, kind))
        os.chmod(self.tmp, 0o755)
        self.secret = os.urandom(12).hex()
        self.server = None  # made in main(): a missing server is a failure
        self.ig = None
        self.clients = {}   # user -> Client, made by log_in
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def run_async(self, coro, timeout=60):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    async def step(self, desc, coro, todo=None):
        """Runs one check: `coro` returns None on success or raises Fail
        (or anything else) with the reason. todo: why it is known to fail
        (a reference server's gap: TAP TODO, run and shown, not counted)."""
        try:
            why = await coro
        except Fail as e:
            why = str(e)
        except (IqError, IqTimeout) as e:
            why = iq_error(e)
        except Exception as e:
            why = "%s: %s" % (type(e).__name__, e)
        return self.tap.check(why is None, desc, why, todo=todo)

    async def in_thread(self, fn, *args):
        return await self.loop.run_in_executor(None, fn, *args)

    def start_server(self, component, users):
        """Starts the private server of self.kind for `component` (kept in
        self.server) and registers `users`, each with the password user +
        "-pw": two checks; raises tap.Abort when either fails."""
        import servers
        t = self.tap
        cls = {"prosody": servers.Prosody,
               "ejabberd": servers.Ejabberd}[self.kind]
        try:
            srv = self.server = cls(self.tmp, component, self.secret)
            srv.start()
        except servers.ServerError as e:
            t.check(False, "%s starts" % self.kind, e)
            raise tap.Abort
        t.check(srv.alive() and srv.accepts(),
                "%s starts and accepts on 127.0.0.1 (c2s %d, component %d)"
                % (self.kind, srv.c2s_port, srv.component_port),
                srv.log_tails())
        try:
            for u in users:
                srv.register(u, u + "-pw")
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not t.check(ok, "%s registered" % ", ".join(
                "%s@localhost" % u for u in users), why):
            raise tap.Abort
        return srv

    def start_imgroups(self, ig, desc):
        """Starts `ig` (kept in self.ig) and waits for its link to the
        server: one check, `desc`; raises tap.Abort when it fails."""
        import servers
        self.ig = ig
        try:
            ig.start()
            ig.wait_log(r"connected to", 15)
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not self.tap.check(ok, desc, why):
            raise tap.Abort

    def run_attached(self, component, users, flows, watchdog):
        """The usual run: the server with `users`, imgroups (debug log)
        attached to it as `component`, then flows() on the loop within
        `watchdog` seconds; the sessions are closed whatever happened."""
        import servers
        srv = self.start_server(component, users)
        self.start_imgroups(
            servers.Imgroups(self.tmp, self.binary, component, "127.0.0.1",
                             srv.component_port, self.secret,
                             log_level="debug"),
            "imgroups connects to %s as %s" % (self.kind, component))
        try:
            self.run_async(flows(), watchdog)
        finally:
            self.run_async(asyncio.gather(
                *(c.close() for c in self.clients.values()),
                return_exceptions=True), 30)

    async def log_in(self, users):
        """A Client for each of `users` in self.clients, all logged in to
        self.server: one check; raises tap.Abort when one fails."""
        for u in users:
            self.clients[u] = Client(self.loop, self.server.c2s_port, u)
        try:
            await asyncio.gather(*(self.clients[u].login() for u in users))
            ok, why = True, None
        except Exception as e:
            ok, why = False, "%s\n%s" % (e, self.server.log_tails(15))
        if not self.tap.check(ok, "%s log in (plain text, no TLS)"
                              % ", ".join(users), why):
            raise tap.Abort

    def finish(self, procs, report=None):
        """The end of a run, also on failure: stops each of `procs` that
        was made (the others too when one fails), ends the loop, calls
        report() for diagnostics (its failure is a diag line, not a
        failed check) and removes the temp dir unless a check failed or
        IMGROUPS_KEEP_TMP is set."""
        import shutil
        for p in procs:
            if p is not None:
                try:
                    p.stop()
                except Exception as e:  # keep stopping the others
                    self.tap.diag("stopping %s: %s" % (p.name, e))
        end_loop(self.loop)
        if report is not None:
            try:
                report()
            except Exception as e:
                self.tap.diag("reading logs: %s" % e)
        if self.tap.failed or os.environ.get("IMGROUPS_KEEP_TMP"):
            self.tap.diag("logs kept in %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv, run_class, watchdog):
    """argv: [script, prosody|ejabberd, /path/to/imgroups]; runs
    run_class(server, binary) through tap.run."""
    tap.usage(argv, "prosody|ejabberd /path/to/imgroups",
              lambda a: len(a) == 2 and a[0] in ("prosody", "ejabberd")
              and os.access(a[1], os.X_OK))
    return tap.run(lambda: run_class(argv[1], argv[2]), watchdog, argv[1])
