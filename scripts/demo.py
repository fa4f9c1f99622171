"""The imgroups demo: a private Prosody and ngircd on 127.0.0.1, demo users,
and imgroups attached to Prosody with the group 'lobby' bridged to the IRC
channel #lobby. Data and logs live under ./run/. Ctrl-C or SIGTERM stops
everything it started. Run by scripts/demo (which installs and builds first):

    /usr/bin/python3 scripts/demo.py [--binary PATH] [--run-dir DIR] [--quiet]
"""

import argparse
import os
import secrets
import signal
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "real"))
import servers  # noqa: E402

COMPONENT = "groups.localhost"
USERS = [("alice", "alice"), ("bob", "bob")]
DEFAULT_PORTS = {"c2s": 5222, "component": 5347, "irc": 6667}


def pick(name):
    port = DEFAULT_PORTS[name]
    return port if servers.port_is_free(port) else servers.free_port()


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop()


def say(text=""):
    print(text, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary",
                    default=os.path.join(TOP, "build", "component",
                                         "imgroups"))
    ap.add_argument("--run-dir", default=os.path.join(TOP, "run"))
    ap.add_argument("--quiet", action="store_true",
                    help="do not echo imgroups' log")
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.stderr.write("demo: %s is missing; build first (ninja -C build)\n"
                         % args.binary)
        return 1
    run = os.path.abspath(args.run_dir)
    os.makedirs(run, exist_ok=True)
    os.chmod(run, 0o755)  # ngircd reads its config after dropping root

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    secret = secrets.token_hex(12)
    xmpp = servers.Prosody(run, COMPONENT, secret, c2s_port=pick("c2s"),
                           component_port=pick("component"))
    irc = servers.Ngircd(run, port=pick("irc"))
    ig = servers.Imgroups(
        run, args.binary, COMPONENT, "127.0.0.1", xmpp.component_port, secret,
        admins=["alice@localhost"],
        accounts=[("lobby-irc", {
            "protocol": "prpl-irc",
            "username": "lobbybot@127.0.0.1",
            "password": "",
            "group": "lobby",
            "mode": "chat",
            "chat": "#lobby",
            "option.port": str(irc.port),
        }), ("lobby-dm", {
            "protocol": "prpl-irc",
            "username": "groupbot@127.0.0.1",
            "password": "",
            "group": "lobby",
            "mode": "contacts",
            "option.port": str(irc.port),
        })])
    started = []
    status = 0
    try:
        say("demo: starting Prosody (c2s %d, component %d) ..."
            % (xmpp.c2s_port, xmpp.component_port))
        xmpp.start()
        started.append(xmpp)
        for user, password in USERS:
            xmpp.register(user, password)
        say("demo: starting ngircd (port %d) ..." % irc.port)
        irc.start()
        started.append(irc)
        say("demo: starting imgroups ...")
        ig.start()
        started.append(ig)
        ig.wait_log(r"\bconnected to", 30)
        for name in ("lobby-irc", "lobby-dm"):
            ig.wait_log(r"account %s is online" % name, 60)
        users = ", ".join("%s@localhost / %s" % u for u in USERS)
        say("""
imgroups is running as %(comp)s, attached to a private Prosody.

XMPP client (Gajim, Dino, Pidgin, profanity, ...):
  server 127.0.0.1 port %(c2s)d
  accounts: %(users)s
  plain-text login without TLS must be allowed in the client
  join the room lobby@%(comp)s (or create any other room there);
  the service %(comp)s lists the public groups
IRC client (irssi -c 127.0.0.1 -p %(irc)d, or any other), two ways in:
  /join #lobby          the channel is bridged to the group (chat mode):
                        what is said in either is said in the other
  /msg groupbot hello   the group's bot (contacts mode): you become a member
                        and the group reaches you as private messages;
                        /msg groupbot /help lists the commands
Admin: alice@localhost runs the ad-hoc commands of %(comp)s (accounts,
  account-add, ...); in Gajim: Accounts > Execute command on %(comp)s

Data and logs: %(run)s
  imgroups config %(cfg)s
  imgroups log    %(log)s
  Prosody log     %(plog)s
  ngircd log      %(nlog)s
Ctrl-C stops everything.
""" % dict(comp=COMPONENT, c2s=xmpp.c2s_port, users=users, irc=irc.port,
           run=run, cfg=ig.config_path, log=ig.log_path,
           plog=xmpp.log_path, nlog=irc.out_path))
        if not args.quiet:
            say("imgroups log follows:")
        pos = 0
        while True:
            if not args.quiet:
                text = ig.log_text(pos)
                # Only whole lines; the rest comes next time.
                cut = text.rfind("\n") + 1
                if cut:
                    sys.stdout.write(text[:cut])
                    sys.stdout.flush()
                    pos += len(text[:cut].encode("utf-8"))
            for p in started:
                if not p.alive():
                    say("demo: %s exited unexpectedly (status %s)\n%s"
                        % (p.name, p.proc.returncode, p.log_tails(20)))
                    raise Stop()
            time.sleep(0.5)
    except Stop:
        pass
    except servers.ServerError as e:
        say("demo: %s" % e)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("\ndemo: stopping ...")
        for p in (ig, irc, xmpp):  # imgroups first: it leaves cleanly
            try:
                p.stop()
            except Exception as e:
                say("demo: stopping %s: %s" % (p.name, e))
        say("demo: stopped")
    return status


if __name__ == "__main__":
    sys.exit(main())
