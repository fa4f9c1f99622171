"""Private Prosody, ejabberd and ngircd instances for real-server tests, and
imgroups run against them.

Everything binds 127.0.0.1, keeps config, data and logs under a directory the
caller gives, and is stopped by the PID this module started; the system
services these packages ship are never used. Stdlib only; runs with any
Python 3.7+ (slixmpp is needed by the tests, not here).

    srv = Prosody(tmpdir, "groups.localhost", "secret")
    srv.start(); srv.register("alice", "alice")
    ...
    srv.kill(); srv.start()          # a crash, then a restart on the same ports
    srv.stop()

Facts found on Debian 12 (bookworm) and relied on below:

- Prosody 0.12.3: `prosody --config FILE -F` runs in the foreground with our
  config. (`prosody` has no --version flag: any unknown invocation starts the
  server with /etc/prosody/prosody.cfg.lua, so never call it without
  --config.) As root it needs `run_as_root = true`. `prosodyctl --config FILE
  register USER HOST PASSWORD` writes the account into data_path directly and
  works whether or not the server runs.
- ejabberd 23.01: the code is in /usr/lib/x86_64-linux-gnu/ejabberd-23.01-1
  (ebin/ejabberd.app; `ejabberd-23.01` is a symlink to it); its Erlang
  dependencies (p1_xmpp, fast_xml, ...) are OTP-style apps in
  /usr/lib/erlang/lib. ejabberdctl sets ERL_LIBS to the parent directory
  (/usr/lib/x86_64-linux-gnu) and runs `erl ... -s ejabberd` as user
  ejabberd against the system epmd; we run `erl` ourselves instead. With
  `-erl_epmd_port P -start_epmd false` (OTP >= 23) the node listens for
  distribution on port P and needs no epmd at all; a second node started with
  the same `-erl_epmd_port P` and `-dist_listen false` reaches it on P without
  listening itself. That second, hidden node is how users are registered:
  rpc:call(Node, ejabberd_auth, try_register, [User, Host, Password]). The
  mnesia schema belongs to the node name, so a restart reuses the same name.
  /usr/bin/erl execs erlexec, which execs beam.smp: the PID we start is the
  VM's; it answers SIGTERM with a clean init:stop().
- ngircd 26.1: `ngircd -n -f FILE` stays in the foreground and logs to
  stderr. Started as root it reads its config again after dropping
  privileges, so the file must be world-readable inside 0755 directories.
"""

import glob
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time

LOCAL = "127.0.0.1"


class ServerError(Exception):
    """A server did not start, stop or answer as expected; the message
    carries the tail of its logs."""


_handed_out = set()


def free_port():
    """Returns a TCP port on 127.0.0.1 that nothing listens on right now
    and that this process has not handed out before (the kernel may give
    a port back while the server it was meant for has not bound it yet:
    two listeners of one ejabberd once got the same one)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOCAL, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def port_is_free(port):
    """True if `port` on 127.0.0.1 can be bound now (used to prefer fixed
    default ports in the demo)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOCAL, port))
        except OSError:
            return False
    return True


def port_accepts(port, timeout=0.5):
    """True if something accepts a TCP connection on 127.0.0.1:`port`."""
    try:
        with socket.create_connection((LOCAL, port), timeout=timeout):
            return True
    except OSError:
        return False


def tcp_peer_ports(pid):
    """The remote ports of the TCP sockets process `pid` holds, in any state
    (a connect() in progress counts)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
    except OSError:
        return set()
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            col = row.split()
            if len(col) > 9 and col[9] in inodes:
                ports.add(int(col[2].rsplit(":", 1)[1], 16))
    return ports


def tail(path, lines=30):
    """The last `lines` lines of a file, or a note that it is missing."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(%s: %s)" % (path, e.strerror)
    return "\n".join(text.splitlines()[-lines:])


def _lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _erl_bin(s):
    """An Erlang binary literal for any string, without quoting problems."""
    return "<<%s>>" % ",".join(str(b) for b in s.encode("utf-8"))


def _die_with_us():
    """A command prefix that makes the child get SIGKILL if we die without
    stopping it (SIGKILL, a crash): util-linux's setpriv sets the parent-death
    signal and execs the command, so the PID stays the command's. Processes
    that later change user (ngircd as root) lose it; they are still stopped
    by stop()."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


class Process:
    """One server process started by us, in its own session so that its
    helpers (erl_child_setup, ...) go with it. Subclasses set `name`,
    `dir`, `out_path` (stdout+stderr of the process) and `log_paths`, and
    implement _command(), _env() and _ready()."""

    name = "process"
    start_timeout = 30.0
    stop_timeout = 15.0

    def __init__(self, tmpdir, name):
        self.name = name
        self.root = os.path.abspath(tmpdir)
        self.dir = os.path.join(self.root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.out_path = os.path.join(self.dir, name + ".out")
        self.log_paths = [self.out_path]
        self.proc = None
        self._out = None
        self._group_gone = True  # no process group of ours to signal

    # --- to override -------------------------------------------------------
    def _command(self):
        raise NotImplementedError

    def _env(self):
        return dict(os.environ)

    def _ready(self):
        """True once the server serves; called while waiting."""
        return True

    def _prepare(self):
        """Writes the config; called by every start()."""

    # --- life cycle --------------------------------------------------------
    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Starts (or restarts, on the same ports and data) the server and
        waits until it is ready. Raises ServerError with the log tails if it
        exits or is not ready within start_timeout seconds."""
        if self.alive():
            raise ServerError("%s is already running (pid %d)"
                              % (self.name, self.pid))
        self._prepare()
        self._out = open(self.out_path, "ab")
        self._out.write(("\n=== start %s ===\n" % time.strftime(
            "%Y-%m-%dT%H:%M:%S")).encode())
        self._out.flush()
        self.proc = subprocess.Popen(
            _die_with_us() + self._command(), cwd=self.dir, env=self._env(),
            stdin=subprocess.DEVNULL, stdout=self._out,
            stderr=subprocess.STDOUT, start_new_session=True)
        self._group_gone = False
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self._finish()
                raise ServerError("%s exited with status %s while starting\n%s"
                                  % (self.name, rc, self.log_tails()))
            if self._ready():
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise ServerError("%s not ready after %.0f s\n%s"
                                  % (self.name, self.start_timeout,
                                     self.log_tails()))
            time.sleep(0.1)

    def _signal_group(self, sig):
        # The group's id is the PID of the process we started; once we have
        # swept it after its end (_finish) we never signal that id again.
        if self._group_gone:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def _finish(self):
        """After the leader ended: kill helpers it left in its group (once),
        close its output."""
        self._signal_group(signal.SIGKILL)
        self._group_gone = True
        self._close_out()

    def stop(self):
        """SIGTERM, then SIGKILL after stop_timeout seconds. Returns the exit
        status (None if it was not running). Safe to call twice."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        self._finish()
        return self.proc.returncode

    def kill(self):
        """SIGKILL to the whole process group: a crash, nothing flushed."""
        if self.proc is None:
            return None
        self._signal_group(signal.SIGKILL)
        self.proc.wait()
        self._finish()
        return self.proc.returncode

    def restart(self):
        self.stop()
        return self.start()

    def _close_out(self):
        if self._out:
            self._out.close()
            self._out = None

    def log_tails(self, lines=30):
        return "\n".join("--- %s\n%s" % (p, tail(p, lines))
                         for p in self.log_paths if os.path.exists(p))

    def _ports_accept(self, *ports):
        return all(port_accepts(p) for p in ports)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class XmppServer(Process):
    """What the tests need from either XMPP server."""

    domain = "localhost"
    muc_domain = "conference.localhost"

    def __init__(self, tmpdir, name, component_jid, secret,
                 c2s_port=None, component_port=None):
        super().__init__(tmpdir, name)
        self.component_jid = component_jid
        self.secret = secret
        self.c2s_port = c2s_port or free_port()
        self.component_port = component_port or free_port()

    def _ready(self):
        return self.accepts()

    def accepts(self):
        """Both the c2s and the component port accept a connection now."""
        return self._ports_accept(self.c2s_port, self.component_port)

    def register(self, user, password):
        raise NotImplementedError


class Prosody(XmppServer):
    """A private Prosody 0.12 with VirtualHost "localhost", the external
    component `component_jid`, and its own MUC `conference.localhost` with
    muc_mam, and muc_moderation and vcard_muc from prosody-modules (for
    comparisons)."""

    def __init__(self, tmpdir, component_jid, secret, c2s_port=None,
                 component_port=None, log_level="info", extra_hosts=(),
                 raw_global=None, raw_components=None):
        super().__init__(tmpdir, "prosody", component_jid, secret,
                         c2s_port, component_port)
        # Raw text (README's snippets): raw_global goes in the global section,
        # raw_components after the VirtualHosts; with either, the component's
        # port, interfaces and Component lines are theirs to write.
        self.raw = (raw_global, raw_components)
        # More VirtualHosts: a second "network" for libpurple's XMPP plugin.
        self.extra_hosts = list(extra_hosts)
        self.config_path = os.path.join(self.dir, "prosody.cfg.lua")
        self.data_path = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "prosody.log")
        self.log_paths = [self.log_path, self.out_path]
        self.log_level = log_level

    def _prepare(self):
        os.makedirs(self.data_path, exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        root = "run_as_root = true\n" if os.geteuid() == 0 else ""
        extra = "".join("VirtualHost %s\n" % _lua_str(h)
                        for h in self.extra_hosts)
        raw_global, component = self.raw
        component_ports = ""
        if raw_global is None and component is None:
            component_ports = (
                f'component_interfaces = {{ "{LOCAL}" }}\n'
                f"component_ports = {{ {self.component_port} }}\n")
            component = (f"Component {_lua_str(self.component_jid)}\n"
                         f"    component_secret = {_lua_str(self.secret)}\n")
        raw_global = raw_global or ""
        component = component or ""
        cfg = f"""-- generated by tests/real/servers.py
{root}daemonize = false
pidfile = {_lua_str(os.path.join(self.dir, "prosody.pid"))}
data_path = {_lua_str(self.data_path)}
certificates = {_lua_str(os.path.join(self.dir, "certs"))}
log = {{ {{ levels = {{ min = {_lua_str(self.log_level)} }}, to = "file",
         filename = {_lua_str(self.log_path)} }} }}
interfaces = {{ "{LOCAL}" }}
c2s_interfaces = {{ "{LOCAL}" }}
{component_ports}c2s_ports = {{ {self.c2s_port} }}
s2s_ports = {{ }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
modules_enabled = {{
    "roster"; "saslauth"; "disco"; "ping"; "time"; "version"; "uptime";
    "carbons"; "mam"; "private"; "vcard_legacy"; "blocklist"; "posix";
}}
modules_disabled = {{ "s2s" }}
archive_expires_after = "never"
{raw_global}
VirtualHost "{self.domain}"
{extra}
{component}

Component "{self.muc_domain}" "muc"
    modules_enabled = {{ "muc_mam"; "muc_moderation"; "vcard_muc" }}
    restrict_room_creation = false
"""
        with open(self.config_path, "w") as f:
            f.write(cfg)

    def _command(self):
        return ["prosody", "--config", self.config_path, "-F"]

    def register(self, user, password, host=None):
        """Creates (or resets the password of) user@localhost (or @host)."""
        if not os.path.exists(self.config_path):
            self._prepare()
        r = subprocess.run(
            ["prosodyctl", "--config", self.config_path, "register", user,
             host or self.domain, password],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=30)
        if r.returncode != 0:
            raise ServerError("prosodyctl register %s failed (%d):\n%s"
                              % (user, r.returncode,
                                 r.stdout.decode("utf-8", "replace")))


def ejabberd_lib_dir():
    """The directory holding ejabberd-<version>/ebin/ejabberd.app, i.e. what
    ERL_LIBS must name (Debian: /usr/lib/x86_64-linux-gnu)."""
    for app in sorted(glob.glob("/usr/lib/*/ejabberd-*/ebin/ejabberd.app")
                      + glob.glob("/usr/lib/ejabberd-*/ebin/ejabberd.app")):
        return os.path.dirname(os.path.dirname(os.path.dirname(app)))
    raise ServerError("ejabberd is not installed (no ejabberd-*/ebin/"
                      "ejabberd.app under /usr/lib); run scripts/deps")


class Ejabberd(XmppServer):
    """A private ejabberd 23.01 node run with `erl` directly: own node name,
    cookie, distribution port (no epmd), mnesia directory and logs; host
    "localhost", the external component `component_jid` (ejabberd_service)
    and mod_muc on conference.localhost with mod_mam."""

    start_timeout = 60.0
    c2s_backlog = None  # the c2s listener's backlog; None: ejabberd's

    def __init__(self, tmpdir, component_jid, secret, c2s_port=None,
                 component_port=None, log_level="info", raw_listen=None):
        super().__init__(tmpdir, "ejabberd", component_jid, secret,
                         c2s_port, component_port)
        # Raw text (README's snippet) in place of the component's listener.
        self.raw_listen = raw_listen
        self.dist_port = free_port()
        self.node = "imgroups_test_%s@localhost" % secrets.token_hex(4)
        self.cookie = secrets.token_hex(16)
        self.config_path = os.path.join(self.dir, "ejabberd.yml")
        self.spool_dir = os.path.join(self.dir, "mnesia")
        self.log_dir = os.path.join(self.dir, "log")
        self.log_path = os.path.join(self.log_dir, "ejabberd.log")
        self.log_paths = [self.log_path, os.path.join(self.log_dir,
                                                      "error.log"),
                          self.out_path]
        self.log_level = log_level
        self.erl_libs = ejabberd_lib_dir()

    def _prepare(self):
        os.makedirs(self.spool_dir, exist_ok=True)
        os.makedirs(self.log_dir, exist_ok=True)
        listen = self.raw_listen
        # With ejabberd's own backlog, 300 clients connecting at once were
        # accepted a few at a time between SYN retries (seconds apart) and
        # most timed out: the benchmarks raise it.
        backlog = ("    backlog: %d\n" % self.c2s_backlog
                   if self.c2s_backlog else "")
        if listen is None:
            listen = f"""  -
    port: {self.component_port}
    ip: "{LOCAL}"
    module: ejabberd_service
    hosts:
      {_yaml_str(self.component_jid)}:
        password: {_yaml_str(self.secret)}"""
        cfg = f"""# generated by tests/real/servers.py
hosts:
  - {_yaml_str(self.domain)}
loglevel: {self.log_level}
log_rotate_count: 0
auth_method: internal
auth_password_format: plain
s2s_access: none
listen:
  -
    port: {self.c2s_port}
    ip: "{LOCAL}"
    module: ejabberd_c2s
    starttls: false
    max_stanza_size: 524288
{backlog}{listen}
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  muc_create:
    allow: local
shaper_rules:
  max_user_sessions: 100
modules:
  mod_disco: {{}}
  mod_ping: {{}}
  mod_roster: {{}}
  mod_version: {{}}
  mod_carboncopy: {{}}
  mod_mam:
    default: always
  mod_muc:
    host: {_yaml_str(self.muc_domain)}
    access_create: muc_create
    default_room_options:
      mam: true
"""
        with open(self.config_path, "w") as f:
            f.write(cfg)

    def _env(self):
        env = dict(os.environ)
        env.update(ERL_LIBS=self.erl_libs,
                   EJABBERD_CONFIG_PATH=self.config_path,
                   EJABBERD_LOG_PATH=self.log_path,
                   ERL_CRASH_DUMP=os.path.join(self.dir, "erl_crash.dump"),
                   HOME=self.dir)
        return env

    def _erl_common(self):
        return ["-setcookie", self.cookie,
                "-erl_epmd_port", str(self.dist_port), "-start_epmd", "false",
                "-kernel", "inet_dist_use_interface", "{127,0,0,1}"]

    def _command(self):
        return (["erl", "-sname", self.node] + self._erl_common()
                + ["-noinput", "-mnesia", "dir", '"%s"' % self.spool_dir,
                   "-s", "ejabberd"])

    def _ready(self):
        # The listeners open once the configured modules are up.
        return self._ports_accept(self.c2s_port, self.component_port,
                                  self.dist_port)

    def rpc(self, expr, timeout=60):
        """Evaluates the Erlang expression `expr` (which may use the variable
        Node) on a hidden node and returns what it printed. Raises
        ServerError unless the expression's value is ok."""
        ctl = "imgroups_ctl_%s@localhost" % secrets.token_hex(4)
        code = ("Node = '%s', R = (%s), io:format(\"~p~n\", [R]), "
                "halt(case R of ok -> 0; _ -> 1 end)." % (self.node, expr))
        r = subprocess.run(
            ["erl", "-sname", ctl, "-hidden"] + self._erl_common()
            + ["-dist_listen", "false", "-noinput", "-eval", code],
            env=self._env(), cwd=self.dir, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out = r.stdout.decode("utf-8", "replace")
        if r.returncode != 0:
            raise ServerError("ejabberd rpc failed (%d): %s" % (r.returncode,
                                                                out))
        return out

    def register(self, user, password):
        """Creates user@localhost; an existing user gets the new password."""
        # passwd is a disc_only (dets) table: dets buffers writes for up to
        # its auto_save interval, so a SIGKILL soon after would lose the
        # user. dets:sync/1 puts it on disk now, so it survives kill().
        u, h, p = _erl_bin(user), _erl_bin(self.domain), _erl_bin(password)
        self.rpc("case case rpc:call(Node, ejabberd_auth, try_register, "
                 "[%s, %s, %s]) of {error, exists} -> rpc:call(Node, "
                 "ejabberd_auth, set_password, [%s, %s, %s]); X -> X end "
                 "of ok -> rpc:call(Node, dets, sync, [passwd]); E -> E end"
                 % (u, h, p, u, h, p))


class BalancedEjabberd(Ejabberd):
    """servers.Ejabberd for a sharded imgroups (issue 14, docs/cluster.md):
    its component listener serves `component_jid` balanced over `shards`
    connections (domain_balancing type bare_destination, component_number
    `shards`; set component_number to None for no such key), the shard bus
    hosts shard<K>.<component_jid> for K < shards (with `bus` true), and
    `extra_hosts` ({host: password}), all with global_routes false (else
    every connection registers every host of the listener and a second
    component takes a balanced slot). With `epmd_port` the node registers
    with that private epmd (Epmd) instead of listening on a port of its
    own, so that nodes of one Cluster find each other; `cookie` is then the
    cluster's."""

    def __init__(self, tmpdir, component_jid, secret, shards, extra_hosts=None,
                 bus=True, epmd_port=None, cookie=None, **kw):
        super().__init__(tmpdir, component_jid, secret, **kw)
        self.shards = shards
        self.component_number = shards
        self.extra_hosts = dict(extra_hosts or {})
        self.bus = bus
        self.epmd_port = epmd_port
        if cookie:
            self.cookie = cookie

    def bus_jid(self, k):
        """Shard k's bus component JID."""
        return "shard%d.%s" % (k, self.component_jid)

    def _prepare(self):
        hosts = {self.component_jid: self.secret}
        if self.bus:
            hosts.update((self.bus_jid(k), self.secret)
                         for k in range(self.shards))
        hosts.update(self.extra_hosts)
        self.raw_listen = f"""  -
    port: {self.component_port}
    ip: "{LOCAL}"
    module: ejabberd_service
    global_routes: false
    hosts:
""" + "".join(f"""      {_yaml_str(h)}:
        password: {_yaml_str(pw)}
""" for h, pw in hosts.items())
        super()._prepare()
        with open(self.config_path, "a") as f:
            f.write("domain_balancing:\n  %s:\n    type: bare_destination\n"
                    % _yaml_str(self.component_jid))
            if self.component_number:
                f.write("    component_number: %d\n" % self.component_number)

    def _erl_common(self):
        if self.epmd_port is None:
            return super()._erl_common()
        return ["-setcookie", self.cookie, "-start_epmd", "false",
                "-kernel", "inet_dist_use_interface", "{127,0,0,1}"]

    def _env(self):
        env = super()._env()
        if self.epmd_port is not None:
            env["ERL_EPMD_PORT"] = str(self.epmd_port)
        return env

    def _ready(self):
        if self.epmd_port is None:
            return super()._ready()
        return self._ports_accept(self.c2s_port, self.component_port)

    def routes(self):
        """ejabberd's route table for component_jid as this node sees it:
        [(slot, the node of its connection or None)], slot a string, in
        the order mnesia returns them."""
        out = self.rpc(
            "begin io:format(\"ROUTES ~w~n\", [[{H, case P of undefined -> "
            "undefined; _ -> node(P) end} || {route, _, _, P, H} <- "
            "rpc:call(Node, mnesia, dirty_read, [route, %s])]]), ok end"
            % _erl_bin(self.component_jid))
        line = [x for x in out.splitlines() if x.startswith("ROUTES ")][0]
        rows = []
        for part in line[len("ROUTES ["):-1].split("},{"):
            if not part:
                continue
            hint, pid = part.strip("{}").split(",", 1)
            rows.append((hint, None if pid == "undefined"
                         else pid.strip("'")))
        return rows

    def wait_routes(self, done, timeout=30.0):
        """Waits until done(routes()) is true; returns those rows. Raises
        ServerError with the last table on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.routes()
            if done(rows):
                return rows
            if time.monotonic() > deadline:
                raise ServerError("%s: route table %s after %.0f s"
                                  % (self.name, rows, timeout))
            time.sleep(0.2)


class Epmd(Process):
    """A private Erlang port mapper on 127.0.0.1:`port`, in the foreground:
    how the nodes of a Cluster find each other (Ejabberd's epmd-less nodes
    each listen on a port of their own, which every node would have to
    share)."""

    def __init__(self, tmpdir, port=None):
        super().__init__(tmpdir, "epmd")
        self.port = port or free_port()

    def _command(self):
        return ["epmd", "-address", LOCAL, "-port", str(self.port)]

    def _ready(self):
        return port_accepts(self.port)


class Cluster:
    """A private ejabberd cluster on 127.0.0.1: an Epmd and `nodes`
    BalancedEjabberd nodes (under tmpdir/n1, n2, ...) with one cookie, the
    same hosts and domain_balancing, each its own c2s and component
    listener; start() joins every node after the first to it
    (ejabberd_admin:join_cluster, which restarts ejabberd on the joining
    node), so mnesia (users, the route table) is one on all of them.

        c = Cluster(tmp, "groups.localhost", secret, shards=2)
        c.start(); c.register("alice", "alice-pw")
        c.nodes[1].kill(); c.nodes[1].start()   # back in the cluster
        c.stop()
    """

    def __init__(self, tmpdir, component_jid, secret, shards, nodes=2,
                 **kw):
        self.name = "cluster"
        self.root = os.path.abspath(tmpdir)
        self.component_jid = component_jid
        self.epmd = Epmd(self.root)
        self.nodes = []
        for i in range(nodes):
            n = BalancedEjabberd(
                os.path.join(self.root, "n%d" % (i + 1)), component_jid,
                secret, shards, epmd_port=self.epmd.port,
                cookie=self.nodes[0].cookie if self.nodes else None, **kw)
            self.nodes.append(n)

    def start(self):
        """Starts the epmd and every node, then joins the others to the
        first. Raises ServerError if a node does not come back after
        joining."""
        self.epmd.start()
        for n in self.nodes:
            n.start()
        first = self.nodes[0]
        for n in self.nodes[1:]:
            n.rpc("case rpc:call(Node, ejabberd_admin, join_cluster, "
                  "[%s], 120000) of {ok, _} -> ok; X -> X end"
                  % _erl_bin(first.node), timeout=150)
            # join_cluster restarts ejabberd on the joining node.
            deadline = time.monotonic() + n.start_timeout
            while not n._ready():
                if time.monotonic() > deadline:
                    raise ServerError("%s: listeners not back after joining"
                                      "\n%s" % (n.node, n.log_tails()))
                time.sleep(0.1)
        return self

    def db_nodes(self, i=0):
        """The nodes mnesia runs on, as node i sees them (sorted names)."""
        out = self.nodes[i].rpc(
            "begin io:format(\"DB ~w~n\", [lists:sort(rpc:call(Node, "
            "mnesia, system_info, [running_db_nodes]))]), ok end")
        line = [x for x in out.splitlines() if x.startswith("DB ")][0]
        return [x.strip("'") for x in line[len("DB ["):-1].split(",") if x]

    def reconfigure(self, shards):
        """Stops every node (the last joined first), gives each `shards`
        slots (component_number and the bus hosts) and starts them again
        in order: the first went down last, so mnesia loads its tables at
        once, and the others rejoin it (the cluster's schema is on disk).
        Client sessions and component connections do not survive this."""
        for n in reversed(self.nodes):
            n.stop()
        for n in self.nodes:
            n.shards = n.component_number = shards
            n.start()
        return self

    def register(self, user, password):
        """user@localhost on every node (mnesia replicates the account)."""
        self.nodes[0].register(user, password)

    def stop(self):
        for p in reversed([self.epmd] + self.nodes):
            p.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_shards(tmpdir, binary, component_jid, secret, servers, shards,
                 proven=None, prefix="imgroups", **kw):
    """Starts `shards` imgroups instances ([cluster] shard = K, shards =
    N) one after the other in order 0, 1, ..., instance K connected to
    servers[K % len(servers)] (BalancedEjabberd nodes: one server, or a
    Cluster's nodes), and returns them. Instance K is started only once
    K's connection holds slot K + 1 in ejabberd's route table (fresh start,
    in order: docs/cluster.md "Which connection holds which slot"), and,
    with `proven` (a regex), once its log shows it. Instance K is named
    (and kept under) <prefix>K. kw goes to Imgroups (sections are added to
    the [cluster] one)."""
    sections = list(kw.pop("sections", ()))
    out = []
    for k in range(shards):
        srv = servers[k % len(servers)]
        ig = Imgroups(tmpdir, binary, component_jid, LOCAL,
                      srv.component_port, secret, name="%s%d" % (prefix, k),
                      sections=[("cluster", {"shard": k, "shards": shards})]
                      + sections, **kw)
        out.append(ig)
        ig.start()
        ig.wait_log(r"connected to", 15)
        if proven:
            ig.wait_log(proven, 30)
        srv.wait_routes(lambda rows: sum(1 for _, p in rows if p)
                        == k + 1)
    return out


class Ngircd(Process):
    """A private ngircd on 127.0.0.1:`port` with no flood penalties and no
    connection limits."""

    def __init__(self, tmpdir, port=None, name="irc.localhost"):
        super().__init__(tmpdir, "ngircd")
        self.port = port or free_port()
        self.server_name = name
        self.config_path = os.path.join(self.dir, "ngircd.conf")

    def _prepare(self):
        # Started as root, ngircd drops privileges and re-reads its config:
        # the file and every directory above it must be readable by others.
        # We open up only our own directories, up to the one we were given.
        d = self.dir
        while True:
            st = os.stat(d)
            if st.st_uid == os.geteuid() and (st.st_mode & 0o055) != 0o055:
                os.chmod(d, (st.st_mode & 0o7777) | 0o055)
            if d == self.root or d == os.path.dirname(d):
                break
            d = os.path.dirname(d)
        cfg = f"""# generated by tests/real/servers.py
[Global]
    Name = {self.server_name}
    Info = imgroups private test server
    Listen = {LOCAL}
    Ports = {self.port}
    MotdPhrase = "imgroups test server"
    AdminInfo1 = imgroups tests
    AdminInfo2 = 127.0.0.1
    AdminEMail = nobody@localhost
[Limits]
    MaxConnectionsIP = 0
    MaxJoins = 0
    MaxPenaltyTime = 0
    MaxNickLength = 30
[Options]
    DNS = no
    Ident = no
    PAM = no
"""
        with open(self.config_path, "w") as f:
            f.write(cfg)
        os.chmod(self.config_path, 0o644)

    def _command(self):
        return [which("ngircd") or "ngircd", "-n", "-f", self.config_path]

    def _ready(self):
        return port_accepts(self.port)


class Imgroups(Process):
    """imgroups in the foreground, stderr to `log_path`. `accounts` is a list
    of (section name, {key: value}) written as [account:NAME] sections."""

    start_timeout = 10.0
    stop_timeout = 10.0

    def __init__(self, tmpdir, binary, component_jid, host, port, secret,
                 name="imgroups", accounts=(), admins=("admin@localhost",),
                 log_level="info", storage=None, extra_env=None,
                 sections=()):
        super().__init__(tmpdir, name)
        # more (section name, {key: value}), e.g. ("legacy", {...})
        self.sections = list(sections)
        self.binary = os.path.abspath(binary)
        self.component_jid = component_jid
        self.host = host
        self.port = port
        self.secret = secret
        self.accounts = list(accounts)
        self.admins = list(admins)
        self.log_level = log_level
        self.storage = storage or os.path.join(self.dir, "store")
        self.config_path = os.path.join(self.dir, "imgroups.conf")
        self.log_path = os.path.join(self.dir, "imgroups.log")
        self.out_path = self.log_path
        self.log_paths = [self.log_path]
        self.extra_env = dict(extra_env or {})

    # The first-contact notice is a message no other test waits for:
    # test_privacy turns it on.
    first_contact_notice = "no"

    def config_text(self):
        lines = ["# generated by tests/real/servers.py",
                 "[component]",
                 "jid = %s" % self.component_jid,
                 "host = %s" % self.host,
                 "port = %d" % self.port,
                 "secret = %s" % self.secret,
                 "",
                 "[storage]",
                 "path = %s" % self.storage,
                 "",
                 "[service]",
                 "admins = %s" % "".join(a + ";" for a in self.admins),
                 "room_creation = anyone",
                 "first_contact_notice = %s" % self.first_contact_notice,
                 "",
                 "[log]",
                 "level = %s" % self.log_level]
        for name, keys in self.sections:
            lines += ["", "[%s]" % name]
            lines += ["%s = %s" % (k, v) for k, v in keys.items()]
        for name, keys in self.accounts:
            lines += ["", "[account:%s]" % name]
            lines += ["%s = %s" % (k, v) for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def _prepare(self):
        with open(self.config_path, "w") as f:
            f.write(self.config_text())
        os.chmod(self.config_path, 0o600)  # holds the secret

    def _command(self):
        return [self.binary, "--config", self.config_path]

    def _env(self):
        env = dict(os.environ)
        env.update(self.extra_env)
        return env

    def _ready(self):
        # Started (config read, store open, main loop running) once it has a
        # connection to the server's component port or has logged how its
        # first one went; use wait_log() for the handshake.
        return (self.port in tcp_peer_ports(self.pid)
                or re.search(r"^\S+ \w+ link: ", self.log_text(), re.M))

    def log_text(self, since=0):
        """The log from byte offset `since` on."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_mark(self):
        """An offset into the log; pass it to wait_log() to see only what is
        written afterwards."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def wait_log(self, regex, timeout=30.0, since=0, count=1):
        """Waits until `regex` matches `count` lines written at or after
        offset `since`. Returns the list of matching lines. Raises
        ServerError with the log tail on timeout or if imgroups exits."""
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text(since)
            hits = [l for l in text.splitlines() if pat.search(l)]
            if len(hits) >= count:
                return hits
            if not self.alive():
                raise ServerError("imgroups exited (status %s) before its log "
                                  "showed /%s/\n%s" % (self.proc.returncode,
                                                       regex,
                                                       self.log_tails()))
            if time.monotonic() > deadline:
                raise ServerError("imgroups log did not show /%s/ within "
                                  "%.0f s\n%s" % (regex, timeout,
                                                  self.log_tails()))
            time.sleep(0.1)

    def stop(self):
        """SIGTERM to imgroups only (its workers are its business), then
        waits; SIGKILL after stop_timeout. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        self._finish()  # any worker left behind
        return self.proc.returncode


def which(prog):
    return shutil.which(prog) or shutil.which(prog, path="/usr/sbin:/sbin")
