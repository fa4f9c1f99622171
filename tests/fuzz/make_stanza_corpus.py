"""Writes tests/fuzz/corpus/stanza/, the seed corpus of fuzz_stanza: what
a server sends on the component link after the stream header (which
fuzz_stanza puts first). Each file starts with the byte fuzz_stanza reads
as its steering (read size, suspension, header). One file per kind of
stanza the router dispatches (service disco, version, ping, commands; room
join, groupchat, private message, subject, invite, decline, admin and owner
queries, MAM, disco of a room and an occupant; errors back), sessions that
run several of them in order against one room (join first, so that the
rest reaches an occupant), and the hostile shapes of issue 9 scaled to the
fuzz limits (depth, attributes, size, entities, comments, processing
instructions, a DOCTYPE, invalid UTF-8, NUL, the server's closing tag).

    /usr/bin/python3 tests/fuzz/make_stanza_corpus.py

The output is deterministic.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "stanza")

SVC = "groups.localhost"
ROOM = "lobby@" + SVC
ALICE = "alice@localhost/pc"
BOB = "bob@localhost/phone"
ADMIN = "admin@localhost/desk"
MUC = "http://jabber.org/protocol/muc"


def iq(frm, to, type_, payload, id_="q1"):
    return ("<iq type='%s' id='%s' from='%s' to='%s'>%s</iq>"
            % (type_, id_, frm, to, payload))


def join(frm, nick, extra=""):
    return ("<presence from='%s' to='%s/%s'><x xmlns='%s'>%s</x></presence>"
            % (frm, ROOM, nick, MUC, extra))


def groupchat(frm, body, extra=""):
    return ("<message type='groupchat' id='m1' from='%s' to='%s'>"
            "<body>%s</body>%s</message>" % (frm, ROOM, body, extra))


def form(ns, fields):
    return ("<x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>%s</value></field>%s</x>"
            % (ns, "".join("<field var='%s'><value>%s</value></field>"
                           % f for f in fields)))


STANZAS = {
    "service-disco-info": iq(ALICE, SVC, "get",
                             "<query xmlns='http://jabber.org/protocol/"
                             "disco#info'/>"),
    "service-disco-items": iq(ALICE, SVC, "get",
                              "<query xmlns='http://jabber.org/protocol/"
                              "disco#items'/>"),
    "service-version": iq(ALICE, SVC, "get",
                          "<query xmlns='jabber:iq:version'/>"),
    "service-ping": iq(ALICE, SVC, "get", "<ping xmlns='urn:xmpp:ping'/>"),
    "service-commands": iq(ADMIN, SVC, "get",
                           "<query xmlns='http://jabber.org/protocol/"
                           "disco#items' node='http://jabber.org/protocol/"
                           "commands'/>"),
    "service-command-execute": iq(
        ADMIN, SVC, "set",
        "<command xmlns='http://jabber.org/protocol/commands' "
        "node='accounts' action='execute'/>"),
    "service-unknown-iq": iq(ALICE, SVC, "get", "<query xmlns='urn:x:y'/>"),
    "join": join(ALICE, "alice"),
    "join-history-password": join(
        ALICE, "alice", "<password>pw</password><history maxstanzas='5' "
        "maxchars='1000' seconds='60' since='2020-01-01T00:00:00Z'/>"),
    "join-with-status": ("<presence from='%s' to='%s/alice'><show>away</show>"
                         "<status>out</status><priority>5</priority>"
                         "<x xmlns='%s'/><c xmlns='http://jabber.org/protocol/"
                         "caps' hash='sha-1' node='n' ver='v'/></presence>"
                         % (ALICE, ROOM, MUC)),
    "leave": "<presence type='unavailable' from='%s' to='%s/alice'/>" % (
        ALICE, ROOM),
    "groupchat": groupchat(ALICE, "hello"),
    "groupchat-forged": groupchat(
        ALICE, "x", "<stanza-id xmlns='urn:xmpp:sid:0' by='%s' id='f'/>"
        "<origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
        "<delay xmlns='urn:xmpp:delay' stamp='2000-01-01T00:00:00Z'/>"
        % ROOM),
    "subject": ("<message type='groupchat' from='%s' to='%s'>"
                "<subject>topic</subject></message>" % (ALICE, ROOM)),
    "private-message": ("<message type='chat' from='%s' to='%s/bob'>"
                        "<body>psst</body><x xmlns='%s#user'/></message>"
                        % (ALICE, ROOM, MUC)),
    "invite": ("<message from='%s' to='%s'><x xmlns='%s#user'>"
               "<invite to='bob@localhost'><reason>come</reason></invite>"
               "<invite to='carol@localhost'/></x></message>"
               % (ALICE, ROOM, MUC)),
    "decline": ("<message from='%s' to='%s'><x xmlns='%s#user'>"
                "<decline to='alice@localhost'><reason>no</reason></decline>"
                "</x></message>" % (BOB, ROOM, MUC)),
    "admin-ban": iq(ALICE, ROOM, "set",
                    "<query xmlns='%s#admin'><item affiliation='outcast' "
                    "jid='bob@localhost'><reason>spam</reason></item></query>"
                    % MUC),
    "admin-kick": iq(ALICE, ROOM, "set",
                     "<query xmlns='%s#admin'><item role='none' nick='bob'>"
                     "<reason>bye</reason></item></query>" % MUC),
    "admin-list": iq(ALICE, ROOM, "get",
                     "<query xmlns='%s#admin'><item affiliation='member'/>"
                     "</query>" % MUC),
    "owner-get": iq(ALICE, ROOM, "get", "<query xmlns='%s#owner'/>" % MUC),
    "owner-set": iq(ALICE, ROOM, "set", "<query xmlns='%s#owner'>%s</query>"
                    % (MUC, form("http://jabber.org/protocol/muc#roomconfig",
                                 [("muc#roomconfig_roomname", "Lobby"),
                                  ("muc#roomconfig_membersonly", "1"),
                                  ("muc#roomconfig_publicroom", "0"),
                                  ("muc#roomconfig_moderatedroom", "1")]))),
    "owner-destroy": iq(ALICE, ROOM, "set",
                        "<query xmlns='%s#owner'><destroy><reason>done"
                        "</reason></destroy></query>" % MUC),
    "mam-query": iq(ALICE, ROOM, "set",
                    "<query xmlns='urn:xmpp:mam:2' queryid='f1'>%s"
                    "<set xmlns='http://jabber.org/protocol/rsm'><max>5</max>"
                    "<before/></set></query>"
                    % form("urn:xmpp:mam:2",
                           [("start", "2020-01-01T00:00:00Z")])),
    "room-disco-info": iq(ALICE, ROOM, "get",
                          "<query xmlns='http://jabber.org/protocol/"
                          "disco#info'/>"),
    "room-disco-items": iq(ALICE, ROOM, "get",
                           "<query xmlns='http://jabber.org/protocol/"
                           "disco#items'/>"),
    "occupant-ping": iq(ALICE, ROOM + "/alice", "get",
                        "<ping xmlns='urn:xmpp:ping'/>"),
    "occupant-vcard": iq(BOB, ROOM + "/alice", "get",
                         "<vCard xmlns='vcard-temp'/>"),
    "error-back": ("<message type='error' from='%s' to='%s'><error "
                   "type='cancel'><item-not-found xmlns='urn:ietf:params:xml:"
                   "ns:xmpp-stanzas'/></error></message>" % (BOB, ROOM)),
    "no-from": "<message to='%s'><body>x</body></message>" % ROOM,
    "bad-to": "<message from='%s' to='a@@b'><body>x</body></message>" % ALICE,
    "other-domain": "<message from='%s' to='x@elsewhere'/>" % ALICE,
    "unknown-element": "<handshake/>",
}

SESSIONS = {
    "session-chat": ["join", "groupchat", "subject", "private-message",
                     "mam-query", "leave"],
    "session-owner": ["join", "owner-get", "owner-set", "admin-ban",
                      "admin-list", "invite", "owner-destroy"],
    "session-two": ["join", "join-with-status", "groupchat-forged", "decline",
                    "occupant-ping", "occupant-vcard", "room-disco-info"],
}


def hostile():
    deep = "<message from='%s' to='%s'>%s%s</message>" % (
        ALICE, ROOM, "<a>" * 10, "</a>" * 10)
    attrs = "<presence from='%s' to='%s/x' %s/>" % (
        ALICE, ROOM, " ".join("a%d='v'" % i for i in range(12)))
    quotes = groupchat(ALICE, "&quot;" * 500)
    return {
        "hostile-deep": deep,
        "hostile-attributes": attrs,
        "hostile-quotes": quotes,
        "hostile-long-attribute": "<message from='%s' to='%s' id='%s'/>" % (
            ALICE, ROOM, "&lt;" * 100),
        "hostile-many-elements": "<message from='%s' to='%s'>%s</message>" % (
            ALICE, ROOM, "<b/>" * 30),
        "hostile-comment": "<!-- c --><message from='%s' to='%s'/>" % (
            ALICE, ROOM),
        "hostile-pi": "<?pi x?><message from='%s' to='%s'/>" % (ALICE, ROOM),
        "hostile-entity": groupchat(ALICE, "&#x10FFFF;&amp;&#65;&undefined;"),
        "hostile-invalid-utf8": groupchat(ALICE, "\udcff"),
        "hostile-nul": groupchat(ALICE, "a\x00b"),
        "hostile-close": join(ALICE, "alice") + "</stream:stream>",
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.unlink(os.path.join(OUT, old))
    files = {name: b"\x00" + s.encode("utf-8")
             for name, s in STANZAS.items()}
    for name, parts in SESSIONS.items():
        text = "".join(STANZAS[p] for p in parts)
        files[name] = b"\x00" + text.encode("utf-8")
        # The same in reads of 7 bytes, suspended after every stanza.
        files[name + "-pieces"] = b"\x46" + text.encode("utf-8")
    for name, s in hostile().items():
        files[name] = b"\x00" + s.encode("utf-8", "surrogateescape")
    files["no-header-doctype"] = b"\x80" + (
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'e'>]>"
        b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
        b"xmlns='jabber:component:accept' id='i'>")
    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("%s: %d files" % (OUT, len(files)))


if __name__ == "__main__":
    sys.exit(main())
