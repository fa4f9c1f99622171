#!/usr/bin/python3
"""Benchmark (issue 14, item 5): one ejabberd node with one imgroups
instance against a two-node ejabberd cluster with two imgroups shards,
the same load through both. Prints figures side by side; asserts nothing
about speed; not part of the test suite.

    /usr/bin/python3 tests/bench/cluster.py [--imgroups PATH] [--rooms 200]
        [--per-room 3] [--paced-rate 1500] [--paced-seconds 15]
        [--messages 10] [--window 1] [--keep]

Both setups come from tests/real/servers.py: servers.Ejabberd (one node,
the component not balanced) and servers.Cluster + start_shards (a private
epmd, two nodes joined, domain_balancing bare_destination with
component_number 2, shard 0 on node 1 and shard 1 on node 2). imgroups
runs with [limits] opened up (run.py's reason: nothing throttled). The
load is run.py's loadgen (tests/bench/loadgen.c) twice at once: half the
rooms with their occupants log in to the first node, the other half to
the second (in the one-node setup both halves log in to the one node),
so every room's occupants share a node and a room's owner shard is on
that node or the other one as shard_of has it (about half the rooms cross
nodes). Each loadgen runs a paced round (--paced-rate deliveries/s
offered in all, for --paced-seconds) and a flood round (--messages each,
--window in flight). Per round: deliveries/s (both loadgens' deliveries ÷
the longer elapsed), the worse of their p99 latencies, and each process's
CPU (utime+stime from /proc/PID/stat) over the round; CPU per delivery
sums the servers (ejabberd nodes and imgroups instances).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import json

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (tests/bench/run.py)
from run import servers  # noqa: E402

COMPONENT = run.COMPONENT
PASSWORD = run.PASSWORD
LIMITS = {"rate": 100000, "burst": 100000, "max_rooms": 1000000}
WATCHDOG = 600
BACKLOG = 1024  # every client connects at once (servers.Ejabberd)


def register_users(node, n):
    """u1..u<n>@localhost with PASSWORD, in one rpc (one erl start)."""
    node.rpc("begin lists:foreach(fun(I) -> rpc:call(Node, ejabberd_auth, "
             "try_register, [<<\"u\", (integer_to_binary(I))/binary>>, "
             "<<\"localhost\">>, <<\"%s\">>]) end, lists:seq(1, %d)), "
             "rpc:call(Node, dets, sync, [passwd]) end" % (PASSWORD, n),
             timeout=300)


def one_node(tmp, args, secret):
    """The one-node setup: ([ejabberd], [imgroups], [c2s port per half])."""
    srv = servers.Ejabberd(os.path.join(tmp, "single"), COMPONENT, secret,
                           log_level="warning")
    srv.c2s_backlog = BACKLOG
    srv.start()
    register_users(srv, args.rooms * args.per_room)
    ig = servers.Imgroups(os.path.join(tmp, "single"), args.imgroups,
                          COMPONENT, servers.LOCAL, srv.component_port,
                          secret, log_level="info",
                          sections=[("limits", LIMITS)])
    ig.start()
    ig.wait_log(r"connected to", 15)
    return [srv], [ig], [srv.c2s_port, srv.c2s_port]


def two_nodes(tmp, args, secret):
    """The cluster setup: (the two nodes, the two shards, their c2s
    ports). The Cluster is stopped by stopping its nodes and epmd."""
    cl = servers.Cluster(os.path.join(tmp, "cluster"), COMPONENT, secret, 2,
                         log_level="warning")
    for n in cl.nodes:
        n.c2s_backlog = BACKLOG
    cl.start()
    register_users(cl.nodes[0], args.rooms * args.per_room)
    igs = servers.start_shards(os.path.join(tmp, "cluster"), args.imgroups,
                               COMPONENT, secret, cl.nodes, 2,
                               log_level="info",
                               sections=[("limits", LIMITS)])
    return [cl.epmd] + cl.nodes, igs, [n.c2s_port for n in cl.nodes]


def samples(procs):
    """run.samples of the processes still alive (a loadgen that gave up
    has no /proc entry left)."""
    out = {}
    for name, pid in procs.items():
        try:
            out[name] = run.sample(pid)
        except OSError:
            pass
    return out


def loadgens(exe, ports, args, procs):
    """Runs one loadgen per port at once, each with half the rooms and their
    clients, in step (both joined, then each round together). Returns
    ([result of each], [samples of procs at start, joined, after each
    round])."""
    half_rooms = args.rooms // len(ports)
    clients = half_rooms * args.per_room
    # run.py's paced plan, for the whole offered rate over both halves
    interval = max(1, round(args.rooms * args.per_room * args.per_room
                            * 1000 / args.paced_rate))
    paced_m = max(1, round(args.paced_seconds * 1000 / interval))
    plan = ["%d:0:%d" % (paced_m, interval),
            "%d:%d:0" % (args.messages, args.window)]
    ps = []
    for i, port in enumerate(ports):
        cmd = [exe, "--port", str(port), "--muc", COMPONENT,
               "--clients", str(clients), "--rooms", str(half_rooms),
               "--first-user", str(1 + i * clients), "--timeout",
               str(args.timeout), "--password", PASSWORD,
               "--room-prefix", "h%d-" % i, "--sync"]
        for r in plan:
            cmd += ["--round", r]
        ps.append(subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True))
    procs = dict(procs)
    for i, p in enumerate(ps):
        procs["loadgen %d" % i] = p.pid
    marks = [samples(procs)]
    results = [None] * len(ps)
    try:
        for _ in range(1 + len(plan)):  # joined, then each round
            for i, p in enumerate(ps):
                for line in p.stdout:
                    word = line.split(" ", 1)[0]
                    if word in ("joined", "round"):
                        break
                    if word == "result":
                        results[i] = json.loads(line.split(" ", 1)[1])
                        break
            marks.append(samples(procs))
            for p in ps:
                if p.poll() is None:
                    p.stdin.write("go\n")
                    p.stdin.flush()
        for i, p in enumerate(ps):
            for line in p.stdout:
                if line.startswith("result "):
                    results[i] = json.loads(line.split(" ", 1)[1])
            p.wait(30)
    finally:
        for p in ps:
            if p.poll() is None:
                p.kill()
                p.wait()
    return results, marks, plan


def measure(name, setup, tmp, args, exe):
    secret = os.urandom(12).hex()
    procs, igs, ports = [], [], []
    try:
        procs, igs, ports = setup(tmp, args, secret)
        watched = {}
        for p in procs:
            if isinstance(p, servers.Ejabberd):
                watched["ejabberd %s" % p.dir.split(os.sep)[-2]] = p.pid
        for ig in igs:
            watched[ig.name] = ig.pid
        results, marks, plan = loadgens(exe, ports, args, watched)
        for ig in igs:
            if not ig.alive():
                raise servers.ServerError("%s died\n%s"
                                          % (ig.name, ig.log_tails()))
        return {"name": name, "results": results, "marks": marks,
                "plan": plan, "servers": list(watched)}
    finally:
        for ig in igs:
            ig.stop()
        for p in reversed(procs):
            p.stop()


def round_figures(m, r):
    """Round r's (0 paced, 1 flood) figures of one measurement."""
    rs = [x["rounds"][r] for x in m["results"] if x]
    if len(rs) != len(m["results"]):
        return None
    delivered = sum(x["delivered"] for x in rs)
    expected = sum(x["expected"] for x in rs)
    elapsed = max(x["elapsed_s"] for x in rs)
    before, after = m["marks"][1 + r], m["marks"][2 + r]
    cpu = {k: after[k]["cpu"] - before[k]["cpu"] for k in after
           if k in before}
    server_cpu = sum(v for k, v in cpu.items() if k in m["servers"])
    return {"delivered": delivered, "expected": expected,
            "per_s": delivered / elapsed if elapsed else 0,
            "p50": max(x["lat_p50_ms"] for x in rs),
            "p99": max(x["lat_p99_ms"] for x in rs),
            "elapsed": elapsed, "cpu": cpu,
            "us_per_delivery": server_cpu * 1e6 / delivered
            if delivered else 0,
            "errors": sum(x["errors"] for x in m["results"])}


def fmt(v, nd=0):
    return "-" if v is None else ("%.*f" % (nd, v))


def report(ms, args):
    w = 22
    print("\n%d rooms x %d occupants, loadgen halves on the nodes; paced "
          "%.0f deliveries/s offered for %.0f s, then flood %d each "
          "(window %d)" % (args.rooms, args.per_room, args.paced_rate,
                           args.paced_seconds, args.messages, args.window))
    print("%-34s" % "" + "".join("%*s" % (w, m["name"]) for m in ms))
    for r, rname in ((0, "paced"), (1, "flood")):
        fs = [round_figures(m, r) for m in ms]

        def row(label, get, nd=0):
            print("%-34s" % label + "".join(
                "%*s" % (w, fmt(get(f) if f else None, nd)) for f in fs))
        print(rname)
        row("  deliveries expected", lambda f: f["expected"])
        row("  deliveries received", lambda f: f["delivered"])
        row("  deliveries/s", lambda f: f["per_s"])
        row("  latency p50 ms", lambda f: f["p50"], 1)
        row("  latency p99 ms", lambda f: f["p99"], 1)
        row("  server CPU us per delivery", lambda f: f["us_per_delivery"],
            1)
        names = []
        for m in ms:
            for k in m["marks"][0]:
                if k not in names:
                    names.append(k)
        for k in names:
            row("  CPU s %s" % k, lambda f, k=k: f["cpu"].get(k), 2)
    print("errors (loadgen: logins, joins, error stanzas, timeouts): %s"
          % "  ".join("%s %s" % (m["name"], sum(x["errors"] for x in
                                               m["results"] if x))
                      for m in ms))


def failures(ms):
    """Each loadgen's setup times and non-zero error counts."""
    for m in ms:
        for i, x in enumerate(m["results"]):
            if not x:
                print("%s, loadgen %d: no result" % (m["name"], i))
                continue
            errs = {k: v for k, v in x.items() if k.startswith("err_") and v}
            print("%s, loadgen %d: login %.1f s, join %.1f s%s"
                  % (m["name"], i, x["login_s"], x["join_s"],
                     ", errors %s" % errs if errs else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--imgroups", default=os.path.join(
        run.ROOT, "build-bench", "component", "imgroups"))
    ap.add_argument("--loadgen", default=None)
    ap.add_argument("--rooms", type=int, default=200)
    ap.add_argument("--per-room", type=int, default=3)
    ap.add_argument("--paced-rate", type=float, default=1500)
    ap.add_argument("--paced-seconds", type=float, default=15)
    ap.add_argument("--messages", type=int, default=10)
    ap.add_argument("--window", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=150,
                    help="hard limit of each loadgen run, s")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not os.access(args.imgroups, os.X_OK):
        sys.exit("%s: not an executable (meson setup build-bench "
                 "--buildtype=release && ninja -C build-bench "
                 "component/imgroups)" % args.imgroups)
    tmp = tempfile.mkdtemp(prefix="imgroups-bench-cluster-")
    os.chmod(tmp, 0o755)
    t0 = time.monotonic()
    signal.signal(signal.SIGTERM, run.on_signal)
    signal.signal(signal.SIGALRM, run.on_signal)
    signal.alarm(WATCHDOG)
    ms = []
    try:
        print("imgroups %s; %d CPUs; load average %s; temp dir %s"
              % (args.imgroups, os.cpu_count(), run.loadavg(), tmp))
        exe = args.loadgen or run.build_loadgen(tmp)
        ms.append(measure("1 node, 1 shard", one_node, tmp, args, exe))
        ms.append(measure("2 nodes, 2 shards", two_nodes, tmp, args, exe))
        report(ms, args)
        failures(ms)
    finally:
        signal.alarm(0)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(ms, f, indent=1)
        print("\n%.0f s in all; load average %s"
              % (time.monotonic() - t0, run.loadavg()))
        if args.keep:
            print("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
