"""README's snippets for plugging imgroups into Prosody and ejabberd, taken
verbatim from README.md (between <!-- snippet: NAME --> markers) into a
private server's configuration, on a component port other than Prosody's
default 5347: imgroups must connect through them (issue 12: the old Prosody
snippet put component_ports after the Component line, where Prosody ignores
it). Only the port, the domain and the secret are replaced. Prints TAP.

    /usr/bin/python3 tests/real/test_readme.py prosody|ejabberd /path/to/imgroups
"""

import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tap  # noqa: E402  (tests/tap.py)

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
COMPONENT = "groups.localhost"
SECRET = "readme-snippet-secret-7f3a"
WATCHDOG = 240
# What the README's snippets say, replaced by this run's.
README_PORT, README_JID, README_SECRET = "5347", "groups.example.org", "changeme"


def snippet(name):
    """The text of the code block between <!-- snippet: name --> and
    <!-- /snippet --> in README.md, without its fence lines."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- snippet: %s -->\n```\w*\n(.*?)```\n<!-- /snippet -->"
                  % re.escape(name), text, re.S)
    if not m:
        raise tap.Abort("README.md has no snippet %r" % name)
    return m.group(1)


def ours(text, port):
    """The snippet with this run's port, domain and secret where it names
    README's (a snippet that lost one fails to connect)."""
    for old, new in ((README_PORT, str(port)), (README_JID, COMPONENT),
                     (README_SECRET, SECRET)):
        text = text.replace(old, new)
    return text


def wait_file(path, regex, timeout=30.0):
    """Waits until a line of the file at path matches regex; the line, or
    None after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if re.search(regex, line):
                        return line
        except OSError:
            pass
        time.sleep(0.1)
    return None


NO_EFFECT = r"Option 'component_ports' has no effect"


class C2sOnly(servers.Prosody):
    """Ready once its client port is: for a configuration whose component
    port is not expected to open."""

    def _ready(self):
        return self._ports_accept(self.c2s_port)


class Run:
    def __init__(self, kind, binary):
        self.kind, self.binary = kind, binary
        self.tmp = tempfile.mkdtemp(prefix="imgroups-readme-")
        self.procs = []
        names = ["README's %s snippet on port N: the server's component port opens" % kind,
                 "imgroups connects through it and its handshake is accepted, "
                 "the server warning about nothing"]
        if kind == "prosody":
            names.append("the old snippet (component_ports after the Component line): "
                         "Prosody says it has no effect and the port stays closed")
        self.tap = tap.Tap(names)

    def start(self, proc):
        self.procs.append(proc)
        proc.start()
        return proc

    def server(self, sub, port, **raw):
        d = os.path.join(self.tmp, sub)
        os.makedirs(d)
        if self.kind == "prosody":
            return servers.Prosody(d, COMPONENT, SECRET, component_port=port, **raw)
        return servers.Ejabberd(d, COMPONENT, SECRET, component_port=port, **raw)

    def main(self):
        t = self.tap
        port = servers.free_port()
        while str(port) == README_PORT:
            port = servers.free_port()
        if self.kind == "prosody":
            srv = self.server("good", port,
                              raw_global=ours(snippet("prosody-global"), port),
                              raw_components=ours(snippet("prosody-component"), port))
        else:
            srv = self.server("good", port, raw_listen=ours(snippet("ejabberd-listen"), port))
        try:
            self.start(srv)
            ok = servers.port_accepts(port)
        except servers.ServerError as e:
            ok, why = False, str(e)
        else:
            why = srv.log_tails()
        if not t.check(ok, t.name(), why):
            raise tap.Abort()
        img = self.start(servers.Imgroups(self.tmp, self.binary, COMPONENT, "127.0.0.1",
                                          port, SECRET, admins=()))
        try:
            img.wait_log(r"link: connected to 127\.0\.0\.1:%d as %s" % (port, COMPONENT))
            ok, why = "refused the secret" not in img.log_text(), img.log_tails()
        except servers.ServerError as e:
            ok, why = False, str(e)
        if self.kind == "prosody" and ok:
            with open(srv.log_path, encoding="utf-8", errors="replace") as f:
                ok = not re.search(NO_EFFECT, f.read())
            why = "Prosody warned: component_ports has no effect\n" + srv.log_tails()
        t.check(ok, t.name(), why)
        img.stop()
        srv.stop()
        if self.kind != "prosody":
            return
        # The snippet this test replaces, as README had it before issue 12.
        old = ('Component "%s"\n    component_secret = "%s"\n'
               '-- and make sure the component port listens where imgroups connects:\n'
               'component_ports = { %d }\ncomponent_interfaces = { "127.0.0.1" }\n'
               % (COMPONENT, SECRET, port))
        d = os.path.join(self.tmp, "old")
        os.makedirs(d)
        bad = self.start(C2sOnly(d, COMPONENT, SECRET, component_port=port,
                                 raw_global="", raw_components=old))
        # Once Prosody has opened its component service (on the default port,
        # as it ignored the setting) and said why, the port is known closed.
        active = wait_file(bad.log_path, r"Activated service 'component'")
        warned = wait_file(bad.log_path, NO_EFFECT, timeout=1)
        t.check(active and warned and not servers.port_accepts(port), t.name(),
                bad.log_tails())

    def cleanup(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception:
                pass
        if not os.environ.get("IMGROUPS_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    tap.usage(sys.argv, "prosody|ejabberd /path/to/imgroups",
              lambda a: len(a) == 2 and a[0] in ("prosody", "ejabberd"))
    sys.exit(tap.run(lambda: Run(sys.argv[1], sys.argv[2]), WATCHDOG, "readme " + sys.argv[1]))
