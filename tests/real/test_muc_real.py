"""imgroups rooms (XEP-0045) through a real XMPP server: create, join order,
semi-anonymity, fan-out with stanza-id and occupant-id, nick conflict,
private messages, nick change, leave, history, MAM (XEP-0313) with RSM
paging, the room surviving a restart (status 332 on shutdown), and then,
in a second room, moderation: a kick (307), a ban with the rejoin refused
(301, <forbidden/>), and members-only set through the owner's form (322,
<registration-required/>, admitted once made a member). Prints TAP.

    /usr/bin/python3 tests/real/test_muc_real.py prosody|ejabberd /path/to/imgroups

Starts a private server (tests/real/servers.py) under a temp dir with users
alice, bob and carol, and imgroups (room_creation = anyone, no legacy
accounts) attached to it; the three users are real slixmpp client sessions
(plain text on loopback) that send raw stanzas and record everything they
receive, so each check looks at exactly what the server delivered. Every
wait is bounded (WAIT seconds). Every process is stopped by its PID at the
end, also on failure. Exits 0 only if every check passed.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import asyncio
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from tap import Abort  # noqa: E402  (tests/tap.py)

try:
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, bare, body, codes, groupchat_from, item,
        item_reason, join_answer, kind, mam_result, occupant_id, presence_from,
        ptype, show, stanza_error)
except ImportError:
    sys.stderr.write("test_muc_real.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
ROOM = "team@" + COMPONENT
MOD = "mod@" + COMPONENT     # a fresh room for the moderation checks
USERS = ("alice", "bob", "carol")
CLIENT = "{jabber:client}"
NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = NS_MUC + "#user"
NS_ADMIN = NS_MUC + "#admin"
NS_OWNER = NS_MUC + "#owner"
NS_XDATA = "jabber:x:data"
NS_SID = "urn:xmpp:sid:0"
NS_OID = "urn:xmpp:occupant-id:0"
NS_DELAY = "urn:xmpp:delay"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
WAIT = 10        # seconds for any one expected stanza or answer
WATCHDOG = 180   # seconds for the whole run, whatever hangs
MAM_PAGE = 3


def room_sids(el):
    """The XEP-0359 stanza-id values the room put on a message."""
    return [s.get("id") for s in el.findall("{%s}stanza-id" % NS_SID)
            if s.get("by") == ROOM]


def is_subject(el):
    return (kind(el) == "message" and el.get("from") == ROOM
            and el.get("type") == "groupchat"
            and el.find(CLIENT + "subject") is not None)


def join_xml(nick, extra="", room=ROOM):
    return ("<presence to='%s/%s'><x xmlns='%s'>%s</x></presence>"
            % (room, nick, NS_MUC, extra))


class Run(ClientRun):
    NAMES = [
        "server starts", "users registered", "imgroups connects",
        "clients log in",
        "1 alice creates the room", "2 bob joins", "3 fan-out",
        "4 nick conflict", "5 private message", "6 nick change", "7 leave",
        "8 history on join", "9 MAM with RSM paging",
        "10 shutdown: status 332", "10 restart: alice rejoins as owner",
        "10 restart: history replayed",
        "11 kick: 307", "12 ban: 301, rejoin forbidden",
        "13 members-only: 322, registration-required, member admitted",
        "imgroups stops on SIGTERM with status 0"]
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "muc-real")
        # What the room said so far, in order: (body, stanza-id).
        self.said = []

    # --- setup -----------------------------------------------------------
    def main(self):
        t = self.tap
        t.diag("%s, temp dir %s" % (self.kind, self.tmp))
        srv = self.start_server(COMPONENT, USERS)
        self.start_imgroups(
            servers.Imgroups(self.tmp, self.binary, COMPONENT, "127.0.0.1",
                             srv.component_port, self.secret,
                             log_level="debug"),
            "imgroups (room_creation = anyone, no accounts) connects to %s "
            "as %s" % (self.kind, COMPONENT))
        try:
            self.run_async(self.flows(), WATCHDOG)
        finally:
            self.run_async(self.close_clients(), 30)

    async def close_clients(self):
        await asyncio.gather(*(c.close() for c in self.clients.values()),
                             return_exceptions=True)

    async def flows(self):
        t = self.tap
        await self.log_in(USERS)
        a, b, c = (self.clients[u] for u in USERS)
        for u in USERS:
            t.diag("%s is %s" % (u, self.clients[u].jid))

        if not await self.step(
                "1 alice creates %s as 'alice': statuses 110 and 201, owner "
                "and moderator, then an empty subject" % ROOM,
                self.create(a)):
            raise Abort
        await self.step(
            "2 bob joins: alice's presence, then his own (110), then the "
            "subject; bob does not see alice's JID, alice sees bob's",
            self.second_join(a, b))
        await self.step(
            "3 fan-out: alice and bob get alice's message with one room "
            "stanza-id and an occupant-id; alice's copy keeps her id",
            self.fan_out(a, b))
        await self.step(
            "4 carol joining as 'Alice' gets a presence error <conflict/>",
            self.conflict(c))
        await self.step(
            "5 a private message from bob reaches alice from %s/bob" % ROOM,
            self.private(a, b))
        await self.step(
            "6 bob becomes 'robert': unavailable /bob with 303 and "
            "nick='robert', then available /robert",
            self.nick_change(a, b))
        await self.step(
            "7 robert leaves: alice gets unavailable from /robert",
            self.leave(a, b))
        await self.step(
            "8 carol joins with maxstanzas='5': alice's message with a "
            "delay, before the subject", self.history(c))
        await self.step(
            "9 MAM: 8 messages come back in order over pages of %d, with "
            "delay, <fin> first/last, complete='true' at the end" % MAM_PAGE,
            self.mam(a, c))
        await self.step(
            "10 SIGTERM: occupants get unavailable with 110 and 332; "
            "imgroups exits 0", self.shutdown(a, c))
        await self.step(
            "10 restarted on the same storage, alice rejoins: no 201, still "
            "owner and moderator", self.rejoin(a))
        await self.step(
            "10 after the restart, history replays the 8 messages before "
            "the subject", self.replay(a))

        # A fresh room, so that nothing above depends on what follows.
        await self.step(
            "11 alice kicks bob from %s by nick: bob gets unavailable with "
            "307 and 110, alice unavailable with 307 and an empty result; "
            "bob's message is then refused" % MOD, self.kick(a, b))
        await self.step(
            "12 alice bans bob@localhost: bob gets unavailable with 301 and "
            "110 (outcast), alice 301; bob's rejoin gets <forbidden/>",
            self.ban(a, b))
        await self.step(
            "13 members-only via the owner form: carol (no member) gets "
            "unavailable with 322 and 110, alice 322; carol's join gets "
            "<registration-required/>; once a member she gets in",
            self.members_only(a, c))

        rc = await self.in_thread(self.ig.stop)
        t.check(rc == 0, "imgroups stops on SIGTERM with status 0",
                "status %s\n%s" % (rc, self.ig.log_tails(10)))

    # --- the checks --------------------------------------------------------
    async def create(self, a):
        a.send(join_xml("alice"))
        n_self, pres = await a.wait_n(presence_from(ROOM + "/alice"),
                                      "her self-presence")
        problems = []
        if not {110, 201} <= codes(pres):
            problems.append("status codes %s, want 110 and 201"
                            % sorted(codes(pres)))
        it = item(pres)
        if it is None or (it.get("affiliation"), it.get("role")) != (
                "owner", "moderator"):
            problems.append("item %s, want owner/moderator" % show(it))
        n_subj, subj = await a.wait_n(is_subject, "the subject")
        s = subj.find(CLIENT + "subject")
        if (s.text or "").strip() or body(subj) is not None:
            problems.append("subject not empty: %s" % show(subj))
        if n_subj < n_self:
            problems.append("subject came before the self-presence")
        if problems:
            raise Fail("\n".join(problems + ["presence: " + show(pres)]))

    async def second_join(self, a, b):
        b.send(join_xml("bob"))
        n_a, pa = await b.wait_n(presence_from(ROOM + "/alice"),
                                 "alice's presence")
        n_s, ps = await b.wait_n(presence_from(ROOM + "/bob"),
                                 "his self-presence")
        n_subj, _ = await b.wait_n(is_subject, "the subject")
        pb = await a.wait(presence_from(ROOM + "/bob"), "bob's presence")
        problems = []
        if not n_a < n_s < n_subj:
            problems.append("bob's order: alice #%d, self #%d, subject #%d"
                            % (n_a, n_s, n_subj))
        if 110 not in codes(ps):
            problems.append("bob's self-presence lacks 110: %s" % show(ps))
        it = item(pa)
        if it is None or it.get("jid") is not None:
            problems.append("bob's view of alice should be an item without "
                            "jid: %s" % show(pa))
        elif (it.get("affiliation"), it.get("role")) != ("owner",
                                                         "moderator"):
            problems.append("bob sees alice as %s" % show(it))
        it = item(pb)
        if it is None or it.get("jid") != b.jid:
            problems.append("alice's view of bob should carry %s: %s"
                            % (b.jid, show(pb)))
        if problems:
            raise Fail("\n".join(problems))

    async def fan_out(self, a, b):
        a.send("<message type='groupchat' to='%s' id='msg-1'>"
               "<body>hello</body></message>" % ROOM)
        pred = groupchat_from(ROOM + "/alice", "hello")
        ma = await a.wait(pred, "her own message")
        mb = await b.wait(pred, "alice's message")
        problems = []
        sa, sb = room_sids(ma), room_sids(mb)
        if len(sa) != 1 or sa != sb or not sa[0]:
            problems.append("room stanza-ids: alice %s, bob %s" % (sa, sb))
        oa, ob = occupant_id(ma), occupant_id(mb)
        if not oa or oa != ob:
            problems.append("occupant-ids: alice %r, bob %r" % (oa, ob))
        if ma.get("id") != "msg-1":
            problems.append("alice's copy has id %r" % ma.get("id"))
        if problems:
            raise Fail("\n".join(problems + ["alice got: " + show(ma),
                                             "bob got: " + show(mb)]))
        self.said.append(("hello", sa[0]))
        if mb.get("id") != "msg-1":
            self.tap.diag("bob's copy has id %r" % mb.get("id"))
        others = [s.get("by") for s in ma.findall("{%s}stanza-id" % NS_SID)
                  + mb.findall("{%s}stanza-id" % NS_SID)
                  if s.get("by") != ROOM]
        if others:
            self.tap.diag("other stanza-ids on the copies, by %s" % others)

    async def conflict(self, c):
        c.send(join_xml("Alice"))
        err = await c.wait(lambda el: kind(el) == "presence"
                           and bare(el.get("from")) == ROOM
                           and ptype(el) in ("error", "available"),
                           "an answer to her join")
        e = err.find(CLIENT + "error")
        if ptype(err) != "error" or e is None or \
                e.find("{%s}conflict" % NS_STANZAS) is None:
            raise Fail("want a presence error with <conflict/>: %s"
                       % show(err))
        if err.get("from") != ROOM + "/Alice":
            self.tap.diag("conflict error came from %s" % err.get("from"))

    async def private(self, a, b):
        b.send("<message type='chat' to='%s/alice' id='pm-1'>"
               "<body>psst</body></message>" % ROOM)
        m = await a.wait(lambda el: kind(el) == "message"
                         and bare(el.get("from")) == ROOM
                         and body(el) == "psst", "bob's private message")
        if m.get("from") != ROOM + "/bob" or m.get("type") != "chat":
            raise Fail("want type chat from %s/bob: %s" % (ROOM, show(m)))
        extra = [ch.tag for ch in m if ch.tag not in (
            CLIENT + "body", "{%s}x" % NS_USER)]
        if extra:
            self.tap.diag("the private message also carries %s: %s"
                          % (extra, show(m)))

    async def nick_change(self, a, b):
        b.send("<presence to='%s/robert'/>" % ROOM)
        n_u, u = await a.wait_n(presence_from(ROOM + "/bob", "unavailable"),
                                "unavailable from /bob")
        n_r, r = await a.wait_n(presence_from(ROOM + "/robert"),
                                "available from /robert")
        bu = await b.wait(presence_from(ROOM + "/bob", "unavailable"),
                          "his own unavailable from /bob")
        br = await b.wait(presence_from(ROOM + "/robert"),
                          "his self-presence as robert")
        problems = []
        it = item(u)
        if 303 not in codes(u) or it is None or it.get("nick") != "robert":
            problems.append("alice's unavailable lacks 303 or nick='robert'"
                            ": %s" % show(u))
        if n_u > n_r:
            problems.append("alice got /robert before /bob's unavailable")
        if not {303, 110} <= codes(bu):
            problems.append("bob's own unavailable lacks 303 and 110: %s"
                            % show(bu))
        if 110 not in codes(br):
            problems.append("bob's presence as robert lacks 110: %s"
                            % show(br))
        if problems:
            raise Fail("\n".join(problems + ["alice's available: "
                                             + show(r)]))

    async def leave(self, a, b):
        b.send("<presence type='unavailable' to='%s/robert'/>" % ROOM)
        u = await a.wait(presence_from(ROOM + "/robert", "unavailable"),
                         "unavailable from /robert")
        bu = await b.wait(presence_from(ROOM + "/robert", "unavailable"),
                          "his own unavailable")
        problems = []
        it = item(u)
        if it is None or it.get("role") != "none":
            problems.append("alice's copy should have role none: %s"
                            % show(u))
        if 110 not in codes(bu):
            problems.append("robert's own unavailable lacks 110: %s"
                            % show(bu))
        if problems:
            raise Fail("\n".join(problems))

    async def history(self, c):
        c.forget()
        c.send(join_xml("carol", "<history maxstanzas='5'/>"))
        n_a, _ = await c.wait_n(presence_from(ROOM + "/alice"),
                                "alice's presence")
        n_s, ps = await c.wait_n(presence_from(ROOM + "/carol"),
                                 "her self-presence")
        n_subj, _ = await c.wait_n(is_subject, "the subject")
        hist = [(n, el) for n, el in c.received_between(n_s, n_subj)
                if kind(el) == "message"]
        problems = []
        if not n_a < n_s:
            problems.append("alice's presence (#%d) after carol's own (#%d)"
                            % (n_a, n_s))
        if 110 not in codes(ps):
            problems.append("self-presence lacks 110: %s" % show(ps))
        bodies = [body(el) for _, el in hist]
        if bodies != ["hello"]:
            problems.append("history before the subject: %s, want "
                            "['hello']" % bodies)
        for _, el in hist:
            d = el.find("{%s}delay" % NS_DELAY)
            if d is None or not d.get("stamp"):
                problems.append("no delay with a stamp: %s" % show(el))
            if el.get("from") != ROOM + "/alice":
                problems.append("history not from /alice: %s" % show(el))
        if problems:
            raise Fail("\n".join(problems))
        c.take_all(lambda el: kind(el) == "message")

    async def mam(self, a, c):
        for i in range(2, 9):
            text = "message %d" % i
            a.send("<message type='groupchat' to='%s' id='msg-%d'>"
                   "<body>%s</body></message>" % (ROOM, i, text))
            m = await a.wait(groupchat_from(ROOM + "/alice", text),
                             "her message %d" % i)
            sid = room_sids(m)
            self.said.append((text, sid[0] if sid else None))
        c.take_all(lambda el: kind(el) == "message")
        got, fins, after = [], [], None
        problems = []
        for page in range(1, 6):
            qid = "page-%d" % page
            rsm = "<max>%d</max>" % MAM_PAGE
            if after:
                rsm += "<after>%s</after>" % after
            res = await a.iq("set", ROOM,
                             "<query xmlns='%s' queryid='%s'><set xmlns='%s'>"
                             "%s</set></query>" % (NS_MAM, qid, NS_RSM, rsm))
            fin = res.xml.find("{%s}fin" % NS_MAM)
            results = [el for _, el in a.take_all(mam_result(ROOM, qid))]
            if fin is None:
                raise Fail("page %d: iq result without <fin>: %s"
                           % (page, show(res.xml)))
            fins.append(fin)
            ids = []
            for el in results:
                r = el.find("{%s}result" % NS_MAM)
                fwd = r.find("{%s}forwarded" % NS_FWD)
                d = None if fwd is None else fwd.find("{%s}delay" % NS_DELAY)
                inner = None if fwd is None else (
                    fwd.find(CLIENT + "message"))
                if inner is None and fwd is not None and len(fwd):
                    problems.append("page %d: forwarded message not in "
                                    "jabber:client: %s" % (page, show(el)))
                    inner = [ch for ch in fwd if ch.tag.endswith(
                        "}message")][:1]
                    inner = inner[0] if inner else None
                if d is None or not d.get("stamp") or inner is None:
                    problems.append("page %d: result without forwarded "
                                    "delay+message: %s" % (page, show(el)))
                    continue
                ib = inner.findtext(inner.tag.replace("message", "body"))
                if inner.get("from") != ROOM + "/alice":
                    problems.append("page %d: inner message from %s"
                                    % (page, inner.get("from")))
                got.append((ib, r.get("id")))
                ids.append(r.get("id"))
            st = fin.find("{%s}set" % NS_RSM)
            first = None if st is None else st.findtext("{%s}first" % NS_RSM)
            last = None if st is None else st.findtext("{%s}last" % NS_RSM)
            complete = fin.get("complete") in ("true", "1")
            self.tap.diag("MAM page %d: %d results, first %s, last %s, "
                          "complete=%s" % (page, len(results), first, last,
                                           fin.get("complete")))
            if ids and (first != ids[0] or last != ids[-1]):
                problems.append("page %d: fin first/last %s/%s, results %s"
                                % (page, first, last, ids))
            if page == 1 and len(results) != MAM_PAGE:
                problems.append("first page: %d results, want %d"
                                % (len(results), MAM_PAGE))
            if complete or not results or not last:
                break
            after = last
        want = self.said
        if [g[0] for g in got] != [w[0] for w in want]:
            problems.append("bodies over the pages: %s\nwant: %s"
                            % ([g[0] for g in got], [w[0] for w in want]))
        elif [g[1] for g in got] != [w[1] for w in want]:
            problems.append("result ids %s differ from the live stanza-ids "
                            "%s" % ([g[1] for g in got],
                                    [w[1] for w in want]))
        if not fins or fins[-1].get("complete") not in ("true", "1"):
            problems.append("the last <fin> lacks complete='true': %s"
                            % show(fins[-1] if fins else None))
        for f in fins[:-1]:
            if f.get("complete") in ("true", "1"):
                problems.append("an earlier page claims complete: %s"
                                % show(f))
        if problems:
            raise Fail("\n".join(problems))

    async def shutdown(self, a, c):
        a.forget()
        c.forget()
        self.mark = self.ig.log_mark()
        self.ig.proc.send_signal(signal.SIGTERM)
        problems = []
        for cl, nick in ((a, "alice"), (c, "carol")):
            u = await cl.wait(presence_from("%s/%s" % (ROOM, nick),
                                            "unavailable"),
                              "her unavailable presence")
            if not {110, 332} <= codes(u):
                problems.append("%s's unavailable lacks 110 and 332: %s"
                                % (nick, show(u)))
        try:
            rc = await self.in_thread(self.ig.proc.wait, WAIT)
        except Exception:
            rc = "still running after %d s" % WAIT
        if rc != 0:
            problems.append("imgroups exit status %s\n%s"
                            % (rc, self.ig.log_tails(10)))
        await self.in_thread(self.ig.stop)
        if problems:
            raise Fail("\n".join(problems))

    async def rejoin(self, a):
        await self.in_thread(self.ig.start)
        await self.in_thread(self.ig.wait_log, r"connected to", 15,
                             self.mark)
        a.forget()
        a.send(join_xml("alice"))
        self.n_rejoin, pres = await a.wait_n(presence_from(ROOM + "/alice"),
                                             "her self-presence")
        it = item(pres)
        problems = []
        if 110 not in codes(pres) or 201 in codes(pres):
            problems.append("want 110 and no 201: %s" % sorted(codes(pres)))
        if it is None or (it.get("affiliation"), it.get("role")) != (
                "owner", "moderator"):
            problems.append("want owner/moderator: %s" % show(it))
        if problems:
            raise Fail("\n".join(problems + [show(pres)]))

    async def replay(self, a):
        n_subj, _ = await a.wait_n(is_subject, "the subject")
        hist = [el for n, el in a.received_between(self.n_rejoin, n_subj)
                if kind(el) == "message"]
        bodies = [body(el) for el in hist]
        want = [w[0] for w in self.said]
        problems = []
        if bodies != want:
            problems.append("history before the subject: %s\nwant %s"
                            % (bodies, want))
        if any(el.find("{%s}delay" % NS_DELAY) is None for el in hist):
            problems.append("history without delay: %s"
                            % [show(el) for el in hist])
        if [(room_sids(el) or [None])[0] for el in hist] != [
                w[1] for w in self.said] and not problems:
            problems.append("replayed stanza-ids differ from the live ones")
        if problems:
            raise Fail("\n".join(problems))

    # --- moderation, in the room MOD --------------------------------------
    async def enter(self, cl, nick, others=()):
        """`cl` joins MOD as `nick` and gets in: returns the self-presence
        (after the subject arrived). Each client in `others` (occupants)
        must see the newcomer; their copies are returned too."""
        cl.forget()
        cl.send(join_xml(nick, room=MOD))
        pres = await cl.wait(join_answer(MOD, nick),
                             "an answer to joining %s as %s" % (MOD, nick))
        if ptype(pres) != "available":
            raise Fail("%s's join of %s was refused: %s"
                       % (cl.user, MOD, show(pres)))
        if 110 not in codes(pres):
            raise Fail("self-presence without 110: %s" % show(pres))
        await cl.wait(lambda el: kind(el) == "message"
                      and el.get("from") == MOD
                      and el.find(CLIENT + "subject") is not None,
                      "the subject of %s" % MOD)
        seen = []
        for o in others:
            seen.append(await o.wait(presence_from("%s/%s" % (MOD, nick)),
                                     "%s's presence in %s" % (nick, MOD)))
        return pres, seen

    async def refused(self, cl, nick, cond):
        """`cl` tries to join MOD as `nick`; the answer must be a presence
        error with `cond`."""
        cl.forget()
        cl.send(join_xml(nick, room=MOD))
        err = await cl.wait(join_answer(MOD, nick),
                            "an answer to joining %s as %s" % (MOD, nick))
        if ptype(err) != "error" or stanza_error(err) != cond:
            raise Fail("want a presence error with <%s/>, got: %s"
                       % (cond, show(err)))

    async def admin(self, a, items):
        """A muc#admin set from alice to MOD; the result must be empty."""
        res = await a.iq("set", MOD, "<query xmlns='%s'>%s</query>"
                         % (NS_ADMIN, items))
        if res["type"] != "result" or len(res.xml):
            raise Fail("want an empty iq result: %s" % show(res.xml))

    async def removed(self, a, cl, nick, code, aff):
        """What `cl` (occupant `nick`) and alice get when `cl` is removed
        from MOD with status `code`: a list of problems."""
        frm = "%s/%s" % (MOD, nick)
        own = await cl.wait(presence_from(frm, "unavailable"),
                            "unavailable self-presence from %s" % frm)
        seen = await a.wait(presence_from(frm, "unavailable"),
                            "unavailable from %s" % frm)
        problems = []
        if not {code, 110} <= codes(own):
            problems.append("%s's own unavailable has statuses %s, want %d "
                            "and 110: %s" % (nick, sorted(codes(own)), code,
                                             show(own)))
        if code not in codes(seen) or 110 in codes(seen):
            problems.append("alice's copy has statuses %s, want %d without "
                            "110: %s" % (sorted(codes(seen)), code,
                                         show(seen)))
        for who, el in ((nick, own), ("alice", seen)):
            it = item(el)
            if it is None or (it.get("affiliation"), it.get("role")) != (
                    aff, "none"):
                problems.append("%s's copy: want affiliation %s, role none"
                                ": %s" % (who, aff, show(el)))
        return problems, own

    async def kick(self, a, b):
        a.forget()
        pres, _ = await self.enter(a, "alice")
        if not {110, 201} <= codes(pres):
            raise Fail("alice's creation of %s: statuses %s, want 110 and 201"
                       % (MOD, sorted(codes(pres))))
        await self.enter(b, "bob", [a])
        await self.admin(a, "<item nick='bob' role='none'><reason>out, "
                         "please</reason></item>")
        problems, own = await self.removed(a, b, "bob", 307, "none")
        if item_reason(own) != "out, please":
            problems.append("bob's copy lacks the reason: %s" % show(own))
        if problems:
            raise Fail("\n".join(problems))
        # Out means out: the room refuses his groupchat message.
        b.send("<message type='groupchat' to='%s' id='kicked-1'>"
               "<body>still here?</body></message>" % MOD)
        err = await b.wait(lambda el: kind(el) == "message"
                           and el.get("from") == MOD
                           and el.get("id") == "kicked-1",
                           "an answer to his groupchat message")
        if err.get("type") != "error" or stanza_error(err) is None:
            raise Fail("want a message error, got: %s" % show(err))
        if a.take_all(groupchat_from(MOD + "/bob", "still here?")):
            raise Fail("alice got the kicked bob's message")

    async def ban(self, a, b):
        await self.enter(b, "bob", [a])
        await self.admin(a, "<item jid='%s' affiliation='outcast'><reason>"
                         "banned</reason></item>" % bare(b.jid))
        problems, _ = await self.removed(a, b, "bob", 301, "outcast")
        if problems:
            raise Fail("\n".join(problems))
        await self.refused(b, "bob", "forbidden")

    async def members_only(self, a, c):
        await self.enter(c, "carol", [a])
        res = await a.iq(
            "set", MOD,
            "<query xmlns='%s'><x xmlns='%s' type='submit'>"
            "<field var='FORM_TYPE'><value>%s#roomconfig</value></field>"
            "<field var='muc#roomconfig_membersonly'><value>1</value></field>"
            "</x></query>" % (NS_OWNER, NS_XDATA, NS_MUC))
        if res["type"] != "result" or len(res.xml):
            raise Fail("want an empty iq result to the form: %s"
                       % show(res.xml))
        problems, _ = await self.removed(a, c, "carol", 322, "none")
        if problems:
            raise Fail("\n".join(problems))
        await self.refused(c, "carol", "registration-required")
        await self.admin(a, "<item jid='%s' affiliation='member'/>"
                         % bare(c.jid))
        pres, (seen,) = await self.enter(c, "carol", [a])
        it, it_a = item(pres), item(seen)
        if it is None or it.get("affiliation") != "member" or \
                it_a is None or it_a.get("affiliation") != "member":
            raise Fail("carol should be in as a member: her presence %s, "
                       "alice's copy %s" % (show(pres), show(seen)))

    # --- running -----------------------------------------------------------
    def report_logs(self):
        """What the component and the server complained about, for the
        reader of a passing run too."""
        if self.ig is not None:
            lines = [l for l in self.ig.log_text().splitlines()
                     if re.match(r"\S+ (warning|error) ", l)]
            self.tap.diag("imgroups log: %d warning/error lines" % len(lines))
            for l in lines[:15]:
                self.tap.diag("  " + l)
        if self.server is not None:
            for path in self.server.log_paths:
                lines = [l for l in servers.tail(path, 400).splitlines()
                         if re.search(r"\b(warn|warning|error)\b", l)]
                self.tap.diag("%s: %d warning/error lines"
                              % (os.path.basename(path), len(lines)))
                for l in lines[:10]:
                    self.tap.diag("  " + l[:240])
        errs = []
        for name, cl in self.clients.items():
            for _, el in cl.log:
                if el.get("type") == "error":
                    errs.append("%s got %s" % (name, show(el)))
        self.tap.diag("error stanzas received by clients: %d" % len(errs))
        for e in errs[:10]:
            self.tap.diag("  " + e)

    def cleanup(self):
        self.finish((self.ig, self.server), self.report_logs)


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
