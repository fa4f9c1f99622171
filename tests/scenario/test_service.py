"""Scenario: what the component answers on its own JID (disco, version,
ping), and how it refuses what it does not serve or cannot parse."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FakeServer, Imgroups, SUITE, USER, base_config, check,  # noqa: E402
                     disco_items, ping, stop_by_signal, test, tmpdir)

NAME = 'Groups Under Test'
C = 'groups.localhost'
ERR = "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'"

_rig = {}


def rig():
    """One imgroups with two account groups, shared by the tests below."""
    if 'error' in _rig:
        raise _rig['error']
    if 'server' not in _rig:
        try:
            server = SUITE.shared(FakeServer())
            d = tmpdir()
            cfg = base_config(server.port, os.path.join(d, 'store'))
            cfg['component']['name'] = NAME
            cfg['account:lobby-irc'] = {
                'protocol': 'prpl-irc', 'username': 'lobbybot@127.0.0.1',
                'password': '', 'group': 'lobby', 'mode': 'contacts',
                'option.port': '6667'}
            cfg['account:team-irc'] = {
                'protocol': 'prpl-irc', 'username': 'teambot@127.0.0.1',
                'group': 'team', 'mode': 'chat', 'chat': '#team'}
            proc = SUITE.shared(Imgroups(cfg, workdir=d))
            server.wait_for_connection(10)
        except Exception as e:
            _rig['error'] = e
            raise
        _rig['server'], _rig['proc'] = server, proc
    return _rig['server']


def iq(ident, typ, payload, to=C, frm=USER):
    return "<iq type='%s' id='%s' from='%s' to='%s'>%s</iq>" % (typ, ident, frm, to, payload)


def iq_error(ident, etype, cond, frm=C, to=USER, text=None):
    said = "<text %s xml:lang='en'>%s</text>" % (ERR, text) if text else ''
    return ("<iq type='error' id='%s' from='%s' to='%s'><error type='%s'><%s %s/>%s</error></iq>"
            % (ident, frm, to, etype, cond, ERR, said))


def refused(ident, typ, payload, etype, cond, to=C, frm=None):
    """An iq to `to` is answered from there (frm, when given) with the error
    cond of type etype."""
    s = rig()
    s.send(iq(ident, typ, payload, to=to))
    s.expect(iq_error(ident, etype, cond, frm=frm or to))


@test('disco#info on the component lists the conference identity and its features')
def disco_info():
    s = rig()
    s.send(iq('di1', 'get', "<query xmlns='http://jabber.org/protocol/disco#info'/>"))
    s.expect("<iq type='result' id='di1' from='%s' to='%s'>"
             "<query xmlns='http://jabber.org/protocol/disco#info'>"
             "<identity category='conference' type='text' name='%s'/>"
             "<feature var='http://jabber.org/protocol/disco#info'/>"
             "<feature var='http://jabber.org/protocol/disco#items'/>"
             "<feature var='jabber:iq:version'/>"
             "<feature var='urn:xmpp:ping'/>"
             "<feature var='http://jabber.org/protocol/commands'/>"
             "<feature var='http://jabber.org/protocol/muc'/>"
             "<feature var='http://jabber.org/protocol/rsm'/>"
             "</query></iq>" % (C, USER, NAME))


@test('disco#items on the component lists the group of every configured account')
def disco_items_lists_groups():
    s = rig()
    disco_items(s, 'dit1')
    s.expect("<iq type='result' id='dit1' from='%s' to='%s'>"
             "<query xmlns='http://jabber.org/protocol/disco#items'>"
             "<item jid='lobby@%s' name='lobby'/>"
             "<item jid='team@%s' name='team'/>"
             "</query></iq>" % (C, USER, C, C))


RSM = "http://jabber.org/protocol/rsm"


def items_page(ident, set_xml):
    """disco#items of the component with this <set/> content."""
    return iq(ident, 'get', "<query xmlns='http://jabber.org/protocol/disco#items'>"
              "<set xmlns='%s'>%s</set></query>" % (RSM, set_xml))


def page_answer(ident, items, count):
    body = ''.join("<item jid='%s@%s' name='%s'/>" % (g, C, g) for g in items)
    if items:
        rsm = ("<set xmlns='%s'><first>%s</first><last>%s</last>"
               "<count>%d</count></set>" % (RSM, items[0], items[-1], count))
    else:
        rsm = "<set xmlns='%s'><count>%d</count></set>" % (RSM, count)
    return ("<iq type='result' id='%s' from='%s' to='%s'>"
            "<query xmlns='http://jabber.org/protocol/disco#items'>%s%s"
            "</query></iq>" % (ident, C, USER, body, rsm))


@test('disco#items pages with XEP-0059: max, after, before, the last page and the count alone')
def disco_items_pages():
    s = rig()
    for ident, rsm, items, count in [
            ('p1', '<max>1</max>', ['lobby'], 2),
            ('p2', '<max>1</max><after>lobby</after>', ['team'], 2),
            ('p3', '<max>5</max><after>team</after>', [], 2),
            ('p4', '<max>1</max><before/>', ['team'], 2),
            ('p5', '<max>5</max><before>team</before>', ['lobby'], 2),
            ('p6', '<max>0</max>', [], 2)]:
        s.send(items_page(ident, rsm))
        s.expect(page_answer(ident, items, count))


@test('disco#items refuses an unknown after with item-not-found, an index with feature-not-implemented, a bad max with bad-request')
def disco_items_page_errors():
    s = rig()
    for ident, rsm, etype, cond, text in [
            ('pe1', '<after>nosuchgroup</after>', 'cancel', 'item-not-found',
             'no such group in the list'),
            ('pe2', '<index>3</index>', 'cancel', 'feature-not-implemented',
             'this list is paged by after and before, not by index'),
            ('pe3', '<max>lots</max>', 'modify', 'bad-request', 'max is not a number')]:
        s.send(items_page(ident, rsm))
        s.expect(iq_error(ident, etype, cond, text=text))


@test('jabber:iq:version answers imgroups 0.1.0')
def version():
    s = rig()
    s.send(iq('v1', 'get', "<query xmlns='jabber:iq:version'/>"))
    s.expect("<iq type='result' id='v1' from='%s' to='%s'><query xmlns='jabber:iq:version'>"
             "<name>imgroups</name><version>0.1.0</version></query></iq>" % (C, USER))


@test('a ping gets an empty result')
def ping_result():
    ping(rig(), 'p1')


@test('an iq get in a namespace nobody serves gets service-unavailable')
def unknown_get():
    refused('u1', 'get', "<query xmlns='jabber:iq:last'/>", 'cancel', 'service-unavailable')


@test('an iq set in a namespace nobody serves gets service-unavailable')
def unknown_set():
    refused('u2', 'set', "<query xmlns='jabber:iq:last'/>", 'cancel', 'service-unavailable')


@test('an iq result to the component gets no reply')
def iq_result_ignored():
    s = rig()
    s.send("<iq type='result' id='r1' from='%s' to='%s'/>" % (USER, C))
    ping(s, 'p2')


@test('an iq error to the component gets no reply')
def iq_error_ignored():
    s = rig()
    s.send("<iq type='error' id='r2' from='%s' to='%s'><error type='cancel'>"
           "<item-not-found %s/></error></iq>" % (USER, C, ERR))
    ping(s, 'p3')


@test('an iq get without a child is a bad-request')
def iq_no_child():
    refused('b1', 'get', '', 'modify', 'bad-request')


@test('an iq get with two children is a bad-request')
def iq_two_children():
    refused('b2', 'get', "<ping xmlns='urn:xmpp:ping'/><query xmlns='jabber:iq:version'/>",
            'modify', 'bad-request')


@test('an iq of type bogus is a bad-request')
def iq_bogus_type():
    refused('b3', 'bogus', "<ping xmlns='urn:xmpp:ping'/>", 'modify', 'bad-request')


@test('an iq to a malformed JID gets jid-malformed')
def iq_bad_jid():
    refused('j1', 'get', "<ping xmlns='urn:xmpp:ping'/>", 'modify', 'jid-malformed',
            to='a@@' + C, frm='{any}')


@test('an iq to a room that does not exist gets item-not-found')
def iq_unknown_room():
    refused('n1', 'get', "<query xmlns='http://jabber.org/protocol/disco#info'/>", 'cancel',
            'item-not-found', to='nosuch@' + C)


@test('a presence to a room that does not exist gets a presence error item-not-found')
def presence_unknown_room():
    s = rig()
    s.send("<presence id='pr1' from='%s' to='nosuch@%s'/>" % (USER, C))
    s.expect("<presence type='error' id='pr1' from='nosuch@%s' to='%s'>"
             "<error type='cancel'><item-not-found %s/></error></presence>" % (C, USER, ERR))


@test('a stanza without a from gets no reply and the link stays up')
def no_from():
    s = rig()
    s.send("<iq type='get' id='nf1' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % C)
    s.send("<message type='chat' id='nf2' to='%s'><body>hi</body></message>" % C)
    ping(s, 'p4')


@test('a chat message to the component gets a message error service-unavailable')
def chat_to_component():
    s = rig()
    s.send("<message type='chat' id='m1' from='%s' to='%s'><body>hello</body></message>"
           % (USER, C))
    s.expect("<message type='error' id='m1' from='%s' to='%s'><error type='cancel'>"
             "<service-unavailable %s/></error></message>" % (C, USER, ERR))


@test('a message error to the component gets no reply')
def message_error_ignored():
    s = rig()
    s.send("<message type='error' id='m2' from='%s' to='%s'><error type='cancel'>"
           "<service-unavailable %s/></error></message>" % (USER, C, ERR))
    ping(s, 'p5')


@test('after all that the component still answers on the same connection')
def still_alive():
    s = rig()
    ping(s, 'p6')
    proc = _rig['proc']
    check(proc.alive(), 'imgroups exited')
    check(len(s.attempts) == 1, 'the component connected %d times' % len(s.attempts))
    check(proc.count_log(r'link: disconnected') == 0, 'the link went down')


@test('SIGTERM then closes the stream and imgroups exits 0')
def clean_stop():
    s = rig()
    proc = _rig['proc']
    extra = stop_by_signal(s, proc)
    check(not extra, 'stanzas sent while stopping: %s' % extra)


@test('disco#items is empty when no group exists')
def disco_items_empty():
    server = FakeServer()
    d = tmpdir()
    Imgroups(base_config(server.port, os.path.join(d, 'store')), workdir=d)
    server.wait_for_connection(10)
    disco_items(server, 'de1')
    server.expect("<iq type='result' id='de1' from='%s' to='%s'>"
                  "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>" % (C, USER))


if __name__ == '__main__':
    SUITE.run()
