"""Running the bridge, for real: the bot commands and operations around
legacy members that the other bridge tests leave out — /history, the digest
a member gets after an absence, /forgetme erasing their lines from the
archive (MAM), a members-only group and the member-add ad-hoc command, the
IRC server going away and coming back, and a crash-looping worker put in
quarantine with the admins told. imgroups runs three contacts-mode bot
accounts through its libpurple worker (libpurple's IRC plugin) against a
private ngircd, with a private Prosody for the XMPP side and raw IRC clients
playing the people on the legacy network. Prints TAP.

    /usr/bin/python3 tests/real/test_bridge_ops.py /path/to/imgroups /path/to/imgroups-purple

libpurple's IRC plugin learns a buddy's presence by polling ISON about
every 45 s, so the absences wait up to two polls each way (waits, not
assertions on speed). IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import os
import re
import signal
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    import servers  # noqa: E402
    from bridgebase import (  # noqa: E402
        COMPONENT, NS_CMD, NS_DATA, WAIT, BridgeRun, alive, workers_of)
    from ircclient import IrcClient  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import (  # noqa: E402
        CLIENT, Fail, bare, body, kind, mam_result, presence_from, show)
    from xmppclient import occupant_said as groupchat  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_bridge_ops.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
CLUB = "club@" + COMPONENT
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_OWNER = "http://jabber.org/protocol/muc#owner"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
DIGEST_AFTER = 5
ISON_WAIT = 90       # two ISON polls and some
BACK_WAIT = 120      # a reconnect backoff, sign-on and an ISON poll
ERASE_WAIT = 30      # the erasure job runs in the background
WATCHDOG = 600

FORGET_LINE = "secret-ish line"
HISTORY = ["history one", "history two", "history three"]
AWAY = ["away %d" % i for i in range(1, 9)]
OUTAGE = ["during outage 1", "during outage 2", "during outage 3"]










class Run(BridgeRun):
    SLUG = "bridge-ops"
    NAMES = [
        "prosody starts", "ngircd starts",
        "imgroups starts, its three bots online",
        "alice logs in and opens lobby and club; ircbob becomes a member",
        "/history 3: the last three lines of the room, in order",
        "digest: the member leaves the room when they quit",
        "digest: on return, one digest of 8 with the last 5 lines, not the "
        "first 3",
        "/forgetme: confirmed, the member leaves the room",
        "/forgetme: their line is gone from MAM, alice's lines stay",
        "members-only: alice, a service admin, configures club",
        "members-only: a stranger is refused and not an occupant",
        "member-add: completed, with its note",
        "member-add: the added user is welcomed and an occupant",
        "IRC server restart: lobby-irc goes offline and comes back by itself",
        "IRC server restart: lines said meanwhile arrive once each, in order",
        "IRC server restart: the room still reflects alice's messages; the "
        "server's own notice made nobody a member",
        "quarantine: two crashes of crashy-irc's worker, logged as "
        "quarantined",
        "quarantine: alice, a service admin, is told",
        "quarantine: no crashy-irc worker runs afterwards",
        "quarantine: lobby still works",
        "imgroups stops on SIGTERM with status 0"]

    def main(self):
        self.tap.diag("temp dir %s" % self.tmp)
        self.check_start(self.NAMES[0], lambda: self.start_prosody(["alice"]))
        self.check_start(self.NAMES[1], self.start_ngircd)
        irc = {"option.port": str(self.irc.port), "pace_burst": "50",
               "pace_rate": "50"}
        self.ig = self.new_imgroups(
            legacy={"digest_after": str(DIGEST_AFTER), "crash_limit": "2",
                    "crash_window": "300"},
            admins=["alice@localhost"],
            accounts=[
                ("lobby-irc", dict(protocol="prpl-irc",
                                   username="lobbybot@127.0.0.1",
                                   group="lobby", mode="contacts", **irc)),
                ("club-irc", dict(protocol="prpl-irc",
                                  username="clubbot@127.0.0.1", group="club",
                                  mode="contacts", **irc)),
                ("crashy-irc", dict(protocol="prpl-irc",
                                    username="crashybot@127.0.0.1",
                                    group="crashy", mode="contacts", **irc)),
            ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            for acct in ("lobby-irc", "club-irc", "crashy-irc"):
                self.ig.wait_log(r"account %s is online" % acct, 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    # --- helpers ---------------------------------------------------------
    async def irc_user(self, nick):
        c = IrcClient(self.irc.port, nick)
        self.irc_users.append(c)
        await c.connect()
        return c

    async def say_and_wait(self, room, text):
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (room, text))
        await a.wait(groupchat(room, "alice", text),
                     "the reflection of " + text)

    async def mam(self, room):
        """[(from, body)] of the room's last 100 archived messages, by a MAM
        query from alice."""
        a = self.x["alice"]
        self.qn = getattr(self, "qn", 0) + 1
        qid = "ops-%d" % self.qn
        res = await self.iq("set", room,
                            "<query xmlns='%s' queryid='%s'><set xmlns='%s'>"
                            "<max>100</max><before/></set></query>"
                            % (NS_MAM, qid, NS_RSM))
        if res.xml.find("{%s}fin" % NS_MAM) is None:
            raise Fail("MAM answer without <fin>: %s" % show(res.xml))
        out = []
        for _, el in a.take_all(mam_result(room, qid)):
            fwd = el.find("{%s}result/{%s}forwarded" % (NS_MAM, NS_FWD))
            inner = None if fwd is None else fwd.find(CLIENT + "message")
            if inner is None:
                raise Fail("MAM result without a forwarded message: %s"
                           % show(el))
            out.append((inner.get("from"), body(inner)))
        return out

    async def log_sequence(self, mark, regexes, timeout, what):
        """Waits until the log after `mark` has lines matching `regexes` in
        that order; returns the matched lines."""
        pats = [re.compile(r) for r in regexes]
        deadline = time.monotonic() + timeout
        while True:
            text = self.ig.log_text(mark)
            pos, hits = 0, []
            for p in pats:
                m = p.search(text, pos)
                if not m:
                    break
                start = text.rfind("\n", 0, m.start()) + 1
                end = text.find("\n", m.end())
                hits.append(text[start:end if end >= 0 else len(text)])
                pos = m.end()
            if len(hits) == len(pats):
                return hits
            if time.monotonic() > deadline:
                raise Fail("the imgroups log did not show %s within %d s "
                           "(/%s/ missing)" % (what, timeout,
                                               pats[len(hits)].pattern))
            await asyncio.sleep(0.2)

    # --- the flows -------------------------------------------------------
    async def flows(self):
        if not await self.step(self.NAMES[3], self.setup()):
            raise Abort
        steps = [self.history, self.digest_leave, self.digest_return,
                 self.forget_confirmed, self.forget_erased,
                 self.club_members_only, self.club_refused,
                 self.club_member_add, self.member_added_joins,
                 self.outage_account, self.outage_lines, self.outage_xmpp,
                 self.quarantine_log, self.quarantine_told,
                 self.quarantine_no_worker, self.quarantine_lobby]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[4 + i], fn())

    async def setup(self):
        await self.login("alice")
        a = self.x["alice"]
        # available, so that messages to her bare JID (the admin notices)
        # reach this session
        a.send("<presence/>")
        for room in (LOBBY, CLUB):
            await self.join_room("alice", room)
        self.bob = await self.irc_user("ircbob")
        self.bob.privmsg("lobbybot", "hello group")
        await self.bob.wait_privmsg(
            "lobbybot", lambda s: s.startswith("Welcome to the group "
                                               + LOBBY),
            "the welcome", 60)
        await a.wait(presence_from(LOBBY + "/ircbob"), "ircbob's presence")
        await a.wait(groupchat(LOBBY, "ircbob", "hello group"),
                     "ircbob's line in the room")

    # 1. /history
    async def history(self):
        for text in HISTORY:
            await self.say_and_wait(LOBBY, text)
        self.bob.privmsg("lobbybot", "/history 3")
        head = "The last 3 messages:"
        await self.bob.wait_privmsg("lobbybot", lambda s: s == head,
                                    "the /history answer", 30)
        got = []
        for _ in HISTORY:
            got.append(await self.bob.wait_privmsg(
                "lobbybot", lambda s: s.startswith("["),
                "a line of the /history answer"))
        line = re.compile(r"^\[\d\d:\d\d\] <alice> (.*)$")
        texts = [line.match(s).group(1) if line.match(s) else None
                 for s in got]
        if texts != HISTORY:
            raise Fail("the /history lines are %r" % got)
        everything = self.bob.privmsgs("lobbybot")
        i = everything.index(head)
        if everything[i + 1:i + 4] != got:
            raise Fail("the /history lines do not follow their heading: %r"
                       % everything[i:i + 4])

    # 2. digest
    async def digest_leave(self):
        await self.bob.quit()
        await self.x["alice"].wait(
            presence_from(LOBBY + "/ircbob", "unavailable"),
            "ircbob leaving after the quit", ISON_WAIT)

    async def digest_return(self):
        for text in AWAY:
            await self.say_and_wait(LOBBY, text)
        self.bob = await self.irc_user("ircbob")
        head = ("(%d messages while you were away; the last %d:)"
                % (len(AWAY), DIGEST_AFTER))
        first = await self.bob.wait_privmsg(
            "lobbybot", lambda s: s.startswith("(") or s.startswith("<alice>"),
            "what was said while away", ISON_WAIT)
        if first != head:
            raise Fail("the first line on return is %r, not the digest "
                       "heading %r" % (first, head))
        lines = []
        for _ in range(DIGEST_AFTER):
            lines.append(await self.bob.wait_privmsg(
                "lobbybot", lambda s: s.startswith("<alice> "),
                "a line of the digest"))
        await self.x["alice"].wait(presence_from(LOBBY + "/ircbob"),
                                   "ircbob back in the room")
        # a barrier: the bot delivers in order, so a stray comes before it
        await self.say_and_wait(LOBBY, "after the digest")
        await self.bob.wait_privmsg("lobbybot", lambda s: s.endswith(
            "after the digest"), "the line after the digest")
        want = ["<alice> " + t for t in AWAY[-DIGEST_AFTER:]]
        everything = self.bob.privmsgs("lobbybot")
        i = everything.index(head)
        problems = []
        if lines != want or everything[i + 1:i + 1 + DIGEST_AFTER] != want:
            problems.append("digest lines %r, want %r" % (
                everything[i + 1:i + 1 + DIGEST_AFTER], want))
        if everything.count(head) != 1:
            problems.append("%d digests" % everything.count(head))
        early = [s for s in everything
                 if s in ["<alice> " + t for t in AWAY[:-DIGEST_AFTER]]]
        if early:
            problems.append("the first lines came one by one: %r" % early)
        if problems:
            raise Fail("; ".join(problems) + "; everything: %r" % everything)

    # 3. /forgetme
    async def forget_confirmed(self):
        a = self.x["alice"]
        self.frank = await self.irc_user("ircfrank")
        self.frank.privmsg("lobbybot", FORGET_LINE)
        await self.frank.wait_privmsg(
            "lobbybot", lambda s: s.startswith("Welcome to the group"),
            "the welcome", 60)
        await a.wait(presence_from(LOBBY + "/ircfrank"), "ircfrank's presence")
        await a.wait(groupchat(LOBBY, "ircfrank", FORGET_LINE),
                     "ircfrank's line in the room")
        await self.say_and_wait(LOBBY, "alice after frank")
        archived = await self.mam(LOBBY)
        if (LOBBY + "/ircfrank", FORGET_LINE) not in archived:
            raise Fail("ircfrank's line is not in the archive to begin with:"
                       " %r" % archived)
        self.frank.privmsg("lobbybot", "/forgetme")
        await self.frank.wait_privmsg(
            "lobbybot",
            lambda s: s.startswith(
                "You have left the group, and your membership and every "
                "message you sent to it are being erased"),
            "the /forgetme answer", 30)
        await a.wait(presence_from(LOBBY + "/ircfrank", "unavailable"),
                     "ircfrank leaving")

    async def forget_erased(self):
        deadline = time.monotonic() + ERASE_WAIT
        while True:
            archived = await self.mam(LOBBY)
            if not [b for f, b in archived if b == FORGET_LINE]:
                break
            if time.monotonic() > deadline:
                raise Fail("after %d s the archive still has %r: %r"
                           % (ERASE_WAIT, FORGET_LINE, archived))
            await asyncio.sleep(1)
        mine = [b for f, b in archived if f == LOBBY + "/alice"]
        for text in HISTORY + AWAY + ["alice after frank"]:
            if text not in mine:
                raise Fail("alice's line %r went too: %r" % (text, archived))
        if [f for f, b in archived if f == LOBBY + "/ircfrank"]:
            raise Fail("something of ircfrank's is left: %r" % archived)

    # 4. members-only and member-add
    async def club_members_only(self):
        await self.make_members_only(CLUB)
        info = await self.iq("get", CLUB, "<query xmlns='%s'/>"
                             % NS_DISCO_INFO)
        feats = [f.get("var") for f in info.xml.iter(
            "{%s}feature" % NS_DISCO_INFO)]
        if "muc_membersonly" not in feats:
            raise Fail("club is not members-only after the form: %s"
                       % show(info.xml))

    async def club_refused(self):
        self.stranger = await self.irc_user("ircstranger")
        self.stranger.privmsg("clubbot", "let me in")
        text = await self.stranger.wait_privmsg(
            "clubbot", lambda s: s.startswith("This group is for members "
                                              "only. Ask one of its owners "
                                              "to add you: "),
            "the refusal", 60)
        if "ircstranger" not in text:
            raise Fail("the refusal does not give the handle: %r" % text)
        # A barrier: the refusal says imgroups has handled the stranger's
        # line; a presence of his in club would have gone to alice before
        # the answer to an iq she sends now (one component stream, in order).
        await self.iq("get", CLUB, "<query xmlns='%s'/>" % NS_DISCO_INFO)
        seen = [show(el) for n, el in self.x["alice"].log
                if el.get("from") == CLUB + "/ircstranger"]
        if seen:
            raise Fail("the stranger got into club: %s" % seen[0])

    async def club_member_add(self):
        first, cmd = await self.member_add(CLUB, "club-irc", "ircstranger")
        if first.get("status") != "executing":
            raise Fail("not an executing command: %s" % show(first))
        opts = [v.text for v in first.iter("{%s}value" % NS_DATA)]
        if "club-irc" not in opts:
            raise Fail("club-irc is not offered: %s" % show(first))
        notes = [(n.get("type"), (n.text or "").strip())
                 for n in cmd.findall("{%s}note" % NS_CMD)] \
            if cmd is not None else []
        if cmd is None or cmd.get("status") != "completed" or \
                notes != [("info", "ircstranger added through club-irc.")]:
            raise Fail("not the completion expected: %s" % show(cmd))

    async def member_added_joins(self):
        self.stranger.privmsg("clubbot", "hello club")
        await self.stranger.wait_privmsg(
            "clubbot", lambda s: s.startswith("Welcome to the group " + CLUB),
            "the welcome", 60)
        a = self.x["alice"]
        await a.wait(presence_from(CLUB + "/ircstranger"),
                     "ircstranger in club")
        await a.wait(groupchat(CLUB, "ircstranger", "hello club"),
                     "ircstranger's line in club")

    # 5. the IRC server goes away and comes back
    async def outage_account(self):
        self.outage_mark = mark = self.ig.log_mark()
        self.outage_ok = False
        await self.in_thread(self.irc.stop)
        for text in OUTAGE:
            await self.say_and_wait(LOBBY, text)
        await self.log_sequence(mark, [r"account lobby-irc is offline"], 30,
                                "lobby-irc going offline")
        try:
            await self.in_thread(self.irc.start)
        except servers.ServerError as e:
            raise Fail("ngircd does not start again: %s" % e)
        self.outage_ok = True
        self.bob = await self.irc_user("ircbob")
        hits = await self.log_sequence(
            mark, [r"account lobby-irc is offline",
                   r"account lobby-irc is online"], BACK_WAIT,
            "lobby-irc offline, then online")
        self.tap.diag("\n".join(hits))

    async def outage_lines(self):
        if not getattr(self, "outage_ok", False):
            raise Fail("the IRC server did not come back")
        want = ["<alice> " + t for t in OUTAGE]
        got = []
        for _ in OUTAGE:
            got.append(await self.bob.wait_privmsg(
                "lobbybot", lambda s: s.startswith("<alice> during outage"),
                "a line said during the outage", BACK_WAIT))
        # a barrier: the bot delivers in order, so a copy comes before it
        await self.say_and_wait(LOBBY, "after the outage")
        await self.bob.wait_privmsg("lobbybot", lambda s: s.endswith(
            "after the outage"), "the line after the outage", BACK_WAIT)
        every = [s for s in self.bob.privmsgs("lobbybot")
                 if s.startswith("<alice> during outage")]
        if got != want or every != want:
            raise Fail("got %r, in all %r" % (got, every))

    async def outage_xmpp(self):
        await self.say_and_wait(LOBBY, "after the outage")
        # ngircd says goodbye with a NOTICE from irc.localhost: not a person
        server = [el for n, el in self.x["alice"].log
                  if el.get("from", "").lower().startswith(
                      LOBBY + "/irc.localhost")]
        if server:
            raise Fail("the IRC server is in the room: %s"
                       % ET.tostring(server[0], "unicode")[:300])
        if re.search(r"IM from irc\.localhost", self.ig.log_text(
                self.outage_mark)):
            raise Fail("the worker passed the server's notice on as an IM")

    async def in_thread(self, fn, *args):
        return await self.loop.run_in_executor(None, fn, *args)

    # 6. quarantine
    async def quarantine_log(self):
        first = workers_of(self.ig.pid, "crashy-irc")
        if len(first) != 1:
            raise Fail("crashy-irc workers: %r" % first)
        mark = self.quarantine_mark = self.ig.log_mark()
        os.kill(first[0], signal.SIGKILL)
        started = await self.log_sequence(
            mark, [r"account crashy-irc: worker started \(pid \d+\)"], 30,
            "crashy-irc's worker restarted")
        pid = int(re.search(r"\(pid (\d+)\)", started[0]).group(1))
        if pid == first[0] or not alive(pid):
            raise Fail("the restarted worker %d (first %d) is not running"
                       % (pid, first[0]))
        os.kill(pid, signal.SIGKILL)
        self.tap.diag("killed crashy-irc's workers %d and %d"
                      % (first[0], pid))
        hits = await self.log_sequence(
            mark, [r"worker started", r"account crashy-irc: .*quarantined"],
            30, "crashy-irc quarantined")
        self.tap.diag(hits[-1])

    async def quarantine_told(self):
        a = self.x["alice"]

        def pred(el):
            return (kind(el) == "message" and el.get("from") == COMPONENT
                    and el.get("type") in (None, "normal", "chat")
                    and "crashy-irc" in (body(el) or ""))
        el = await a.wait(pred, "the admin notice about crashy-irc", 30)
        text = body(el)
        if "quarantin" not in text or bare(el.get("to")) != "alice@localhost":
            raise Fail("the notice does not say quarantined: %s" % show(el))
        self.tap.diag("admin notice: %s" % text)

    async def quarantine_no_worker(self):
        # Each exit of a worker is logged with its fate: "restarting in N
        # ms" (a timer) or "quarantined" (none). Once the quarantine is in
        # the log, the one restart scheduled since the mark (the first
        # kill's) has happened (quarantine_log saw that worker start) and
        # no other can be pending: no waiting out a backoff.
        mark = getattr(self, "quarantine_mark", 0)
        await self.log_sequence(mark, [r"account crashy-irc: .*quarantined"],
                                30, "crashy-irc quarantined")
        left = workers_of(self.ig.pid, "crashy-irc")
        if left:
            raise Fail("crashy-irc workers still running: %r" % left)
        text = self.ig.log_text(mark)
        restarts = re.findall(r"account crashy-irc: worker .*; restarting "
                              r"in .*", text)
        if len(restarts) != 1:
            raise Fail("crashy-irc's exits scheduled %d restarts, not one: "
                       "%r" % (len(restarts), restarts))
        q = text.find("quarantined")
        again = re.findall(r"account crashy-irc: worker started.*",
                           text[q:])
        if again:
            raise Fail("crashy-irc started again after its quarantine: %r"
                       % again)

    async def quarantine_lobby(self):
        await self.say_and_wait(LOBBY, "lobby after the quarantine")


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run, WATCHDOG))
