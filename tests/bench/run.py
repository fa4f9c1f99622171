#!/usr/bin/python3
"""Benchmark: imgroups against Prosody's own MUC, and imgroups' memory per
room and per occupant. Prints figures; asserts nothing; not part of the test
suite.

    /usr/bin/python3 tests/bench/run.py [--imgroups build-bench/component/imgroups]

Part 1 (load): a private Prosody (tests/real/servers.py) with imgroups as
groups.localhost and Prosody's MUC as conference.localhost. The C load
generator (tests/bench/loadgen.c, compiled here into a temp dir) logs in K
users, joins them to R rooms, and each sends M groupchat messages; for each
shape it runs once against each MUC and prints the two side by side, with the
CPU time and RSS of both server processes sampled from /proc between the
phases.

Part 2 (memory): this script plays the XMPP server toward imgroups
(XEP-0114), creates 10 000 rooms (each joined and left by its creator, so it
stays idle), then joins 10 occupants to each (100 000), and prints imgroups'
RSS growth per idle room and per occupant.

Everything listens on 127.0.0.1, lives in a temp dir and is stopped by PID on
the way out, also on errors and Ctrl-C.
"""

import argparse
import hashlib
import json
import os
import re
import select
import shutil
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
PAGE = os.sysconf("SC_PAGE_SIZE")


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


def build_loadgen(outdir):
    exe = os.path.join(outdir, "loadgen")
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "libstrophe", "glib-2.0"],
        check=True, stdout=subprocess.PIPE, text=True).stdout.split()
    subprocess.run(["cc", "-std=c11", "-O2", "-Wall", "-Wextra",
                    "-Wno-unused-parameter", "-D_GNU_SOURCE", "-o", exe,
                    os.path.join(HERE, "loadgen.c")] + flags, check=True)
    return exe


# --- part 1: load ----------------------------------------------------------

def run_loadgen(exe, port, muc, clients, rooms, args, room_prefix, procs):
    """Runs one loadgen and samples procs at its sync points. Returns (result
    dict, {phase: samples})."""
    cmd = [exe, "--port", str(port), "--muc", muc, "--clients", str(clients),
           "--rooms", str(rooms), "--messages", str(args.messages),
           "--window", str(args.window), "--interval-ms", str(args.interval),
           "--timeout", str(args.timeout), "--password", PASSWORD,
           "--room-prefix", room_prefix, "--sync"]
    marks = {"start": samples(procs)}
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    result = None
    try:
        for line in p.stdout:
            word = line.split(" ", 1)[0]
            if word in ("joined", "delivered"):
                marks[word] = samples(procs)
                p.stdin.write("go\n")
                p.stdin.flush()
            elif word == "result":
                result = json.loads(line.split(" ", 1)[1])
        p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    marks["end"] = samples(procs)
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
        ig = BenchImgroups(tmp, args.imgroups, COMPONENT, "127.0.0.1",
                           prosody.component_port, secret,
                           log_level="info", storage=args.store and
                           os.path.join(args.store, "imgroups-load-store"))
        ig.start()
        ig.wait_log(r"connected to", 15)
        procs = {"imgroups": ig.pid, "prosody": prosody.pid}
        for si, (rooms, per_room) in enumerate(shapes):
            clients = rooms * per_room
            runs = {}
            for target, muc in (("imgroups", COMPONENT),
                                ("prosody", prosody.muc_domain)):
                time.sleep(1)  # let the previous run's logouts settle
                res, marks = run_loadgen(exe, prosody.c2s_port, muc, clients,
                                         rooms, args,
                                         "s%d%s-" % (si, target[0]), procs)
                runs[target] = (res, marks)
                if not ig.alive() or not prosody.alive():
                    raise servers.ServerError(
                        "a server died during the %s run\n%s\n%s"
                        % (target, ig.log_tails(), prosody.log_tails()))
            out.append(((rooms, per_room), runs))
            print_shape(rooms, per_room, args, runs)
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


def delta(marks, proc, key, a="joined", b="delivered"):
    if a not in marks or b not in marks:
        return None
    return marks[b][proc][key] - marks[a][proc][key]


def print_shape(rooms, per_room, args, runs):
    rows = []

    def row(name, ig, pr, nd=0, r=True):
        rows.append((name, fmt(ig, nd), fmt(pr, nd),
                     ratio(ig, pr) if r else ""))

    res = {t: runs[t][0] or {} for t in runs}
    marks = {t: runs[t][1] for t in runs}
    for key, name, nd in (("expected", "deliveries expected", 0),
                          ("delivered", "deliveries received", 0),
                          ("deliveries_per_s", "deliveries per second", 0),
                          ("lat_p50_ms", "latency median (ms)", 1),
                          ("lat_p99_ms", "latency p99 (ms)", 1),
                          ("lat_max_ms", "latency max (ms)", 1),
                          ("errors", "errors", 0),
                          ("login_s", "login phase (s)", 2),
                          ("join_s", "join phase (s)", 2),
                          ("send_phase_s", "message phase (s)", 2),
                          ("loadgen_cpu_s", "loadgen CPU (s)", 2)):
        row(name, res["imgroups"].get(key), res["prosody"].get(key), nd,
            key not in ("expected", "delivered", "errors"))
    cpu = {}
    for t in runs:
        ig_cpu = delta(marks[t], "imgroups", "cpu")
        pr_cpu = delta(marks[t], "prosody", "cpu")
        cpu[t] = (ig_cpu, pr_cpu)
    row("CPU s, message phase: imgroups proc", cpu["imgroups"][0],
        cpu["prosody"][0], 2, False)
    row("CPU s, message phase: prosody proc", cpu["imgroups"][1],
        cpu["prosody"][1], 2, False)
    tot = {t: (cpu[t][0] or 0) + (cpu[t][1] or 0) for t in runs}
    row("CPU s, message phase: servers total", tot["imgroups"],
        tot["prosody"], 2)
    per = {t: (tot[t] * 1e6 / res[t]["delivered"]
               if res[t].get("delivered") else None) for t in runs}
    row("server CPU us per delivery", per["imgroups"], per["prosody"], 1)
    jcpu = {t: ((delta(marks[t], "imgroups", "cpu", "start", "joined") or 0)
                + (delta(marks[t], "prosody", "cpu", "start", "joined") or 0))
            for t in runs}
    row("CPU s, login+join: servers total", jcpu["imgroups"],
        jcpu["prosody"], 2)
    for proc in ("imgroups", "prosody"):
        row("RSS %s proc before (MiB)" % proc,
            marks["imgroups"]["start"][proc]["VmRSS"] / 1024,
            marks["prosody"]["start"][proc]["VmRSS"] / 1024, 1, False)
        row("RSS %s proc after (MiB)" % proc,
            marks["imgroups"]["end"][proc]["VmRSS"] / 1024,
            marks["prosody"]["end"][proc]["VmRSS"] / 1024, 1, False)
    grow = {t: (marks[t]["end"][t]["VmRSS"] - marks[t]["start"][t]["VmRSS"])
            / 1024 for t in runs}
    row("RSS growth of the MUC's process (MiB)", grow["imgroups"],
        grow["prosody"], 1, False)

    clients = rooms * per_room
    print()
    print("%d room%s x %d occupants (%d clients), %d messages each, "
          "window %d, interval %d ms"
          % (rooms, "" if rooms == 1 else "s", per_room, clients,
             args.messages, args.window, args.interval))
    w0 = max(len(r[0]) for r in rows)
    print("%-*s %14s %14s %8s" % (w0, "", "groups.localhost",
                                  "conference.loc", "ratio"))
    print("%-*s %14s %14s %8s" % (w0, "", "(imgroups)", "(Prosody MUC)",
                                  "ig/pr"))
    for name, a, b, r in rows:
        print("%-*s %14s %14s %8s" % (w0, name, a, b, r))
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
        got = re.search(rb"<handshake>([0-9a-f]+)</handshake>", buf)
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

    def _read(self):
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return False
        if not data:
            raise RuntimeError("the component closed the connection")
        self.bytes_in += len(data)
        found = False
        hay = self.tail + data
        if self.want and self.want in hay:
            found = True
        self.tail = hay[-64:]
        return found

    want = None

    def sync(self, timeout=120):
        """Ping and wait for the answer."""
        self.barrier += 1
        ident = "bar%d" % self.barrier
        # libstrophe writes attributes in double quotes; accept either
        self.want = ('id="%s"' % ident).encode()
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
                       storage=args.mem_store and os.path.join(
                           args.mem_store, "imgroups-mem-store"))
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
        time.sleep(0.5)
        out["occupants"] = sample(ig.pid)
        out["bytes_in"] = fake.bytes_in
        if not ig.alive():
            raise servers.ServerError("imgroups died\n" + ig.log_tails())
    finally:
        ig.stop()
        fake.close()
    print_memory(args, out)
    return out


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
    sys.stdout.flush()


# --- main ------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--imgroups", default=os.path.join(
        ROOT, "build-bench", "component", "imgroups"))
    ap.add_argument("--part", choices=("all", "load", "memory"),
                    default="all")
    ap.add_argument("--messages", type=int, default=20,
                    help="messages each client sends (default 20)")
    ap.add_argument("--window", type=int, default=2,
                    help="own messages in flight per client (0: no limit)")
    ap.add_argument("--interval", type=int, default=0,
                    help="ms between one client's messages (default 0)")
    ap.add_argument("--timeout", type=int, default=60,
                    help="hard limit of each loadgen run, s (default 60)")
    ap.add_argument("--shapes", nargs="+", default=["1x50", "20x10"],
                    help="ROOMSxOCCUPANTS, default 1x50 20x10")
    ap.add_argument("--store", default=None,
                    help="directory for imgroups' store in the load part "
                    "(e.g. /dev/shm; default: the temp dir)")
    ap.add_argument("--mem-rooms", type=int, default=10000)
    ap.add_argument("--mem-per-room", type=int, default=10)
    ap.add_argument("--mem-store", default=None,
                    help="directory for the memory part's store (e.g. "
                    "/dev/shm; default: the temp dir)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temp dir (logs)")
    args = ap.parse_args()
    if not os.access(args.imgroups, os.X_OK):
        sys.exit("%s: not an executable; build it with: meson setup "
                 "build-bench --buildtype=release && ninja -C build-bench "
                 "component/imgroups" % args.imgroups)
    tmp = tempfile.mkdtemp(prefix="imgroups-bench-")
    os.chmod(tmp, 0o755)
    t0 = time.monotonic()
    try:
        print("imgroups %s; %d CPUs; temp dir %s"
              % (args.imgroups, os.cpu_count(), tmp))
        if args.part in ("all", "load"):
            exe = build_loadgen(tmp)
            load_part(args, tmp, exe)
        if args.part in ("all", "memory"):
            memory_part(args, tmp)
    finally:
        print("\n%.0f s in all" % (time.monotonic() - t0))
        if args.keep:
            print("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            for d, sub in ((args.store, "imgroups-load-store"),
                           (args.mem_store, "imgroups-mem-store")):
                if d:
                    shutil.rmtree(os.path.join(d, sub), ignore_errors=True)


if __name__ == "__main__":
    main()
