#!/usr/bin/python3
"""Benchmark: imgroups against Prosody's own MUC, and imgroups' memory per
room and per occupant. Prints figures; asserts nothing; not part of the test
suite. See README.md here for what the figures mean.

    /usr/bin/python3 tests/bench/run.py [--imgroups PATH] [--part load]

Load (--part load): a private Prosody (tests/real/servers.py) with imgroups
as groups.localhost and Prosody's own MUC as conference.localhost. The C load
generator (loadgen.c, compiled here into the temp dir) logs in K users, joins
them to R rooms and runs two rounds: a paced one (a fixed offered load, for
latency and CPU per delivery) and a flood one (each client sends M messages
with one of its own in flight, for throughput). Each shape runs once against
each MUC; the CPU time and RSS of both server processes are read from /proc
between the phases and printed side by side.

Memory (--part memory): this script plays the XMPP server toward imgroups
(XEP-0114), creates 10 000 rooms (each joined and left by its creator, so it
stays, idle), then joins 10 occupants to each (100 000), and prints the RSS
growth of imgroups per idle room and per occupant.

Everything listens on 127.0.0.1, lives in a temp dir and is stopped by PID on
the way out, also on errors, Ctrl-C and SIGTERM.
"""

import argparse
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "real"))
import servers  # noqa: E402

COMPONENT = "groups.localhost"
PASSWORD = "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
WATCHDOG = 900  # s: the whole run, whatever happens


# --- process sampling ------------------------------------------------------

def sample(pid):
    """CPU seconds (user+system) and memory (kB) of a live process."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    mem = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                mem[key] = int(val.split()[0])
    return {"cpu": cpu, **mem}


def samples(procs):
    return {name: sample(pid) for name, pid in procs.items()}


# --- the servers -----------------------------------------------------------

class BenchImgroups(servers.Imgroups):
    """imgroups with the [limits] opened up so that the load is not
    throttled (rate and burst per occupant, rooms per owner)."""

    def config_text(self):
        return super().config_text() + (
            "\n[limits]\nrate = 100000\nburst = 100000\n"
            "max_rooms = 1000000\n")


def register_users(prosody, n):
    """u1..u<n>@localhost, password PASSWORD. prosodyctl takes about half a
    second per call, so the first account is made by prosodyctl and the
    others are copies of its file (Prosody's internal storage: one file per
    account under data/<host>/accounts/)."""
    prosody.register("u1", PASSWORD)
    accounts = os.path.join(prosody.data_path, "localhost", "accounts")
    with open(os.path.join(accounts, "u1.dat")) as f:
        text = f.read()
    for i in range(2, n + 1):
        with open(os.path.join(accounts, "u%d.dat" % i), "w") as f:
            f.write(text)


def store_dir(parent, part):
    """imgroups' store for a part: None (the temp dir) or a fresh directory
    under `parent` (e.g. /dev/shm), removed at the end."""
    if not parent:
        return None
    return os.path.join(parent, "imgroups-bench-%d-%s" % (os.getpid(), part))


def build_loadgen(outdir):
    exe = os.path.join(outdir, "loadgen")
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "libstrophe", "glib-2.0"],
        check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    subprocess.run(["cc", "-std=c11", "-O2", "-Wall", "-Wextra",
                    "-Wno-unused-parameter", "-D_GNU_SOURCE", "-o", exe,
                    os.path.join(HERE, "loadgen.c")] + flags, check=True)
    return exe


def build_nodelay(outdir):
    lib = os.path.join(outdir, "nodelay.so")
    subprocess.run(["cc", "-std=c11", "-O2", "-D_GNU_SOURCE", "-shared",
                    "-fPIC", "-o", lib, os.path.join(HERE, "nodelay.c"),
                    "-ldl"], check=True)
    return lib


# --- part 1: load ----------------------------------------------------------

def plan_rounds(args, rooms, per_room):
    """The loadgen rounds of one shape: a paced round offering
    args.paced_rate deliveries per second for about args.paced_seconds,
    then a flood round (args.messages each, args.window in flight)."""
    clients = rooms * per_room
    # deliveries/s = clients / interval * per_room
    interval = max(1, round(clients * per_room * 1000 / args.paced_rate))
    paced_m = max(1, round(args.paced_seconds * 1000 / interval))
    return [("paced", paced_m, 0, interval),
            ("flood", args.messages, args.window, 0)]


def run_loadgen(exe, port, muc, clients, rooms, plan, args, room_prefix,
                procs):
    """Runs one loadgen and samples procs at its sync points. Returns (result
    dict or None, [samples at start, joined, end of each round, end])."""
    cmd = [exe, "--port", str(port), "--muc", muc, "--clients", str(clients),
           "--rooms", str(rooms), "--timeout", str(args.timeout),
           "--password", PASSWORD, "--room-prefix", room_prefix, "--sync"]
    for _, m, w, i in plan:
        cmd += ["--round", "%d:%d:%d" % (m, w, i)]
    marks = [samples(procs)]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    result = None
    try:
        for line in p.stdout:
            word = line.split(" ", 1)[0]
            if word in ("joined", "round"):
                marks.append(samples(procs))
                p.stdin.write("go\n")
                p.stdin.flush()
            elif word == "result":
                result = json.loads(line.split(" ", 1)[1])
        p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    marks.append(samples(procs))
    return result, marks


def load_part(args, tmp, exe):
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes]
    users = max(r * n for r, n in shapes)
    secret = os.urandom(12).hex()
    prosody = servers.Prosody(tmp, COMPONENT, secret, log_level="warn")
    ig = None
    out = []
    try:
        prosody.start()
        register_users(prosody, users)
        env = None
        if args.nodelay:
            env = {"LD_PRELOAD": build_nodelay(tmp)}
        ig = BenchImgroups(tmp, args.imgroups, COMPONENT, "127.0.0.1",
                           prosody.component_port, secret,
                           log_level="info", extra_env=env,
                           storage=store_dir(args.store, "load"))
        ig.start()
        ig.wait_log(r"connected to", 15)
        procs = {"imgroups": ig.pid, "prosody": prosody.pid}
        targets = [("imgroups", COMPONENT), ("prosody", prosody.muc_domain)]
        for si, (rooms, per_room) in enumerate(shapes):
            plan = plan_rounds(args, rooms, per_room)
            runs = {}
            # alternate who goes first, so neither always meets a Prosody
            # that has served more
            for target, muc in (targets if si % 2 == 0 else targets[::-1]):
                time.sleep(1)  # let the previous run's logouts settle
                runs[target] = run_loadgen(
                    exe, prosody.c2s_port, muc, rooms * per_room, rooms, plan,
                    args, "s%d%s-" % (si, target[0]), procs)
                if not ig.alive() or not prosody.alive():
                    raise servers.ServerError(
                        "a server died during the %s run\n%s\n%s"
                        % (target, ig.log_tails(), prosody.log_tails()))
            out.append({"rooms": rooms, "per_room": per_room, "plan": plan,
                        "runs": runs})
            print_shape(rooms, per_room, plan, runs)
    finally:
        if ig:
            ig.stop()
        prosody.stop()
    return out


def fmt(v, nd=0):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return ("%%.%df" % nd) % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.2f" % (a / b)


def print_shape(rooms, per_room, plan, runs):
    rows = []

    def row(name, a, b, nd=0, r=True):
        rows.append((name, fmt(a, nd), fmt(b, nd), ratio(a, b) if r else ""))

    def head(text):
        rows.append((text, None, None, None))

    res = {t: runs[t][0] or {} for t in runs}
    marks = {t: runs[t][1] for t in runs}

    def cpu(t, proc, i, j):
        m = marks[t]
        if j >= len(m) - 1 or not res[t]:
            return None
        return m[j][proc]["cpu"] - m[i][proc]["cpu"]

    for n, (kind, m, w, i) in enumerate(plan):
        rr = {t: (res[t].get("rounds") or [{}] * len(plan))[n] for t in runs}
        if kind == "paced":
            head("paced: %d message%s each, one per %d ms per client "
                 "(offered %.0f deliveries/s)"
                 % (m, "" if m == 1 else "s", i,
                    rooms * per_room * per_room * 1000 / i))
        else:
            head("flood: %d messages each, %s in flight per client"
                 % (m, w or "no limit"))
        row("  deliveries received", rr["imgroups"].get("delivered"),
            rr["prosody"].get("delivered"), 0, False)
        row("  deliveries per second", rr["imgroups"].get("deliveries_per_s"),
            rr["prosody"].get("deliveries_per_s"))
        row("  latency median (ms)", rr["imgroups"].get("lat_p50_ms"),
            rr["prosody"].get("lat_p50_ms"), 1)
        row("  latency p99 (ms)", rr["imgroups"].get("lat_p99_ms"),
            rr["prosody"].get("lat_p99_ms"), 1)
        # marks: 0 start, 1 joined, 2.. after each round, last: end
        c = {t: (cpu(t, "imgroups", n + 1, n + 2),
                 cpu(t, "prosody", n + 1, n + 2)) for t in runs}
        row("  CPU s, imgroups process", c["imgroups"][0], c["prosody"][0],
            2, False)
        row("  CPU s, Prosody process", c["imgroups"][1], c["prosody"][1],
            2, False)
        per = {}
        for t in runs:
            d = rr[t].get("delivered")
            per[t] = ((c[t][0] + c[t][1]) * 1e6 / d
                      if d and c[t][1] is not None else None)
        row("  server CPU per delivery (us)", per["imgroups"],
            per["prosody"], 1)
        if c["imgroups"][0] is not None and rr["imgroups"].get("delivered"):
            row("  of which imgroups (us)", c["imgroups"][0] * 1e6
                / rr["imgroups"]["delivered"], None, 1, False)
    head("joining")
    row("  login of all clients (s)", res["imgroups"].get("login_s"),
        res["prosody"].get("login_s"), 2)
    row("  joins, room by room (s)", res["imgroups"].get("join_s"),
        res["prosody"].get("join_s"), 2)
    head("memory (RSS, MiB, at the start and the end of each run)")
    for proc in ("imgroups", "Prosody"):
        key = proc.lower()
        for at, idx in (("start", 0), ("end", -1)):
            row("  %s process, %s" % (proc, at),
                marks["imgroups"][idx][key]["VmRSS"] / 1024,
                marks["prosody"][idx][key]["VmRSS"] / 1024, 1, False)
    head("errors")
    row("  errors (all kinds)", res["imgroups"].get("errors"),
        res["prosody"].get("errors"), 0, False)
    for t in runs:
        bad = {k[4:]: v for k, v in res[t].items()
               if k.startswith("err_") and v}
        if bad or not res[t]:
            row("  %s: %s" % (t, bad or "no result from loadgen"), None,
                None, 0, False)

    clients = rooms * per_room
    print()
    print("%d room%s x %d occupants (%d clients)"
          % (rooms, "" if rooms == 1 else "s", per_room, clients))
    w0 = max(len(r[0]) for r in rows if r[1] is not None)
    print("%-*s %16s %16s %7s" % (w0, "", "groups.localhost",
                                  "conference.local", "ratio"))
    print("%-*s %16s %16s %7s" % (w0, "", "(imgroups)", "(Prosody MUC)",
                                  "ig/pr"))
    for name, a, b, r in rows:
        if a is None:
            print(name)
        else:
            print("%-*s %16s %16s %7s" % (w0, name, a, b, r))
    sys.stdout.flush()


# --- part 2: memory --------------------------------------------------------

STREAM_NS = "http://etherx.jabber.org/streams"


class FakeServer:
    """The XMPP server's side of XEP-0114, for one component connection:
    handshake, then stanzas in, everything the component sends read and
    thrown away. Barriers (a ping and its answer) pace the injection: the
    component handles stanzas in order, so its answer to a ping means
    everything sent before has been handled and its output read."""

    def __init__(self, secret):
        self.secret = secret
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.sock = None
        self.tail = b""
        self.tails = {}
        self.counts = {}
        self.want = None
        self.bytes_in = 0
        self.barrier = 0

    def accept(self, timeout=15):
        self.lsock.settimeout(timeout)
        self.sock, _ = self.lsock.accept()
        self.sock.settimeout(timeout)
        buf = b""
        while not re.search(rb"<stream:stream[^>]*>", buf):
            data = self.sock.recv(4096)
            if not data:
                raise RuntimeError("component closed before its header")
            buf += data
        sid = os.urandom(8).hex()
        self.sock.sendall((
            "<?xml version='1.0'?><stream:stream xmlns:stream='%s' "
            "xmlns='jabber:component:accept' from='%s' id='%s'>"
            % (STREAM_NS, COMPONENT, sid)).encode())
        while b"</handshake>" not in buf:
            data = self.sock.recv(4096)
            if not data:
                raise RuntimeError("component closed before its handshake")
            buf += data
        got = re.search(rb"<handshake[^>]*>([0-9a-f]+)</handshake>", buf)
        want = hashlib.sha1((sid + self.secret).encode()).hexdigest()
        if not got or got.group(1).decode() != want:
            raise RuntimeError("bad handshake: %r" % buf[-200:])
        self.sock.sendall(b"<handshake/>")
        self.sock.setblocking(False)

    def send(self, data):
        """Sends everything, reading (and discarding) whatever the
        component writes meanwhile so neither side stalls."""
        view = memoryview(data.encode() if isinstance(data, str) else data)
        while view:
            r, w, _ = select.select([self.sock], [self.sock], [], 30)
            if not r and not w:
                raise RuntimeError("the component neither reads nor writes")
            if r:
                self._read()
            if w:
                try:
                    n = self.sock.send(view)
                except BlockingIOError:
                    n = 0
                view = view[n:]

    # What is counted in the component's output (each pattern is at least
    # 8 bytes and cannot overlap itself, so keeping the last len-1 bytes of
    # the previous read finds those split between reads exactly once).
    MARKS = {"errors": (b'type="error"', b"type='error'"),
             "subjects": (b"<subject",)}

    def _read(self):
        """Reads what is there; True if it holds the awaited barrier."""
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return False
        if not data:
            raise RuntimeError("the component closed the connection")
        self.bytes_in += len(data)
        for name, pats in self.MARKS.items():
            for pat in pats:
                hay = self.tails.get(pat, b"") + data
                self.counts[name] = self.counts.get(name, 0) + hay.count(pat)
                self.tails[pat] = hay[-(len(pat) - 1):]
        hay = self.tail + data
        found = bool(self.want and self.want.search(hay))
        self.tail = hay[-64:]
        return found

    def sync(self, timeout=120):
        """Pings and waits for the answer."""
        self.barrier += 1
        ident = "bar%d" % self.barrier
        self.want = re.compile((r"""id=["']%s["']""" % ident).encode())
        self.send("<iq type='get' id='%s' from='bench@localhost/b' to='%s'>"
                  "<ping xmlns='urn:xmpp:ping'/></iq>" % (ident, COMPONENT))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("no answer to ping %s in %d s"
                                   % (ident, timeout))
            r, _, _ = select.select([self.sock], [], [], left)
            if r and self._read():
                self.want = None
                return

    def close(self):
        for s in (self.sock, self.lsock):
            if s:
                try:
                    s.close()
                except OSError:
                    pass


def memory_part(args, tmp):
    secret = os.urandom(12).hex()
    fake = FakeServer(secret)
    ig = BenchImgroups(tmp, args.imgroups, COMPONENT, "127.0.0.1", fake.port,
                       secret, name="imgroups-mem", log_level="info",
                       storage=store_dir(args.mem_store, "mem"))
    nrooms, per_room, batch = args.mem_rooms, args.mem_per_room, 250
    out = {}
    try:
        ig.start()
        fake.accept()
        fake.sync()
        time.sleep(0.5)
        out["base"] = sample(ig.pid)
        t0 = time.monotonic()
        # Rooms: each created by a join and left at once, so it is idle.
        for start in range(0, nrooms, batch):
            chunk = []
            for r in range(start, min(nrooms, start + batch)):
                frm = "c%d@localhost/r" % r
                to = "room%d@%s/c%d" % (r, COMPONENT, r)
                chunk.append("<presence from='%s' to='%s'><x xmlns='"
                             "http://jabber.org/protocol/muc'/></presence>"
                             "<presence type='unavailable' from='%s' "
                             "to='%s'/>" % (frm, to, frm, to))
            fake.send("".join(chunk))
            fake.sync()
        out["rooms_s"] = time.monotonic() - t0
        out["rooms_counts"] = dict(fake.counts)
        time.sleep(0.5)
        out["rooms"] = sample(ig.pid)
        t0 = time.monotonic()
        # Occupants: u<N> joins room<N / per_room> as u<N>.
        n_occ = nrooms * per_room
        for start in range(0, n_occ, batch):
            chunk = []
            for n in range(start, min(n_occ, start + batch)):
                chunk.append("<presence from='u%d@localhost/r' "
                             "to='room%d@%s/u%d'><x xmlns='"
                             "http://jabber.org/protocol/muc'/></presence>"
                             % (n, n // per_room, COMPONENT, n))
            fake.send("".join(chunk))
            fake.sync()
        out["occupants_s"] = time.monotonic() - t0
        out["occupants_counts"] = dict(fake.counts)
        time.sleep(0.5)
        out["occupants"] = sample(ig.pid)
        out["bytes_in"] = fake.bytes_in
        # every room made once: none went away when its creator left
        out["created"] = len(re.findall(r"group \S+ created", ig.log_text()))
        out["direct"] = direct_messages(args, fake, ig, n_occ, per_room)
        if not ig.alive():
            raise servers.ServerError("imgroups died\n" + ig.log_tails())
    finally:
        ig.stop()
        fake.close()
    print_memory(args, out)
    return out


def direct_messages(args, fake, ig, n_occ, per_room, batch=500):
    """imgroups alone, without a real server in the way: args.direct
    groupchat messages from the occupants, spread over the rooms, injected
    in batches of `batch` with a barrier after each. Returns figures."""
    n = args.direct
    if n <= 0:
        return None
    before = dict(fake.counts)
    bytes0 = fake.bytes_in
    s0 = sample(ig.pid)
    t0 = time.monotonic()
    for start in range(0, n, batch):
        chunk = []
        for k in range(start, min(n, start + batch)):
            # sender k-th occupant, round-robin over the rooms
            u = (k * per_room + (k // (n_occ // per_room))) % n_occ
            chunk.append("<message type='groupchat' id='d%d' "
                         "from='u%d@localhost/r' to='room%d@%s'>"
                         "<body>direct %d</body></message>"
                         % (k, u, u // per_room, COMPONENT, k))
        fake.send("".join(chunk))
        fake.sync()
    elapsed = time.monotonic() - t0
    s1 = sample(ig.pid)
    return {"messages": n, "fan_out": per_room, "elapsed_s": elapsed,
            "cpu_s": s1["cpu"] - s0["cpu"],
            "errors": fake.counts.get("errors", 0) - before.get("errors", 0),
            "bytes": fake.bytes_in - bytes0}


def print_memory(args, m):
    nrooms, per_room = args.mem_rooms, args.mem_per_room
    n_occ = nrooms * per_room
    print()
    print("imgroups memory: %d idle rooms, then %d occupants (%d per room), "
          "store in %s" % (nrooms, n_occ, per_room,
                           args.mem_store or "the temp dir"))
    print("%-34s %12s %12s %12s" % ("", "start", "+rooms", "+occupants"))
    for key, name in (("VmRSS", "RSS (KiB)"), ("RssAnon", "  anonymous (heap)"),
                      ("RssFile", "  file-backed (LMDB map, libs)"),
                      ("RssShmem", "  shared memory")):
        print("%-34s %12d %12d %12d" % (name, m["base"][key], m["rooms"][key],
                                       m["occupants"][key]))
    for key, name in (("VmRSS", "RSS"), ("RssAnon", "anonymous")):
        per_room_b = (m["rooms"][key] - m["base"][key]) * 1024 / nrooms
        per_occ_b = (m["occupants"][key] - m["rooms"][key]) * 1024 / n_occ
        print("%-34s %12.0f bytes per idle room, %.0f bytes per occupant"
              % (name, per_room_b, per_occ_b))
    print("creating the rooms took %.1f s, the joins %.1f s; %.0f MiB of "
          "XML read from imgroups" % (m["rooms_s"], m["occupants_s"],
                                       m["bytes_in"] / 1048576))
    rc, oc = m["rooms_counts"], m["occupants_counts"]
    print("joins answered with a subject: %d of %d, then %d of %d; error "
          "stanzas: %d; rooms created (imgroups log): %d"
          % (rc.get("subjects", 0), nrooms,
             oc.get("subjects", 0) - rc.get("subjects", 0), n_occ,
             oc.get("errors", 0), m["created"]))
    d = m.get("direct")
    if d:
        deliveries = d["messages"] * d["fan_out"]
        print()
        print("imgroups alone (this script as its server): %d groupchat "
              "messages, %d occupants each, in batches of 500"
              % (d["messages"], d["fan_out"]))
        print("  %.0f messages/s, %.0f deliveries/s; imgroups CPU %.2f s "
              "(%.1f us per delivery, %.0f%% of the wall time); error "
              "stanzas: %d" % (d["messages"] / d["elapsed_s"],
                               deliveries / d["elapsed_s"], d["cpu_s"],
                               d["cpu_s"] * 1e6 / deliveries,
                               100 * d["cpu_s"] / d["elapsed_s"],
                               d["errors"]))
    sys.stdout.flush()


# --- main ------------------------------------------------------------------

def loadavg():
    """The 1, 5 and 15 minute load averages: other work on the machine
    skews every figure here."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--imgroups", default=os.path.join(
        ROOT, "build-bench", "component", "imgroups"))
    ap.add_argument("--loadgen", default=None,
                    help="a loadgen binary (default: compile "
                    "tests/bench/loadgen.c into the temp dir)")
    ap.add_argument("--part", choices=("all", "load", "memory"),
                    default="all")
    ap.add_argument("--messages", type=int, default=20,
                    help="messages each client sends in the flood round "
                    "(default 20)")
    ap.add_argument("--window", type=int, default=1,
                    help="own messages in flight per client in the flood "
                    "round (0: no limit; default 1)")
    ap.add_argument("--paced-rate", type=float, default=1000,
                    help="deliveries per second offered in the paced round "
                    "(default 1000)")
    ap.add_argument("--paced-seconds", type=float, default=10,
                    help="length of the paced round (default 10)")
    ap.add_argument("--timeout", type=int, default=60,
                    help="hard limit of each loadgen run, s (default 60)")
    ap.add_argument("--shapes", nargs="+", default=["1x50", "20x10"],
                    help="ROOMSxOCCUPANTS, default 1x50 20x10")
    ap.add_argument("--store", default=None,
                    help="directory for imgroups' store in the load part "
                    "(e.g. /dev/shm; default: the temp dir)")
    ap.add_argument("--nodelay", action="store_true",
                    help="experiment: run imgroups with TCP_NODELAY on its "
                    "link (LD_PRELOAD of nodelay.c) in the load part")
    ap.add_argument("--mem-rooms", type=int, default=10000)
    ap.add_argument("--mem-per-room", type=int, default=10)
    ap.add_argument("--direct", type=int, default=20000,
                    help="groupchat messages injected straight into imgroups "
                    "after the memory part (0: none; default 20000)")
    ap.add_argument("--mem-store", default=None,
                    help="directory for the memory part's store (e.g. "
                    "/dev/shm; default: the temp dir)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (logs)")
    ap.add_argument("--json", default=None,
                    help="also write every figure and sample to this file")
    args = ap.parse_args()
    if not os.access(args.imgroups, os.X_OK):
        sys.exit("%s: not an executable; build it with: meson setup "
                 "build-bench --buildtype=release && ninja -C build-bench "
                 "component/imgroups" % args.imgroups)
    tmp = tempfile.mkdtemp(prefix="imgroups-bench-")
    os.chmod(tmp, 0o755)
    t0 = time.monotonic()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(WATCHDOG)
    figures = {"args": vars(args)}
    try:
        print("imgroups %s; %d CPUs; load average %s; temp dir %s"
              % (args.imgroups, os.cpu_count(), loadavg(), tmp))
        if args.part in ("all", "load"):
            exe = args.loadgen or build_loadgen(tmp)
            figures["load"] = load_part(args, tmp, exe)
        if args.part in ("all", "memory"):
            figures["memory"] = memory_part(args, tmp)
    finally:
        signal.alarm(0)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=1)
        print("\n%.0f s in all; load average %s"
              % (time.monotonic() - t0, loadavg()))
        if args.keep:
            print("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        for d in (store_dir(args.store, "load"),
                  store_dir(args.mem_store, "mem")):
            if d:
                shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
