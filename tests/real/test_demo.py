"""The demo end to end (scripts/demo.py, run as a newcomer would, without a
terminal): it starts Prosody, ngircd, the MSN and Yahoo stand-ins and
imgroups, and prints its guide; then, following the guide, an XMPP client
joins lobby, an IRC user speaks in #lobby, and an MSN and a Yahoo user
talk through the bundled client (tests/real/legacy_chat.py) with the
command lines the guide printed. The XMPP client sees an occupant from each
network, and a line from the room reaches all three. TAP on stdout.

    /usr/bin/python3 tests/real/test_demo.py /path/to/imgroups
"""

import asyncio
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import tap as realtap  # noqa: E402  (tests/tap.py)
from ircclient import IrcClient  # noqa: E402
from xmppclient import Client, body, kind, presence_from  # noqa: E402

COMPONENT = "groups.localhost"
LOBBY = "lobby@" + COMPONENT
WATCHDOG = 400
START_WAIT = 120


class Proc:
    """A child process whose stdout is read line by line into `lines`."""

    def __init__(self, argv, stdin=False):
        self.argv = argv
        self.stdin = stdin
        self.proc = None
        self.lines = []
        self.more = asyncio.Event()
        self.task = None

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, cwd=TOP, start_new_session=True,
            stdin=asyncio.subprocess.PIPE if self.stdin
            else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self.task = asyncio.ensure_future(self._read())
        return self

    async def _read(self):
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                break
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
            self.more.set()
        self.more.set()

    async def wait_line(self, pred, what, timeout):
        """The first line (of all so far) matching pred."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for line in self.lines:
                if pred(line):
                    return line
            left = deadline - loop.time()
            if left <= 0 or (self.task.done() and not self.more.is_set()):
                raise Fail("no %s within %d s; last lines:\n%s"
                           % (what, timeout, "\n".join(self.lines[-15:])))
            self.more.clear()
            try:
                await asyncio.wait_for(self.more.wait(), left)
            except asyncio.TimeoutError:
                pass

    def send(self, text):
        self.proc.stdin.write((text + "\n").encode())

    async def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        try:
            self.proc.send_signal(sig)
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            os.killpg(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()
            return None


class Fail(Exception):
    pass


def said(room, text):
    """A groupchat message in room whose body is text."""
    return lambda el: (kind(el) == "message" and el.get("type") == "groupchat"
                       and (el.get("from") or "").startswith(room + "/")
                       and body(el) == text)


class Run:
    NAMES = [
        "the demo starts everything and prints its guide",
        "the guide says plainly that the MSN and Yahoo servers are stand-ins",
        "the guide gives a command to talk as an MSN user and as a Yahoo user",
        "alice joins lobby over XMPP",
        "an IRC user's line in ♯lobby comes from their occupant",
        "an MSN user, with the guide's command, is welcomed and speaks in "
        "the room",
        "a Yahoo user, with the guide's command, is welcomed and speaks in "
        "the room",
        "alice sees an IRC, an MSN and a Yahoo occupant in lobby",
        "alice's line reaches ♯lobby, the MSN user and the Yahoo user",
        "the demo stops on SIGTERM with status 0",
    ]
    PLAN = len(NAMES)

    def __init__(self, binary):
        self.binary = os.path.abspath(binary)
        self.tap = realtap.Tap(self.NAMES)
        self.tmp = tempfile.mkdtemp(prefix="imgroups-demo-")
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.demo = None
        self.chats = []
        self.alice = self.dan = None

    async def step(self, coro):
        desc = self.NAMES[self.tap.n]
        try:
            why = await coro
        except Exception as e:
            why = "%s: %s" % (type(e).__name__, e)
        return self.tap.check(why is None, desc, why)

    def main(self):
        self.loop.run_until_complete(self.flows())

    async def flows(self):
        self.demo = await Proc([sys.executable, "scripts/demo.py", "--quiet",
                                "--run-dir", os.path.join(self.tmp, "run"),
                                "--binary", self.binary]).start()
        if not await self.step(self.started()):
            raise realtap.Abort
        await self.step(self.stand_ins_named())
        if not await self.step(self.commands()):
            raise realtap.Abort
        if not await self.step(self.alice_joins()):
            raise realtap.Abort
        await self.step(self.from_irc())
        self.msn = await self.step(self.from_legacy(self.msn_cmd, "msn"))
        self.yahoo = await self.step(self.from_legacy(self.y_cmd, "yahoo"))
        await self.step(self.three_networks())
        await self.step(self.from_xmpp())
        rc = await self.demo.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "status %r" % rc)

    async def started(self):
        await self.demo.wait_line(lambda s: s.startswith("Ctrl-C stops"),
                                  "guide", START_WAIT)
        self.guide = "\n".join(self.demo.lines)
        self.c2s = int(re.search(r"server 127.0.0.1 port (\d+)",
                                 self.guide).group(1))
        self.irc_port = int(re.search(r"irssi -c 127.0.0.1 -p (\d+)",
                                      self.guide).group(1))

    async def stand_ins_named(self):
        if not re.search(r"MSN and Yahoo STAND-INS", self.guide) or \
                "not real" not in self.guide:
            return "the guide:\n" + self.guide

    async def commands(self):
        cmds = [s.strip() for s in self.demo.lines
                if "legacy_chat.py" in s and "--to" in s]
        msn = [c for c in cmds if " msn " in c]
        yahoo = [c for c in cmds if " yahoo " in c]
        if not msn or not yahoo:
            return "no commands in:\n" + self.guide
        self.msn_cmd, self.y_cmd = shlex.split(msn[0]), shlex.split(yahoo[0])

    async def alice_joins(self):
        self.alice = Client(self.loop, self.c2s, "alice", password="alice")
        await self.alice.login()
        self.alice.send("<presence to='%s/alice'><x xmlns='http://jabber.org/"
                        "protocol/muc'/></presence>" % LOBBY)
        await self.alice.wait(presence_from(LOBBY + "/alice"),
                              "her own presence in lobby", 30)

    async def from_irc(self):
        self.dan = IrcClient(self.irc_port, "dan")
        await self.dan.connect()
        self.dan.send("JOIN #lobby")
        await self.dan.wait(lambda m: m[1] == "366", "the end of NAMES")
        self.dan.privmsg("#lobby", "hello from irc")
        try:
            el = await self.alice.wait(said(LOBBY, "hello from irc"),
                                       "dan's line in the room", 60)
        except Exception as e:
            raise Fail("%s\ndan got: %r" % (e, self.dan.log))
        self.irc_nick = el.get("from").split("/", 1)[1]

    async def from_legacy(self, argv, network):
        c = await Proc(argv, stdin=True).start()
        self.chats.append(c)
        await c.wait_line(lambda s: s.startswith("ready:"),
                          "%s client ready" % network, 60)
        text = "hello from %s" % network
        c.send(text)
        await c.wait_line(lambda s: "Welcome to the group" in s,
                          "the bot's welcome on %s" % network, 60)
        el = await self.alice.wait(said(LOBBY, text),
                                   "the %s line in the room" % network, 60)
        setattr(self, network + "_nick", el.get("from").split("/", 1)[1])
        return None

    async def three_networks(self):
        nicks = [getattr(self, n + "_nick", None)
                 for n in ("irc", "msn", "yahoo")]
        if None in nicks or len(set(nicks)) != 3:
            return "occupants %r" % nicks
        for n in nicks:
            await self.alice.wait(presence_from("%s/%s" % (LOBBY, n)),
                                  "%s's presence" % n, 10)

    async def from_xmpp(self):
        text = "hello from xmpp"
        self.alice.send("<message to='%s' type='groupchat'><body>%s</body>"
                        "</message>" % (LOBBY, text))
        await self.dan.wait_privmsg("lobbybot", lambda s: text in s,
                                    "alice's line in #lobby", 60,
                                    to="#lobby")
        for c in self.chats:
            await c.wait_line(lambda s: s.endswith("<alice> " + text),
                              "alice's line at %s" % c.argv[2], 60)

    def cleanup(self):
        async def close():
            for c in self.chats:
                if c.proc and c.proc.returncode is None:
                    c.proc.stdin.close()
                    await c.stop()
            if self.dan:
                await self.dan.quit()
            if self.alice:
                await self.alice.close()
            if self.demo:
                await self.demo.stop()
        try:
            self.loop.run_until_complete(asyncio.wait_for(close(), 60))
        except Exception as e:
            self.tap.diag("cleanup: %s" % e)
        if self.tap.failed and self.demo:
            self.tap.diag("\n".join(self.demo.lines[-30:]))
            log = os.path.join(self.tmp, "run", "imgroups", "imgroups.log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    self.tap.diag("".join(f.readlines()[-40:]))
        if os.environ.get("IMGROUPS_KEEP_TMP"):
            self.tap.diag("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv):
    realtap.usage(argv, "/path/to/imgroups",
                  lambda a: len(a) == 1 and os.access(a[0], os.X_OK))
    return realtap.run(lambda: Run(argv[1]), WATCHDOG)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
