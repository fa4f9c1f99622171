"""Long form of tests/real/test_bridge_crash.py: ROUNDS times (default 20),
kill -9 the worker mid-burst, then kill -9 imgroups mid-burst, while an
IRC member (libpurple's IRC plugin against a private ngircd) is paced the
room's lines. Counts, over all rounds, the acknowledged lines that never
reached the member and the lines that reached it more than once; prints
both, each must be 0. Prints TAP.

    /usr/bin/python3 tests/long/test_long_kill.py /path/to/imgroups /path/to/imgroups-purple

IMGROUPS_LONG_ROUNDS=N changes the number of rounds. The two kills
alternate: a restarted imgroups starts its worker with a fresh backoff, so
every round's worker comes back after 1 s (legacy.c doubles the restart
delay on every crash and never lowers it again while imgroups runs).
"""

import asyncio
import collections
import sys
import time

import longbase  # first: puts tests/real on the import path
import bridgebase
import test_bridge_crash
from tap import Abort
from xmppclient import Fail, presence_from

ROUNDS = longbase.knob("IMGROUPS_LONG_ROUNDS", 20)
PER_ROUND = 60      # seconds one round may take before the watchdog counts


class Run(test_bridge_crash.Run):
    """The crash test's setup, burst and kills, on a tag of its own each
    round (w07-00 … w07-29) and killing after a different number of
    delivered lines each round."""
    SLUG = "long-kill"
    NAMES = test_bridge_crash.Run.NAMES[:4] + [
        "worker killed %d times mid-burst: the bot came back every time"
        % ROUNDS,
        "worker kills: 0 acknowledged lines lost",
        "worker kills: 0 lines delivered twice",
        "imgroups killed %d times mid-burst: restarted, the bot came back "
        "every time" % ROUNDS,
        "imgroups kills: 0 acknowledged lines lost",
        "imgroups kills: 0 lines delivered twice",
        test_bridge_crash.Run.NAMES[-1]]

    round = 0
    kill_after = 5

    def run(self, coro, timeout):
        # the crash test's main() gives its flows 540 s; these take longer
        return super().run(coro, 60 + 2 * ROUNDS * PER_ROUND)

    def tagged(self, tag):
        return "%s%02d-" % (tag, self.round)

    async def burst(self, tag):
        await super().burst(self.tagged(tag))
        self.acked_by[tag] += self.acked

    async def until_received(self, tag, n):
        await super().until_received(self.tagged(tag), self.kill_after)

    async def flows(self):
        if not await self.step(self.NAMES[3], self.setup()):
            raise Abort
        self.acked_by = {"w": [], "c": []}
        failed = {"w": None, "c": None}
        for self.round in range(ROUNDS):
            # 1 … 25 lines delivered before the kill, spread over the rounds
            self.kill_after = 1 + (self.round * 7) % 25
            for tag, kill in (("w", self.kill_worker), ("c", self.kill_core)):
                if failed["w"] or failed["c"]:
                    break
                failed[tag] = await self.attempt(tag, kill)
        await self.barrier()
        for tag, first in (("w", 4), ("c", 7)):
            self.tap.check(failed[tag] is None, self.NAMES[first],
                           failed[tag])
            self.count(tag, first)

    async def barrier(self):
        """A last line, said and waited for at bob: the bot delivers in
        order, so a late copy of an earlier line would come before it."""
        a = self.x["alice"]
        a.send("<message to='%s' type='groupchat'><body>the end</body>"
               "</message>" % test_bridge_crash.LOBBY)
        try:
            await self.bob.wait_privmsg(
                "lobbybot", lambda s: s == "<alice> the end",
                "the last line", test_bridge_crash.BACK_WAIT)
        except Exception as e:  # the counts below say what went wrong
            self.tap.diag("no barrier: %s" % e)

    async def kill_core(self):
        await super().kill_core()
        # A new imgroups knows no occupant: alice joins again (without
        # that the room answers her lines with not-acceptable).
        a = self.x["alice"]
        a.forget()
        a.send("<presence to='%s/alice'><x xmlns='"
               "http://jabber.org/protocol/muc'/></presence>"
               % test_bridge_crash.LOBBY)
        await a.wait(presence_from(test_bridge_crash.LOBBY + "/alice"),
                     "its own presence after the restart")

    async def attempt(self, tag, kill):
        """One kill and the wait for that round's acknowledged lines; the
        reason it failed, or None."""
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(kill(), PER_ROUND)
            await self.delivered(self.tagged(tag))
        except Exception as e:   # Fail, a timeout, a ServerError
            return "round %d: %s: %s\n--- imgroups log ---\n%s" % (
                self.round, type(e).__name__, e, self.ig.log_tails(25))
        self.tap.diag("round %d, %s: killed after %d lines, %.1f s"
                      % (self.round, "worker" if tag == "w" else "imgroups",
                         self.kill_after, time.monotonic() - t0))
        return None

    async def delivered(self, prefix):
        """Waits until every acknowledged line of this round arrived once
        (extra copies are counted at the end, not here)."""
        want = {"<alice> " + t for t in self.acked if t.startswith(prefix)}
        deadline = time.monotonic() + test_bridge_crash.BACK_WAIT
        while not want <= set(self.bob.privmsgs("lobbybot")):
            if time.monotonic() > deadline:
                raise Fail("not every acknowledged line arrived within "
                           "%d s" % test_bridge_crash.BACK_WAIT)
            await asyncio.sleep(0.2)

    def count(self, tag, first):
        got = collections.Counter(s for s in self.bob.privmsgs("lobbybot")
                                  if s.startswith("<alice> " + tag))
        acked = ["<alice> " + t for t in self.acked_by[tag]]
        lost = [s for s in acked if not got[s]]
        dups = sum(n - 1 for n in got.values() if n > 1)
        who = "worker" if tag == "w" else "imgroups"
        self.tap.diag("%s kills: %d acknowledged, %d delivered, %d "
                      "acknowledged lost, %d duplicates"
                      % (who, len(acked), sum(got.values()), len(lost),
                         dups))
        self.tap.check(not lost, self.NAMES[first + 1],
                       "lost: %r" % lost[:20])
        self.tap.check(dups == 0, self.NAMES[first + 2], "twice or more: %r"
                       % sorted(s for s, n in got.items() if n > 1)[:20])


if __name__ == "__main__":
    sys.exit(bridgebase.main(sys.argv, Run,
                             120 + 2 * ROUNDS * PER_ROUND))
