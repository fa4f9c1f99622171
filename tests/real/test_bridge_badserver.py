"""Hostile legacy servers, for real: imgroups with MSN and Yahoo bots (the
project's plugins in their real workers) pointed at small servers of this
test that misbehave the moment the bot connects: one closes at once, one
sends garbage, one sends a truncated packet then closes, one a packet
claiming an absurd length. A real revival server cannot be made to do that,
so these servers stand in for broken ones. Every account must be reported
offline with a reason, its worker must stay alive (no crash, no restart),
retrying, and the room must not notice. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_badserver.py /path/to/imgroups /path/to/imgroups-purple
"""

import asyncio
import os
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_badserver.py: %s (run it with "
                     "/usr/bin/python3, which sees Debian's python3-slixmpp)\n"
                     % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
WATCHDOG = 240


def ymsg(service, payload=b"", length=None):
    """A YMSG10 packet; length (if given) overrides the true one."""
    n = len(payload) if length is None else length
    return (b"YMSG" + struct.pack(">HHHHII", 10, 0, n, service, 1, 0)
            + payload)


# What each server sends to every connection before it closes it.
BEHAVIOURS = {
    "close": b"",
    "garbage": bytes(range(256)) * 8 + b"\xff\xfe\r\n\x00\x00\r\n",
    "truncated-msn": b"VER 1 MSNP12\r\nCVR 2 7.5 7.5 7.5 http://x http://x\r\n"
                     b"USR 3 TWN S ct=1,rver=1\r\nMSG Hotmail Hotmail 9999\r\n"
                     b"MIME-Version: 1.0\r\n",
    "truncated-ymsg": ymsg(0x4C) + ymsg(0x57, b"1\xc0\x80al"),
    "absurd-ymsg": ymsg(0x57, b"1\xc0\x80alice\xc0\x80", length=65535),
    "absurd-msn": b"VER 1 MSNP12\r\nMSG Hotmail Hotmail 4294967296\r\n",
}


WHAT = {"close": "closes at once", "garbage": "sends garbage",
        "truncated": "sends a truncated packet and closes",
        "absurd": "claims an absurd length"}


class BadServer:
    """Accepts on 127.0.0.1, sends its bytes, closes. Counts connections."""

    def __init__(self, data):
        self.data = data
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                c.settimeout(2)
                try:
                    c.recv(4096)      # let the client speak first
                except socket.timeout:
                    pass
                if self.data:
                    c.sendall(self.data)
                time.sleep(0.2)
            except OSError:
                pass
            finally:
                c.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


class Run(BridgeRun):
    SLUG = "bridge-badserver"
    CASES = [("msn", "close"), ("msn", "garbage"), ("msn", "truncated-msn"),
             ("msn", "absurd-msn"), ("yahoo", "close"), ("yahoo", "garbage"),
             ("yahoo", "truncated-ymsg"), ("yahoo", "absurd-ymsg")]
    NAMES = (["prosody starts", "imgroups starts with eight bots on broken "
              "servers", "alice logs in and joins the room"] +
             ["%s against a server that %s: offline with a reason, retried"
              % (net, WHAT[how.split("-")[0]]) for net, how in CASES] +
             ["no worker crashed or was restarted",
              "the room still works",
              "imgroups stops on SIGTERM with status 0"])

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.servers = {}
        self.check_start(self.NAMES[0], lambda: self.start_prosody(["alice"]))
        accounts = []
        for net, how in self.CASES:
            srv = BadServer(BEHAVIOURS[how])
            name = "%s-%s" % (net, how.split("-")[0])
            self.servers[name] = srv
            if net == "msn":
                accounts.append((name, {
                    "protocol": "prpl-imgroups-msn",
                    "username": "bot@example.com", "password": "pw",
                    "group": "lobby", "option.server": "127.0.0.1",
                    "option.port": str(srv.port),
                    "option.nexus": "http://127.0.0.1:%d/rdr/pprdr.asp"
                                    % srv.port}))
            else:
                accounts.append((name, {
                    "protocol": "prpl-imgroups-yahoo", "username": "bot",
                    "password": "pw", "group": "lobby",
                    "option.server": "127.0.0.1",
                    "option.port": str(srv.port)}))
        self.ig = self.new_imgroups(accounts)

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
        self.check_start(self.NAMES[1], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def cleanup(self):
        super().cleanup()
        for s in self.servers.values():
            s.stop()

    async def flows(self):
        await self.step(self.NAMES[2], self.join())
        for i, (net, how) in enumerate(self.CASES):
            await self.step(self.NAMES[3 + i],
                            self.offline("%s-%s" % (net, how.split("-")[0])))
        n = 3 + len(self.CASES)
        await self.step(self.NAMES[n], self.no_crash())
        await self.step(self.NAMES[n + 1], self.room_works())

    async def join(self):
        await self.join_room("alice", LOBBY)

    async def offline(self, name):
        lines = await self.loop.run_in_executor(
            None, self.ig.wait_log, r"account %s is offline: \S" % name, 60)
        srv = self.servers[name]
        deadline = time.monotonic() + 60
        while srv.connections < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if srv.connections < 2:
            return "not retried: %d connection(s); %s" % (srv.connections,
                                                          lines[0])
        self.tap.diag(lines[0].split(" warning ")[-1])
        return None

    async def no_crash(self):
        log = self.ig.log_text()
        # legacy.c: "account A: worker killed by signal N; restarting ..."
        crashed = re.findall(r".*account \S+: worker (?:killed by signal|"
                             r"exited).*", log)
        starts = {}
        for m in re.finditer(r"account (\S+): worker started", log):
            starts[m.group(1)] = starts.get(m.group(1), 0) + 1
        again = {k: v for k, v in starts.items() if v > 1}
        if crashed or again:
            return "crashes: %r; started more than once: %r" % (crashed[:3],
                                                                again)
        return None

    async def room_works(self):
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>still here</body>"
               "</message>" % LOBBY)
        await a.wait(lambda el: el.get("from") == LOBBY + "/alice"
                     and el.findtext("{jabber:client}body") == "still here",
                     "the reflection")


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
