"""imgroups-purple, the libpurple worker, driven over its socketpair the way
the core drives it, against a private ngircd and raw IRC clients on plain
sockets. TAP on stdout.

    /usr/bin/python3 tests/real/test_worker.py path/to/imgroups-purple

Every server and worker runs on free ports with private directories and is
stopped in a finally. ASAN_OPTIONS and the like pass through to the worker.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tap as realtap  # noqa: E402  (tests/tap.py)
import servers  # noqa: E402
import wire  # noqa: E402

ACCOUNT = "lobby-irc"
PASSWORD = "s3cret-Pa55word"
BOT = "bot"
WATCHDOG = 540


class PasswordNgircd(servers.Ngircd):
    """An ngircd that wants a connection password (PASS): the worker must
    really hand the account's password to libpurple."""

    def __init__(self, tmpdir, password):
        super().__init__(tmpdir)
        self.password = password

    def _prepare(self):
        super()._prepare()
        with open(self.config_path) as f:
            cfg = f.read()
        cfg = cfg.replace("[Global]\n", "[Global]\n    Password = %s\n"
                          % self.password, 1)
        with open(self.config_path, "w") as f:
            f.write(cfg)


class IrcClient:
    """A raw IRC client: PASS/NICK/USER, then lines in and out; answers
    PINGs."""

    def __init__(self, port, nick, password=None):
        self.nick = nick
        self.sock = socket.create_connection((servers.LOCAL, port), timeout=10)
        self.buf = b""
        if password:
            self.send("PASS %s" % password)
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :%s test client" % (nick, nick))
        if not self.wait(r"^:\S+ 001 ", 10):
            raise realtap.Abort("IRC client %s not registered" % nick)

    def send(self, line):
        self.sock.sendall((line + "\r\n").encode("utf-8"))

    def _line(self, deadline):
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        line = line.decode("utf-8", "replace")
        if line.startswith("PING "):
            self.send("PONG " + line[5:])
        return line

    def collect(self, regex, timeout, count=1):
        """Up to `count` lines matching `regex` within `timeout` s."""
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        hits = []
        while len(hits) < count:
            line = self._line(deadline)
            if line is None:
                break
            if pat.search(line):
                hits.append(line)
        return hits

    def wait(self, regex, timeout):
        hits = self.collect(regex, timeout)
        return hits[0] if hits else None

    def close(self):
        try:
            self.send("QUIT :done")
        except OSError:
            pass
        self.sock.close()


def privmsg_text(line):
    """The text of a PRIVMSG line."""
    return line.split(" :", 1)[1] if " :" in line else ""


class Worker:
    """One imgroups-purple with our end of its socketpair as `wire`."""

    def __init__(self, binary, tmpdir, name, user_dir=None):
        self.name = name
        self.user_dir = os.path.join(tmpdir, user_dir or name)
        self.log_path = os.path.join(tmpdir, name + ".log")
        self._log = open(self.log_path, "wb")
        self.core, theirs = socket.socketpair()
        self.proc = subprocess.Popen(
            [binary, "--fd", str(theirs.fileno()),
             "--user-dir", self.user_dir],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT)
        theirs.close()
        self.wire = wire.Wire(self.core)

    def greet(self):
        """Reads the worker's hello and answers it; returns the hello."""
        msg = self.wire.recv(15)
        self.wire.send("hello", (1,))
        return msg

    def add(self, protocol, username, options, password=""):
        self.wire.send("account_add", (ACCOUNT, protocol, username, password,
                                       options))

    def files_text(self):
        """Everything the worker wrote in its user dir, as one string."""
        out = []
        for root, _, names in os.walk(self.user_dir):
            for n in names:
                with open(os.path.join(root, n), "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
        return "\n".join(out)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(10) is None:
                self.proc.kill()
                self.proc.wait()
        try:
            self.core.close()
        except OSError:
            pass
        self._log.close()


class Run:
    NAMES = [
        "the worker says hello with protocol version 1",
        "account_add prpl-irc with option port gives account_up",
        "an IM from a raw IRC client arrives as im_received from 'alice'",
        "markup typed on IRC arrives literally",
        "send_im reaches the IRC client as one literal PRIVMSG",
        "send_im is answered with delivered(id)",
        "a 1000-byte send_im arrives as several PRIVMSGs of at most 400 bytes",
        "nothing of the 1000-byte message is lost or reordered",
        "a two-line send_im arrives as two PRIVMSGs",
        "buddy_add of the IRC client gives buddy_presence available",
        "chat_join #lobby gives chat_joined",
        "the client already in #lobby is chat_user_joined, initial",
        "a later arrival in #lobby is chat_user_joined, not initial",
        "a channel message arrives as chat_received from alice",
        "send_chat reaches the channel, literally",
        "send_chat is answered with delivered(id)",
        "a topic set on IRC arrives as chat_topic",
        "chat_topic from the core sets the IRC topic",
        "a nick change in #lobby arrives as chat_user_renamed",
        "a part from #lobby arrives as chat_user_left",
        "the bot never reports itself as a chat participant",
        "the bot's own channel messages never come back as chat_received",
        "send_im for an account the worker does not run fails",
        "closing the core's end makes the worker exit 0 within 5 s",
        "no message body reaches the worker's log",
        "the password is in no file of the user dir and not in the log",
        "the account and its buddy are saved in the user dir",
        "a restarted worker keeps its buddies: presence without buddy_add",
        "account_remove makes the worker exit 0, the account deleted",
        "an unknown option gives account_down naming it and the known ones",
        "an account with an unknown option never connects",
        "a non-integer port gives account_down",
        "an unknown protocol gives account_down 'no such protocol plugin'",
        "a port nothing listens on gives account_down",
        "the worker retries and comes up once a server listens there",
        "SIGTERM makes the worker sign off and exit 0",
        "a worker whose core is gone before it starts exits by itself",
        "a broken frame makes the worker exit 1",
        "a hello of another version makes the worker exit 3",
        "told log_level warning, the worker logs no info line as it comes up",
        "told log_level info again, its info lines are back",
    ]
    PLAN = len(NAMES)

    def __init__(self, binary):
        self.binary = binary
        self.tap = realtap.Tap(self.NAMES)
        self.tmp = tempfile.mkdtemp(prefix="imgroups-worker-")
        self.irc = None
        self.irc2 = None
        self.workers = []
        self.clients = []

    def check(self, ok, diag=None):
        return self.tap.check(bool(ok), self.NAMES[self.tap.n], diag)

    def worker(self, name, user_dir=None):
        w = Worker(self.binary, self.tmp, name, user_dir)
        self.workers.append(w)
        return w

    def client(self, nick):
        c = IrcClient(self.irc.port, nick, PASSWORD)
        self.clients.append(c)
        return c

    def require(self, ok, what, w=None):
        if not ok:
            if w:
                self.tap.diag(servers.tail(w.log_path))
            raise realtap.Abort(what)

    # --- the main worker: one IRC account through all its features --------
    def main_worker(self):
        w = self.worker("main")
        hello = w.greet()
        self.check(hello == ("hello", (1,)), "got %r" % (hello,))
        self.require(hello and hello[0] == "hello", "no hello", w)

        alice = self.client("alice")
        alice.send("JOIN #lobby")
        self.require(alice.wait(r" 366 alice #lobby ", 10), "alice not in "
                     "#lobby")

        w.add("prpl-irc", "%s@%s" % (BOT, servers.LOCAL),
              {"port": str(self.irc.port)}, password=PASSWORD)
        up = w.wire.expect("account_up", 30)
        self.check(up == ("account_up", (ACCOUNT,)),
                   "got %r; seen %r" % (up, w.wire.seen))
        self.require(up, "the account did not come up", w)

        alice.send("PRIVMSG %s :<b>x</b> & y" % BOT)
        im = w.wire.expect("im_received", 15)
        self.check(im and im[1][:2] == (ACCOUNT, "alice"), "got %r" % (im,))
        self.check(im and im[1][3] == "<b>x</b> & y", "got %r" % (im,))

        # send_im: literal, one PRIVMSG, delivered
        w.wire.send("send_im", (1, ACCOUNT, "alice", "<i>hi</i> & \"you\""))
        lines = alice.collect(r"^:%s!\S+ PRIVMSG alice :" % BOT, 10)
        self.check(len(lines) == 1
                   and privmsg_text(lines[0]) == "<i>hi</i> & \"you\"",
                   "got %r" % lines)
        d = w.wire.expect("delivered", 10)
        self.check(d == ("delivered", (1,)), "got %r" % (d,))

        words = ["w%03d%s" % (i, "\u00e9" if i % 7 == 0 else "")
                 for i in range(190)]
        long_text = " ".join(words)
        w.wire.send("send_im", (2, ACCOUNT, "alice", long_text))
        lines = alice.collect(r"^:%s!\S+ PRIVMSG alice :" % BOT, 10, count=10)
        pieces = [privmsg_text(l) for l in lines]
        self.check(len(long_text.encode()) >= 1000 and len(pieces) >= 3
                   and all(len(p.encode()) <= 400 for p in pieces),
                   "%d bytes in %r" % (len(long_text.encode()),
                                       [len(p.encode()) for p in pieces]))
        d = w.wire.expect("delivered", 10)
        self.check(" ".join(pieces) == long_text and d == ("delivered", (2,)),
                   "got %r, %r" % (pieces, d))

        w.wire.send("send_im", (3, ACCOUNT, "alice", "one\ntwo"))
        lines = alice.collect(r"^:%s!\S+ PRIVMSG alice :" % BOT, 10, count=2)
        d = w.wire.expect("delivered", 10)
        self.check([privmsg_text(l) for l in lines] == ["one", "two"]
                   and d == ("delivered", (3,)), "got %r, %r" % (lines, d))

        # buddy presence (libpurple's IRC plugin polls ISON: allow for it)
        w.wire.send("buddy_add", (ACCOUNT, "alice"))
        p = w.wire.expect("buddy_presence", 70,
                          lambda b: b[1] == "alice")
        self.check(p and p[1][3] == "available", "got %r" % (p,))

        # chat mode
        w.wire.send("chat_join", (ACCOUNT, "#lobby"))
        j = w.wire.expect("chat_joined", 15)
        self.check(j == ("chat_joined", (ACCOUNT, "#lobby")), "got %r" % (j,))
        self.require(j, "the bot did not join #lobby", w)
        u = w.wire.expect("chat_user_joined", 10, lambda b: b[2] == "alice")
        self.check(u and u[1] == (ACCOUNT, "#lobby", "alice", True),
                   "got %r" % (u,))

        bob = self.client("bob")
        bob.send("JOIN #lobby")
        u = w.wire.expect("chat_user_joined", 10, lambda b: b[2] == "bob")
        self.check(u and u[1] == (ACCOUNT, "#lobby", "bob", False),
                   "got %r" % (u,))

        alice.send("PRIVMSG #lobby :hello <room> & all")
        m = w.wire.expect("chat_received", 10)
        self.check(m and m[1] == (ACCOUNT, "#lobby", "alice", "alice",
                                  "hello <room> & all"), "got %r" % (m,))

        w.wire.send("send_chat", (4, ACCOUNT, "#lobby", "<u>from</u> & the room"))
        line = alice.wait(r"^:%s!\S+ PRIVMSG #lobby :" % BOT, 10)
        self.check(line and privmsg_text(line) == "<u>from</u> & the room",
                   "got %r" % line)
        d = w.wire.expect("delivered", 10)
        self.check(d == ("delivered", (4,)), "got %r" % (d,))

        alice.send("TOPIC #lobby :cake at five")
        t = w.wire.expect("chat_topic", 10)
        self.check(t and t[1] == (ACCOUNT, "#lobby", "alice", "cake at five"),
                   "got %r" % (t,))

        # The bot needs +o to set the topic of a +t channel.
        alice.send("MODE #lobby +o %s" % BOT)
        alice.wait(r" MODE #lobby \+o %s" % BOT, 10)
        w.wire.send("chat_topic", (ACCOUNT, "#lobby", "", "tea & <biscuits>"))
        line = alice.wait(r"^:%s!\S+ TOPIC #lobby :" % BOT, 10)
        self.check(line and privmsg_text(line) == "tea & <biscuits>",
                   "got %r" % line)

        bob.send("NICK robert")
        r = w.wire.expect("chat_user_renamed", 10)
        self.check(r and r[1] == (ACCOUNT, "#lobby", "bob", "robert"),
                   "got %r" % (r,))

        bob.send("PART #lobby :bye")
        lft = w.wire.expect("chat_user_left", 10)
        self.check(lft and lft[1][:3] == (ACCOUNT, "#lobby", "robert"),
                   "got %r" % (lft,))

        # settle, then look at everything the worker said
        w.wire.wait_for(lambda n, b: False, 1)
        hist = w.wire.history
        self.check(not [m for m in hist if m[0].startswith("chat_user")
                        and BOT in m[1][2:4]],
                   "got %r" % [m for m in hist if m[0].startswith("chat_")])
        self.check(not [m for m in hist if m[0] == "chat_received"
                        and m[1][3] == BOT],
                   "got %r" % [m for m in hist if m[0] == "chat_received"])

        w.wire.send("send_im", (5, "other-account", "alice", "x"))
        f = w.wire.expect("failed", 10)
        self.check(f and f[1][0] == 5, "got %r" % (f,))

        w.core.close()
        rc = w.wait_exit(5)
        self.check(rc == 0, "exit status %r" % rc)

        log = w.log_text()
        leaked = [s for s in ("<b>x</b> & y", "hi</i>", "w001", "one\ntwo",
                              "hello <room>", "from</u>")
                  if s in log]
        self.check(not leaked, "found %r in the log" % leaked)

        files = w.files_text()
        self.check(PASSWORD not in files and PASSWORD not in log,
                   "the password is in %s"
                   % ("the log" if PASSWORD in log else "a file"))
        self.check("%s@%s" % (BOT, servers.LOCAL) in files
                   and "<name>alice</name>" in files,
                   "accounts.xml/blist.xml lack the account or alice")

        # The same user dir again: the buddy list comes back from disk.
        w = self.worker("again", user_dir="main")
        w.greet()
        w.add("prpl-irc", "%s@%s" % (BOT, servers.LOCAL),
              {"port": str(self.irc.port)}, password=PASSWORD)
        p = w.wire.expect("buddy_presence", 70, lambda b: b[1] == "alice")
        self.check(p and p[1][3] == "available",
                   "got %r; seen %r" % (p, w.wire.seen))
        w.wire.send("account_remove", (ACCOUNT,))
        rc = w.wait_exit(10)
        self.check(rc == 0 and "%s@%s" % (BOT, servers.LOCAL)
                   not in w.files_text(), "exit status %r" % rc)

    # --- account errors ----------------------------------------------------
    def bad_options(self):
        w = self.worker("badopt")
        w.greet()
        w.add("prpl-irc", "bot2@%s" % servers.LOCAL,
              {"port": str(self.irc.port), "colour": "blue"},
              password=PASSWORD)
        d = w.wire.expect("account_down", 15)
        why = d[1][1] if d else ""
        self.check("'colour'" in why and "port" in why and "encoding" in why,
                   "got %r" % (d,))
        up = w.wire.expect("account_up", 2)
        self.check(up is None, "got %r" % (up,))
        w.stop()

        w = self.worker("badint")
        w.greet()
        w.add("prpl-irc", "bot3@%s" % servers.LOCAL, {"port": "66x"})
        d = w.wire.expect("account_down", 15)
        self.check(d and "'port'" in d[1][1] and "integer" in d[1][1],
                   "got %r" % (d,))
        w.stop()

        w = self.worker("noprpl")
        w.greet()
        w.add("prpl-nonesuch", "x", {})
        d = w.wire.expect("account_down", 15)
        self.check(d and d[1] == (ACCOUNT,
                                  "no such protocol plugin: prpl-nonesuch"),
                   "got %r" % (d,))
        w.stop()

    def retry(self):
        port = servers.free_port()
        w = self.worker("retry")
        w.greet()
        w.add("prpl-irc", "bot4@%s" % servers.LOCAL, {"port": str(port)})
        d = w.wire.expect("account_down", 20)
        self.check(d and d[1][0] == ACCOUNT and d[1][1], "got %r" % (d,))
        self.irc2 = servers.Ngircd(os.path.join(self.tmp, "second"),
                                   port=port)
        self.irc2.start()
        # Backoff from 1 s doubling, ±25 %: up within ~16 s of the start.
        up = w.wire.expect("account_up", 30)
        self.check(up == ("account_up", (ACCOUNT,)),
                   "got %r; seen %r" % (up, w.wire.seen))
        w.proc.send_signal(signal.SIGTERM)
        rc = w.wait_exit(10)
        self.check(rc == 0, "exit status %r" % rc)
        w.stop()

    def broken_peer(self):
        # the core died before the worker's loop ran: its stop during
        # start-up once left it waiting forever, deaf to SIGTERM
        w = self.worker("gone")
        w.core.close()
        rc = w.wait_exit(10)
        self.check(rc is not None, "still running 10 s later")
        w.stop()

        w = self.worker("broken")
        w.greet()
        w.core.sendall(b"\x00\x00\x00\x05hello")
        rc = w.wait_exit(10)
        self.check(rc == 1, "exit status %r" % rc)
        w.stop()

        w = self.worker("version")
        w.wire.recv(15)
        w.wire.send("hello", (99,))
        rc = w.wait_exit(10)
        self.check(rc == 3, "exit status %r" % rc)
        w.stop()

    # --- the core's [log] legacy level (log_level) -------------------------
    def quiet(self):
        w = self.worker("quiet")
        w.greet()
        w.wire.send("log_level", (1,))
        w.add("prpl-irc", "bot5@%s" % servers.LOCAL,
              {"port": str(self.irc.port)}, password=PASSWORD)
        up = w.wire.expect("account_up", 15)
        self.require(up, "quiet: no account_up", w)
        chatty = [l for l in w.log_text().splitlines()
                  if ": info: " in l or ": message: " in l or ": debug: " in l]
        self.check(not chatty, "at warning: %r" % chatty[:5])
        w.wire.send("log_level", (2,))
        w.wire.send("account_remove", (ACCOUNT,))
        rc = w.wait_exit(10)
        self.check(rc == 0 and "removing the account" in w.log_text(),
                   "exit status %r; log %r" % (rc, w.log_text()[-400:]))
        w.stop()

    def main(self):
        self.irc = PasswordNgircd(os.path.join(self.tmp, "first"), PASSWORD)
        self.irc.start()
        self.main_worker()
        self.bad_options()
        self.retry()
        self.broken_peer()
        self.quiet()

    def cleanup(self):
        for c in self.clients:
            try:
                c.close()
            except OSError:
                pass
        for w in self.workers:
            try:
                w.stop()
            except Exception as e:  # keep stopping the others
                self.tap.diag("stopping worker %s: %s" % (w.name, e))
        for s in (self.irc, self.irc2):
            if s is not None:
                try:
                    s.stop()
                except Exception as e:
                    self.tap.diag("stopping ngircd: %s" % e)
        if self.tap.failed:
            for w in self.workers:
                self.tap.diag("--- %s\n%s" % (w.name,
                                              servers.tail(w.log_path, 40)))
        shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv):
    realtap.usage(argv, "/path/to/imgroups-purple",
                  lambda a: len(a) == 1 and os.access(a[0], os.X_OK))
    return realtap.run(lambda: Run(argv[1]), WATCHDOG)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
