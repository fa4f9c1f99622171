"""What the bridge's real tests share: a Run with TAP checks, a temp dir,
an asyncio loop, private Prosody / ngircd / imgroups with its worker, and
cleanup whatever happens; main() runs one under a watchdog."""

import asyncio
import os
import shutil
import sys
import tempfile

import servers
from ircclient import IrcFail
from xmppclient import Client, Fail

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from tap import Abort, Tap  # noqa: E402  (tests/tap.py)
import tap  # noqa: E402

COMPONENT = "groups.localhost"
WAIT = 15


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
        self.x = {}
        self.irc_users = []
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def cleanup(self):
        try:
            self.loop.run_until_complete(
                asyncio.wait_for(self.close_all(), 30))
        except Exception:
            pass
        for p in (self.ig, self.irc, self.prosody):
            if p:
                p.stop()
        if os.environ.get("IMGROUPS_KEEP_TMP"):
            self.tap.diag("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    async def close_all(self):
        for u in self.irc_users:
            await u.quit()
        await asyncio.gather(*(c.close() for c in self.x.values()),
                             return_exceptions=True)

    async def step(self, desc, coro):
        """One check: coro returns None or raises with the reason."""
        try:
            why = await coro
        except (Fail, IrcFail) as e:
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

    def start_ngircd(self):
        self.irc = servers.Ngircd(self.tmp)
        self.irc.start()

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
            self.x[user] = Client(self.loop, self.prosody.c2s_port, user,
                                  host or "localhost")
            await self.x[user].login()

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
