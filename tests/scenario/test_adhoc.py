"""Scenario: XEP-0050 ad-hoc commands — the admins' bot account commands on
the component JID (list, add, change, enable, disable, remove), the owners'
member-add on a room JID, sessions, errors, and passwords never sent back."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SANITIZER_RE, FakeServer, Imgroups, SUITE, base_config,  # noqa: E402
                     check, render, render_config, test, tmpdir)
from muclib import A, B, C, ERR, create  # noqa: E402

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
               ('account-remove', 'Remove a bot account')]


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
                    for n, name in ADMIN_NODES)
    q = "<query xmlns='http://jabber.org/protocol/disco#items' node='%s'" % CMD
    s.send("<iq type='get' id='l1' from='%s' to='%s'>%s/></iq>" % (ADMIN, C, q))
    s.expect("<iq type='result' id='l1' from='%s' to='%s'>%s>%s</query></iq>"
             % (C, ADMIN, q, items))
    s.send("<iq type='get' id='l2' from='%s' to='%s'>%s/></iq>" % (USER, C, q))
    s.expect("<iq type='result' id='l2' from='%s' to='%s'>%s/></iq>" % (C, USER, q))
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
    s.send("<iq type='get' id='m1' from='%s' to='%s'>%s/></iq>" % (A, room, q))
    s.expect("<iq type='result' id='m1' from='%s' to='%s'>%s>"
             "<item jid='%s' node='member-add' name='Add a legacy member'/></query></iq>"
             % (room, A, q, room))
    # the service admins own every group
    s.send("<iq type='get' id='m1a' from='%s' to='%s'>%s/></iq>" % (ADMIN, room, q))
    s.expect("<iq type='result' id='m1a' from='%s' to='%s'>%s>"
             "<item jid='%s' node='member-add' name='Add a legacy member'/></query></iq>"
             % (room, ADMIN, q, room))
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


@test('the imgroups of these tests stops cleanly, open sessions and all '
      '(under ASan: nothing leaked)')
def clean_stop():
    rig()
    proc = _rig['proc']
    check(proc.stop() == 0, 'exit status %s' % proc.returncode)
    check(not SANITIZER_RE.search(proc.log()), 'sanitizer report in the log')


if __name__ == '__main__':
    SUITE.run()
