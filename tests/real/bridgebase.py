"""What the bridge's real tests share: a Run with TAP checks, a temp dir,
an asyncio loop, private Prosody / ngircd / fake MSN / fake Yahoo /
imgroups with its worker (killed and started again: kill_core), people on
each legacy network, alice's iqs and the member-add command, and cleanup
whatever happens; main() runs one under a watchdog."""

import asyncio
import os
import shutil
import signal
import sys
import tempfile

import servers
from fake_ymsg import YmsgFail
from ircclient import IrcClient, IrcFail
from slixmpp.exceptions import IqError, IqTimeout
from xmppclient import Client, Fail, iq_error, presence_from, show

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from tap import Abort, Tap  # noqa: E402  (tests/tap.py)
import tap  # noqa: E402

COMPONENT = "groups.localhost"
WAIT = 15
NS_CMD = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"


class BridgeRun:
    """Subclasses set NAMES (the plan) and write main()."""
    NAMES = []

    def __init__(self, binary, worker):
        self.binary = binary
        self.worker = worker
        self.PLAN = len(self.NAMES)
        self.tap = Tap(self.NAMES)
        self.tmp = tempfile.mkdtemp(prefix="imgroups-%s-" % self.SLUG)
        os.chmod(self.tmp, 0o755)
        self.secret = os.urandom(12).hex()
        self.prosody = self.irc = self.ig = None
        self.ejabberd = None   # start_xmpp("ejabberd", …)
        self.fake = None       # fake_msn's server thread, when started
        self.ymsg = None       # fake_ymsg's server: start_fake_ymsg()
        self.x = {}
        self.irc_users = []
        self.msn_users = []
        self.ymsg_users = []
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def cleanup(self):
        try:
            self.loop.run_until_complete(
                asyncio.wait_for(self.close_all(), 30))
        except Exception:
            pass
        for p in (self.ig, self.irc, self.prosody, self.ejabberd):
            if p:
                p.stop()
        if self.fake:
            self.fake.stop()
        if self.ymsg:
            self.ymsg.stop()
        if os.environ.get("IMGROUPS_KEEP_TMP"):
            self.tap.diag("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    async def close_all(self):
        for u in self.msn_users:
            try:
                await asyncio.wait_for(u.quit(), 5)
            except Exception:
                pass
        for u in self.irc_users + self.ymsg_users:
            await u.quit()
        await asyncio.gather(*(c.close() for c in self.x.values()),
                             return_exceptions=True)

    async def step(self, desc, coro):
        """One check: coro returns None or raises with the reason."""
        try:
            why = await coro
        except (Fail, IrcFail, YmsgFail) as e:
            why = str(e)
        except Exception as e:
            why = "%s: %s" % (type(e).__name__, e)
        if why and self.ig:
            why = "%s\n--- imgroups log ---\n%s" % (why,
                                                   self.ig.log_tails(25))
        return self.tap.check(why is None, desc, why)

    def check_start(self, desc, fn):
        """Runs fn() (starting servers); a ServerError fails desc and
        aborts the run."""
        try:
            fn()
            ok, why = True, None
        except servers.ServerError as e:
            ok, why = False, e
        if not self.tap.check(ok, desc, why):
            raise Abort

    def start_prosody(self, users, extra_hosts=()):
        self.prosody = servers.Prosody(self.tmp, COMPONENT, self.secret,
                                       extra_hosts=extra_hosts)
        self.prosody.start()
        for u in users:
            user, _, host = u.partition("@")
            self.prosody.register(user, user + "-pw", host or None)

    def start_xmpp(self, host, users):
        """The group's XMPP side on host, "prosody" or "ejabberd": users
        registered there, imgroups' component (new_imgroups) linked to it,
        login() on it. Prosody starts either way (start_prosody)."""
        self.start_prosody(users)
        if host == "ejabberd":
            self.ejabberd = servers.Ejabberd(self.tmp, COMPONENT, self.secret)
            self.ejabberd.start()
            for u in users:
                self.ejabberd.register(u, u + "-pw")
            self.prosody.component_port = self.ejabberd.component_port

    def start_ngircd(self):
        self.irc = servers.Ngircd(self.tmp)
        self.irc.start()

    def start_fake_msn(self, accounts, seed=None):
        """Starts fake_msn.py's stand-in MSN server in self.fake (seed
        `seed`, else MSN_SEED, else 7; its traffic in msn-trace.log) with
        `accounts`, (email, password, display name) each; stopped at
        cleanup."""
        from fake_msn import FakeMsnThread
        if seed is None:
            seed = os.environ.get("MSN_SEED", "7")
        self.fake = FakeMsnThread(
            seed=int(seed),
            trace_file=os.path.join(self.tmp, "msn-trace.log")).start()
        f = self.fake.server
        self.tap.diag("fake MSN: ns %d sb %d http %d, seed %s"
                      % (f.ns_port, f.sb_port, f.http_port, seed))
        for email, pw, name in accounts:
            self.fake.call(f.add_account, email, pw, name)

    def msn_options(self):
        """A contacts-mode MSN account's settings for self.fake (username,
        password and group to add)."""
        f = self.fake.server
        return {"protocol": "prpl-imgroups-msn",
                "option.server": "127.0.0.1",
                "option.port": str(f.ns_port),
                "option.nexus": f.nexus_url(),
                "mode": "contacts", "pace_burst": "50", "pace_rate": "50"}

    async def msn_user(self, email, password):
        """A person on self.fake, logged in (fake_msn.MsnClient); signed
        out at cleanup."""
        from fake_msn import MsnClient
        f = self.fake.server
        c = MsnClient("127.0.0.1", f.ns_port, f.nexus_url(), email, password)
        self.msn_users.append(c)
        await c.login()
        return c

    async def irc_user(self, nick, channel=None):
        """A person on self.irc (ircclient.IrcClient) as nick, connected,
        in channel when one is given; QUIT at cleanup."""
        c = IrcClient(self.irc.port, nick)
        self.irc_users.append(c)
        await c.connect()
        if channel:
            c.send("JOIN " + channel)
            await c.wait(lambda m: m[1] == "JOIN" and m[0] == nick,
                         "its JOIN of " + channel)
        return c

    def start_fake_ymsg(self, accounts, buddies=None):
        """fake_ymsg.py's stand-in Yahoo server in self.ymsg with
        accounts ({id: password}) and buddies ({id: [ids]}); stopped at
        cleanup."""
        from fake_ymsg import FakeYmsg
        self.ymsg = FakeYmsg(accounts, buddies)
        self.ymsg.start()

    async def ymsg_user(self, yid, password):
        """A person on self.ymsg (fake_ymsg.YmsgClient), logged in;
        logged off at cleanup."""
        from fake_ymsg import YmsgClient
        c = YmsgClient(self.ymsg.port, yid, password)
        self.ymsg_users.append(c)
        await c.login()
        return c

    async def kill_core(self):
        """SIGKILL to imgroups (a crash: nothing flushed); its workers
        must end by themselves within 10 s (Fail otherwise); then it
        starts again on the same data and is linked to the XMPP server.
        Returns the log mark taken before the start."""
        kids = children(self.ig.pid)
        os.kill(self.ig.pid, signal.SIGKILL)
        await self.loop.run_in_executor(None, self.ig.proc.wait)
        deadline = self.loop.time() + 10
        while any(alive(p) for p in kids):
            if self.loop.time() > deadline:
                raise Fail("a worker outlived its core by 10 s")
            await asyncio.sleep(0.1)
        self.ig._finish()
        mark = self.ig.log_mark()
        await self.loop.run_in_executor(None, self.ig.start)
        await self.wait_log(r"connected to", WAIT, mark)
        return mark

    def new_imgroups(self, accounts, limits=None, legacy=None, admins=None):
        """admins: the service admins' bare JIDs (servers.Imgroups' default,
        admin@localhost, when None)."""
        sections = [("legacy", dict(legacy or {},
                                    worker=os.path.abspath(self.worker)))]
        if limits:
            sections.append(("limits", limits))
        more = {} if admins is None else {"admins": tuple(admins)}
        return servers.Imgroups(
            self.tmp, self.binary, COMPONENT, "127.0.0.1",
            self.prosody.component_port, self.secret, log_level="debug",
            sections=sections, accounts=accounts, **more)

    async def login(self, *users):
        for u in users:
            user, _, host = u.partition("@")
            # users on another host of Prosody's (extra_hosts) stay there
            server = self.ejabberd if self.ejabberd and not host \
                else self.prosody
            self.x[user] = Client(self.loop, server.c2s_port, user,
                                  host or "localhost")
            await self.x[user].login()

    async def join_room(self, user, room):
        """user (logged in first unless it is) joins room as nick user;
        returns once its own presence is back."""
        if user not in self.x:
            await self.login(user)
        self.x[user].send("<presence to='%s/%s'><x xmlns='http://jabber.org/"
                          "protocol/muc'/></presence>" % (room, user))
        await self.x[user].wait(presence_from("%s/%s" % (room, user)),
                                "its own presence in %s" % room)

    async def iq(self, typ, to, payload, user="alice"):
        """An iq from user's session and its result; an error or no
        answer is a Fail."""
        try:
            return await self.x[user].iq(typ, to, payload)
        except (IqError, IqTimeout) as e:
            raise Fail("iq %s to %s: %s" % (typ, to, iq_error(e)))

    async def member_add(self, room, account, handle):
        """alice runs room's member-add command (XEP-0050): executes it,
        then submits account and handle. Returns the <command/> of each
        answer (the second may be None); Fail when the first has no
        session id."""
        res = await self.iq("set", room,
                            "<command xmlns='%s' node='member-add' "
                            "action='execute'/>" % NS_CMD)
        first = res.xml.find("{%s}command" % NS_CMD)
        if first is None or not first.get("sessionid"):
            raise Fail("member-add did not start for %s: %s"
                       % (handle, show(res.xml)))
        res = await self.iq(
            "set", room,
            "<command xmlns='%s' node='member-add' sessionid='%s'>"
            "<x xmlns='%s' type='submit'><field var='account'><value>"
            "%s</value></field><field var='handle'><value>%s</value>"
            "</field></x></command>" % (NS_CMD, first.get("sessionid"),
                                        NS_DATA, account, handle))
        return first, res.xml.find("{%s}command" % NS_CMD)

    async def wait_log(self, regex, timeout, since=0):
        """self.ig.wait_log without blocking the loop."""
        return await self.loop.run_in_executor(
            None, lambda: self.ig.wait_log(regex, timeout, since))

    async def poll(self, fn, what, timeout=30):
        """Waits until fn() (run in self.fake's thread) is true; returns
        it."""
        deadline = self.loop.time() + timeout
        while True:
            r = self.fake.call(fn)
            if r:
                return r
            if self.loop.time() > deadline:
                raise Fail("no %s" % what)
            await asyncio.sleep(0.1)

    async def make_members_only(self, room):
        """alice submits room's owner form with members-only on."""
        await self.iq("set", room,
                      "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                      "<x xmlns='%s' type='submit'>"
                      "<field var='FORM_TYPE'><value>http://jabber.org/"
                      "protocol/muc#roomconfig</value></field>"
                      "<field var='muc#roomconfig_membersonly'><value>1"
                      "</value></field></x></query>" % NS_DATA)

    def run(self, coro, timeout):
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))


def children(pid):
    """PIDs whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(d))
    return out


def alive(pid):
    """pid runs (not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def worker_account(pid):
    """The account a worker runs: the last part of its --user-dir."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().decode("utf-8", "replace").split("\0")
    except OSError:
        return None
    for i, a in enumerate(argv[:-1]):
        if a == "--user-dir":
            return os.path.basename(argv[i + 1].rstrip("/"))
    return None


def workers_of(pid, account):
    """Live worker processes under imgroups `pid` running `account`."""
    return [p for p in children(pid)
            if worker_account(p) == account and alive(p)]


def main(argv, run_class, watchdog):
    """argv: [script, /path/to/imgroups, /path/to/imgroups-purple]."""
    tap.usage(argv, "/path/to/imgroups /path/to/imgroups-purple",
              lambda a: len(a) == 2)
    return tap.run(lambda: run_class(argv[1], argv[2]), watchdog)


def main_on_host(argv, run_class, watchdog):
    """argv: [script, /path/to/imgroups, /path/to/imgroups-purple,
    optionally prosody|ejabberd (prosody when absent)]; run_class takes
    (binary, worker, host)."""
    tap.usage(argv, "/path/to/imgroups /path/to/imgroups-purple "
              "[prosody|ejabberd]",
              lambda a: len(a) == 2 or (len(a) == 3 and
                                        a[2] in ("prosody", "ejabberd")))
    return tap.run(lambda: run_class(argv[1], argv[2],
                                     (argv[3:] or ["prosody"])[0]),
                   watchdog)
