"""Scenario: XEP-0050 ad-hoc commands — the admins' bot account commands on
the component JID (list, add, change, enable, disable, remove), their group
commands (list, statistics, announce, create, configure, destroy), the
owners' commands on a room JID (member-add, members, retention, invite),
sessions, errors, and passwords never sent back."""

import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SANITIZER_RE, FakeServer, Imgroups, SUITE, base_config,  # noqa: E402
                     check, render, render_config, test, tmpdir)
from muclib import (A, B, C, ERR, USER_NS, create, empty_subject, groupchat_to,  # noqa: E402
                    join, say, self_presence)

CMD = 'http://jabber.org/protocol/commands'
DATA = 'jabber:x:data'
ADMIN = 'admin@localhost/console'
USER = 'user@localhost/res'
PASSWORD = 'hunter2-secret'        # given to account-add
FILE_PASSWORD = 'file-secret-pw'   # in the [account:filebot] section
ADMIN_NODES = [('accounts', 'List bot accounts'), ('account-add', 'Add a bot account'),
               ('account-change', 'Change a bot account'),
               ('account-enable', 'Enable bot accounts'),
               ('account-disable', 'Disable bot accounts'),
               ('account-remove', 'Remove a bot account'),
               ('groups', 'List all groups'), ('stats', 'Service statistics'),
               ('http://jabber.org/protocol/admin#announce', 'Announce to every member'),
               ('group-create', 'Create a group'), ('group-configure', 'Configure a group'),
               ('group-destroy', 'Destroy a group')]
ROOM_NODES = [('member-add', 'Add a legacy member'), ('members', 'List members'),
              ('retention', 'Set how long messages are kept'), ('invite', 'Invite someone')]
ANNOUNCE = 'http://jabber.org/protocol/admin#announce'
# The own-data commands (component/admin/mydata.c), last in the table:
# 'mydata' is listed to anyone, the other two to the admins only.
USER_NODES = [('mydata', 'My data: what this service holds about me')]
DATA_NODES = [('data-export', "Export the data of one person"),
              ('data-erase', "Erase the data of one person")]


def config(port, store, extra=None):
    cfg = base_config(port, store)
    cfg['limits'] = {'max_rooms': '1000'}
    cfg['account:filebot'] = {'protocol': 'prpl-irc', 'username': 'filebot@127.0.0.1',
                              'password': FILE_PASSWORD, 'group': 'lobby',
                              'option.port': '6667'}
    cfg.update(extra or {})
    return cfg


def start(store=None, extra=None):
    server = FakeServer()
    d = tmpdir()
    proc = Imgroups(config(server.port, store or os.path.join(d, 'store'), extra), workdir=d)
    server.wait_for_connection(10)
    return server, proc


_rig = {}


def rig():
    if 'server' not in _rig:
        server, proc = start()
        _rig['server'] = SUITE.shared(server)
        _rig['proc'] = SUITE.shared(proc)
    return _rig['server']


def send_command(s, ident, node, frm=ADMIN, to=C, sid=None, action=None, fields=None):
    attrs = "node='%s'" % node
    if sid:
        attrs += " sessionid='%s'" % sid
    if action:
        attrs += " action='%s'" % action
    body = ''
    if fields is not None:
        fs = []
        for var, value in fields:
            values = value if isinstance(value, list) else [value]
            fs.append("<field var='%s'>%s</field>"
                      % (var, ''.join('<value>%s</value>' % v for v in values)))
        body = "<x xmlns='%s' type='submit'>%s</x>" % (DATA, ''.join(fs))
    s.send("<iq type='set' id='%s' from='%s' to='%s'><command xmlns='%s' %s>%s</command></iq>"
           % (ident, frm, to, CMD, attrs, body))


def run(s, ident, node, status=None, **kw):
    """Send a command and return the <command/> of its result."""
    send_command(s, ident, node, **kw)
    st = s._need_conn().next_stanza(5)
    check(st is not None, 'no reply to %s' % ident)
    check(st.get('type') == 'result' and st.get('id') == ident, 'not a result: %s' % render(st))
    cmd = st.find('{%s}command' % CMD)
    check(cmd is not None, 'no <command/> in %s' % render(st))
    check(cmd.get('node') == node and cmd.get('sessionid'), 'node or sessionid: %s' % render(st))
    if status:
        check(cmd.get('status') == status, 'status %r, expected %r: %s'
              % (cmd.get('status'), status, render(st)))
    return cmd


def notes(cmd):
    return [(n.get('type'), (n.text or '').strip()) for n in cmd.findall('{%s}note' % CMD)]


def form(cmd):
    x = cmd.find('{%s}x' % DATA)
    check(x is not None, 'no data form in %s' % render(cmd))
    return x


def fields(x):
    return {f.get('var'): f for f in x.findall('{%s}field' % DATA)}


def values(field):
    return [v.text or '' for v in field.findall('{%s}value' % DATA)]


def actions(cmd):
    a = cmd.find('{%s}actions' % CMD)
    check(a is not None, 'no <actions/> in %s' % render(cmd))
    return a.get('execute'), sorted(c.tag.split('}')[1] for c in a)


def accounts(s, ident):
    """The accounts table: {name: {column: value}}."""
    x = form(run(s, ident, 'accounts', status='completed'))
    check(x.get('type') == 'result', render(x))
    cols = [f.get('var') for f in x.findall('{%s}reported/{%s}field' % (DATA, DATA))]
    check(cols == ['name', 'protocol', 'username', 'group', 'mode', 'state', 'last_error'],
          'reported columns: %s' % cols)
    rows = {}
    for item in x.findall('{%s}item' % DATA):
        row = {f.get('var'): (f.findtext('{%s}value' % DATA) or '')
               for f in item.findall('{%s}field' % DATA)}
        rows[row['name']] = row
    return rows


# An enabled account's worker runs: no IRC server listens here, so the state
# moves from starting to offline (with the error) while the tests look.
RUNNING = ('starting', 'offline')

GOOD = [('name', 'ircbot'), ('protocol', 'prpl-irc'), ('username', 'ircbot@127.0.0.1'),
        ('password', PASSWORD), ('group', 'Bots'), ('mode', 'chat'), ('chat', '#bots'),
        ('options', ['port=6667', 'encoding = UTF-8']), ('pace_burst', '3'),
        ('pace_rate', '0.5')]


def add(s, ident, fields_):
    cmd = run(s, ident + 'a', 'account-add', status='executing')
    return run(s, ident + 'b', 'account-add', sid=cmd.get('sessionid'), fields=fields_)


def never_sent(s, *secrets):
    for conn in s.conns:
        for text in conn.history:
            for secret in secrets:
                check(secret not in text, 'a password was sent: %s' % text)


def never_logged(proc, *secrets):
    log = proc.log()
    for secret in secrets:
        check(secret not in log, 'a password is in the log')


def error_literal(ident, frm, etype, cond, specific=None, to=ADMIN):
    extra = "<%s xmlns='%s'/>" % (specific, CMD) if specific else ''
    return ("<iq type='error' id='%s' from='%s' to='%s'><error type='%s'><%s %s/>%s"
            "</error></iq>" % (ident, frm, to, etype, cond, ERR, extra))


@test('an admin sees the admin commands; anyone else gets an empty list')
def command_list():
    s = rig()
    items = ''.join("<item jid='%s' node='%s' name='%s'/>" % (C, n, name)
                    for n, name in ADMIN_NODES + USER_NODES + DATA_NODES)
    q = "<query xmlns='http://jabber.org/protocol/disco#items' node='%s'" % CMD
    s.send("<iq type='get' id='l1' from='%s' to='%s'>%s/></iq>" % (ADMIN, C, q))
    s.expect("<iq type='result' id='l1' from='%s' to='%s'>%s>%s</query></iq>"
             % (C, ADMIN, q, items))
    s.send("<iq type='get' id='l2' from='%s' to='%s'>%s/></iq>" % (USER, C, q))
    mine = ''.join("<item jid='%s' node='%s' name='%s'/>" % (C, n, name)
                   for n, name in USER_NODES)
    s.expect("<iq type='result' id='l2' from='%s' to='%s'>%s>%s</query></iq>"
             % (C, USER, q, mine))
    # the component says it speaks XEP-0050
    s.send("<iq type='get' id='l3' from='%s' to='%s'>"
           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (USER, C))
    st = s._need_conn().next_stanza(5)
    feats = {f.get('var') for f in st.iter('{http://jabber.org/protocol/disco#info}feature')}
    check(CMD in feats, 'commands feature missing: %s' % sorted(feats))


@test('disco#info on a command node: identity and features for an admin, '
      'forbidden for others')
def command_info():
    s = rig()
    q = "<query xmlns='http://jabber.org/protocol/disco#info' node='account-add'"
    s.send("<iq type='get' id='i1' from='%s' to='%s'>%s/></iq>" % (ADMIN, C, q))
    s.expect("<iq type='result' id='i1' from='%s' to='%s'>%s>"
             "<identity category='automation' type='command-node' name='Add a bot account'/>"
             "<feature var='%s'/><feature var='%s'/></query></iq>" % (C, ADMIN, q, CMD, DATA))
    s.send("<iq type='get' id='i2' from='%s' to='%s'>%s/></iq>" % (USER, C, q))
    s.expect(error_literal('i2', C, 'cancel', 'forbidden', to=USER))


@test('a non-admin executing an admin command gets forbidden')
def non_admin():
    s = rig()
    send_command(s, 'f1', 'accounts', frm=USER)
    s.expect(error_literal('f1', C, 'cancel', 'forbidden', to=USER))
    send_command(s, 'f2', 'account-add', frm=USER)
    s.expect(error_literal('f2', C, 'cancel', 'forbidden', to=USER))


@test('account-add with a bad field answers the form again with an error note, '
      'without the password')
def add_bad_field():
    s = rig()
    first = run(s, 'b1', 'account-add', status='executing')
    check(actions(first) == ('complete', ['complete']), 'actions: %s' % (actions(first),))
    f = fields(form(first))
    for var in ('name', 'protocol', 'username', 'password', 'group', 'mode', 'chat',
                'options', 'pace_burst', 'pace_rate'):
        check(var in f, '%s missing from the form' % var)
    check(f['password'].get('type') == 'text-private', 'password is not text-private')
    check(f['mode'].get('type') == 'list-single', 'mode is not list-single')
    sid = first.get('sessionid')
    bad = [kv if kv[0] != 'name' else ('name', 'Bad Name!') for kv in GOOD]
    again = run(s, 'b2', 'account-add', sid=sid, fields=bad, status='executing')
    check(again.get('sessionid') == sid, 'the session changed')
    n = notes(again)
    check(len(n) == 1 and n[0][0] == 'error' and n[0][1].startswith('name'), 'notes: %s' % n)
    f = fields(form(again))
    check(values(f['password']) == [], 'the password was sent back')
    check(values(f['username']) == ['ircbot@127.0.0.1'], 'username not kept')
    # chat mode without a chat
    bad = [kv for kv in GOOD if kv[0] != 'chat']
    again = run(s, 'b3', 'account-add', sid=sid, fields=bad, status='executing')
    n = notes(again)
    check(n and n[0][0] == 'error' and n[0][1].startswith('chat'), 'notes: %s' % n)
    bad = [kv if kv[0] != 'pace_rate' else ('pace_rate', '0') for kv in GOOD]
    again = run(s, 'b4', 'account-add', sid=sid, fields=bad, status='executing')
    n = notes(again)
    check(n and n[0][1].startswith('pace_rate'), 'notes: %s' % n)
    never_sent(s, PASSWORD)


@test('a good add is listed by accounts with its state; the password never '
      'appears in any reply or log')
def add_good():
    s = rig()
    done = add(s, 'g1', GOOD)
    check(done.get('status') == 'completed', render(done))
    check(notes(done) == [('info', 'Account ircbot added; it serves bots@%s.' % C)],
          'notes: %s' % notes(done))
    rows = accounts(s, 'g2')
    check(set(rows) == {'filebot', 'ircbot'}, 'accounts: %s' % sorted(rows))
    row = dict(rows['ircbot'])
    state = row.pop('state')
    row.pop('last_error')
    check(row == {'name': 'ircbot', 'protocol': 'prpl-irc', 'username': 'ircbot@127.0.0.1',
                  'group': 'bots', 'mode': 'chat'} and state in RUNNING,
          'row: %s' % rows['ircbot'])
    check(rows['filebot']['state'] in RUNNING, 'filebot: %s' % rows['filebot'])
    # the group was created
    s.send("<iq type='get' id='g3' from='%s' to='bots@%s'>"
           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>" % (USER, C))
    st = s._need_conn().next_stanza(5)
    check(st is not None and st.get('type') == 'result', 'group bots: %s'
          % (render(st) if st is not None else 'nothing'))
    # a second add of the same name
    again = add(s, 'g4', GOOD)
    check(again.get('status') == 'executing' and
          notes(again) == [('error', 'an account named ircbot already exists')],
          'notes: %s' % notes(again))
    never_sent(s, PASSWORD, FILE_PASSWORD)
    never_logged(_rig['proc'], PASSWORD, FILE_PASSWORD)


@test('account-change: pick, a prefilled form without the password, the change')
def change():
    s = rig()
    first = run(s, 'c1', 'account-change', status='executing')
    check(actions(first) == ('next', ['next']), 'actions: %s' % (actions(first),))
    opts = [o.findtext('{%s}value' % DATA)
            for o in fields(form(first))['account'].findall('{%s}option' % DATA)]
    check(opts == ['filebot', 'ircbot'], 'options: %s' % opts)
    sid = first.get('sessionid')
    second = run(s, 'c2', 'account-change', sid=sid, fields=[('account', 'ircbot')],
                 status='executing')
    check(second.get('sessionid') == sid, 'the session changed')
    check(actions(second) == ('complete', ['complete']), 'actions: %s' % (actions(second),))
    f = fields(form(second))
    check('name' not in f, 'the name is not changeable')
    check(values(f['username']) == ['ircbot@127.0.0.1'], 'username: %s' % values(f['username']))
    check(values(f['password']) == [], 'the password was sent')
    check(values(f['options']) == ['encoding=UTF-8', 'port=6667'], values(f['options']))
    check(values(f['pace_burst']) == ['3'] and values(f['pace_rate']) == ['0.5'], 'pace')
    new = [kv for kv in GOOD if kv[0] != 'name']
    new = [('username', 'renamed@127.0.0.1') if k == 'username' else
           ('password', '') if k == 'password' else (k, v) for k, v in new]
    done = run(s, 'c3', 'account-change', sid=sid, fields=new, status='completed')
    check(notes(done) == [('info', 'Account ircbot changed.')], 'notes: %s' % notes(done))
    check(accounts(s, 'c4')['ircbot']['username'] == 'renamed@127.0.0.1', 'not changed')
    never_sent(s, PASSWORD, FILE_PASSWORD)


@test('disable and enable toggle the state')
def disable_enable():
    s = rig()
    first = run(s, 'd1', 'account-disable', status='executing')
    check(fields(form(first))['account'].get('type') == 'list-multi', 'not list-multi')
    done = run(s, 'd2', 'account-disable', sid=first.get('sessionid'),
               fields=[('account', ['ircbot'])], status='completed')
    check(notes(done) == [('info', 'Disabled: ircbot.')], 'notes: %s' % notes(done))
    check(accounts(s, 'd3')['ircbot']['state'] == 'disabled', 'not disabled')
    first = run(s, 'd4', 'account-enable', status='executing')
    # nothing picked: the form again
    again = run(s, 'd5', 'account-enable', sid=first.get('sessionid'), fields=[],
                status='executing')
    check(notes(again)[0][0] == 'error', 'notes: %s' % notes(again))
    run(s, 'd6', 'account-enable', sid=first.get('sessionid'),
        fields=[('account', ['ircbot'])], status='completed')
    check(accounts(s, 'd7')['ircbot']['state'] in RUNNING, 'not enabled')


@test('remove wants the confirmation, then the account is gone')
def remove():
    s = rig()
    first = run(s, 'r1', 'account-remove', status='executing')
    sid = first.get('sessionid')
    f = fields(form(first))
    check(f['account'].get('type') == 'list-single' and f['confirm'].get('type') == 'boolean',
          'fields: %s' % render(form(first)))
    again = run(s, 'r2', 'account-remove', sid=sid, fields=[('account', 'ircbot')],
                status='executing')
    check(notes(again)[0][0] == 'error', 'notes: %s' % notes(again))
    done = run(s, 'r3', 'account-remove', sid=sid,
               fields=[('account', 'ircbot'), ('confirm', 'true')], status='completed')
    check(notes(done) == [('info', 'Account ircbot removed.')], 'notes: %s' % notes(done))
    check(set(accounts(s, 'r4')) == {'filebot'}, 'still listed')


@test('cancel ends a session; a bad or ended sessionid, an unknown action or '
      'node are refused as XEP-0050 says')
def sessions():
    s = rig()
    first = run(s, 's1', 'account-add', status='executing')
    sid = first.get('sessionid')
    send_command(s, 's2', 'account-add', sid=sid, action='cancel')
    s.expect("<iq type='result' id='s2' from='%s' to='%s'><command xmlns='%s' "
             "node='account-add' sessionid='%s' status='canceled'/></iq>" % (C, ADMIN, CMD, sid))
    send_command(s, 's3', 'account-add', sid=sid, fields=GOOD)
    s.expect(error_literal('s3', C, 'modify', 'bad-request', 'bad-sessionid'))
    send_command(s, 's4', 'account-add', sid='made-up')
    s.expect(error_literal('s4', C, 'modify', 'bad-request', 'bad-sessionid'))
    first = run(s, 's5', 'account-add', status='executing')
    sid = first.get('sessionid')
    # another requester cannot continue the session
    send_command(s, 's6', 'account-add', frm='admin@localhost/other', sid=sid)
    s.expect(error_literal('s6', C, 'modify', 'bad-request', 'bad-sessionid',
                           to='admin@localhost/other'))
    send_command(s, 's7', 'account-add', sid=sid, action='dance')
    s.expect(error_literal('s7', C, 'modify', 'bad-request', 'malformed-action'))
    send_command(s, 's8', 'account-add', sid=sid, action='prev')
    s.expect(error_literal('s8', C, 'modify', 'bad-request', 'bad-action'))
    send_command(s, 's9', 'account-add', action='complete')
    s.expect(error_literal('s9', C, 'modify', 'bad-request', 'bad-action'))
    send_command(s, 's10', 'no-such-command')
    s.expect(error_literal('s10', C, 'cancel', 'item-not-found'))
    # a completed session is over too
    done = run(s, 's11', 'accounts', status='completed')
    send_command(s, 's12', 'accounts', sid=done.get('sessionid'))
    s.expect(error_literal('s12', C, 'modify', 'bad-request', 'bad-sessionid'))
    s.send("<iq type='get' id='s13' from='%s' to='%s'><command xmlns='%s' node='accounts'/>"
           "</iq>" % (ADMIN, C, CMD))
    s.expect(error_literal('s13', C, 'modify', 'bad-request'))


@test('the file\'s account cannot be changed or removed, but can be disabled, '
      'and stays disabled after a restart; added accounts survive it too')
def file_account_and_restart():
    d = tmpdir()
    store = os.path.join(d, 'store')
    s, proc = start(store)
    SUITE.track(s)
    SUITE.track(proc)
    done = add(s, 'p0', GOOD)
    check(done.get('status') == 'completed', render(done))
    first = run(s, 'p1', 'account-change', status='executing')
    again = run(s, 'p2', 'account-change', sid=first.get('sessionid'),
                fields=[('account', 'filebot')], status='executing')
    n = notes(again)
    check(n and n[0][0] == 'error' and 'edit the file and send SIGHUP' in n[0][1] and
          proc.config_path in n[0][1], 'notes: %s' % n)
    first = run(s, 'p3', 'account-remove', status='executing')
    again = run(s, 'p4', 'account-remove', sid=first.get('sessionid'),
                fields=[('account', 'filebot'), ('confirm', '1')], status='executing')
    check('edit the file and send SIGHUP' in notes(again)[0][1], 'notes: %s' % notes(again))
    first = run(s, 'p5', 'account-disable', status='executing')
    run(s, 'p6', 'account-disable', sid=first.get('sessionid'),
        fields=[('account', ['filebot'])], status='completed')
    check(accounts(s, 'p7')['filebot']['state'] == 'disabled', 'not disabled')
    check(proc.stop() == 0, 'imgroups did not stop cleanly')
    s.shutdown()
    s2, proc2 = start(store)
    SUITE.track(s2)
    SUITE.track(proc2)
    rows = accounts(s2, 'p8')
    check(set(rows) == {'filebot', 'ircbot'}, 'after the restart: %s' % sorted(rows))
    check(rows['filebot']['state'] == 'disabled', 'filebot: %s' % rows['filebot'])
    check(rows['ircbot']['state'] in RUNNING and rows['ircbot']['group'] == 'bots',
          'ircbot: %s' % rows['ircbot'])
    never_sent(s, PASSWORD, FILE_PASSWORD)
    never_sent(s2, PASSWORD, FILE_PASSWORD)
    never_logged(proc, PASSWORD, FILE_PASSWORD)
    never_logged(proc2, PASSWORD, FILE_PASSWORD)


@test('SIGHUP: an account added to the file is listed, one taken out is gone')
def reload():
    s, proc = start()
    SUITE.track(s)
    SUITE.track(proc)
    cfg = config(s.port, os.path.join(os.path.dirname(proc.config_path), 'store'),
                 {'account:newbot': {'protocol': 'prpl-jabber', 'username': 'n@example.org',
                                     'group': 'news'}})
    del cfg['account:filebot']
    with open(proc.config_path, 'w') as f:
        f.write(render_config(cfg))
    mark = proc.log_mark()
    proc.proc.send_signal(signal.SIGHUP)
    proc.wait_log(r'reloaded .*: 1 accounts', since=mark)
    rows = accounts(s, 'h1')
    check(set(rows) == {'newbot'}, 'after the reload: %s' % sorted(rows))
    check(rows['newbot']['group'] == 'news' and rows['newbot']['state'] in RUNNING,
          'newbot: %s' % rows['newbot'])


@test('a room owner sees member-add on the room JID and runs it; a non-owner '
      'gets an empty list and forbidden')
def member_add():
    s = rig()
    create(s, 'mroom')
    room = 'mroom@%s' % C
    q = "<query xmlns='http://jabber.org/protocol/disco#items' node='%s'" % CMD
    items = ''.join("<item jid='%s' node='%s' name='%s'/>" % (room, n, name)
                    for n, name in ROOM_NODES)
    s.send("<iq type='get' id='m1' from='%s' to='%s'>%s/></iq>" % (A, room, q))
    s.expect("<iq type='result' id='m1' from='%s' to='%s'>%s>%s</query></iq>"
             % (room, A, q, items))
    # the service admins own every group
    s.send("<iq type='get' id='m1a' from='%s' to='%s'>%s/></iq>" % (ADMIN, room, q))
    s.expect("<iq type='result' id='m1a' from='%s' to='%s'>%s>%s</query></iq>"
             % (room, ADMIN, q, items))
    s.send("<iq type='get' id='m2' from='%s' to='%s'>%s/></iq>" % (B, room, q))
    s.expect("<iq type='result' id='m2' from='%s' to='%s'>%s/></iq>" % (room, B, q))
    send_command(s, 'm3', 'member-add', frm=B, to=room)
    s.expect(error_literal('m3', room, 'cancel', 'forbidden', to=B))
    # the admin commands are not room commands
    send_command(s, 'm4', 'accounts', frm=A, to=room)
    s.expect(error_literal('m4', room, 'cancel', 'item-not-found', to=A))
    # no account serves the group yet
    done = run(s, 'm5', 'member-add', frm=A, to=room, status='completed')
    check(notes(done) == [('error', 'No enabled contacts-mode bot account serves this group.')],
          'notes: %s' % notes(done))
    # a chat-mode bot has no members of its own: still nothing to pick
    chatbot = [('name', 'cbot') if k == 'name' else ('group', 'mroom') if k == 'group'
               else (k, v) for k, v in GOOD]
    check(add(s, 'm5a', chatbot).get('status') == 'completed', 'add failed')
    done = run(s, 'm5b', 'member-add', frm=A, to=room, status='completed')
    check(notes(done) == [('error', 'No enabled contacts-mode bot account serves this group.')],
          'notes: %s' % notes(done))
    serving = [('name', 'mbot') if k == 'name' else ('group', 'mroom') if k == 'group'
               else ('mode', 'contacts') if k == 'mode' else (k, v)
               for k, v in GOOD if k != 'chat']
    check(add(s, 'm6', serving).get('status') == 'completed', 'add failed')
    first = run(s, 'm7', 'member-add', frm=A, to=room, status='executing')
    f = fields(form(first))
    opts = [o.findtext('{%s}value' % DATA) for o in f['account'].findall('{%s}option' % DATA)]
    check(opts == ['mbot'] and 'handle' in f, 'form: %s' % render(form(first)))
    sid = first.get('sessionid')
    again = run(s, 'm8', 'member-add', frm=A, to=room, sid=sid,
                fields=[('account', 'mbot'), ('handle', '')], status='executing')
    check(notes(again)[0][0] == 'error', 'notes: %s' % notes(again))
    done = run(s, 'm9', 'member-add', frm=A, to=room, sid=sid,
               fields=[('account', 'mbot'), ('handle', 'carol')], status='completed')
    check(notes(done) == [('info', 'carol added through mbot.')], 'notes: %s' % notes(done))
    # no such room
    send_command(s, 'm10', 'member-add', frm=A, to='nowhere@%s' % C)
    s.expect(error_literal('m10', 'nowhere@%s' % C, 'cancel', 'item-not-found', to=A))


def run_collect(s, ident, node, **kw):
    """Send a command; return its <command/> and what came before its reply."""
    send_command(s, ident, node, **kw)
    before = []
    while True:
        st = s._need_conn().next_stanza(5)
        check(st is not None, 'no reply to %s' % ident)
        if st.tag.split('}')[-1] == 'iq' and st.get('id') == ident:
            break
        before.append(st)
    check(st.get('type') == 'result', 'not a result: %s' % render(st))
    cmd = st.find('{%s}command' % CMD)
    check(cmd is not None and cmd.get('node') == node, 'no <command/>: %s' % render(st))
    return cmd, before


def table(x):
    """A result table: (its columns, its rows as dicts)."""
    cols = [f.get('var') for f in x.findall('{%s}reported/{%s}field' % (DATA, DATA))]
    rows = [{f.get('var'): (f.findtext('{%s}value' % DATA) or '')
             for f in item.findall('{%s}field' % DATA)}
            for item in x.findall('{%s}item' % DATA)]
    return cols, rows


def create_group(s, ident, name, owner=None):
    first = run(s, ident + 'a', 'group-create', status='executing')
    f = [('group', name)] + ([('owner', owner)] if owner else [])
    return run(s, ident + 'b', 'group-create', sid=first.get('sessionid'), fields=f)


def configure(s, ident, group, fields_):
    """group-configure of group by the admin with fields_; returns the done
    <command/> and the form it offered."""
    first = run(s, ident + 'a', 'group-configure', status='executing')
    check(actions(first) == ('next', ['next']), 'actions: %s' % (actions(first),))
    second = run(s, ident + 'b', 'group-configure', sid=first.get('sessionid'),
                 fields=[('group', group)], status='executing')
    offered = form(second)
    done = run(s, ident + 'c', 'group-configure', sid=first.get('sessionid'),
               fields=[('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig')] + fields_)
    return done, offered


def status_104(room, to):
    return ("<message type='groupchat' from='%s@%s' to='%s'><x %s><status code='104'/></x>"
            "</message>" % (room, C, to, USER_NS))


SERVICE_NODES = [n for n, _ in ADMIN_NODES if not n.startswith('account')]


@test('the group commands: a stranger and a group owner get forbidden on the '
      'component, and see none of them')
def group_commands_forbidden():
    s = rig()
    for i, node in enumerate(SERVICE_NODES):
        for who in (USER, A):
            send_command(s, 'x%d%s' % (i, who[0]), node, frm=who)
            s.expect(error_literal('x%d%s' % (i, who[0]), C, 'cancel', 'forbidden', to=who))


@test('group-create makes a group owned by whoever the admin names; a taken or '
      'bad name gets the form again with what is wrong')
def group_create():
    s = rig()
    done = create_group(s, 'gc1', 'Made', owner='Bob@localhost')
    check(done.get('status') == 'completed' and
          notes(done) == [('info', 'Group made@%s created, owned by bob@localhost.' % C)],
          'notes: %s' % notes(done))
    again = create_group(s, 'gc2', 'made')
    check(again.get('status') == 'executing' and
          notes(again) == [('error', 'group: that group exists')], 'notes: %s' % notes(again))
    again = create_group(s, 'gc3', 'bad name')
    check(again.get('status') == 'executing' and
          notes(again) == [('error', 'group: not a valid group name')], 'notes: %s' % notes(again))
    # bob owns it: he sees the owners' commands there
    q = "<query xmlns='http://jabber.org/protocol/disco#items' node='%s'" % CMD
    s.send("<iq type='get' id='gc4' from='%s' to='made@%s'>%s/></iq>" % (B, C, q))
    st = s._need_conn().next_stanza(5)
    nodes = [i.get('node') for i in st.iter('{http://jabber.org/protocol/disco#items}item')]
    check(nodes == [n for n, _ in ROOM_NODES], 'bob sees %s' % nodes)


@test('group-configure offers the room\'s own form and stores it; the '
      'occupants get 104 after the admin\'s result')
def group_configure():
    s = rig()
    join(s, 'made', 'alice', A)
    s.expect(self_presence('made', 'alice', A, 'none', 'participant', [110]))
    s.expect(empty_subject('made', A))
    done, offered = configure(s, 'cf1', 'made',
                              [('muc#roomconfig_roomname', 'Made here'),
                               ('muc#roomconfig_publicroom', '0')])
    check(form_is(offered, 'http://jabber.org/protocol/muc#roomconfig') and
          'muc#roomconfig_roomname' in fields(offered), 'form: %s' % render(offered))
    check(done.get('status') == 'completed' and
          notes(done) == [('info', 'Group made configured.')], 'notes: %s' % notes(done))
    s.expect(status_104('made', A))
    # a group that does not exist: the first form again
    first = run(s, 'cf2', 'group-configure', status='executing')
    again = run(s, 'cf3', 'group-configure', sid=first.get('sessionid'),
                fields=[('group', 'nowhere')], status='executing')
    check(notes(again) == [('error', 'group: no such group here')], 'notes: %s' % notes(again))
    # a value the room refuses: the room's form again, with the field named
    done, _ = configure(s, 'cf4', 'made', [('muc#roomconfig_maxusers', 'many')])
    check(done.get('status') == 'executing' and notes(done)[0][0] == 'error' and
          'maxusers' in notes(done)[0][1], 'notes: %s' % notes(done))


def form_is(x, ns):
    return any(f.get('var') == 'FORM_TYPE' and values(f) == [ns]
               for f in x.findall('{%s}field' % DATA))


@test('groups lists every group, hidden ones too, with its figures, fifty a '
      'page; next shows the rest')
def groups_listing():
    s = rig()
    cmd = run(s, 'gl1', 'groups')
    cols, rows = table(form(cmd))
    check(cols == ['group', 'name', 'listed', 'occupants', 'members', 'messages_24h',
                   'outbox'], 'columns: %s' % cols)
    by = {r['group']: r for r in rows}
    check(cmd.get('status') == 'completed', 'status: %s' % render(cmd))
    check(by['made']['listed'] == 'hidden' and by['made']['name'] == 'Made here' and
          by['made']['occupants'] == '1 (0 legacy)' and by['made']['members'] == 'xmpp 1',
          'made: %s' % by.get('made'))
    check(by['mroom']['listed'] == 'public' and by['mroom']['members'] == 'prpl-irc 1, xmpp 1' and
          by['mroom']['outbox'] == '0',
          'mroom: %s' % by.get('mroom'))
    check(by['mroom']['messages_24h'] == '0', 'mroom: %s' % by['mroom'])
    say(s, 'made', 'gl-say', 'hello')
    s.expect(groupchat_to('made', 'alice', A, 'hello', 'gl-say'))
    total = len(rows)
    for i in range(ADHOC_PAGE - total + 5):
        check(create_group(s, 'pg%d' % i, 'page%02d' % i).get('status') == 'completed',
              'page%02d not created' % i)
    first = run(s, 'gl2', 'groups', status='executing')
    check(actions(first) == ('next', ['complete', 'next']), 'actions: %s' % (actions(first),))
    _, rows1 = table(form(first))
    check(len(rows1) == ADHOC_PAGE and
          notes(first) == [('info', 'Groups 1 to 50 of %d; next for more.' % (ADHOC_PAGE + 5))],
          'page 1: %d rows, %s' % (len(rows1), notes(first)))
    second = run(s, 'gl3', 'groups', sid=first.get('sessionid'), status='completed')
    _, rows2 = table(form(second))
    names = [r['group'] for r in rows1 + rows2]
    check(len(rows2) == 5 and names == sorted(names) and len(set(names)) == ADHOC_PAGE + 5,
          'pages: %s' % names)
    made = [r for r in rows1 + rows2 if r['group'] == 'made'][0]
    check(made['messages_24h'] == '1', 'made: %s' % made)
    # complete on a page ends the listing
    first = run(s, 'gl4', 'groups', status='executing')
    run(s, 'gl5', 'groups', sid=first.get('sessionid'), action='complete', status='completed')


ADHOC_PAGE = 50


@test('stats gives the service\'s figures in one result form')
def stats():
    s = rig()
    cmd = run(s, 'st1', 'stats', status='completed')
    f = {var: values(fl) for var, fl in fields(form(cmd)).items()}
    check(list(f) == ['groups', 'occupants', 'legacy_members', 'accounts_online',
                      'deliveries_per_minute', 'outbox', 'uptime', 'store_size'],
          'fields: %s' % list(f))
    check(f['groups'] == [str(ADHOC_PAGE + 5)], 'groups: %s' % f['groups'])
    check(f['occupants'] == ['2 (0 legacy)'], 'occupants: %s' % f['occupants'])
    check(f['legacy_members'] == ['1'] and f['deliveries_per_minute'] == ['0'], 'f: %s' % f)
    check(re.match(r'^\d+ of \d+$', f['accounts_online'][0]), f['accounts_online'])
    check(re.match(r'^\d+d \d\d:\d\d:\d\d$', f['uptime'][0]), f['uptime'])
    check(re.match(r'^\d+ KiB of \d+ KiB$', f['store_size'][0]), f['store_size'])
    check(notes(cmd) == [('info', 'The service now.')], notes(cmd))


@test('announce: every occupant of any group gets it once from the service, each '
      'legacy target has it queued; an empty or too long one is refused')
def announce():
    s = rig()

    def waiting(ident):
        cmd = run(s, ident, 'stats', status='completed')
        text = values(fields(form(cmd))['outbox'])[0]
        m = re.match(r'^(\d+) \((\d+) notices, 0 room messages\)$', text)
        check(m, 'outbox: %s' % text)
        return int(m.group(1)), int(m.group(2))

    was = waiting('an0')
    first = run(s, 'an1', ANNOUNCE, status='executing')
    check(fields(form(first))['announcement'].get('type') == 'text-multi', render(form(first)))
    again = run(s, 'an2', ANNOUNCE, sid=first.get('sessionid'),
                fields=[('announcement', ['  '])], status='executing')
    check(notes(again) == [('error', 'announcement: say something')], notes(again))
    again = run(s, 'an3', ANNOUNCE, sid=first.get('sessionid'),
                fields=[('announcement', ['x' * 10001])], status='executing')
    check(notes(again) == [('error', 'announcement: at most 10000 characters')], notes(again))
    done, before = run_collect(s, 'an4', ANNOUNCE, sid=first.get('sessionid'),
                               fields=[('announcement', ['Maintenance at 10:00', 'Back soon'])])
    check(done.get('status') == 'completed', render(done))
    got = sorted((st.get('from'), st.get('to'), st.get('type'),
                  st.findtext('{jabber:component:accept}body')) for st in before)
    text = 'Maintenance at 10:00\nBack soon'
    # alice is in made and in mroom with one session: one headline from the
    # service, as Prosody's announcement
    check(got == [(C, A, 'headline', text)], 'sent: %s' % got)
    check(notes(done) == [('info', 'Sent to 1 XMPP user in the groups; queued for 2 '
                                   'legacy members and chats.')], notes(done))
    # the bots of mroom are offline here (no IRC server): both notices wait
    now = waiting('an5')
    # (the bots' own notices to carol may be queued meanwhile too)
    check(now[1] >= was[1] + 2 and now[0] == now[1], 'waiting: %s then %s' % (was, now))
    cmd = run(s, 'an6', 'groups')
    rows = {r['group']: r for r in table(form(cmd))[1]}
    check(int(rows['mroom']['outbox']) >= 2, 'mroom: %s' % rows['mroom'])
    if cmd.get('status') == 'executing':
        run(s, 'an7', 'groups', sid=cmd.get('sessionid'), action='complete')


@test('an owner lists the members with their network, sets the retention and '
      'invites; a participant and a stranger get forbidden')
def owner_commands():
    s = rig()
    room = 'mroom@%s' % C
    for i, node in enumerate(n for n, _ in ROOM_NODES):
        for who in (B, USER):
            send_command(s, 'o%d%s' % (i, who[0]), node, frm=who, to=room)
            s.expect(error_literal('o%d%s' % (i, who[0]), room, 'cancel', 'forbidden', to=who))
    cmd = run(s, 'ow1', 'members', frm=A, to=room, status='completed')
    cols, rows = table(form(cmd))
    check(cols == ['who', 'network', 'affiliation', 'nick'], cols)
    check([(r['who'], r['network'], r['affiliation']) for r in rows] ==
          [('alice@localhost', 'xmpp', 'owner'),
           ('carol', 'prpl-irc (bot mbot)', 'legacy member')], 'rows: %s' % rows)
    # retention
    first = run(s, 'ow2', 'retention', frm=A, to=room, status='executing')
    check(values(fields(form(first))['keep_days']) == ['-1'], render(form(first)))
    again = run(s, 'ow3', 'retention', frm=A, to=room, sid=first.get('sessionid'),
                fields=[('keep_days', 'soon')], status='executing')
    check(notes(again)[0][0] == 'error', notes(again))
    done = run(s, 'ow4', 'retention', frm=A, to=room, sid=first.get('sessionid'),
               fields=[('keep_days', '7')], status='completed')
    check(notes(done) == [('info', 'Retention of mroom set to 7.')], notes(done))
    s.expect(status_104('mroom', A))
    s.send("<iq type='get' id='ow5' from='%s' to='%s'><query "
           "xmlns='http://jabber.org/protocol/muc#owner'/></iq>" % (A, room))
    st = s._need_conn().next_stanza(5)
    kd = [values(f) for f in st.iter('{%s}field' % DATA) if f.get('var') == 'imgroups#keep_days']
    check(kd == [['7']], 'keep_days: %s' % kd)
    # invite: the room passes it on, naming the owner
    first = run(s, 'ow6', 'invite', frm=A, to=room, status='executing')
    done, before = run_collect(s, 'ow7', 'invite', frm=A, to=room, sid=first.get('sessionid'),
                               fields=[('jid', 'bob@localhost'), ('reason', 'come')])
    check(notes(done) == [('info', 'bob@localhost invited.')], notes(done))
    check(len(before) == 1, 'sent: %s' % [render(b) for b in before])
    inv = before[0]
    check(inv.get('from') == room and inv.get('to') == 'bob@localhost' and
          inv.find('{http://jabber.org/protocol/muc#user}x/'
                   '{http://jabber.org/protocol/muc#user}invite').get('from') ==
          'alice@localhost', render(inv))
    # the admin, who owns every group, runs them too
    run(s, 'ow8', 'members', frm=ADMIN, to=room, status='completed')


@test('group-destroy tells each occupant, and the group is gone')
def group_destroy():
    s = rig()
    first = run(s, 'gd1', 'group-destroy', status='executing')
    done, before = run_collect(s, 'gd2', 'group-destroy', sid=first.get('sessionid'),
                               fields=[('group', 'made@%s' % C), ('reason', 'closing')])
    check(notes(done) == [('info', 'Group made destroyed.')], notes(done))
    check(len(before) == 1 and before[0].get('type') == 'unavailable' and
          before[0].get('to') == A, 'sent: %s' % [render(b) for b in before])
    d = before[0].find('{http://jabber.org/protocol/muc#user}x/'
                       '{http://jabber.org/protocol/muc#user}destroy')
    check(d is not None and d.findtext('{http://jabber.org/protocol/muc#user}reason') ==
          'closing', render(before[0]))
    cmd = run(s, 'gd3', 'groups')
    names = [r['group'] for r in table(form(cmd))[1]]
    check('made' not in names, 'still listed: %s' % names)


@test('a page of groups stays within [component] stanza_limit: long names '
      'make shorter pages, and the pages hold every group once')
def page_bound():
    limit = 16384
    s = FakeServer()
    d = tmpdir()
    cfg = config(s.port, os.path.join(d, 'store'))
    del cfg['account:filebot']
    cfg['component']['stanza_limit'] = str(limit)
    cfg['limits']['stanza_size'] = str(limit // 2)
    proc = Imgroups(cfg, workdir=d)
    s.wait_for_connection(10)
    SUITE.track(s)
    SUITE.track(proc)
    # localparts of 123 bytes (the store keys 128): 24 rows are more than
    # half of the limit
    names = sorted('g%02d' % i + 'x' * 120 for i in range(24))
    for i, name in enumerate(names):
        check(create_group(s, 'pb%d' % i, name).get('status') == 'completed',
              '%s not created' % name[:3])
    seen, sid, ident = [], None, 0
    while True:
        ident += 1
        send_command(s, 'pq%d' % ident, 'groups', sid=sid)
        st = s._need_conn().next_stanza(5)
        check(st is not None, 'no page')
        text = render(st)
        check(len(text.encode()) < limit, 'a page of %d bytes' % len(text.encode()))
        cmd = st.find('{%s}command' % CMD)
        rows = table(form(cmd))[1]
        check(0 < len(rows) < 24, '%d rows on a page' % len(rows))
        seen += [r['group'] for r in rows]
        if cmd.get('status') == 'completed':
            break
        sid = cmd.get('sessionid')
    check(seen == names and ident > 1, 'groups seen on %d pages: %s'
          % (ident, [n[:3] for n in seen]))


@test('the imgroups of these tests stops cleanly, open sessions and all '
      '(under ASan: nothing leaked)')
def clean_stop():
    rig()
    proc = _rig['proc']
    check(proc.stop() == 0, 'exit status %s' % proc.returncode)
    check(not SANITIZER_RE.search(proc.log()), 'sanitizer report in the log')


if __name__ == '__main__':
    SUITE.run()
