"""Your data, on request (issue 12, items 7 and 8) through a real XMPP
server with real client sessions: the first-contact notice (once per
person, whichever group comes first); "My data" (XEP-0050 node 'mydata' on
the component) for anyone, holding exactly the requester's data and
nothing of anyone else's; the admins' data-export and data-erase refused
to others (<forbidden/>); an admin's erasure kicks the person (307) and
afterwards `imgroups --dump` of the live store (every database, live
records) holds neither their JID, their registered nick, their occupant
nick nor their message text, while another user's stay; their messages
are tombstones without content in MAM. Prints TAP.

    /usr/bin/python3 tests/real/test_privacy.py prosody|ejabberd /path/to/imgroups

The server's own MUC has no such commands or notice: there is no reference
side. LMDB's free pages may keep old bytes until reused: the dump reads
live records (what any reader of the store sees); `mdb_copy -c` (and
imgroups --backup) leaves the free pages behind.
IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import servers  # noqa: E402
    import xmppclient  # noqa: E402
    from xmppclient import (  # noqa: E402
        ClientRun, Fail, IqError, data_form, codes, join_answer, ptype,
        presence_from, show)
except ImportError:
    sys.stderr.write("test_privacy.py needs slixmpp: run it with "
                     "/usr/bin/python3 (Debian's python3-slixmpp)\n")
    sys.exit(2)

COMPONENT = "groups.localhost"
USERS = ("alice", "bob", "admin")
NS_MUC = "http://jabber.org/protocol/muc"
NS_OWNER = NS_MUC + "#owner"
NS_REGISTER = "jabber:iq:register"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_XDATA = "jabber:x:data"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_MAM = "urn:xmpp:mam:2"
ROOM1 = "privy@" + COMPONENT
ROOM2 = "second@" + COMPONENT
ALICE_NICK = "Quokkalicious"      # her occupant nick, registered too
ALICE_TEXT = "aardvark-7f3c marmalade"
BOB_TEXT = "bob-9e1d pumpernickel"
DESCRIPTION = "A test group about marsupials"
SUBJECT = "Marsupials only"       # set by alice: the room keeps her nick
WAIT = 10
WATCHDOG = 240


def body_of(el):
    return el.findtext("{jabber:client}body")


def from_room_body(room):
    def pred(el):
        return (el.tag == "{jabber:client}message"
                and el.get("from") == room and body_of(el) is not None)
    return pred


def said(room, nick, text):
    def pred(el):
        return (el.tag == "{jabber:client}message"
                and el.get("from") == "%s/%s" % (room, nick)
                and body_of(el) == text)
    return pred


def lines_of(cmd):
    """The text of a command's result: the fixed fields' values, a line
    each, and the note."""
    x = cmd.find("{%s}x" % NS_XDATA)
    out = []
    if x is not None:
        for f in x.findall("{%s}field" % NS_XDATA):
            if f.get("type") == "fixed":
                out.append(f.findtext("{%s}value" % NS_XDATA) or "")
    return out


class Run(ClientRun):
    NAMES = [
        "server starts", "users registered", "imgroups connects",
        "clients log in",
        "alice's first join (her own new group) ends with the first-contact "
        "notice from the room: what is kept, for how long, 'My data'",
        "alice joining a second group gets no notice (once per person); bob's "
        "first join gets his, with the group's description",
        "'My data' is listed to anyone on the component; data-export and "
        "data-erase only to an admin",
        "alice's 'My data': her affiliation, registered nick, notice, message "
        "count and text; nothing of bob (JID, nick, text)",
        "bob running data-export or data-erase gets <forbidden/>",
        "the admin's data-export of alice holds what her own does",
        "the admin erases alice: she is kicked (307) from the group she is "
        "in, the note counts what went",
        "imgroups --dump of the live store afterwards: no alice JID, "
        "registered or occupant nick, or message text in any database; "
        "bob's JID and text still there",
        "MAM of the group: alice's message is a tombstone (no body, no nick); "
        "bob's is whole",
        "alice's 'My data' after the erasure holds nothing: no affiliation, "
        "nick, notice or message",
        "imgroups stops on SIGTERM with status 0",
    ]
    PLAN = len(NAMES)

    def __init__(self, kind, binary):
        super().__init__(kind, binary, "privacy")

    def main(self):
        self.tap.diag("%s, temp dir %s" % (self.kind, self.tmp))
        srv = self.start_server(COMPONENT, USERS)
        ig = servers.Imgroups(self.tmp, self.binary, COMPONENT, "127.0.0.1",
                              srv.component_port, self.secret,
                              log_level="debug")
        ig.first_contact_notice = "yes"
        self.start_imgroups(ig, "imgroups connects to %s as %s"
                            % (self.kind, COMPONENT))
        try:
            self.run_async(self.flows(), WATCHDOG)
        finally:
            self.run_async(xmppclient.asyncio.gather(
                *(c.close() for c in self.clients.values()),
                return_exceptions=True), 30)

    def cleanup(self):
        self.finish((self.ig, self.server))

    # --- helpers ---------------------------------------------------------
    async def join(self, cl, room, nick):
        cl.send("<presence to='%s/%s'><x xmlns='%s'/></presence>"
                % (room, nick, NS_MUC))
        pres = await cl.wait(join_answer(room, nick),
                             "the answer to joining %s" % room)
        if ptype(pres) != "available":
            raise Fail("joining %s: %s" % (room, show(pres)))

    async def say(self, cl, room, nick, text):
        """Says text and waits for its echo: a barrier for what the room
        sent before it."""
        cl.send("<message type='groupchat' to='%s'><body>%s</body></message>"
                % (room, text))
        return await cl.wait_n(said(room, nick, text), "the echo of " + text)

    async def command(self, cl, node, form=None, session=None):
        attrs = "node='%s'" % node
        if session:
            attrs += " sessionid='%s'" % session
        res = await cl.iq("set", COMPONENT, "<command xmlns='%s' %s>%s"
                          "</command>" % (NS_COMMANDS, attrs, form or ""))
        return res.xml.find("{%s}command" % NS_COMMANDS)

    async def run_to_end(self, cl, node, fields):
        """Executes node, submits fields to its form, returns <command/>."""
        first = await self.command(cl, node)
        sid = first.get("sessionid")
        return await self.command(
            cl, node, data_form(fields, form_type=NS_COMMANDS), sid)

    async def export_text(self, cl, node="mydata", fields=None):
        cmd = (await self.run_to_end(cl, node, fields) if fields
               else await self.command(cl, node))
        if cmd.get("status") != "completed":
            raise Fail("the export is not one page: %s" % show(cmd))
        return "\n".join(lines_of(cmd))

    async def refused(self, coro, want="forbidden"):
        try:
            await coro
        except IqError as e:
            got = e.iq["error"]["condition"]
            if got != want:
                raise Fail("want <%s/>, got <%s/>" % (want, got))
            return
        raise Fail("want <%s/>, got a result" % want)

    # --- the flows -------------------------------------------------------
    async def flows(self):
        await self.log_in(USERS)
        a, b, adm = (self.clients[u] for u in USERS)
        await self.step(self.NAMES[4], self.first_notice(a))
        await self.step(self.NAMES[5], self.notice_once(a, b))
        await self.step(self.NAMES[6], self.listing(a, adm))
        await self.step(self.NAMES[7], self.mine(a))
        await self.step(self.NAMES[8], self.forbidden(b))
        await self.step(self.NAMES[9], self.admin_export(a, adm))
        await self.step(self.NAMES[10], self.erase(a, adm))
        await self.step(self.NAMES[11], self.dump())
        await self.step(self.NAMES[12], self.tombstones(b))
        await self.step(self.NAMES[13], self.after(a))
        rc = await self.in_thread(self.ig.stop)
        self.tap.check(rc == 0, self.NAMES[14],
                       "status %s\n%s" % (rc, self.ig.log_tails(10)))

    async def first_notice(self, a):
        await self.join(a, ROOM1, ALICE_NICK)
        note = await a.wait(from_room_body(ROOM1), "the first-contact notice")
        await a.iq("set", ROOM1, "<query xmlns='%s'>%s</query>" % (
            NS_OWNER, data_form({"muc#roomconfig_roomdesc": DESCRIPTION})))
        text = body_of(note)
        for want in ("keeps", "My data", COMPONENT, "30 days"):
            if want not in text:
                raise Fail("the notice lacks %r: %r" % (want, text))
        await a.iq("set", ROOM1, "<query xmlns='%s'>%s</query>" % (
            NS_REGISTER, data_form({"muc#register_roomnick": ALICE_NICK},
                                   form_type=NS_MUC + "#register")))
        await self.say(a, ROOM1, ALICE_NICK, ALICE_TEXT)
        a.send("<message type='groupchat' to='%s'><subject>%s</subject>"
               "</message>" % (ROOM1, SUBJECT))
        await a.wait(lambda el: el.findtext("{jabber:client}subject")
                     == SUBJECT, "her subject")

    async def notice_once(self, a, b):
        a.forget()
        await self.join(a, ROOM2, ALICE_NICK)
        await self.say(a, ROOM2, ALICE_NICK, "second group")
        extra = a.take_all(from_room_body(ROOM2))
        if extra:
            raise Fail("a second notice: %s" % show(extra[0][1]))
        await self.join(b, ROOM1, "bob")
        note = await b.wait(from_room_body(ROOM1), "bob's own notice")
        if DESCRIPTION not in body_of(note):
            raise Fail("bob's notice lacks the group's description: %r"
                       % body_of(note))
        await self.say(b, ROOM1, "bob", BOB_TEXT)
        await a.wait(said(ROOM1, "bob", BOB_TEXT), "bob's message")

    async def listing(self, a, adm):
        def nodes(res):
            q = res.xml.find("{%s}query" % NS_DISCO_ITEMS)
            return {i.get("node") for i in q}
        q = "<query xmlns='%s' node='%s'/>" % (NS_DISCO_ITEMS, NS_COMMANDS)
        mine = nodes(await a.iq("get", COMPONENT, q))
        admins = nodes(await adm.iq("get", COMPONENT, q))
        if "mydata" not in mine or mine & {"data-export", "data-erase"}:
            raise Fail("alice is offered %s" % sorted(mine))
        if not {"mydata", "data-export", "data-erase"} <= admins:
            raise Fail("the admin is offered %s" % sorted(admins))

    async def mine(self, a):
        text = await self.export_text(a)
        self.alice_export = text
        for want in ("alice@localhost", "privy: owner", "second: owner",
                     "privy: " + ALICE_NICK, "notice: given",
                     ALICE_TEXT, "3 messages"):
            if want not in text:
                raise Fail("no %r in:\n%s" % (want, text))
        for other in ("bob", BOB_TEXT):
            if other in text:
                raise Fail("%r in alice's export:\n%s" % (other, text))

    async def forbidden(self, b):
        await self.refused(self.command(b, "data-export"))
        await self.refused(self.command(b, "data-erase"))

    async def admin_export(self, a, adm):
        text = await self.export_text(adm, "data-export",
                                      {"jid": "alice@localhost"})
        # The same lines but the first (its time) and the count line.
        def body(t):
            return [line for line in t.split("\n")[1:]]
        if body(text) != body(self.alice_export):
            raise Fail("the admin's export differs:\n%s\n---\n%s"
                       % (text, self.alice_export))

    async def erase(self, a, adm):
        a.forget()
        cmd = await self.run_to_end(adm, "data-erase",
                                    {"jid": "alice@localhost",
                                     "confirm": "1"})
        note = cmd.findtext("{%s}note" % NS_COMMANDS) or ""
        if cmd.get("status") != "completed" or "Erased" not in note:
            raise Fail("the erasure answered %s" % show(cmd))
        if "3 messages" not in note or "left 2 rooms" not in note:
            raise Fail("the note counts otherwise: %s" % note)
        pres = await a.wait(presence_from("%s/%s" % (ROOM1, ALICE_NICK),
                                          "unavailable"), "her kick")
        if 307 not in codes(pres) and "307" not in codes(pres):
            raise Fail("no 307: %s" % show(pres))

    async def dump(self):
        out = await self.in_thread(lambda: subprocess.run(
            [self.binary, "--config", self.ig.config_path, "--dump"],
            capture_output=True, text=True, timeout=60))
        if out.returncode != 0:
            raise Fail("--dump: %s" % out.stderr)
        text = out.stdout
        if "[noticed]" not in text:
            raise Fail("the dump has no noticed database:\n%s" % text[:2000])
        for gone in ("alice@localhost", ALICE_NICK, ALICE_TEXT.split()[0]):
            if gone in text:
                where = [line for line in text.split("\n") if gone in line]
                raise Fail("%r still in the dump: %s" % (gone, where[:3]))
        for kept in ("bob@localhost", BOB_TEXT):
            if kept not in text:
                raise Fail("%r is not in the dump (is it complete?)" % kept)

    async def tombstones(self, b):
        qid = "q1"
        await b.iq("set", ROOM1, "<query xmlns='%s' queryid='%s'/>"
                   % (NS_MAM, qid), timeout=WAIT)
        got = b.take_all(xmppclient.mam_result(ROOM1, qid))
        bodies = []
        for _, el in got:
            fwd = el.find(".//{urn:xmpp:forward:0}forwarded")
            msg = fwd.find("{jabber:client}message") if fwd is not None \
                else None
            if msg is not None:
                bodies.append((msg.get("from"), body_of(msg)))
        if any(ALICE_TEXT == t or (f or "").endswith(ALICE_NICK)
               for f, t in bodies):
            raise Fail("alice's message is whole in MAM: %s" % bodies)
        if ("%s/bob" % ROOM1, BOB_TEXT) not in bodies:
            raise Fail("bob's message is not in MAM: %s" % bodies)

    async def after(self, a):
        text = await self.export_text(a)
        for gone in ("privy: owner", ALICE_NICK, "notice: given",
                     ALICE_TEXT):
            if gone in text:
                raise Fail("%r after the erasure:\n%s" % (gone, text))
        if "0 messages" not in text:
            raise Fail("not 0 messages:\n%s" % text)


if __name__ == "__main__":
    sys.exit(xmppclient.main(sys.argv, Run, WATCHDOG + 60))
