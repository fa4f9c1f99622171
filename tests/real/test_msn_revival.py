"""What a real MSN revival server does that the first stand-in did not, end
to end: imgroups with its libpurple worker running the project's MSN plugin
against fake_msn.py (a stand-in: no real server can run here), a private
Prosody or ejabberd, and fake_msn.MsnClient people. Prints TAP.

    /usr/bin/python3 tests/real/test_msn_revival.py /path/to/imgroups /path/to/imgroups-purple [prosody|ejabberd]

Issue 13, items 1-3 and the Passport ticket. The bot's address has
capitals (ClubBot@Example.com, registered so): it logs in; a bot configured
in another case than registered gets 911, an account error. Its group club
is members-only. erin adds the bot while it is online: the request is
refused without putting her on the block list (and the bot, whose privacy
said "only the allow list may write", has changed it to BLP AL), her
message reaches the bot
and she is told to ask an owner; after alice's member-add the bot has her
on AL and FL and her line is said in club. frank adds the bot while it is
offline (the server lists him with the pending flag 16): asked and refused
the same way at login, told, heard after member-add. gina, whom an older
plugin blocked, is taken off the block list by member-add and heard. The
worker's debug log (libpurple prints the Passport answer's headers) holds
no ticket the server gave.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, WAIT, BridgeRun  # noqa: E402
    from tap import Abort  # noqa: E402
    from xmppclient import Fail, body, kind  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_msn_revival.py: %s (run it with /usr/bin/python3, "
                     "which sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

CLUB = "club@" + COMPONENT
BOT = "ClubBot@Example.com"          # registered with its capitals
WRONG = "wrongcase@example.com"      # registered so, configured capitalised
ERIN = "erin@example.com"
FRANK = "frank@example.com"
GINA = "gina@example.com"
FL, AL, BL, PL = 1, 2, 4, 16
ASK_OWNER = "This group is for members only. Ask one of its owners"
WATCHDOG = 300


class Run(BridgeRun):
    SLUG = "msn-revival"
    NAMES = [
        "the XMPP server starts", "the stand-in MSN server starts",
        "imgroups starts: the bot with a capitalised address logs in",
        "a bot configured in another case than registered: 911, an account "
        "error",
        "the bot's privacy was BLP BL (only AL may write): it is AL now",
        "alice makes club members-only",
        "erin adds the bot while it is online: refused, not blocked",
        "erin writes: told to ask an owner",
        "erin after member-add: on AL and FL, her line said in club",
        "frank adds the bot while it is offline: listed pending (16), "
        "refused at login, not blocked",
        "frank writes: told to ask an owner",
        "frank after member-add: his line said in club",
        "gina, blocked by an older plugin: member-add takes her off BL, her "
        "line said in club",
        "the worker's debug log holds libpurple's Passport headers, masked: "
        "no ticket the server gave",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, binary, worker, host):
        super().__init__(binary, worker)
        self.host = host

    def main(self):
        self.tap.diag("temp dir %s, the group on %s" % (self.tmp, self.host))
        self.check_start(self.NAMES[0],
                         lambda: self.start_xmpp(self.host, ["alice"]))
        self.check_start(self.NAMES[1], self.start_fake)
        msn = self.msn_options()
        self.ig = self.new_imgroups([
            ("club", dict(msn, username=BOT, password="clubpw1",
                          group="club")),
            ("msn-case", dict(msn, username="WrongCase@example.com",
                              password="wrongpw1", group="other")),
        ], admins=["alice@localhost"])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account club is online", 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    def start_fake(self):
        self.start_fake_msn(((BOT, "clubpw1", "Club"),
                             (WRONG, "wrongpw1", "Wrong"),
                             (ERIN, "erinpw1", "Erin"),
                             (FRANK, "frankpw1", "Frank"),
                             (GINA, "ginapw1", "Gina")))
        f = self.fake.server

        def old_block():
            # only its allow list could write to the bot; gina added it
            # long ago and an older plugin blocked her
            f.accounts[BOT.lower()].blp = "BL"
            f.accounts[BOT.lower()].lists[GINA] = BL | 8
            f.accounts[GINA].lists[BOT.lower()] = FL | AL
        self.fake.call(old_block)

    # --- helpers ---------------------------------------------------------
    def lists(self, owner, other):
        return self.fake.call(
            lambda: self.fake.server.accounts[owner.lower()].lists.get(
                other.lower(), 0))

    async def refused_not_blocked(self, who, mark):
        """The plugin logs its answer (nothing on the wire); that they are
        not blocked, their next message to the bot shows."""
        await self.wait_log(r"authorization of %s: not given" % who, 30,
                            mark)
        if self.lists(BOT, who) & (BL | AL):
            raise Fail("%s is on the bot's list(s) %d"
                       % (who, self.lists(BOT, who)))

    async def told_to_ask(self, who):
        c = self.people[who]
        await c.say(BOT, "let me in")
        text = await c.wait(
            lambda: next((t for t in c.texts_from(BOT)
                          if t.startswith(ASK_OWNER)), None),
            "the answer to ask an owner", 60)
        if who not in text:
            raise Fail("the answer does not give the handle: %r" % text)
        seen = [n for n, el in self.x["alice"].log
                if el.get("from", "").startswith(CLUB + "/")
                and who.split("@")[0] in el.get("from", "").lower()]
        if seen:
            raise Fail("%s got into club before member-add" % who)

    async def heard_after_add(self, who, line):
        first, cmd = await self.member_add(CLUB, "club", who)
        if cmd is None or cmd.get("status") != "completed":
            raise Fail("member-add of %s did not complete" % who)
        await self.poll(lambda: (self.fake.server.accounts[BOT.lower()]
                                 .lists.get(who, 0) & (AL | FL | BL))
                        == AL | FL,
                        "%s on the bot's AL and FL, off BL" % who)
        c = self.people[who]
        await c.say(BOT, line)
        await self.x["alice"].wait(
            lambda el: (kind(el) == "message" and body(el) == line
                        and el.get("from", "").startswith(CLUB + "/")),
            "%s's line in club" % who, 60)

    # --- the flows -------------------------------------------------------
    async def flows(self):
        self.people = {}
        await self.step(self.NAMES[3], self.wrong_case())
        await self.step(self.NAMES[4], self.blp_al())
        if not await self.step(self.NAMES[5], self.members_only()):
            raise Abort
        for i, fn in enumerate([self.erin_adds, self.erin_told,
                                self.erin_heard, self.frank_adds,
                                self.frank_told, self.frank_heard,
                                self.gina_unblocked, self.no_ticket]):
            await self.step(self.NAMES[6 + i], fn())

    async def wrong_case(self):
        lines = await self.wait_log(r"account msn-case is offline: ", 60)
        if "911" not in lines[0]:
            raise Fail("not the server's 911: %s" % lines[0])
        if not any(w == "usr-case" for w, _ in
                   self.fake.call(lambda: list(self.fake.server.events))):
            raise Fail("the stand-in saw no USR in the wrong case")

    async def blp_al(self):
        await self.poll(
            lambda: self.fake.server.accounts[BOT.lower()].blp == "AL",
            "BLP AL")

    async def members_only(self):
        await self.join_room("alice", CLUB)
        await self.make_members_only(CLUB)

    async def erin_adds(self):
        mark = self.ig.log_mark()
        erin = self.people[ERIN] = await self.msn_user(ERIN, "erinpw1")
        await erin.add(BOT)
        await self.wait_log(r"account club: refusing a buddy request", 30,
                            mark)
        await self.refused_not_blocked(ERIN, mark)

    async def erin_told(self):
        await self.told_to_ask(ERIN)

    async def erin_heard(self):
        await self.heard_after_add(ERIN, "hello from erin")

    async def frank_adds(self):
        f = self.fake.server
        mark = self.ig.log_mark()
        self.fake.call(f.lock_out, BOT)
        self.fake.call(f.drop, BOT)
        await self.wait_log(r"account club is offline", 30, mark)
        frank = self.people[FRANK] = await self.msn_user(FRANK, "frankpw1")
        await frank.add(BOT)
        await self.poll(lambda: f.accounts[BOT.lower()].lists.get(FRANK, 0)
                        & PL, "frank pending on the bot's lists")
        mark = self.ig.log_mark()
        self.fake.call(f.let_in, BOT)
        await self.wait_log(r"account club is online", 60, mark)
        await self.refused_not_blocked(FRANK, mark)

    async def frank_told(self):
        await self.told_to_ask(FRANK)

    async def frank_heard(self):
        await self.heard_after_add(FRANK, "hello from frank")

    async def gina_unblocked(self):
        self.people[GINA] = await self.msn_user(GINA, "ginapw1")
        await self.heard_after_add(GINA, "hello from gina")

    async def no_ticket(self):
        text = self.ig.log_text()
        issued = self.fake.call(lambda: list(self.fake.server.issued))
        if not issued:
            raise Fail("the stand-in gave no ticket")
        leaked = [t for t in issued if t in text]
        if leaked:
            raise Fail("%d of %d tickets in the log" % (len(leaked),
                                                        len(issued)))
        if "from-PP='***'" not in text:
            raise Fail("no masked Passport header in the debug log: is "
                       "libpurple's http debug there at all?")


if __name__ == "__main__":
    sys.exit(bridgebase.main_on_host(sys.argv, Run, WATCHDOG))
