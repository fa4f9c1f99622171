"""A raw IRC client for the real-server tests (asyncio): registers a nick,
answers PINGs, records every line it receives and waits for the ones a
check expects. It plays the person on the legacy network."""

import asyncio


class IrcFail(Exception):
    """An expected IRC line did not come."""


def parse(line):
    """(prefix nick, command, params) of one IRC line; the trailing
    parameter is the last of params."""
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    if " :" in line:
        head, _, trailing = line.partition(" :")
        params = head.split() + [trailing]
    else:
        params = line.split()
    command = params.pop(0).upper() if params else ""
    return prefix.split("!", 1)[0], command, params


class IrcClient:
    def __init__(self, port, nick):
        self.port = port
        self.nick = nick
        self.reader = self.writer = None
        self.inbox = []   # (prefix nick, command, params) not yet taken
        self.log = []     # every one of them
        self.arrived = asyncio.Event()
        self.task = None

    async def connect(self, timeout=15):
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port)
        self.send("NICK %s" % self.nick)
        self.send("USER %s 0 * :imgroups test user" % self.nick)
        self.task = asyncio.ensure_future(self._read())
        await self.wait(lambda m: m[1] == "001", "the welcome (001)",
                        timeout)

    async def _read(self):
        while True:
            raw = await self.reader.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            msg = parse(line)
            if msg[1] == "PING":
                self.send("PONG :%s" % (msg[2][-1] if msg[2] else ""))
                continue
            self.inbox.append(msg)
            self.log.append(msg)
            self.arrived.set()

    def send(self, line):
        self.writer.write((line + "\r\n").encode("utf-8"))

    def privmsg(self, to, text):
        self.send("PRIVMSG %s :%s" % (to, text))

    async def wait(self, pred, what, timeout=15):
        """The first unread line matching pred, waiting up to timeout."""
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if pred(m):
                    del self.inbox[i]
                    return m
            left = deadline - loop.time()
            if left <= 0:
                raise IrcFail("%s did not get %s within %d s; unread:\n%s"
                              % (self.nick, what, timeout, self.unread()))
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def wait_privmsg(self, frm, text_pred, what, timeout=15,
                           to=None):
        """A PRIVMSG from nick frm (to us, or to channel `to`) whose text
        satisfies text_pred; returns the text."""
        target = to or self.nick

        def pred(m):
            return (m[1] == "PRIVMSG" and m[0].lower() == frm.lower()
                    and len(m[2]) == 2 and m[2][0].lower() == target.lower()
                    and text_pred(m[2][1]))
        return (await self.wait(pred, what, timeout))[2][1]

    def privmsgs(self, frm):
        """Texts of every PRIVMSG from frm received so far (the log)."""
        return [m[2][1] for m in self.log
                if m[1] == "PRIVMSG" and m[0].lower() == frm.lower()
                and len(m[2]) == 2]

    def unread(self, last=10):
        if not self.inbox:
            return "  (nothing)"
        return "\n".join("  %s %s %s" % m for m in self.inbox[-last:])

    async def quit(self, why="bye", timeout=5):
        """Sends QUIT and returns once the server has closed the connection
        (so it has handled the QUIT), or after timeout."""
        if self.writer is None:
            return
        try:
            self.send("QUIT :%s" % why)
            await self.writer.drain()
            if self.task:
                await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except Exception:  # closing must never fail a test
            pass
        try:
            self.writer.close()
        except Exception:
            pass
        if self.task:
            self.task.cancel()
        self.writer = None
