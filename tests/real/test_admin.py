"""The admin commands (XEP-0050) for real, through a private Prosody or
ejabberd with slixmpp sessions: the service admin, a group's owner (alice),
a participant (bob) and a stranger (eve) run each command of the component
and of a room; only who may gets anything but forbidden. The admin's
listing holds a hidden group that the public listing (disco#items) does
not; the announcement reaches the XMPP occupants from the service, an IRC
member through its bot on ngircd and a Yahoo member through its bot on the
stand-in server (fake_ymsg.py), each through the real libpurple worker.
Prints TAP.

    /usr/bin/python3 tests/real/test_admin.py prosody|ejabberd \\
        /path/to/imgroups /path/to/imgroups-purple

IMGROUPS_KEEP_TMP=1 keeps the temp dir.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import bridgebase  # noqa: E402
    from bridgebase import COMPONENT, NS_CMD, NS_DATA, WAIT, BridgeRun  # noqa: E402
    import fake_ymsg  # noqa: E402
    from fake_ymsg import FakeYmsg, YmsgClient, get  # noqa: E402
    from ircclient import IrcClient  # noqa: E402
    import servers  # noqa: E402
    from slixmpp.exceptions import IqError, IqTimeout  # noqa: E402
    from tap import Abort  # noqa: E402
    import tap  # noqa: E402
    from xmppclient import Fail, body, kind, show  # noqa: E402
except ImportError as e:
    sys.stderr.write("test_admin.py: %s (run it with /usr/bin/python3, which"
                     " sees Debian's python3-slixmpp)\n" % e)
    sys.exit(2)

LOBBY = "lobby@" + COMPONENT
CLUB = "club@" + COMPONENT
HIDDEN = "backroom@" + COMPONENT
Y_BOT, YUKI = "lobbybot", "yuki"
ANNOUNCE = "http://jabber.org/protocol/admin#announce"
SERVICE_NODES = ["groups", "stats", ANNOUNCE, "group-create",
                 "group-configure", "group-destroy"]
ROOM_NODES = ["member-add", "members", "retention", "invite"]
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
TEXT = "Maintenance tonight at 22:00"
WATCHDOG = 420


def submit(fields):
    return ("<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, "".join(
        "<field var='%s'>%s</field>" % (var, "".join(
            "<value>%s</value>" % v
            for v in (val if isinstance(val, list) else [val])))
        for var, val in fields)))


class Run(BridgeRun):
    SLUG = "admin"
    NAMES = [
        "the XMPP server starts", "ngircd and the stand-in Yahoo server start",
        "imgroups starts, both bots online",
        "admin, alice, bob and eve log in; alice makes club, bob joins it",
        "the service commands: the admin runs each, alice, bob and eve get "
        "forbidden",
        "the room commands on club: alice and the admin run each, bob and eve "
        "get forbidden",
        "group-create and group-configure make a hidden group",
        "the admin's groups lists the hidden group; the public listing does "
        "not",
        "stats counts the groups, the occupants and the bots online",
        "an IRC member and a Yahoo member join lobby through their bots",
        "announce reaches alice and bob from the service, the IRC member and "
        "the Yahoo member from their bots",
        "alice lists club's members, sets its retention, invites eve",
        "group-destroy: the hidden group is gone",
        "imgroups stops on SIGTERM with status 0"]

    def __init__(self, kind_, binary, worker):
        self.kind = kind_
        super().__init__(binary, worker)

    def start_server(self):
        cls = {"prosody": servers.Prosody, "ejabberd": servers.Ejabberd}
        self.prosody = cls[self.kind](self.tmp, COMPONENT, self.secret)
        self.prosody.start()
        for u in ("admin", "alice", "bob", "eve"):
            self.prosody.register(u, u + "-pw")

    def start_legacy(self):
        self.start_ngircd()
        try:
            self.ymsg = FakeYmsg({Y_BOT: "ybotpw1", YUKI: "yukipw1"})
            self.ymsg.start()
        except Exception as e:
            raise servers.ServerError(str(e))

    def cleanup(self):
        super().cleanup()
        if getattr(self, "ymsg", None):
            self.ymsg.stop()

    def main(self):
        self.tap.diag("%s; temp dir %s" % (self.kind, self.tmp))
        self.ymsg = None
        self.check_start(self.NAMES[0], self.start_server)
        self.check_start(self.NAMES[1], self.start_legacy)
        fast = {"pace_burst": "50", "pace_rate": "50"}
        self.ig = self.new_imgroups([
            ("lobby-irc", dict(protocol="prpl-irc",
                               username="lobbybot@127.0.0.1", group="lobby",
                               mode="contacts",
                               **{"option.port": str(self.irc.port)},
                               **fast)),
            ("yahoo", dict(protocol="prpl-imgroups-yahoo", username=Y_BOT,
                           password="ybotpw1", group="lobby",
                           mode="contacts",
                           **{"option.server": "127.0.0.1",
                              "option.port": str(self.ymsg.port)},
                           **fast)),
        ])

        def start():
            self.ig.start()
            self.ig.wait_log(r"connected to", WAIT)
            self.ig.wait_log(r"account lobby-irc is online", 60)
            self.ig.wait_log(r"account yahoo is online", 60)
        self.check_start(self.NAMES[2], start)
        self.run(self.flows(), WATCHDOG - 60)
        rc = self.ig.stop()
        self.tap.check(rc == 0, self.NAMES[-1], "exit status %s" % rc)

    async def flows(self):
        if not await self.step(self.NAMES[3], self.people()):
            raise Abort
        steps = [self.service_rights, self.room_rights, self.hidden_group,
                 self.listings, self.stats, self.legacy_members,
                 self.announce, self.owner, self.destroy]
        for i, fn in enumerate(steps):
            await self.step(self.NAMES[4 + i], fn())

    # --- running commands -------------------------------------------------
    async def command(self, user, to, node, sid=None, fields=None,
                      action=None):
        """user runs (a stage of) node at to; returns the <command/>, or
        the error condition as a string."""
        attrs = "node='%s'" % node
        if sid:
            attrs += " sessionid='%s'" % sid
        if action:
            attrs += " action='%s'" % action
        try:
            res = await self.x[user].iq(
                "set", to, "<command xmlns='%s' %s>%s</command>"
                % (NS_CMD, attrs, submit(fields) if fields is not None
                   else ""))
        except IqError as e:
            return e.iq["error"]["condition"]
        except IqTimeout:
            raise Fail("%s: no answer to %s at %s" % (user, node, to))
        return res.xml.find("{%s}command" % NS_CMD)

    async def complete(self, user, to, node, fields):
        """Executes node and submits fields; the last <command/>, which
        must be completed."""
        first = await self.command(user, to, node)
        if isinstance(first, str):
            raise Fail("%s %s: %s" % (user, node, first))
        done = await self.command(user, to, node, first.get("sessionid"),
                                  fields)
        if isinstance(done, str) or done.get("status") != "completed":
            raise Fail("%s %s %s: %s" % (user, node, fields,
                                         done if isinstance(done, str)
                                         else show(done)))
        return done

    @staticmethod
    def rows(cmd):
        x = cmd.find("{%s}x" % NS_DATA)
        return [{f.get("var"): f.findtext("{%s}value" % NS_DATA) or ""
                 for f in it.findall("{%s}field" % NS_DATA)}
                for it in x.findall("{%s}item" % NS_DATA)]

    @staticmethod
    def values(cmd):
        x = cmd.find("{%s}x" % NS_DATA)
        return {f.get("var"): f.findtext("{%s}value" % NS_DATA) or ""
                for f in x.findall("{%s}field" % NS_DATA)}

    async def end(self, user, to, node, cmd):
        """Ends a command left executing (a form or a first page)."""
        if not isinstance(cmd, str) and cmd.get("status") == "executing":
            await self.command(user, to, node, cmd.get("sessionid"),
                               action="cancel")

    # --- the flows --------------------------------------------------------
    async def people(self):
        await self.login("admin", "alice", "bob", "eve")
        # available, so that a message to her bare JID (the invitation)
        # reaches her session rather than her offline store
        self.x["eve"].send("<presence/>")
        await self.join_room("alice", CLUB)
        await self.join_room("bob", CLUB)

    async def rights(self, to, nodes, allowed, refused):
        for node in nodes:
            for user in allowed:
                got = await self.command(user, to, node)
                if isinstance(got, str):
                    raise Fail("%s may run %s at %s: %s" % (user, node, to,
                                                            got))
                await self.end(user, to, node, got)
            for user in refused:
                got = await self.command(user, to, node)
                if got != "forbidden":
                    raise Fail("%s ran %s at %s: %s" % (
                        user, node, to,
                        got if isinstance(got, str) else show(got)))

    async def service_rights(self):
        await self.rights(COMPONENT, SERVICE_NODES, ["admin"],
                          ["alice", "bob", "eve"])

    async def room_rights(self):
        await self.rights(CLUB, ROOM_NODES, ["alice", "admin"],
                          ["bob", "eve"])

    async def hidden_group(self):
        done = await self.complete("admin", COMPONENT, "group-create",
                                   [("group", "backroom")])
        first = await self.command("admin", COMPONENT, "group-configure")
        sid = first.get("sessionid")
        form = await self.command("admin", COMPONENT, "group-configure", sid,
                                  [("group", "backroom")])
        if isinstance(form, str) or form.get("status") != "executing":
            raise Fail("the room's form: %s" % form)
        done = await self.command(
            "admin", COMPONENT, "group-configure", sid,
            [("FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig"),
             ("muc#roomconfig_publicroom", "0")])
        if isinstance(done, str) or done.get("status") != "completed":
            raise Fail("configure: %s" % (done if isinstance(done, str)
                                          else show(done)))

    async def listings(self):
        cmd = await self.command("admin", COMPONENT, "groups")
        if isinstance(cmd, str):
            raise Fail("groups: %s" % cmd)
        rows = {r["group"]: r for r in self.rows(cmd)}
        if rows.get("backroom", {}).get("listed") != "hidden":
            raise Fail("the admin's listing: %s" % rows)
        if rows.get("club", {}).get("occupants") != "2 (0 legacy)":
            raise Fail("club: %s" % rows.get("club"))
        await self.end("admin", COMPONENT, "groups", cmd)
        res = await self.iq("get", COMPONENT,
                            "<query xmlns='http://jabber.org/protocol/"
                            "disco#items'/>", user="eve")
        jids = [i.get("jid") for i in res.xml.iter(
            "{http://jabber.org/protocol/disco#items}item")]
        if HIDDEN in jids or CLUB not in jids:
            raise Fail("the public listing: %s" % jids)

    async def stats(self):
        cmd = await self.command("admin", COMPONENT, "stats")
        v = self.values(cmd)
        if (v.get("groups") != "3" or v.get("accounts_online") != "2 of 2"
                or not v.get("occupants", "").startswith("2 ")):
            raise Fail("stats: %s" % v)

    async def legacy_members(self):
        self.dave = IrcClient(self.irc.port, "ircdave")
        self.irc_users.append(self.dave)
        await self.dave.connect()
        self.dave.privmsg("lobbybot", "hello group")
        await self.dave.wait_privmsg(
            "lobbybot", lambda s: s.startswith("Welcome to the group "
                                               + LOBBY),
            "the welcome over IRC", 60)
        self.yuki = YmsgClient(self.ymsg.port, YUKI, "yukipw1")
        self.irc_users.append(self.yuki)   # quit() at cleanup
        await self.yuki.login()
        self.yuki.add_buddy(Y_BOT, text="hi")
        p = await self.yuki.wait(lambda p: p[0] == fake_ymsg.FRIENDADD,
                                 "FRIENDADD's answer")
        if get(p[2], 66) != "0":
            raise Fail("the server refused the add: %r" % (p,))
        self.yuki.message(Y_BOT, "hello from yuki")
        await self.yuki.wait_message(
            Y_BOT, lambda s: s.startswith("Welcome to the group " + LOBBY),
            "the welcome over YMSG", 30)

    async def announce(self):
        done = await self.complete("admin", COMPONENT, ANNOUNCE,
                                   [("announcement", [TEXT])])
        note = done.findtext("{%s}note" % NS_CMD) or ""
        if "Sent to 2 XMPP users" not in note or "queued for 2" not in note:
            raise Fail("the note: %r" % note)
        for user in ("alice", "bob"):
            await self.x[user].wait(
                lambda el: (kind(el) == "message" and
                            el.get("from") == COMPONENT and
                            el.get("type") == "headline" and
                            body(el) == TEXT),
                "the announcement at %s" % user)
        await self.dave.wait_privmsg("lobbybot", lambda s: s == TEXT,
                                     "the announcement over IRC", 30)
        await self.yuki.wait_message(Y_BOT, lambda s: s == TEXT,
                                     "the announcement over YMSG", 30)
        if any(body(el) == TEXT for _, el in self.x["eve"].take_all(
                lambda el: kind(el) == "message")):
            raise Fail("eve, in no group, got it")

    async def owner(self):
        cmd = await self.command("alice", CLUB, "members")
        got = [(r["who"], r["network"], r["affiliation"])
               for r in self.rows(cmd)]
        if got != [("alice@localhost", "xmpp", "owner")]:
            raise Fail("members: %s" % got)
        await self.complete("alice", CLUB, "retention", [("keep_days", "30")])
        res = await self.iq("get", CLUB, "<query xmlns='http://jabber.org/"
                            "protocol/muc#owner'/>")
        kd = [f.findtext("{%s}value" % NS_DATA) for f in res.xml.iter(
            "{%s}field" % NS_DATA) if f.get("var") == "imgroups#keep_days"]
        if kd != ["30"]:
            raise Fail("keep_days: %s" % kd)
        await self.complete("alice", CLUB, "invite",
                            [("jid", "eve@localhost"), ("reason", "join us")])

        def invitation(el):
            inv = el.find("{%s}x/{%s}invite" % (NS_MUC_USER, NS_MUC_USER))
            return (kind(el) == "message" and el.get("from") == CLUB and
                    inv is not None and inv.get("from") == "alice@localhost"
                    and inv.findtext("{%s}reason" % NS_MUC_USER) == "join us")
        await self.x["eve"].wait(invitation, "alice's invitation at eve")

    async def destroy(self):
        await self.complete("admin", COMPONENT, "group-destroy",
                            [("group", "backroom")])
        cmd = await self.command("admin", COMPONENT, "groups")
        names = [r["group"] for r in self.rows(cmd)]
        if "backroom" in names or "club" not in names:
            raise Fail("after the destruction: %s" % names)


def main(argv):
    tap.usage(argv, "prosody|ejabberd /path/to/imgroups "
              "/path/to/imgroups-purple",
              lambda a: len(a) == 3 and a[0] in ("prosody", "ejabberd"))
    return tap.run(lambda: Run(argv[1], argv[2], argv[3]), WATCHDOG)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
