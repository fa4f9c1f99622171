"""Issue 11, item 6: retraction (XEP-0424) and moderation (XEP-0425) through
a real XMPP server, with slixmpp clients. Prints TAP.

    /usr/bin/python3 tests/real/test_xep_retract.py prosody|ejabberd /path/to/imgroups

Each flow runs first against the server's own MUC where it implements the
feature (Prosody's conference.localhost with muc_mam and Debian's
muc_moderation, which speaks XEP-0425 0.2: the fasten form), so that the
checks themselves are proven, then against imgroups (groups.localhost) with
the same assertions; what only imgroups promises (a sender's own message
tombstoned, someone else's retraction refused, the current namespaces) is
checked on imgroups alone. ejabberd 23.01's MUC implements neither XEP, so on
ejabberd only imgroups is checked. Last, imgroups is stopped, restarted and
its LMDB store read: no record and no page in use holds a withdrawn body;
what LMDB's free pages still hold (a freed page keeps its bytes until it is
reused; the API cannot zero it) is reported as a diagnostic. Every wait is
bounded; every process is stopped by its PID.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import re
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from tap import Abort  # noqa: E402  (tests/tap.py)

try:
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, body, codes, join_answer, kind, mam_result, ptype,
        show, stanza_error)
    from slixmpp.exceptions import IqError  # noqa: E402
except ImportError:
    sys.stderr.write("test_xep_retract.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
REFERENCE = "conference.localhost"   # Prosody's own MUC
USERS = ("alice", "bob", "carol")
CLIENT = "{jabber:client}"
NS_MUC = "http://jabber.org/protocol/muc"
NS_OWNER = NS_MUC + "#owner"
NS_XDATA = "jabber:x:data"
NS_SID = "urn:xmpp:sid:0"
NS_MAM = "urn:xmpp:mam:2"
NS_FWD = "urn:xmpp:forward:0"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_R1 = "urn:xmpp:message-retract:1"
NS_R0 = "urn:xmpp:message-retract:0"
NS_M1 = "urn:xmpp:message-moderate:1"
NS_M0 = "urn:xmpp:message-moderate:0"
NS_FASTEN = "urn:xmpp:fasten:0"
WAIT = 10
WATCHDOG = 240


def sids(el, room):
    return [s.get("id") for s in el.findall("{%s}stanza-id" % NS_SID)
            if s.get("by") == room]


def names_retraction(el, sid):
    """Whether el (a message) withdraws sid, in the current or the older
    (fasten) form."""
    r = el.find("{%s}retract" % NS_R1)
    if r is not None and r.get("id") == sid:
        return True
    a = el.find("{%s}apply-to" % NS_FASTEN)
    return a is not None and a.get("id") == sid and (
        a.find("{%s}retract" % NS_R0) is not None or
        a.find("{%s}moderated/{%s}retract" % (NS_M0, NS_R0)) is not None)


def moderation_reason(el):
    """The reason of a moderation announcement, in either form."""
    for path in ("{%s}retract/{jabber:client}reason" % NS_R1,
                 "{%s}retract/{%s}reason" % (NS_R1, NS_R1),
                 "{%s}apply-to/{%s}moderated/{%s}reason"
                 % (NS_FASTEN, NS_M0, NS_M0)):
        t = el.findtext(path)
        if t is not None:
            return t
    return None


def is_moderated(el):
    return (el.find("{%s}retract/{%s}moderated" % (NS_R1, NS_M1)) is not None
            or el.find("{%s}apply-to/{%s}moderated" % (NS_FASTEN, NS_M0))
            is not None)


def tombstone(inner):
    """The <retracted/> of a MAM tombstone, in any of the forms (XEP-0424
    0.4: child of the message; XEP-0425 0.2: inside <moderated/>)."""
    for path in ("{%s}retracted" % NS_R1, "{%s}retracted" % NS_R0,
                 "{%s}moderated/{%s}retracted" % (NS_M0, NS_R0)):
        t = inner.find(path)
        if t is not None:
            return t
    return None


class Target:
    """One MUC under test: its rooms' domain and what it promises."""

    def __init__(self, label, domain, ours):
        self.label = label
        self.domain = domain
        self.ours = ours          # imgroups: the checks only it promises
        self.room = "retract-%s@%s" % (uuid.uuid4().hex[:6], domain)
        self.said = {}            # tag -> (body, stanza-id)


class Run(ClientRun):
    def __init__(self, kind, binary):
        self.targets = []
        if kind == "prosody":
            self.targets.append(Target("Prosody's MUC", REFERENCE, False))
        self.targets.append(Target("imgroups", COMPONENT, True))
        names = ["server starts", "users registered", "imgroups connects",
                 "clients log in"]
        for t in self.targets:
            names += ["%s: %s" % (t.label, n) for n in self.flow_names(t)]
        names += ["imgroups: the store holds no withdrawn body after a "
                  "restart", "imgroups: MAM after the restart",
                  "imgroups stops on SIGTERM with status 0"]
        self.NAMES = names
        self.PLAN = len(names)
        super().__init__(kind, binary, "xep-retract")

    @staticmethod
    def flow_names(t):
        n = ["room set up", "self-retraction relayed"]
        if t.ours:
            n += ["someone else's retraction forbidden",
                  "disco#info advertises both versions"]
        n += ["moderation announced", "non-moderator's moderate forbidden",
              "unknown id item-not-found"]
        if t.ours:
            n += ["moderation in the older fasten form"]
        n += ["MAM returns tombstones", "history on join"]
        return n

    # --- setup -----------------------------------------------------------
    def main(self):
        t = self.tap
        t.diag("%s, temp dir %s" % (self.kind, self.tmp))
        if self.kind != "prosody":
            t.diag("ejabberd 23.01's own MUC implements neither XEP-0424 "
                   "nor XEP-0425 (no reference run)")
        self.run_attached(COMPONENT, USERS, self.flows, WATCHDOG)

    async def flows(self):
        await self.log_in(USERS)
        for tg in self.targets:
            await self.flow(tg)
        await self.after_restart(self.targets[-1])
        rc = await self.in_thread(self.ig.stop)
        self.tap.check(rc == 0, "imgroups stops on SIGTERM with status 0",
                       "status %s\n%s" % (rc, self.ig.log_tails(10)))

    async def flow(self, tg):
        a, b, c = (self.clients[u] for u in USERS)
        L = tg.label
        if not await self.step("%s: alice creates %s, bob joins" % (L, tg.room),
                               self.setup(tg, a, b)):
            raise Abort
        await self.step("%s: bob retracts his own message (XEP-0424, "
                        "<retract id=stanza-id/>): alice gets it from "
                        "%s/bob naming the stanza-id" % (L, tg.room),
                        self.self_retract(tg, a, b))
        if tg.ours:
            await self.step("%s: bob retracting alice's message is refused "
                            "with <forbidden/>, and nobody is told" % L,
                            self.other_retract(tg, a, b))
            await self.step("%s: the room's disco#info lists message-"
                            "retract:1, #tombstone, message-moderate:1 and "
                            "the :0 namespaces" % L, self.disco(tg, b))
        await self.step("%s: alice (moderator) retracts bob's message with a "
                        "reason: an empty result, bob and alice get the "
                        "announcement from the room naming the stanza-id, "
                        "with the reason" % L, self.moderate(tg, a, b))
        await self.step("%s: bob's moderation of alice's message is "
                        "<forbidden/>" % L, self.moderate_forbidden(tg, a, b))
        await self.step("%s: moderating an unknown id is <item-not-found/>"
                        % L, self.moderate_unknown(tg, a))
        if tg.ours:
            await self.step("%s: the older <apply-to/> form (XEP-0425 0.2) "
                            "works too and is announced in both forms" % L,
                            self.moderate_v0(tg, a, b))
        await self.step("%s: MAM returns the withdrawn messages as tombstones"
                        " without body, and the retractions, in order" % L,
                        self.mam(tg, a))
        await self.step("%s: carol joining afresh gets no withdrawn body in "
                        "the history" % L, self.history(tg, c))

    # --- helpers -------------------------------------------------------------
    async def join(self, cl, room, nick, extra=""):
        cl.send("<presence to='%s/%s'><x xmlns='%s'>%s</x></presence>"
                % (room, nick, NS_MUC, extra))
        return await cl.wait(join_answer(room, nick), "joining %s" % room)

    async def say(self, tg, cl, nick, others, tag):
        text = "%s %s %s" % (tag, tg.domain.split(".")[0],
                             uuid.uuid4().hex)
        cl.send("<message type='groupchat' to='%s' id='%s'><body>%s</body>"
                "</message>" % (tg.room, tag, text))
        pred = (lambda el: kind(el) == "message"
                and el.get("from") == "%s/%s" % (tg.room, nick)
                and body(el) == text)
        m = await cl.wait(pred, "the reflection of %r" % tag)
        for o in others:
            await o.wait(pred, "%s's %r" % (nick, tag))
        s = sids(m, tg.room)
        if len(s) != 1:
            raise Fail("no room stanza-id on %s" % show(m))
        tg.said[tag] = (text, s[0])
        return text, s[0]

    async def error_for(self, cl, msg_id):
        return await cl.wait(lambda el: kind(el) == "message" and
                             el.get("id") == msg_id and
                             el.get("type") == "error",
                             "an error for %s" % msg_id)

    # --- the flows -----------------------------------------------------------
    async def setup(self, tg, a, b):
        pres = await self.join(a, tg.room, "alice")
        if ptype(pres) != "available" or 201 not in codes(pres):
            raise Fail("alice's create: %s" % show(pres))
        if not tg.ours:
            # Prosody locks a new room until its owner submits the form.
            await a.iq("set", tg.room,
                       "<query xmlns='%s'><x xmlns='%s' type='submit'>"
                       "<field var='FORM_TYPE'><value>%s#roomconfig</value>"
                       "</field><field var='muc#roomconfig_persistentroom'>"
                       "<value>1</value></field></x></query>"
                       % (NS_OWNER, NS_XDATA, NS_MUC))
        pres = await self.join(b, tg.room, "bob")
        if ptype(pres) != "available":
            raise Fail("bob's join: %s" % show(pres))
        await a.wait(lambda el: kind(el) == "presence" and
                     el.get("from") == tg.room + "/bob", "bob's presence")

    async def self_retract(self, tg, a, b):
        text, sid = await self.say(tg, b, "bob", [a], "mine")
        b.send("<message type='groupchat' to='%s' id='retract-mine'>"
               "<retract xmlns='%s' id='%s'/>"
               "<fallback xmlns='urn:xmpp:fallback:0' for='%s'/>"
               "<body>/me retracted a previous message, but it's "
               "unsupported by your client.</body>"
               "<store xmlns='urn:xmpp:hints'/></message>"
               % (tg.room, NS_R1, sid, NS_R1))
        pred = (lambda el: kind(el) == "message" and
                el.get("from") == tg.room + "/bob" and
                el.get("type") == "groupchat" and names_retraction(el, sid))
        m = await a.wait(pred, "bob's retraction")
        await b.wait(pred, "his own retraction")
        if text in show(m):
            raise Fail("the retraction carries the body: %s" % show(m))
        if tg.ours and (m.find("{%s}apply-to" % NS_FASTEN) is None
                        or not sids(m, tg.room)):
            raise Fail("want the fasten form and a stanza-id too: %s"
                       % show(m))

    async def other_retract(self, tg, a, b):
        text, sid = await self.say(tg, a, "alice", [b], "hers")
        b.send("<message type='groupchat' to='%s' id='retract-hers'>"
               "<retract xmlns='%s' id='%s'/></message>"
               % (tg.room, NS_R1, sid))
        err = await self.error_for(b, "retract-hers")
        if stanza_error(err) != "forbidden":
            raise Fail("want <forbidden/>: %s" % show(err))
        # Nothing reached alice: her next message comes first.
        await self.say(tg, a, "alice", [b], "after")
        if any(names_retraction(el, sid) for _, el in a.log):
            raise Fail("alice was told of a refused retraction")

    async def disco(self, tg, b):
        res = await b.iq("get", tg.room, "<query xmlns='%s'/>" % NS_DISCO_INFO)
        feats = {f.get("var") for f in res.xml.iter(
            "{%s}feature" % NS_DISCO_INFO)}
        want = {NS_R1, NS_R1 + "#tombstone", NS_M1, NS_R0, NS_M0}
        if not want <= feats:
            raise Fail("missing %s in %s" % (sorted(want - feats),
                                             sorted(feats)))

    async def moderate_iq(self, tg, cl, sid, reason, v0):
        if v0:
            payload = ("<apply-to xmlns='%s' id='%s'><moderate xmlns='%s'>"
                       "<retract xmlns='%s'/><reason>%s</reason></moderate>"
                       "</apply-to>" % (NS_FASTEN, sid, NS_M0, NS_R0, reason))
        else:
            payload = ("<moderate xmlns='%s' id='%s'><retract xmlns='%s'/>"
                       "<reason>%s</reason></moderate>"
                       % (NS_M1, sid, NS_R1, reason))
        return await cl.iq("set", tg.room, payload)

    async def moderate(self, tg, a, b, v0=None, tag="spam"):
        text, sid = await self.say(tg, b, "bob", [a], tag)
        # Debian's mod_muc_moderation speaks only XEP-0425 0.2.
        v0 = (not tg.ours) if v0 is None else v0
        await self.moderate_iq(tg, a, sid, "no %s here" % tag, v0)
        pred = (lambda el: kind(el) == "message" and
                el.get("from") == tg.room and
                el.get("type") == "groupchat" and names_retraction(el, sid)
                and is_moderated(el))
        got = [await cl.wait(pred, "the announcement") for cl in (b, a)]
        problems = []
        for m in got:
            if moderation_reason(m) != "no %s here" % tag:
                problems.append("reason %r: %s" % (moderation_reason(m),
                                                   show(m)))
            if text in show(m):
                problems.append("the body is in it: %s" % show(m))
        if tg.ours:
            m = got[0]
            if (m.find("{%s}retract/{%s}moderated" % (NS_R1, NS_M1)) is None
                    or m.find("{%s}apply-to/{%s}moderated" % (NS_FASTEN, NS_M0))
                    is None):
                problems.append("want both forms: %s" % show(m))
            by = [x.get("by") for x in m.iter("{%s}moderated" % NS_M1)]
            if by != [tg.room + "/alice"]:
                problems.append("moderated by %s" % by)
        if problems:
            raise Fail("\n".join(problems))

    async def moderate_v0(self, tg, a, b):
        await self.moderate(tg, a, b, v0=True, tag="junk")

    async def moderation_refused(self, tg, cl, sid, condition):
        """cl's moderation of sid gets an error with condition."""
        try:
            await self.moderate_iq(tg, cl, sid, "why not", not tg.ours)
        except IqError as e:
            if e.iq["error"]["condition"] != condition:
                raise Fail("want %s: %s" % (condition, e.iq))
            return
        raise Fail("%s's moderation of %s succeeded" % (cl.user, sid))

    async def moderate_forbidden(self, tg, a, b):
        text, sid = await self.say(tg, a, "alice", [b], "keep")
        await self.moderation_refused(tg, b, sid, "forbidden")

    async def moderate_unknown(self, tg, a):
        await self.moderation_refused(
            tg, a, "no-such-id-" + uuid.uuid4().hex, "item-not-found")

    async def mam_all(self, tg, cl):
        qid = "q" + uuid.uuid4().hex[:8]
        res = await cl.iq("set", tg.room,
                          "<query xmlns='%s' queryid='%s'><set xmlns="
                          "'http://jabber.org/protocol/rsm'><max>100</max>"
                          "</set></query>" % (NS_MAM, qid))
        if res.xml.find("{%s}fin" % NS_MAM) is None:
            raise Fail("no <fin/>: %s" % show(res.xml))
        out = []
        for _, el in cl.take_all(mam_result(tg.room, qid)):
            r = el.find("{%s}result" % NS_MAM)
            inner = r.find("{%s}forwarded/%smessage" % (NS_FWD, CLIENT))
            out.append((r.get("id"), inner))
        return out

    async def mam(self, tg, a):
        res = await self.mam_all(tg, a)
        by_id = {i: m for i, m in res if m is not None}
        order = [i for i, _ in res]
        problems = []
        gone = ["spam", "junk"] + (["mine"] if tg.ours else [])
        for tag in gone:
            if tag not in tg.said:
                continue
            text, sid = tg.said[tag]
            m = by_id.get(sid)
            if m is None:
                problems.append("%s (%s) not in MAM" % (tag, sid))
                continue
            if body(m) is not None or text in show(m):
                problems.append("%s still has its body: %s" % (tag, show(m)))
            if tombstone(m) is None:
                problems.append("%s is no tombstone: %s" % (tag, show(m)))
            later = [by_id[i] for i in order[order.index(sid) + 1:]
                     if i in by_id]
            if not any(names_retraction(x, sid) for x in later):
                problems.append("no retraction of %s after it" % tag)
            if tg.ours and tag != "mine":
                t1 = m.find("{%s}retracted" % NS_R1)
                if t1 is None or not t1.get("stamp") or not t1.get("id") or \
                        t1.find("{%s}moderated" % NS_M1) is None or \
                        t1.findtext("{%s}reason" % NS_R1) != \
                        "no %s here" % tag:
                    problems.append("the :1 tombstone of %s: %s"
                                    % (tag, show(m)))
        if not tg.ours and "mine" in tg.said:
            m = by_id.get(tg.said["mine"][1])
            self.tap.diag("%s keeps a self-retracted message in MAM as: %s"
                          % (tg.label, show(m)))
        for tag in ("keep",):
            text, sid = tg.said[tag]
            if by_id.get(sid) is None or body(by_id[sid]) != text:
                problems.append("%s should be intact" % tag)
        if problems:
            raise Fail("\n".join(problems))

    async def history(self, tg, c):
        c.forget()
        pres = await self.join(c, tg.room, "carol",
                               "<history maxstanzas='50'/>")
        if ptype(pres) != "available":
            raise Fail("carol's join: %s" % show(pres))
        await c.wait(lambda el: kind(el) == "message" and
                     el.get("type") == "groupchat" and
                     el.find(CLIENT + "subject") is not None and
                     (el.get("from") or "").split("/")[0] == tg.room,
                     "the subject")
        hist = [el for _, el in c.take_all(lambda el: kind(el) == "message")]
        text = "\n".join(show(el) for el in hist)
        problems = []
        gone = ["spam", "junk"] + (["mine"] if tg.ours else [])
        for tag in gone:
            if tag in tg.said and tg.said[tag][0] in text:
                problems.append("%s replayed" % tag)
        if tg.said["keep"][0] not in text:
            problems.append("the intact message is missing")
        if not tg.ours and tg.said["mine"][0] in text:
            self.tap.diag("%s replays a self-retracted message in history "
                          "(it does not tombstone XEP-0424 retractions)"
                          % tg.label)
        if problems:
            raise Fail("\n".join(problems + ["history:", text]))

    # --- the store ---------------------------------------------------------
    async def after_restart(self, tg):
        gone = [tg.said[t][0] for t in ("mine", "spam", "junk")
                if t in tg.said]
        await self.step("imgroups: after SIGTERM and a restart on the same "
                        "store, no LMDB record holds a withdrawn body "
                        "(mdb_dump of every database)",
                        self.store_check(gone))
        await self.step("imgroups: after the restart MAM still returns the "
                        "tombstones and the intact message",
                        self.mam(tg, self.clients["alice"]))

    async def store_check(self, gone):
        rc = await self.in_thread(self.ig.stop)
        if rc != 0:
            raise Fail("imgroups exited %s" % rc)
        mark = self.ig.log_mark()
        await self.in_thread(self.ig.start)
        await self.in_thread(lambda: self.ig.wait_log(r"connected to", 15,
                                                      mark))
        dump = subprocess.run(["mdb_dump", "-a", "-p", self.ig.storage],
                              capture_output=True, text=True,
                              errors="replace", timeout=60)
        if dump.returncode != 0:
            raise Fail("mdb_dump: %s" % dump.stderr)
        found = [g for g in gone if g in dump.stdout]
        # The file itself: a page LMDB freed keeps its old bytes until it
        # is reused (the API cannot zero it), so a body may lie in a free
        # page: reported. In a page in use (a live page's unused gap
        # included) it must not.
        free, psize = await self.in_thread(self.free_pages)
        with open(os.path.join(self.ig.storage, "data.mdb"), "rb") as f:
            raw = f.read()
        live, freed = [], []
        for g in gone:
            for m in re.finditer(re.escape(g.encode()), raw):
                (freed if m.start() // psize in free else live).append(
                    (g.split()[0], m.start() // psize))
        self.tap.diag("data.mdb (%d pages of %d bytes, %d free): withdrawn "
                      "bodies left in free pages: %s"
                      % (len(raw) // psize, psize, len(free), freed or "none"))
        if not gone:
            raise Fail("nothing was withdrawn before the restart")
        if found:
            raise Fail("records still hold: %s" % found)
        if live:
            raise Fail("pages in use still hold: %s" % live)

    def free_pages(self):
        """The page numbers on LMDB's free list, and the page size."""
        out = subprocess.run(["mdb_stat", "-e", "-fff", self.ig.storage],
                             capture_output=True, text=True, timeout=60,
                             check=True).stdout
        psize = int(re.search(r"Page size: (\d+)", out).group(1))
        free = set()
        for m in re.finditer(r"^\s+(\d+)(?:\[(\d+)\])?$", out, re.M):
            first, span = int(m.group(1)), int(m.group(2) or 1)
            free.update(range(first, first + span))
        return free, psize

    # --- running -----------------------------------------------------------
    def cleanup(self):
        self.finish((self.ig, self.server))


def main(argv):
    return xmppclient.main(argv, Run, WATCHDOG + 60)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
