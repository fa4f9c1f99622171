"""The Debian package end to end (issue 12, item 1): the source tree copied
to a temp dir, `dpkg-buildpackage -us -uc -b` there, the .deb's file list,
`dpkg -i` on this machine (the test runs as root), what the maintainer
scripts made (the imgroups user, /etc/imgroups/imgroups.ini 0640
root:imgroups with a secret, /var/lib/imgroups), the installed binary's
--version and --check-config, `systemd-analyze verify` of the installed
unit, the sd_notify messages of the installed binary (READY=1, STATUS= with
the link, WATCHDOG=1, STOPPING=1) to a datagram socket bound here, the
worker run from its installed place, and `dpkg --purge` leaving nothing.

PID 1 here is not systemd, so the unit is verified, never started; the
service's protocol with systemd is checked by playing systemd's side of
NOTIFY_SOCKET. Usage: test_package.py SOURCE_ROOT. Needs root, dpkg-dev,
debhelper and the build dependencies (scripts/deps installs them).
"""

import grp
import hashlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tap  # noqa: E402

PKG = "imgroups"
CONF = "/etc/imgroups/imgroups.ini"
EXAMPLE = "/usr/share/imgroups/imgroups.ini"
UNIT = "/lib/systemd/system/imgroups.service"
STATE = "/var/lib/imgroups"
JID = "groups.localhost"
SECRET = "package-test-secret"

PLAN = [
    "the source tree is copied without build directories",
    "dpkg-buildpackage -us -uc -b builds imgroups_VERSION_ARCH.deb",
    "the .deb has imgroups in /usr/bin and nothing else there",
    "the .deb has the worker imgroups-purple in /usr/lib/TRIPLET/imgroups/",
    "the .deb has the MSN and Yahoo plugins in /usr/lib/TRIPLET/imgroups/purple-2/",
    "the .deb has the systemd unit and the example config",
    "dpkg -i installs the package",
    "postinst made imgroups a system user and group without a login shell",
    "postinst made /etc/imgroups/imgroups.ini mode 0640 root:imgroups with a random secret",
    "postinst made /var/lib/imgroups owned by imgroups, mode 0700",
    "the installed imgroups --version prints the package's version",
    "the installed imgroups --check-config, run as imgroups, accepts /etc/imgroups/imgroups.ini (the default path)",
    "the same with -c /etc/imgroups/imgroups.ini",
    "the example as shipped is refused for its empty secret alone",
    "dpkg -i again (an upgrade) keeps /etc/imgroups/imgroups.ini as the admin left it",
    "systemd-analyze verify accepts the installed unit",
    "the unit is Type=notify, runs as imgroups, hardened, reloads with SIGHUP",
    "the installed --check-config asks the installed worker: prpl-irc passes, prpl-ircc is refused",
    "the installed imgroups sends READY=1 with a STATUS once the store is open",
    "with WATCHDOG_USEC set it sends WATCHDOG=1 again and again",
    "STATUS= says the link is up after the handshake",
    "the core runs the worker from /usr/lib/TRIPLET/imgroups/ without [legacy] worker",
    "SIGTERM brings STOPPING=1 and a clean exit",
    "dpkg --purge removes the files, the config, the store and the user",
]


class Failed(Exception):
    pass


def run(cmd, timeout=120, **kw):
    """(status, stdout+stderr) of cmd, never raising on a status."""
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b"").decode("utf-8", "replace") + "\n(timed out)"
    return p.returncode, p.stdout.decode("utf-8", "replace")


def tail(text, n=30):
    return "\n".join(text.splitlines()[-n:])


def installed(pkg):
    rc, out = run(["dpkg-query", "-W", "-f=${Status}", pkg])
    return rc == 0 and "ok installed" in out


class NotifySocket:
    """systemd's side of NOTIFY_SOCKET: a datagram socket at a path; every
    datagram is kept, in order, split into its assignments."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)  # the binary runs as imgroups
        self.messages = []
        self.cv = threading.Condition()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            with self.cv:
                self.messages.append(data.decode("utf-8", "replace"))
                self.cv.notify_all()

    def wait(self, pred, timeout, start=0):
        """The index of the first message from start on for which pred holds,
        or None after timeout seconds."""
        deadline = time.monotonic() + timeout
        with self.cv:
            i = start
            while True:
                while i < len(self.messages):
                    if pred(self.messages[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def close(self):
        self.sock.close()


def has(assignment):
    return lambda m: assignment in m.split("\n")


def status_of(m):
    for line in m.split("\n"):
        if line.startswith("STATUS="):
            return line[len("STATUS="):]
    return None


class ComponentServer:
    """The XMPP server's side of XEP-0114, just enough: the stream header,
    the handshake checked against SECRET, and the closing </stream:stream>
    answered in kind. A connection closed before its header (--check-config
    probing the port) is let go and the next one served."""

    def __init__(self):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.conn = None
        self.error = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.serve_one():
            pass

    def serve_one(self):
        """One connection; True when it closed before its header."""
        try:
            self.lsock.settimeout(60)
            conn, _ = self.lsock.accept()
            self.conn = conn
            conn.settimeout(60)
            buf = b""
            while b"<stream:stream" not in buf or \
                    b">" not in buf.split(b"<stream:stream", 1)[1]:
                data = conn.recv(4096)
                if not data:
                    return True
                buf += data
            sid = "pkg%08x" % (os.getpid() & 0xFFFFFFFF)
            conn.sendall(("<?xml version='1.0'?><stream:stream "
                          "xmlns:stream='http://etherx.jabber.org/streams' "
                          "xmlns='jabber:component:accept' from='%s' id='%s'>"
                          % (JID, sid)).encode())
            want = hashlib.sha1((sid + SECRET).encode()).hexdigest().encode()
            buf = b""
            while b"</handshake>" not in buf:
                data = conn.recv(4096)
                if not data:
                    raise Failed("the component closed before its handshake")
                buf += data
            if want not in buf:
                raise Failed("wrong handshake: %r" % buf[-200:])
            conn.sendall(b"<handshake/>")
            buf = b""
            while b"</stream:stream>" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf = buf[-64:] + data
            conn.sendall(b"</stream:stream>")
        except Exception as e:  # reported by the checks that need the link
            self.error = e
        finally:
            if self.conn:
                self.conn.close()
        return False

    def close(self):
        self.lsock.close()


def children(pid):
    """The pids of pid's children (every thread's list)."""
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def wait_until(fn, timeout):
    """fn()'s first true value within timeout seconds, else None. For what
    gives no event to wait on (a process appearing under /proc)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(0.05)


class PackageRun:
    def __init__(self, source):
        self.tap = tap.Tap(PLAN)
        self.source = source
        self.tmp = tempfile.mkdtemp(prefix="imgroups-pkg-")
        self.we_installed = False
        self.user_before = self.user_exists()
        self.proc = None
        self.notify = None
        self.server = None
        rc, out = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"])
        self.triplet = out.strip()
        self.libdir = "/usr/lib/%s/imgroups" % self.triplet

    @staticmethod
    def user_exists():
        try:
            pwd.getpwnam(PKG)
            return True
        except KeyError:
            return False

    def check(self, ok, diag=None, todo=None):
        return self.tap.check(ok, self.tap.name(), diag, todo)

    def must(self, ok, diag=None):
        if not self.check(ok, diag):
            raise tap.Abort()

    # -- building

    def copy_source(self):
        dst = os.path.join(self.tmp, "imgroups")
        os.mkdir(dst)
        if os.path.isdir(os.path.join(self.source, ".git")) or \
                os.path.isfile(os.path.join(self.source, ".git")):
            # What git sees: tracked files as they are now, and new files
            # that are not ignored (the build directories are).
            rc, out = run(["git", "-C", self.source, "ls-files", "-z", "-co",
                           "--exclude-standard"])
            if rc != 0:
                return False, out
            names = [n for n in out.split("\0") if n and
                     os.path.lexists(os.path.join(self.source, n))]
        else:
            names = []
            for root, dirs, files in os.walk(self.source):
                dirs[:] = [d for d in dirs if not d.startswith("build") and d != ".git"
                           or root != self.source]
                names += [os.path.relpath(os.path.join(root, f), self.source) for f in files]
        lst = os.path.join(self.tmp, "files")
        with open(lst, "w") as f:
            f.write("\0".join(names))
        rc, out = run(["sh", "-c", 'tar -C "$1" --null -T "$2" -cf - | tar -C "$3" -xf -',
                       "sh", self.source, lst, dst])
        builds = [d for d in os.listdir(dst) if d.startswith("build")]
        return rc == 0 and os.path.isfile(os.path.join(dst, "debian", "rules")) \
            and not builds, out + (" build dirs copied: %r" % builds if builds else "")

    def build(self):
        src = os.path.join(self.tmp, "imgroups")
        env = dict(os.environ)
        # The unit tests run in scripts/test; here the package alone.
        env["DEB_BUILD_OPTIONS"] = "nocheck parallel=2"
        start = time.monotonic()
        rc, out = run(["dpkg-buildpackage", "-us", "-uc", "-b"], timeout=1500,
                      cwd=src, env=env)
        self.tap.diag("dpkg-buildpackage took %.0f s" % (time.monotonic() - start))
        debs = [f for f in os.listdir(self.tmp)
                if re.match(r"imgroups_[^_]+_[a-z0-9]+\.deb$", f)]
        self.deb = os.path.join(self.tmp, debs[0]) if len(debs) == 1 else None
        return rc == 0 and self.deb, tail(out)

    # -- the file list

    def contents(self):
        rc, out = run(["dpkg-deb", "-c", self.deb])
        files = {}
        for line in out.splitlines():
            f = line.split()
            # drwxr-xr-x root/root 0 2026-12-06 00:00 ./usr/bin/ [-> target]
            path = f[5][1:].rstrip("/") or "/"
            files[path] = (f[0], f[1])
        return files

    # -- running the installed binary

    def as_imgroups(self):
        pw = pwd.getpwnam(PKG)
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}

    def main(self):
        t = self.tap
        ok, out = self.copy_source()
        self.must(ok, out)
        ok, out = self.build()
        self.must(ok, out)
        t.diag("built %s" % os.path.basename(self.deb))
        files = self.contents()
        listing = "\n".join(sorted(files))
        bins = sorted(p for p in files if p.startswith("/usr/bin/"))
        self.check(bins == ["/usr/bin/imgroups"] and files["/usr/bin/imgroups"][0] == "-rwxr-xr-x",
                   listing)
        worker = self.libdir + "/imgroups-purple"
        self.check(worker in files and files[worker][0] == "-rwxr-xr-x", listing)
        plugins = [self.libdir + "/purple-2/libimgroups-msn.so",
                   self.libdir + "/purple-2/libimgroups-yahoo.so"]
        self.check(all(p in files for p in plugins), listing)
        self.check(UNIT in files and EXAMPLE in files, listing)

        if installed(PKG):
            self.must(False, "imgroups is already installed here: not touching it")
        if self.user_before:
            t.diag("an imgroups user exists already; purge will remove it")
        rc, out = run(["dpkg", "-i", self.deb], timeout=300)
        self.we_installed = installed(PKG)
        self.must(rc == 0 and self.we_installed, tail(out))

        try:
            pw, gr = pwd.getpwnam(PKG), grp.getgrnam(PKG)
            ok = pw.pw_uid < 1000 and pw.pw_gid == gr.gr_gid and \
                pw.pw_shell in ("/usr/sbin/nologin", "/bin/false")
            self.check(ok, "%r %r" % (pw, gr))
        except KeyError as e:
            self.check(False, "no user or group: %s" % e)
        st = os.stat(CONF)
        with open(CONF) as f:
            text = f.read()
        m = re.search(r"^secret = ([0-9a-f]{32})$", text, re.M)
        self.check(stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 0 and
                   st.st_gid == grp.getgrnam(PKG).gr_gid and m,
                   "mode %o uid %d gid %d, secret line %r" %
                   (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                    re.findall(r"^secret.*$", text, re.M)))
        st = os.stat(STATE)
        self.check(st.st_uid == pwd.getpwnam(PKG).pw_uid and stat.S_IMODE(st.st_mode) == 0o700,
                   "uid %d mode %o" % (st.st_uid, stat.S_IMODE(st.st_mode)))

        rc, out = run(["/usr/bin/imgroups", "--version"])
        rc2, ver = run(["dpkg-query", "-W", "-f=${Version}", PKG])
        upstream = ver.split("-")[0]
        self.check(rc == 0 and out.strip() == "imgroups %s" % upstream, "%s (package %s)" % (out, ver))
        rc, out = run(["/usr/bin/imgroups", "--check-config"], **self.as_imgroups())
        self.check(rc == 0 and CONF in out, out)
        rc, out = run(["/usr/bin/imgroups", "-c", CONF, "--check-config"], **self.as_imgroups())
        self.check(rc == 0, out)
        rc, out = run(["/usr/bin/imgroups", "-c", EXAMPLE, "--check-config"])
        problems = [l for l in out.splitlines() if l.startswith(EXAMPLE + ": [")]
        self.check(rc == 2 and problems and all("[component] secret" in l for l in problems), out)

        with open(CONF, "a") as f:
            f.write("# the admin's own line\n")
        with open(CONF) as f:
            edited = f.read()
        rc, out = run(["dpkg", "-i", self.deb], timeout=300)
        with open(CONF) as f:
            after = f.read()
        st = os.stat(CONF)
        self.check(rc == 0 and after == edited and stat.S_IMODE(st.st_mode) == 0o640,
                   tail(out) + "\n" + "\n".join(after.splitlines()[-3:]))

        man = run(["man", "-w", "imgroups"])[0] == 0
        if not man:
            t.diag("imgroups(8) is not installed: verifying without the man page check")
        rc, out = run(["systemd-analyze", "verify"] + ([] if man else ["--man=no"]) + [UNIT])
        self.check(rc == 0 and not out.strip(), out)
        with open(UNIT) as f:
            unit = f.read()
        want = ["Type=notify", "User=imgroups", "StateDirectory=imgroups",
                "ConfigurationDirectory=imgroups", "ProtectSystem=strict",
                "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
                "PrivateDevices=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                "SystemCallFilter=@system-service", "ExecReload=/bin/kill -HUP $MAINPID",
                "Restart=on-failure", "ExecStart=/usr/bin/imgroups --config " + CONF]
        missing = [w for w in want if not re.search("^" + re.escape(w) + "$", unit, re.M)]
        m = re.search(r"^WatchdogSec=(\d+)s?$", unit, re.M)
        self.check(not missing and m, "missing: %r%s" % (missing, "" if m else ", WatchdogSec"))

        self.notify_checks(worker)

        rc, out = run(["dpkg", "--purge", PKG], timeout=300)
        self.we_installed = installed(PKG)
        left = [p for p in files if p != "/" and os.path.isfile(p)] + \
            [p for p in (CONF, "/etc/imgroups", STATE) if os.path.lexists(p)]
        self.check(rc == 0 and not self.we_installed and not left and not self.user_exists(),
                   "status %d, left: %r, user: %s\n%s" % (rc, left, self.user_exists(), tail(out)))

    def notify_checks(self, worker):
        t = self.tap
        run_dir = os.path.join(self.tmp, "run")
        os.mkdir(run_dir)
        pw = pwd.getpwnam(PKG)
        os.chown(run_dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.tmp, 0o755)
        self.notify = NotifySocket(os.path.join(run_dir, "notify"))
        self.server = ComponentServer()
        # The installed file with this test's link, store and one bot
        # account (its IRC server is nowhere: the worker just has to run).
        with open(CONF) as f:
            text = f.read()
        for key, value in (("jid", JID), ("port", str(self.server.port)),
                           ("secret", SECRET), ("path", os.path.join(run_dir, "store"))):
            text = re.sub(r"^%s = .*$" % key, "%s = %s" % (key, value), text, count=1, flags=re.M)
        text += ("\n[account:probe]\nprotocol = prpl-irc\nusername = probe@127.0.0.1\n"
                 "group = probe\nmode = chat\nchat = #probe\noption.port = 9\n")
        conf = os.path.join(run_dir, "imgroups.ini")
        with open(conf, "w") as f:
            f.write(text)
        bad = os.path.join(run_dir, "bad.ini")
        with open(bad, "w") as f:
            f.write(text.replace("protocol = prpl-irc", "protocol = prpl-ircc"))
        rc, out = run(["/usr/bin/imgroups", "-c", conf, "--check-config"], **self.as_imgroups())
        rc2, out2 = run(["/usr/bin/imgroups", "-c", bad, "--check-config"], **self.as_imgroups())
        self.check(rc == 0 and rc2 == 2 and "prpl-ircc" in out2, out + out2)
        env = {"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": self.notify.path,
               "WATCHDOG_USEC": "400000"}
        self.log = open(os.path.join(run_dir, "stderr.log"), "w+")
        self.proc = subprocess.Popen(["/usr/bin/imgroups", "-c", conf], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, **self.as_imgroups())
        n = self.notify
        i = n.wait(has("READY=1"), 30)
        self.check(i is not None and status_of(n.messages[i]), self.why(n))
        i = n.wait(has("WATCHDOG=1"), 10)
        j = n.wait(has("WATCHDOG=1"), 10, (i or 0) + 1) if i is not None else None
        self.check(j is not None, self.why(n))
        k = n.wait(lambda m: status_of(m) == "link up", 30)
        self.check(k is not None, self.why(n))
        found = wait_until(lambda: [exe_of(c) for c in children(self.proc.pid)
                                    if exe_of(c) == worker], 30)
        self.check(found, "children: %r\n%s" % (
            [(c, exe_of(c)) for c in children(self.proc.pid)], self.why(n)))
        mark = len(n.messages)
        self.proc.send_signal(signal.SIGTERM)
        i = n.wait(has("STOPPING=1"), 20, mark)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
        self.check(i is not None and rc == 0, "exit %r\n%s" % (rc, self.why(n)))
        n.close()
        self.server.close()

    def why(self, n):
        self.log.seek(0)
        return "notifications: %r\nlink: %s\nlog:\n%s" % (
            n.messages[-8:], self.server.error, tail(self.log.read(), 15))

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.notify:
            self.notify.close()
        if self.server:
            self.server.close()
        if self.we_installed:
            rc, out = run(["dpkg", "--purge", PKG], timeout=300)
            if rc != 0:
                self.tap.diag("cleanup: dpkg --purge: " + tail(out))
        if not self.user_before and self.user_exists():
            run(["deluser", "--system", PKG])
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        print("usage: test_package.py SOURCE_ROOT", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (dpkg -i)")
        return 0
    return tap.run(lambda: PackageRun(os.path.abspath(sys.argv[1])), 1500,
                   "test_package")


if __name__ == "__main__":
    sys.exit(main())
