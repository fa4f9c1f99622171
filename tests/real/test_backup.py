"""Backup, restore and dump of a running imgroups (component/admin/backup.c)
through a real XMPP server: while alice floods a room, `imgroups --backup`
is taken three times; `--dump` runs beside the live core and shows no
password; `--restore` over the running core is refused and changes nothing;
after the stop, each backup restored into a fresh store holds exactly a
prefix of the room's archive (every message whose echo came before the
backup began, none that was not yet sent when it ended, no gap) and every
other database as the core left it; imgroups runs on the restored store and
gives the room's history from it. Prints TAP.

    /usr/bin/python3 tests/real/test_backup.py prosody|ejabberd /path/to/imgroups

IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import servers  # noqa: E402
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, body, join_answer, kind, ptype, show)
except ImportError:
    sys.stderr.write("test_backup.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
ROOM = "flood@" + COMPONENT
USERS = ("alice",)
NS_MUC = "http://jabber.org/protocol/muc"
BACKUPS = 3
WINDOW = 10       # messages in flight at once
WATCHDOG = 300
# Databases that messages write to; every other one must be equal.
MOVING = ("archive", "archive_gaps", "outbox")


def parse_dump(text):
    """{database: [record lines]} of an `imgroups --dump`."""
    dbs, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^\[(\w+)\] ", line)
        if m:
            cur = dbs.setdefault(m.group(1), [])
        elif cur is not None and line:
            cur.append(line)
    return dbs


def flood_seqs(lines):
    """{seq: line} of the flood room's messages in an archive dump."""
    out = {}
    for line in lines:
        m = re.match(r"^\('flood', #(\d+)\) = ", line)
        if m:
            out[int(m.group(1))] = line
    return out


class Run(ClientRun):
    NAMES = (["server starts", "users registered", "imgroups connects",
              "clients log in", "alice joins the flood room",
              "--dump beside the running core lists every database and "
              "masks the bot's password (in the store, absent from the dump)",
              "%d backups taken while alice floods the room, each with a "
              "manifest, in a directory closed to others" % BACKUPS,
              "--restore over the running core is refused (in use) and "
              "changes nothing; the core goes on",
              "imgroups stops on SIGTERM with status 0"]
             + ["backup %d restored into a fresh store: the room's archive is "
                "1..n without a gap, identical to the core's, n between the "
                "echoes before and the messages sent after the backup; every "
                "other database equal" % (i + 1) for i in range(BACKUPS)]
             + ["imgroups runs on the restored store: alice rejoins and the "
                "history ends with the last message the backup holds"])
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "backup")
        self.password = "bot-pw-" + os.urandom(6).hex()
        self.sent = 0
        self.echoed = 0
        self.flooding = True
        self.progress = None  # an asyncio.Event: set at each echo
        self.windows = []   # (echoed before, sent after) per backup
        self.dirs = [os.path.join(self.tmp, "backup%d" % (i + 1))
                     for i in range(BACKUPS)]

    def imgroups(self, storage, name="imgroups"):
        return servers.Imgroups(
            self.tmp, self.binary, COMPONENT, "127.0.0.1",
            self.server.component_port, self.secret, name=name,
            storage=storage, log_level="info",
            sections=[("limits", {"rate": "1000", "burst": "1000"})],
            accounts=[("bot", {"protocol": "prpl-irc",
                               "username": "bot@127.0.0.1",
                               "password": self.password, "group": "lobby",
                               "mode": "contacts", "option.port": "1"})])

    def cli(self, ig, *args):
        """imgroups -c CONFIG ARGS...: (status, stdout, stderr)."""
        ig._prepare()
        r = subprocess.run([self.binary, "--config", ig.config_path] +
                           list(args), capture_output=True, text=True,
                           timeout=120)
        return r.returncode, r.stdout, r.stderr

    def main(self):
        self.tap.diag("%s, temp dir %s" % (self.kind, self.tmp))
        self.start_server(COMPONENT, USERS)
        self.store = os.path.join(self.tmp, "store")
        self.start_imgroups(self.imgroups(self.store),
                            "imgroups connects to %s as %s"
                            % (self.kind, COMPONENT))
        try:
            self.run_async(self.flows(), WATCHDOG)
        finally:
            self.run_async(asyncio.gather(
                *(c.close() for c in self.clients.values()),
                return_exceptions=True), 30)

    def cleanup(self):
        self.finish((self.ig, self.server))

    async def join(self, cl):
        cl.send("<presence to='%s/alice'><x xmlns='%s'/></presence>"
                % (ROOM, NS_MUC))
        pres = await cl.wait(join_answer(ROOM, "alice"), "the join answer")
        if ptype(pres) != "available":
            raise Fail("joining: %s" % show(pres))

    async def flood(self, cl):
        """Sends 'flood N' with WINDOW in flight, counting the echoes (an
        echo leaves only after its commit)."""
        def echo(el):
            return (kind(el) == "message" and el.get("type") == "groupchat"
                    and (body(el) or "").startswith("flood "))
        while self.flooding or self.echoed < self.sent:
            while self.flooding and self.sent - self.echoed < WINDOW:
                self.sent += 1
                cl.send("<message to='%s' type='groupchat'><body>flood %d"
                        "</body></message>" % (ROOM, self.sent))
            el = await cl.wait(echo, "the echo of message %d"
                               % (self.echoed + 1))
            self.echoed += 1
            self.progress.set()
            if body(el) != "flood %d" % self.echoed:
                raise Fail("echo %d came as %r" % (self.echoed, body(el)))

    async def until_echoed(self, n):
        """Waits for the flood task's echoes (it sets progress at each)."""
        while self.echoed < n:
            if self.flood_task.done():
                raise Fail("the flood stopped at %d echoes: %s"
                           % (self.echoed, self.flood_task.exception()))
            self.progress.clear()
            await asyncio.wait([asyncio.ensure_future(self.progress.wait()),
                                self.flood_task],
                               return_when=asyncio.FIRST_COMPLETED)

    async def dump_live(self):
        rc, out, err = await self.in_thread(self.cli, self.ig, "--dump")
        if rc != 0:
            raise Fail("--dump: status %d: %s" % (rc, err))
        dbs = parse_dump(out)
        missing = [d for d in ("meta", "groups", "secrets", "archive",
                               "outbox", "nicks", "avatars") if d not in dbs]
        if missing:
            raise Fail("no %s in the dump" % missing)
        with open(os.path.join(self.store, "data.mdb"), "rb") as f:
            if self.password.encode() not in f.read():
                raise Fail("the password is not in the store: nothing "
                           "to mask")
        if self.password in out or self.password in err:
            raise Fail("the dump shows the bot's password")
        if "('bot') = (1, '***')" not in dbs["secrets"]:
            raise Fail("secrets: %s" % dbs["secrets"])

    async def restore_refused(self):
        before = sorted(os.listdir(self.store))
        rc, out, err = await self.in_thread(self.cli, self.ig, "--restore",
                                            self.dirs[0])
        if rc == 0 or "in use" not in err:
            raise Fail("status %d, stderr %r" % (rc, err))
        if sorted(os.listdir(self.store)) != before:
            raise Fail("the store changed: %s -> %s"
                       % (before, sorted(os.listdir(self.store))))
        n = self.sent
        await self.until_echoed(n)

    async def backups(self):
        for d in self.dirs:
            await self.until_echoed(self.echoed + 20)
            lo = self.echoed
            rc, out, err = await self.in_thread(self.cli, self.ig,
                                                "--backup", d)
            self.windows.append((lo, self.sent))
            if rc != 0:
                raise Fail("--backup %s: status %d: %s" % (d, rc, err))
            with open(os.path.join(d, "MANIFEST")) as f:
                man = f.read()
            if not re.search(r"^file \d+ [0-9a-f]{64} data\.mdb$", man, re.M):
                raise Fail("manifest: %s" % man)
            if os.stat(d).st_mode & 0o077:
                raise Fail("%s is open to others" % d)
        self.tap.diag("echo/sent windows: %s" % self.windows)

    async def flows(self):
        await self.log_in(USERS)
        a = self.clients["alice"]
        if not await self.step("alice joins %s" % ROOM, self.join(a)):
            return
        self.progress = asyncio.Event()
        flood = self.flood_task = asyncio.ensure_future(self.flood(a))
        await self.step(self.NAMES[5], self.dump_live())
        ok = await self.step(self.NAMES[6], self.backups())
        await self.step(self.NAMES[7], self.restore_refused() if ok
                        else self.nothing("no backup"))
        self.flooding = False
        try:
            await flood
        except Fail as e:
            self.tap.diag("the flood: %s" % e)
        a.forget()
        status = await self.in_thread(self.ig.stop)
        self.tap.check(status == 0, "imgroups stops on SIGTERM with status 0",
                       "status %s" % status)
        rc, out, err = await self.in_thread(self.cli, self.ig, "--dump")
        final = parse_dump(out)
        fresh = []
        for i, d in enumerate(self.dirs):
            fresh.append(os.path.join(self.tmp, "restored%d" % (i + 1),
                                      "store"))
            await self.step(self.NAMES[9 + i],
                            self.compare(i, d, fresh[i], final) if ok
                            else self.nothing("no backup %d" % (i + 1)))
        await self.step(self.NAMES[-1], self.rerun(fresh[-1]) if ok
                        else self.nothing("no backup"))

    async def nothing(self, why):
        raise Fail(why)

    async def compare(self, i, d, fresh, final):
        ig = self.imgroups(fresh, name="restored%d" % (i + 1))
        rc, out, err = await self.in_thread(self.cli, ig, "--restore", d)
        if rc != 0:
            raise Fail("--restore: status %d: %s" % (rc, err))
        rc, out, err = await self.in_thread(self.cli, ig, "--dump")
        if rc != 0:
            raise Fail("--dump of the restored store: %s" % err)
        got = parse_dump(out)
        seqs = flood_seqs(got.get("archive", []))
        want = flood_seqs(final.get("archive", []))
        n = len(seqs)
        lo, hi = self.windows[i]
        if sorted(seqs) != list(range(1, n + 1)):
            raise Fail("archive seqs are not 1..%d: %s" % (n, sorted(seqs)))
        if not lo <= n <= hi:
            raise Fail("%d messages; %d were echoed before the backup, %d "
                       "sent by its end" % (n, lo, hi))
        for s, line in seqs.items():
            if want.get(s) != line:
                raise Fail("message %d: %s\nthe core's: %s"
                           % (s, line, want.get(s)))
        with open(os.path.join(d, "MANIFEST")) as f:
            files = re.findall(r"^file \d+ [0-9a-f]{64} (purple/.*)$",
                               f.read(), re.M)
        for rel in files:  # the worker's folder, when a worker ran
            with open(os.path.join(d, rel), "rb") as a, \
                    open(os.path.join(fresh, rel), "rb") as b:
                if a.read() != b.read():
                    raise Fail("%s restored differs from the backup's" % rel)
        for db in sorted(set(got) | set(final)):
            if db not in MOVING and got.get(db) != final.get(db):
                raise Fail("%s differs:\nrestored %s\nthe core's %s"
                           % (db, got.get(db), final.get(db)))
        self.last = (fresh, n)

    async def rerun(self, fresh):
        store, n = self.last
        ig = self.imgroups(store, name="rerun")
        self.ig = ig
        await self.in_thread(ig.start)
        await self.in_thread(ig.wait_log, r"connected to", 15)
        a = self.clients["alice"]
        a.forget()
        a.send("<presence to='%s/alice'><x xmlns='%s'><history "
               "maxstanzas='1'/></x></presence>" % (ROOM, NS_MUC))
        el = await a.wait(lambda el: kind(el) == "message"
                          and (body(el) or "").startswith("flood "),
                          "the room's history")
        if body(el) != "flood %d" % n:
            raise Fail("history ends with %r, the backup with flood %d"
                       % (body(el), n))


if __name__ == "__main__":
    sys.exit(xmppclient.main(sys.argv, Run, WATCHDOG + 60))
