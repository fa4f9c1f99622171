"""The imgroups demo: a private Prosody and ngircd on 127.0.0.1, the
project's stand-ins for an MSN and a Yahoo revival server (tests/real/
fake_msn.py, fake_ymsg.py: no real one runs here), demo users on each, and
imgroups attached to Prosody with the group 'lobby' bridged to the IRC
channel #lobby and served by an IRC, an MSN and a Yahoo bot. Data and logs
live under ./run/. Ctrl-C or SIGTERM stops everything it started. Run by
scripts/demo (which installs and builds first):

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
from fake_msn import FakeMsnThread  # noqa: E402
from fake_ymsg import FakeYmsg  # noqa: E402

COMPONENT = "groups.localhost"
USERS = [("alice", "alice"), ("bob", "bob")]
DEFAULT_PORTS = {"c2s": 5222, "component": 5347, "irc": 6667,
                 "msn": 1863, "msn_sb": 1864, "msn_http": 8081,
                 "ymsg": 5050}
# The stand-ins' accounts: the group's bot, then people to talk as.
MSN_BOT = ("lobbybot@example.com", "lobbybot")
MSN_USERS = [("carol@example.com", "carol"), ("dave@example.com", "dave")]
Y_BOT = ("lobbybot", "lobbybot")
Y_USERS = [("yuki", "yuki"), ("yoshi", "yoshi")]
CHAT = os.path.join(TOP, "tests", "real", "legacy_chat.py")


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
    msn = FakeMsnThread(seed=1, ns_port=pick("msn"), sb_port=pick("msn_sb"),
                        http_port=pick("msn_http"),
                        trace_file=os.path.join(run, "msn-trace.log"))
    ymsg = FakeYmsg(dict([Y_BOT] + Y_USERS), port=pick("ymsg"))
    legacy = []   # the stand-ins, once started
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
        say("demo: starting the MSN and Yahoo STAND-INS (tests/real/"
            "fake_msn.py, fake_ymsg.py):\n"
            "      small servers of this project that play an MSN and a "
            "Yahoo revival server\n      here; they are not real ones")
        msn.start()
        legacy.append(msn)
        for email, password in [MSN_BOT] + MSN_USERS:
            msn.call(msn.server.add_account, email, password,
                     email.split("@")[0].capitalize())
        ymsg.start()
        legacy.append(ymsg)
        ig = imgroups(args, run, secret, xmpp, irc, msn.server, ymsg)
        say("demo: starting imgroups ...")
        ig.start()
        started.append(ig)
        ig.wait_log(r"\bconnected to", 30)
        for name in ("lobby-irc", "lobby-dm", "lobby-msn", "lobby-yahoo"):
            ig.wait_log(r"account %s is online" % name, 60)
        # the guide's first step is #lobby: the bot must be in it by then
        ig.wait_log(r"account lobby-irc: in the legacy chat", 60)
        users = ", ".join("%s@localhost / %s" % u for u in USERS)
        say(GUIDE % dict(
            comp=COMPONENT, c2s=xmpp.c2s_port, users=users, irc=irc.port,
            run=run, cfg=ig.config_path, log=ig.log_path,
            plog=xmpp.log_path, nlog=irc.out_path,
            msn_bot=MSN_BOT[0], y_bot=Y_BOT[0],
            msn_cmd=chat_command("msn", msn.server.ns_port,
                                 MSN_USERS[0], MSN_BOT[0],
                                 msn.server.nexus_url()),
            y_cmd=chat_command("yahoo", ymsg.port, Y_USERS[0], Y_BOT[0]),
            msn_more=", ".join("%s:%s" % u for u in MSN_USERS[1:]),
            y_more=", ".join("%s:%s" % u for u in Y_USERS[1:]),
            msn_port=msn.server.ns_port, y_port=ymsg.port,
            mtrace=os.path.join(run, "msn-trace.log")))
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
        for p in reversed(started):  # imgroups first: it leaves cleanly
            try:
                p.stop()
            except Exception as e:
                say("demo: stopping %s: %s" % (p.name, e))
        for p in legacy:
            p.stop()
        say("demo: stopped")
    return status


def chat_command(network, port, user, bot, nexus=None):
    """The command line that talks as user to bot (tests/real/
    legacy_chat.py)."""
    cmd = "/usr/bin/python3 %s %s --port %d" % (
        os.path.relpath(CHAT), network, port)
    if nexus:
        cmd += " --nexus %s" % nexus
    return cmd + " %s:%s --to %s" % (user[0], user[1], bot)


def imgroups(args, run, secret, xmpp, irc, msn, ymsg):
    """imgroups with the group lobby's four bots: IRC in chat mode (#lobby)
    and in contacts mode, MSN and Yahoo in contacts mode."""
    return servers.Imgroups(
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
        }), ("lobby-msn", {
            "protocol": "prpl-imgroups-msn",
            "username": MSN_BOT[0],
            "password": MSN_BOT[1],
            "group": "lobby",
            "mode": "contacts",
            "option.server": "127.0.0.1",
            "option.port": str(msn.ns_port),
            "option.nexus": msn.nexus_url(),
        }), ("lobby-yahoo", {
            "protocol": "prpl-imgroups-yahoo",
            "username": Y_BOT[0],
            "password": Y_BOT[1],
            "group": "lobby",
            "mode": "contacts",
            "option.server": "127.0.0.1",
            "option.port": str(ymsg.port),
        })])


GUIDE = """
imgroups is running as %(comp)s, attached to a private Prosody.
The group lobby is reachable from XMPP, IRC, MSN and Yahoo: people from
each network meet in one room, as below.

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
MSN and Yahoo: STAND-INS for a revival server (tests/real/fake_msn.py on
  port %(msn_port)d, fake_ymsg.py on port %(y_port)d), not real networks. Talk as a
  person there with the bundled test client, in another terminal: it adds
  the group's bot, sends each line you type to it and prints what arrives
  (Ctrl-D leaves). Your first line makes you a member: the bot welcomes
  you, you appear in the room, and the room's lines reach you as
  "<nick> text"; /help lists the bot's commands.
  as carol on MSN (the bot is %(msn_bot)s):
    %(msn_cmd)s
  as yuki on Yahoo (the bot is %(y_bot)s):
    %(y_cmd)s
  more people: MSN %(msn_more)s; Yahoo %(y_more)s
  (a real MSN or Yahoo client would do too, pointed at these ports)
Admin: alice@localhost runs the ad-hoc commands of %(comp)s (accounts,
  account-add, ...); in Gajim: Accounts > Execute command on %(comp)s

Data and logs: %(run)s
  imgroups config %(cfg)s
  imgroups log    %(log)s
  Prosody log     %(plog)s
  ngircd log      %(nlog)s
  MSN stand-in    %(mtrace)s
Ctrl-C stops everything.
"""


if __name__ == "__main__":
    sys.exit(main())
