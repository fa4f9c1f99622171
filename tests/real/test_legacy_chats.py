"""Four sides of one group, for real: imgroups with three bots in chat mode
for the group lobby, each in its worker (an IRC channel on a private ngircd
through libpurple's prpl-irc, an MSN switchboard through the project's
prpl-imgroups-msn against fake_msn.py, a Yahoo conference through
prpl-imgroups-yahoo against fake_ymsg.py: the stand-ins for a revival
server, no real one can run here), and alice in the room from a private
Prosody or ejabberd (bob, a participant, looks in once). Two people on each
legacy network: ircdave and carol on IRC (tests/real/ircclient.py), yuki
and carol on Yahoo (YmsgClient), carol@example.com and dora@example.com on
MSN (MsnClient). Prints TAP.

    /usr/bin/python3 tests/real/test_legacy_chats.py /path/to/imgroups \
        /path/to/imgroups-purple [prosody|ejabberd]

Every legacy person is an occupant with a nick of their own (the three
carols too: the first in is "carol", the others "carol (network)"), no
address shown, a legacy handle in no presence bob has. Four speakers
(alice, MSN carol, yuki, ircdave) say three lines each, all at once: each
line reaches every other person exactly once and in its speaker's order (in
the room from the speaker's occupant, on another network from the bot as
`<nick> text`, on the speaker's own network from the server only), never
the speaker (alice has her reflections once). imgroups is killed (SIGKILL)
with a burst from each side in the room and still in flight to the three
bots, and started again: the bots come back into their chats, the six
people are occupants again (whoever is back first gets the plain "carol"),
and across all seven people every line said before the kill arrives exactly
once, in order, none lost, none twice; the room's history at alice's next
join has each once. A leave on each network (dora's OUT, Yahoo carol's
CONFLOGOFF, IRC carol's PART) is a leave in the room. IMGROUPS_KEEP_TMP=1
keeps the temp dir.
"""

import asyncio
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    import fake_ymsg  # noqa: E402
    from fake_ymsg import get  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import (  # noqa: E402
        Fail, body, item, kind, presence_from, show)
except ImportError as e:
    sys.stderr.write("test_legacy_chats.py: %s (run it with "
                     "/usr/bin/python3, which sees Debian's python3-slixmpp)"
                     "\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
CHANNEL = "#lobby"
IRC_BOT = "lobbybot"
MSN_BOT, MSN_CHAT = "lobbybot@example.com", "lobby chat"
Y_BOT, Y_ROOM = "lobbybot", "lobby conference"
NS_DELAY = "{urn:xmpp:delay}delay"
# pacing of each bot: 5 lines a second, so the bursts before the kill are
# still being delivered when imgroups is killed
PACE = {"pace_burst": "5", "pace_rate": "5"}
BURST = 15
LEGACY_BURST = 5
BACK_WAIT = 120     # restart, three sign-ons, the chats, the burst paced
WATCHDOG = 600

# Who is who: (network, handle on it). "alice" is in the room.
PEOPLE = {
    "alice": ("xmpp", "alice"),
    "ircdave": ("irc", "ircdave"), "irccarol": ("irc", "carol"),
    "yuki": ("yahoo", "yuki"), "ycarol": ("yahoo", "carol"),
    "mcarol": ("msn", "carol@example.com"),
    "dora": ("msn", "dora@example.com"),
}
SPEAKERS = ["alice", "mcarol", "yuki", "ircdave"]
BOTS = {"irc": IRC_BOT, "yahoo": Y_BOT, "msn": MSN_BOT}
RELAYED = re.compile(r"^<([^>]+)> (.*)$", re.S)


class Run(BridgeRun):
    SLUG = "legacy-chats"
    NAMES = [
        "the XMPP server starts",
        "ngircd starts, ircdave and carol in #lobby",
        "the stand-in MSN and Yahoo servers start, yuki online on Yahoo",
        "imgroups starts: its IRC bot in #lobby, its MSN bot in its group "
        "chat, its Yahoo bot in its conference",
        "alice joins the room: ircdave and IRC carol are occupants",
        "yuki and Yahoo carol join the conference: occupants",
        "MSN carol and dora come online, called into the switchboard: "
        "occupants",
        "the six legacy people are six occupants, each with a nick of their "
        "own, no address shown; bob, a participant, sees no handle of "
        "theirs",
        "a line from each side reaches the three others once, in order, "
        "never its sender",
        "imgroups killed (SIGKILL) mid-burst and started again: the three "
        "bots back in their chats, the six people occupants again",
        "across the restart every line reaches every other person once, in "
        "order: none lost, none twice",
        "a leave on each network is a leave in the room",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, binary, worker, host):
        super().__init__(binary, worker)
        self.host = host
        self.p = {}         # person -> client (alice: self.x["alice"])
        self.nick = {"alice": "alice"}   # person -> room nick
        self.said = {}      # person -> the test lines they said, in order

    def main(self):
        self.tap.diag("temp dir %s, the group on %s" % (self.tmp, self.host))
        self.check_start(self.NAMES[0],
                         lambda: self.start_xmpp(self.host,
                                                 ["alice", "bob"]))
        self.check_start(self.NAMES[1], self.start_irc)
        self.check_start(self.NAMES[2], self.start_fakes)
        f = self.fake.server
        # the room takes alice's burst whole (no resource-constraint)
        self.ig = self.new_imgroups(limits={"rate": "1000", "burst": "1000"},
                                    accounts=[
            ("irc", dict(PACE, protocol="prpl-irc",
                         username=IRC_BOT + "@127.0.0.1", group="lobby",
                         mode="chat", chat=CHANNEL,
                         **{"option.port": str(self.irc.port)})),
            ("msn", dict(PACE, protocol="prpl-imgroups-msn",
                         username=MSN_BOT, password="botpw1", group="lobby",
                         mode="chat", chat=MSN_CHAT,
                         **{"option.server": "127.0.0.1",
                            "option.port": str(f.ns_port),
                            "option.nexus": f.nexus_url()})),
            ("yahoo", dict(PACE, protocol="prpl-imgroups-yahoo",
                           username=Y_BOT, password="ybotpw1",
                           group="lobby", mode="chat", chat=Y_ROOM,
                           **{"option.server": "127.0.0.1",
                              "option.port": str(self.ymsg.port)})),
        ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            for acct in BOTS:
                self.ig.wait_log(r"account %s: in the legacy chat" % acct,
                                 60)
        self.check_start(self.NAMES[3], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def start_irc(self):
        self.start_ngircd()

        async def both():
            self.p["ircdave"] = await self.irc_user("ircdave", CHANNEL)
            self.p["irccarol"] = await self.irc_user("carol", CHANNEL)
        self.run(both(), 30)

    def start_fakes(self):
        self.start_fake_msn(((MSN_BOT, "botpw1", "Lobby"),
                             ("carol@example.com", "carolpw1", "Carol"),
                             ("dora@example.com", "dorapw1", "Dora")))
        for who in ("carol@example.com", "dora@example.com"):
            self.fake.call(self.fake.server.add_contacts, MSN_BOT, who)
        self.start_fake_ymsg(
            {Y_BOT: "ybotpw1", "yuki": "yukipw1", "carol": "ycarolpw1"},
            {Y_BOT: ["yuki", "carol"], "yuki": [Y_BOT], "carol": [Y_BOT]})

        async def yuki():
            # online before the bot: its conference invites her at login
            self.p["yuki"] = await self.ymsg_user("yuki", "yukipw1")
        self.run(yuki(), 30)

    # --- the flows -------------------------------------------------------
    async def flows(self):
        a = self.NAMES
        for i, fn in enumerate([self.alice_joins, self.yahoo_joins,
                                self.msn_joins, self.own_nicks]):
            if not await self.step(a[4 + i], fn()):
                raise Abort
        await self.step(a[8], self.round("r"))
        if await self.step(a[9], self.restart()):
            await self.step(a[10], self.nothing_lost())
        else:
            self.tap.check(False, a[10], "not run: no restart")
        await self.step(a[11], self.leaves())

    # --- who is in the room ----------------------------------------------
    def occupants(self):
        """alice's view of the room's legacy occupants: nick -> the
        presence's number in her log, from her last join on."""
        seen = {}
        for n, el in self.x["alice"].log[self.joined_at:]:
            frm = el.get("from", "")
            if kind(el) != "presence" or not frm.startswith(LOBBY + "/"):
                continue
            nick = frm.split("/", 1)[1]
            if el.get("type") == "unavailable":
                seen.pop(nick, None)
            elif el.get("type") is None and nick not in ("alice", "bob"):
                seen.setdefault(nick, n)
        return seen

    async def until(self, fn, what, timeout=30):
        """Waits until fn() is true (each client's arrivals run in this
        loop: a check after each turn of it); returns its value."""
        deadline = self.loop.time() + timeout
        while True:
            r = fn()
            if r:
                return r
            if self.loop.time() > deadline:
                raise Fail("no %s within %d s" % (what, timeout))
            await asyncio.sleep(0.05)

    async def new_occupant(self, before, what):
        """The nick of the one occupant alice sees now that was not in
        `before`."""
        got = await self.until(
            lambda: set(self.occupants()) - before, what)
        if len(got) != 1:
            raise Fail("%s: %d new occupants at once: %r"
                       % (what, len(got), got))
        return got.pop()

    async def join_alice(self):
        a = self.x.get("alice")
        self.joined_at = len(a.log) if a else 0
        if a:
            a.forget()
        await self.join_room("alice", LOBBY)
        self.p["alice"] = self.x["alice"]

    async def alice_joins(self):
        await self.join_alice()
        # the IRC bot was in #lobby before alice: both are in her join
        nicks = await self.until(
            lambda: (lambda o: o if {"ircdave", "carol"} <= set(o) else
                     None)(self.occupants()), "ircdave and carol from IRC")
        self.nick.update(ircdave="ircdave", irccarol="carol")
        if set(nicks) != {"ircdave", "carol"}:
            raise Fail("occupants %r" % sorted(nicks))

    async def conf_invited(self, user):
        """user's invitation to the bot's conference (a first one, or one
        added to it); returns the members it names."""
        p = await user.wait(
            lambda p: p[0] in (fake_ymsg.CONFINVITE,
                               fake_ymsg.CONFADDINVITE)
            and get(p[2], 57) == Y_ROOM, "the bot's invitation", 60)
        return [v for k, v in p[2] if k == 53]

    async def conf_accept(self, person):
        """person (on Yahoo) accepts the bot's invitation."""
        user = self.p[person]
        user.conf_logon(Y_ROOM, await self.conf_invited(user))

    async def yahoo_joins(self):
        before = set(self.occupants())
        await self.conf_accept("yuki")
        self.nick["yuki"] = await self.new_occupant(before, "yuki")
        before.add(self.nick["yuki"])
        self.p["ycarol"] = await self.ymsg_user("carol", "ycarolpw1")
        await self.conf_accept("ycarol")
        self.nick["ycarol"] = await self.new_occupant(before, "Yahoo carol")

    async def msn_joins(self):
        for person, pw in (("mcarol", "carolpw1"), ("dora", "dorapw1")):
            before = set(self.occupants())
            c = await self.msn_user(PEOPLE[person][1], pw)
            self.p[person] = c
            await c.wait(lambda c=c: MSN_BOT in c.sbs, "the bot's call", 30)
            self.nick[person] = await self.new_occupant(before, person)
        c, d = self.p["mcarol"], self.p["dora"]
        await c.wait(lambda: c.with_(MSN_BOT) == {MSN_BOT, d.email},
                     "dora in carol's switchboard with the bot")

    async def own_nicks(self):
        legacy = [p for p in PEOPLE if p != "alice"]
        nicks = [self.nick[p] for p in legacy]
        self.tap.diag("nicks: %s" % ", ".join(
            "%s=%r" % (p, self.nick[p]) for p in legacy))
        if len(set(nicks)) != len(nicks):
            raise Fail("nicks shared: %r" % self.nick)
        if set(self.occupants()) != set(nicks):
            raise Fail("occupants %r, people %r" % (sorted(self.occupants()),
                                                    sorted(nicks)))
        shown = [n for n in nicks if "@" in n]
        if shown:
            raise Fail("addresses shown: %r" % shown)
        carols = sorted(self.nick[p] for p in ("irccarol", "ycarol",
                                              "mcarol"))
        if carols != ["carol", "carol (msn)", "carol (yahoo)"]:
            raise Fail("the three carols are %r" % carols)
        # a participant (not a moderator) has the occupants before its own
        # presence: no legacy handle in any of them (no item jid)
        await self.join_room("bob", LOBBY)
        b = self.x["bob"]
        handles = [PEOPLE[p][1] for p in legacy if "@" in PEOPLE[p][1]]
        seen = set()
        for _, el in b.log:
            nick = el.get("from", "").partition("/")[2]
            if kind(el) != "presence" or nick not in nicks:
                continue
            seen.add(nick)
            it = item(el)
            if (it is not None and it.get("jid")) or any(
                    h in show(el) for h in handles):
                raise Fail("bob sees a handle: %s" % show(el))
        if seen != set(nicks):
            raise Fail("bob saw %r" % sorted(seen))
        b.send("<presence to='%s/bob' type='unavailable'/>" % LOBBY)
        await self.x["alice"].wait(presence_from(LOBBY + "/bob",
                                                 "unavailable"), "bob leaving")

    # --- what each person saw ---------------------------------------------
    def seen(self, person):
        """The test lines person has received so far, in order, as (shown
        speaker, text): the occupant's nick in the room (live, not
        history), the nick in a bot's `<nick> text`, or the handle of who
        said it on the same network."""
        net, handle = PEOPLE[person]
        c = self.p[person]
        if net == "xmpp":
            raw = [(el.get("from", "").split("/", 1)[1], body(el) or "")
                   for _, el in c.log
                   if kind(el) == "message" and el.get("type") == "groupchat"
                   and el.get("from", "").startswith(LOBBY + "/")
                   and el.find(NS_DELAY) is None]
        elif net == "irc":
            raw = [(m[0], m[2][1]) for m in c.log if m[1] == "PRIVMSG"
                   and len(m[2]) == 2 and m[2][0].lower() == CHANNEL]
        elif net == "yahoo":
            raw = [((get(pk[2], 3) or "").lower(), get(pk[2], 14, ""))
                   for pk in c.log if pk[0] == fake_ymsg.CONFMSG
                   and get(pk[2], 57) == Y_ROOM]
        else:
            raw = list(c.messages)
        out = []
        for who, text in raw:
            m = RELAYED.match(text) if who.lower() == BOTS.get(net) else None
            if m:
                who, text = m.group(1), m.group(2)
            if text.startswith("t:"):
                out.append((who, text))
        return out

    def shown_as(self, speaker, receiver):
        """How receiver sees speaker named."""
        if PEOPLE[speaker][0] == PEOPLE[receiver][0] != "xmpp":
            return PEOPLE[speaker][1].lower()
        return self.nick[speaker]

    def wanted(self, receiver, tags):
        """What receiver must have of the lines tagged `tags`: per speaker,
        in order; alice has her own lines (reflections), nobody else."""
        return {s: [t for t in self.said.get(s, []) if t.split(":")[1] in tags]
                for s in SPEAKERS if s != receiver or s == "alice"}

    def compare(self, receiver, tags):
        """None when receiver has exactly wanted(receiver, tags), from the
        right names; else why not."""
        got = {}
        for who, text in self.seen(receiver):
            tag, speaker = text.split(":")[1:3]
            if tag in tags:
                got.setdefault(speaker, []).append((who, text))
        why = []
        for s, want in self.wanted(receiver, tags).items():
            texts = [t for _, t in got.pop(s, [])]
            if texts != want:
                why.append("%s from %s: %r, not %r" % (receiver, s, texts,
                                                       want))
        for s, lines in got.items():
            why.append("%s has lines of its own back: %r" % (receiver,
                                                             lines))
        return "; ".join(why) or None

    def misnamed(self, receiver, tags):
        out = []
        for who, text in self.seen(receiver):
            tag, speaker = text.split(":")[1:3]
            if tag in tags and who.lower() != self.shown_as(
                    speaker, receiver).lower():
                out.append("%s has %r from %r" % (receiver, text, who))
        return out

    def say(self, speaker, text):
        """speaker says text on their own side."""
        self.said.setdefault(speaker, []).append(text)
        net = PEOPLE[speaker][0]
        c = self.p[speaker]
        if net == "xmpp":
            c.send("<message to='%s' type='groupchat'><body>%s</body>"
                   "</message>" % (LOBBY, text))
        elif net == "irc":
            c.privmsg(CHANNEL, text)
        elif net == "yahoo":
            c.conf_message(Y_ROOM, text)
        else:
            return c.say(MSN_BOT, text)
        return None

    async def speak(self, speaker, tag, n):
        for i in range(n):
            r = self.say(speaker, "t:%s:%s:%d" % (tag, speaker, i + 1))
            if r is not None:
                await r

    async def all_have(self, tags, timeout):
        """Waits until every person has every line tagged `tags` they
        must have (more is only seen by compare())."""
        def done():
            for r in PEOPLE:
                have = {}
                for _, text in self.seen(r):
                    tag, speaker = text.split(":")[1:3]
                    if tag in tags:
                        have.setdefault(speaker, set()).add(text)
                for s, want in self.wanted(r, tags).items():
                    if not set(want) <= have.get(s, set()):
                        return False
            return True
        try:
            await self.until(done, "every line everywhere", timeout)
        except Fail:
            raise Fail("; ".join(filter(None, (self.compare(r, tags)
                                               for r in PEOPLE))))

    async def barrier(self, tags, named):
        """Each speaker says one line tagged `tags[-1]`; once every person
        has them (each bot delivers in order, so a copy of an earlier line
        or an echo would come before), nobody has more than wanted, and
        the lines tagged `named` show their speakers' nicks as they are
        now."""
        await asyncio.gather(*(self.speak(s, tags[-1], 1) for s in SPEAKERS))
        await self.all_have(tags, 60)
        why = [w for w in (self.compare(r, tags) for r in PEOPLE) if w]
        why += sum((self.misnamed(r, named) for r in PEOPLE), [])
        if why:
            raise Fail("; ".join(why))

    async def round(self, tag):
        # the four speak at once, three lines each
        await asyncio.gather(*(self.speak(s, tag, 3) for s in SPEAKERS))
        await self.all_have((tag,), 60)
        await self.barrier((tag, tag + "b"), (tag, tag + "b"))

    # --- the restart ------------------------------------------------------
    async def restart(self):
        """The four speak at once, LEGACY_BURST lines from each legacy
        side and BURST from alice; once the room has them all (alice's
        reflections acknowledge hers), imgroups is killed while the bots
        pace them out."""
        await asyncio.gather(*(self.speak(s, "k", BURST if s == "alice"
                                          else LEGACY_BURST)
                               for s in SPEAKERS))
        n = BURST + 3 * LEGACY_BURST
        await self.until(
            lambda: len([1 for _, t in self.seen("alice")
                         if t.startswith("t:k:")]) == n,
            "the %d lines in the room" % n)
        self.tap.diag("had before the kill: %s" % ", ".join(
            "%s %d of %d" % (r, len([1 for _, t in self.seen(r)
                                     if t.startswith("t:k:")]),
                             sum(map(len, self.wanted(r, ("k",)).values())))
            for r in PEOPLE if r != "alice"))
        mark = await self.kill_core()
        # a restarted imgroups knows no occupant: alice joins again
        await self.join_alice()
        for acct in BOTS:
            await self.wait_log(r"account %s: in the legacy chat" % acct,
                                BACK_WAIT, mark)
        for person in ("yuki", "ycarol"):
            await self.conf_accept(person)
        try:
            await self.until(lambda: self.renick(set(self.occupants())),
                             "the six occupants again", BACK_WAIT)
        except Fail:
            raise Fail("occupants now %r" % sorted(self.occupants()))

    def renick(self, nicks):
        """True, and self.nick updated, when nicks are the six people's
        (a restart may hand "carol" to another of them: the others show
        their network)."""
        if len(nicks) != 6 or not {"ircdave", "yuki", "dora"} <= nicks:
            return False
        carols = {"carol (irc)": "irccarol", "carol (msn)": "mcarol",
                  "carol (yahoo)": "ycarol"}
        named = {carols[n] for n in nicks if n in carols}
        rest = {"irccarol", "mcarol", "ycarol"} - named
        if len(named) != 2 or "carol" not in nicks:
            return False
        new = {carols[n]: n for n in nicks if n in carols}
        new[rest.pop()] = "carol"
        moved = {p: n for p, n in new.items() if self.nick[p] != n}
        if moved:
            self.tap.diag("nicks after the restart: %r" % moved)
        self.nick.update(new)
        return True

    async def nothing_lost(self):
        await self.all_have(("r", "rb", "k"), BACK_WAIT)
        await self.barrier(("r", "rb", "k", "kb"), ("kb",))
        # the history alice had at her join after the restart: once each
        hist = [body(el) for _, el in self.x["alice"].log[self.joined_at:]
                if kind(el) == "message" and el.find(NS_DELAY) is not None
                and (body(el) or "").startswith("t:")]
        twice = sorted({t for t in hist if hist.count(t) > 1})
        if twice:
            raise Fail("the room's history has twice: %r" % twice)
        if not hist:
            raise Fail("no history at alice's join after the restart")

    async def leaves(self):
        a = self.x["alice"]
        self.p["dora"].leave(MSN_BOT)
        self.p["ycarol"].conf_logoff(Y_ROOM)
        self.p["irccarol"].send("PART %s :bye" % CHANNEL)
        for person in ("dora", "ycarol", "irccarol"):
            await a.wait(presence_from("%s/%s" % (LOBBY, self.nick[person]),
                                       "unavailable"),
                         "%s leaving" % person, 30)
        left = {self.nick[p] for p in ("dora", "ycarol", "irccarol")}
        if left & set(self.occupants()):
            raise Fail("still in: %r" % (left & set(self.occupants())))


if __name__ == "__main__":
    sys.exit(bridgebase.main_on_host(sys.argv, Run, WATCHDOG))
