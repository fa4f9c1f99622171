"""Bots on the right shard (issue 14 item 3), for real: a private ejabberd
with domain_balancing (bare_destination, component_number 2), two imgroups
instances ([cluster] shard 0 and 1, the same accounts in both files)
started in order 0 then 1, a private ngircd and two chat-mode IRC bots
whose groups fall on different shards (among 2 shards of
groups.localhost, lobby is shard 0's and chan shard 1's: shard_of, as
ejabberd routes them). Prints TAP.

    /usr/bin/python3 tests/real/test_shard_bots.py /path/to/imgroups /path/to/imgroups-purple

Each bot's worker runs only under the instance that owns its group (the
processes under each, and each log); each instance's store holds only its
own group; a line from each IRC channel reaches its room, through the
instance that owns it; the service's `accounts` command lists the other
shard's bot as "elsewhere (shard K)" and refuses an account-add for a
group of the other shard with a note naming it. Waits for events (log
lines, stanzas, IRC lines), never for time. IMGROUPS_KEEP_TMP=1 keeps the
temp dir.
"""

import asyncio
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    import servers  # noqa: E402
    from bridgebase import COMPONENT, NS_CMD, WAIT, BridgeRun  # noqa: E402
    from bridgebase import workers_of  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail, show  # noqa: E402
    from xmppclient import occupant_said as groupchat  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_shard_bots.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

SHARDS = 2
# group -> (bot account, IRC channel, the shard that owns the group)
BOTS = {"lobby": ("lobby-irc", "#lobby", 0),
        "chan": ("chan-irc", "#chan", 1)}
NS_DATA = "jabber:x:data"
WATCHDOG = 600


def submit(fields):
    return ("<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, "".join(
        "<field var='%s'><value>%s</value></field>" % f for f in fields)))


def shard_of(binary, jid, shards):
    """tests/shard_of (built beside imgroups) for one bare JID."""
    tool = os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(binary))), "tests", "shard_of")
    out = subprocess.run([tool, str(shards)], input=jid + "\n",
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1])


def group_in_dump(text, group):
    """Does imgroups --dump's text have group in its [groups] database?"""
    section = text.split("\n[groups] ", 1)[-1].split("\n[", 1)[0]
    return re.search(r"^\('%s'\) = " % re.escape(group), section,
                     re.M) is not None


def rows(form):
    """The <item/> rows of a XEP-0004 result table as dicts."""
    out = []
    for it in form.findall("{%s}item" % NS_DATA):
        out.append({f.get("var"): f.findtext("{%s}value" % NS_DATA) or ""
                    for f in it.findall("{%s}field" % NS_DATA)})
    return out


class Run(BridgeRun):
    SLUG = "shard-bots"
    NAMES = [
        "ejabberd (domain_balancing, component_number 2) and ngircd start",
        "the IRC people open #lobby and #chan",
        "instances 0 and 1 start in order with the same accounts; each "
        "bot comes online on the shard that owns its group",
        "each worker runs only under its owner (processes), and each log "
        "says the other's bot runs elsewhere",
        "each instance's store holds only its own group",
        "alice joins both rooms through ejabberd",
        "a line from #lobby reaches lobby and one from #chan reaches chan",
        "the service's accounts command lists both bots online, each as its "
        "own shard says (over the shard bus)",
        "account-add for a group of the other shard is refused naming it",
        "account-disable and account-enable of the other shard's bot "
        "through the service JID: its worker stops and starts again on its "
        "owner",
        "stats counts each bot once: accounts online N of N",
        "the other shard stopped: accounts shows its bot as elsewhere "
        "(shard K), with a note naming it",
        "the instances stop with status 0"]

    def __init__(self, binary, worker):
        super().__init__(binary, worker)
        self.igs = []

    def cleanup(self):
        for ig in self.igs:
            ig.stop()
        super().cleanup()

    async def step(self, desc, coro):
        try:
            why = await coro
        except Fail as e:
            why = str(e)
        except Exception as e:
            why = "%s: %s" % (type(e).__name__, e)
        if why:
            why += "".join("\n--- imgroups%d log ---\n%s" % (k, ig.log_tails(20))
                           for k, ig in enumerate(self.igs))
        return self.tap.check(why is None, desc, why)

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)

        def start_servers():
            self.ejabberd = servers.BalancedEjabberd(
                self.tmp, COMPONENT, self.secret, SHARDS)
            self.ejabberd.start()
            for u in ("alice", "admin"):
                self.ejabberd.register(u, u + "-pw")
            self.start_ngircd()
        self.check_start(self.NAMES[0], start_servers)
        if not self.run(self.step(self.NAMES[1], self.open_channels()), 60):
            raise Abort
        irc = {"option.port": str(self.irc.port), "pace_burst": "50",
               "pace_rate": "50", "mode": "chat"}
        accounts = [(acct, dict(protocol="prpl-irc",
                                username="%sbot@127.0.0.1" % group,
                                group=group, chat=chan, **irc))
                    for group, (acct, chan, _) in BOTS.items()]

        def start():
            self.igs = servers.start_shards(
                self.tmp, self.binary, COMPONENT, self.secret,
                [self.ejabberd], SHARDS, accounts=accounts,
                log_level="debug",
                sections=[("legacy", {"worker":
                                      os.path.abspath(self.worker)})])
            for group, (acct, _, k) in BOTS.items():
                self.igs[k].wait_log(r"account %s is online" % acct, 60)
                # online is not yet in the channel: a line said before the
                # bot's JOIN went out (libpurple's IRC queue drains once a
                # second) is never heard
                self.igs[k].wait_log(r"account %s: in the legacy chat" % acct,
                                     60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 120)
        codes = [ig.stop() for ig in self.igs]
        self.tap.check(codes == [0] * SHARDS, self.NAMES[-1],
                       "exit statuses %s" % codes)

    async def open_channels(self):
        self.people = {}
        for group, (_, chan, _) in BOTS.items():
            nick = "irc" + group
            self.people[group] = await self.irc_user(nick, chan)

    async def flows(self):
        steps = [self.workers_on_owners, self.stores, self.join,
                 self.lines_reach_rooms, self.accounts_listing,
                 self.add_refused, self.disable_enable_away,
                 self.stats_count_each_once,
                 self.other_shard_down]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[3 + i], fn())

    async def workers_on_owners(self):
        for group, (acct, _, k) in BOTS.items():
            for j, ig in enumerate(self.igs):
                n = len(workers_of(ig.pid, acct))
                if n != (1 if j == k else 0):
                    raise Fail("instance %d runs %d worker(s) of %s (group "
                               "%s is shard %d's)" % (j, n, acct, group, k))
                log = ig.log_text()
                if j != k:
                    want = (r"account %s \(prpl-irc\) serves group %s@%s: "
                            r"shard %d of %d runs it, not this one"
                            % (acct, group, re.escape(COMPONENT), k, SHARDS))
                    if not re.search(want, log):
                        raise Fail("instance %d's log lacks /%s/" % (j, want))
                    if re.search(r"account %s (is online|: starting)" % acct,
                                 log):
                        raise Fail("instance %d started %s" % (j, acct))

    async def stores(self):
        # --dump reads a store beside its running instance (read-only)
        for group, (_, _, k) in BOTS.items():
            for j, ig in enumerate(self.igs):
                out = await self.loop.run_in_executor(None, lambda: (
                    subprocess.run([self.binary, "--config", ig.config_path,
                                    "--dump"], capture_output=True,
                                   text=True, timeout=60)))
                if out.returncode != 0:
                    raise Fail("--dump of instance %d: %s" % (j, out.stderr))
                has = group_in_dump(out.stdout, group)
                if has != (j == k):
                    raise Fail("instance %d's store %s group %s (shard %d's)"
                               "\n%s" % (j, "holds" if has else "lacks",
                                         group, k, out.stdout[:2000]))

    async def join(self):
        for group in BOTS:
            await self.join_room("alice", "%s@%s" % (group, COMPONENT))

    async def lines_reach_rooms(self):
        for group, person in self.people.items():
            chan = BOTS[group][1]
            text = "hello from %s" % chan
            person.privmsg(chan, text)
            await self.x["alice"].wait(
                groupchat("%s@%s" % (group, COMPONENT), person.nick, text),
                "%s's line in %s" % (person.nick, group), 30)

    async def accounts_table(self):
        """The service's accounts command: ({name: row}, its note)."""
        res = await self.iq("set", COMPONENT,
                            "<command xmlns='%s' node='accounts' "
                            "action='execute'/>" % NS_CMD, user="admin")
        cmd = res.xml.find("{%s}command" % NS_CMD)
        form = cmd.find("{%s}x" % NS_DATA) if cmd is not None else None
        if form is None:
            raise Fail("no table: %s" % show(res.xml))
        return ({r["name"]: r for r in rows(form)},
                cmd.find("{%s}note" % NS_CMD))

    async def accounts_listing(self):
        await self.login("admin")
        table, _ = await self.accounts_table()
        want = {acct: "online" for acct, _, _ in BOTS.values()}
        got = {n: r["state"] for n, r in table.items()}
        if got != want:
            raise Fail("the accounts table says %s" % table)
        # the group of the shard that does not own the service JID
        self.service_shard = shard_of(self.binary, COMPONENT, SHARDS)
        self.away_group, (self.away_acct, _, self.away_shard) = [
            (g, b) for g, b in BOTS.items() if b[2] != self.service_shard][0]

    async def add_refused(self):
        first = await self.iq("set", COMPONENT,
                              "<command xmlns='%s' node='account-add' "
                              "action='execute'/>" % NS_CMD, user="admin")
        sid = first.xml.find("{%s}command" % NS_CMD).get("sessionid")
        res = await self.iq(
            "set", COMPONENT,
            "<command xmlns='%s' node='account-add' sessionid='%s'>%s"
            "</command>" % (NS_CMD, sid, submit([
                ("name", "newbot"), ("protocol", "prpl-irc"),
                ("username", "newbot@127.0.0.1"),
                ("group", self.away_group), ("mode", "contacts")])),
            user="admin")
        cmd = res.xml.find("{%s}command" % NS_CMD)
        note = cmd.find("{%s}note" % NS_CMD) if cmd is not None else None
        want = "served by shard %d of %d" % (self.away_shard, SHARDS)
        if note is None or note.get("type") != "error" or \
                want not in (note.text or ""):
            raise Fail("the answer is not an error note with %r: %s"
                       % (want, show(res.xml)))

    async def stats_count_each_once(self):
        # every shard lists both bots; only the one running a bot counts it
        # (the service JID's owner sums the shards' figures over the bus)
        res = await self.iq("set", COMPONENT,
                            "<command xmlns='%s' node='stats' "
                            "action='execute'/>" % NS_CMD, user="admin")
        value = None
        for f in res.xml.iter("{%s}field" % NS_DATA):
            if f.get("var") == "accounts_online":
                value = f.findtext("{%s}value" % NS_DATA)
        m = re.fullmatch(r"(\d+) of (\d+)", value or "")
        if not m or m.group(1) != m.group(2) or m.group(1) == "0":
            raise Fail("accounts online: %r (each bot once, both online)"
                       % value)

    async def pick_and_complete(self, node):
        """node (account-enable or -disable) at the service JID with the
        other shard's bot picked; the final <command/>'s note."""
        first = await self.iq("set", COMPONENT,
                              "<command xmlns='%s' node='%s' "
                              "action='execute'/>" % (NS_CMD, node),
                              user="admin")
        sid = first.xml.find("{%s}command" % NS_CMD).get("sessionid")
        res = await self.iq(
            "set", COMPONENT,
            "<command xmlns='%s' node='%s' sessionid='%s'>%s</command>"
            % (NS_CMD, node, sid, submit([("account", self.away_acct)])),
            user="admin")
        cmd = res.xml.find("{%s}command" % NS_CMD)
        note = cmd.find("{%s}note" % NS_CMD) if cmd is not None else None
        if cmd is None or cmd.get("status") != "completed" or note is None \
                or note.get("type") != "info":
            raise Fail("%s did not complete: %s" % (node, show(res.xml)))
        return note.text

    async def disable_enable_away(self):
        ig = self.igs[self.away_shard]
        acct = self.away_acct
        mark = ig.log_mark()
        text = await self.pick_and_complete("account-disable")
        if text != "Disabled: %s." % acct:
            raise Fail("the note says %r" % text)
        await self.loop.run_in_executor(
            None, lambda: ig.wait_log(r"account %s disabled" % acct, WAIT,
                                      mark))
        deadline = self.loop.time() + WAIT
        while workers_of(ig.pid, acct):
            if self.loop.time() > deadline:
                raise Fail("%s's worker still runs under shard %d"
                           % (acct, self.away_shard))
            await asyncio.sleep(0.1)
        mark = ig.log_mark()
        text = await self.pick_and_complete("account-enable")
        if text != "Enabled: %s." % acct:
            raise Fail("the note says %r" % text)
        await self.loop.run_in_executor(
            None, lambda: ig.wait_log(r"account %s is online" % acct, 60,
                                      mark))
        if len(workers_of(ig.pid, acct)) != 1:
            raise Fail("%s runs %d workers under shard %d after the enable"
                       % (acct, len(workers_of(ig.pid, acct)),
                          self.away_shard))

    async def other_shard_down(self):
        ig = self.igs[self.away_shard]
        code = await self.loop.run_in_executor(None, ig.stop)
        if code != 0:
            raise Fail("shard %d stopped with status %s"
                       % (self.away_shard, code))
        table, note = await self.accounts_table()
        state = table.get(self.away_acct, {}).get("state")
        if state != "elsewhere (shard %d)" % self.away_shard:
            raise Fail("%s is %r with its shard down" % (self.away_acct,
                                                         state))
        want = "shard %d did not answer" % self.away_shard
        if note is None or note.get("type") != "warn" or \
                want not in (note.text or ""):
            raise Fail("the note is not a warning with %r: %s"
                       % (want, show(note) if note is not None else None))


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
