/* bridge: legacy members and chats as occupants, their commands, and the
 * outbox that carries the room to them (bridge.h). */
#include "bridge.h"

#include <string.h>

#include "affiliations.h"
#include "archive.h"
#include "bounds.h"
#include "bucket.h"
#include "jid.h"
#include "legacy.h"
#include "log.h"
#include "members.h"
#include "nick.h"
#include "outbox.h"
#include "stanza.h"

#define HISTORY_DEFAULT 10 /* /history without a number */
#define HISTORY_MAX     50
#define NICK_MAX_CHARS  48
#define CHAT_REJOIN_S   30 /* after the bot lost the legacy chat */
#define FORGET_BATCH    200
#define NOTICE_NICK     "" /* outbox nick of the bot's own notices */

/* One running bot account. */
typedef struct bacct {
    bridge *b; /* back to the bridge, for timers */
    char *name;
    char *protocol;
    char *group;
    gboolean chat_mode;
    char *chat; /* chat mode: the legacy chat */
    guint burst;
    double rate;
    gboolean up;          /* signed on (account_up seen) */
    gboolean chat_in;     /* chat mode: the bot is in the chat */
    GHashTable *online;   /* handle -> show (char *: "" available) */
    GHashTable *dirty;    /* target key ("i"handle / "c"chat) -> itself */
    GHashTable *cursor;   /* target key -> guint64 * last id handed out */
    GHashTable *inflight; /* guint64 * id -> flight * */
    GHashTable *in_chat;  /* chat nick -> bare JID of its occupant */
    bucket pace; /* burst at once, then rate per second */
    guint rejoin_id;
} bacct;

/* A delivery handed to the worker and not yet reported. */
typedef struct flight {
    char *key;     /* target key */
    gboolean upto; /* a digest: every entry up to the id goes with it */
} flight;

struct bridge {
    const config *cfg;
    store *st;
    muc *m;
    registry *reg;
    legacy *lg;
    uplink *up;
    GHashTable *accts; /* name -> bacct * (owned) */
    guint pump_id;
    GQueue jobs; /* archive_job * erasures waiting to run */
    guint jobs_id;
    gboolean stopping; /* bridge_shutdown was called */
};

/* ---- small helpers ---- */

static void bacct_free(gpointer data)
{
    bacct *a = data;

    if (a->rejoin_id)
        g_source_remove(a->rejoin_id);
    g_free(a->name);
    g_free(a->protocol);
    g_free(a->group);
    g_free(a->chat);
    g_hash_table_unref(a->online);
    g_hash_table_unref(a->dirty);
    g_hash_table_unref(a->cursor);
    g_hash_table_unref(a->inflight);
    g_hash_table_unref(a->in_chat);
    g_free(a);
}

static void flight_free(gpointer data)
{
    flight *f = data;

    g_free(f->key);
    g_free(f);
}

static char *target_key(char kind, const char *target)
{
    return g_strdup_printf("%c%s", kind, target);
}

/* The network's name for nick suffixes: prpl-irc -> irc. */
static const char *network_name(const char *protocol)
{
    static const struct {
        const char *prpl, *name;
    } names[] = {
        {"prpl-jabber", "xmpp"},
        {"prpl-imgroups-msn", "msn"},
        {"prpl-imgroups-yahoo", "yahoo"},
    };
    const char *dash;

    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (!strcmp(protocol, names[i].prpl))
            return names[i].name;
    dash = strrchr(protocol, '-');
    return dash && dash[1] ? dash + 1 : protocol;
}

char *bridge_legacy_jid(const char *component, const char *account, char kind,
                        const char *handle)
{
    /* XEP-0106 §3.3: these characters are escaped as \hh in a localpart. */
    static const char escaped[] = " \"&'/:<>@\\";
    GString *node = g_string_new(NULL);
    char *folded, *domain, *out;

    if (kind == 'c')
        g_string_append(node, "chat\\20");
    for (const char *p = handle; *p; p++) {
        if (strchr(escaped, *p) || (guchar)*p < 0x20)
            g_string_append_printf(node, "\\%02x", (guchar)*p);
        else
            g_string_append_c(node, *p);
    }
    folded = jid_node_fold(node->str);
    domain = g_ascii_strdown(account, -1);
    out = g_strdup_printf("%s@%s.legacy.%s", folded ? folded : node->str,
                          domain, component);
    g_free(domain);
    g_free(folded);
    g_string_free(node, TRUE);
    return out;
}

static char *member_jid(bridge *b, const bacct *a, const char *handle)
{
    return bridge_legacy_jid(b->cfg->jid, a->name, 'i', handle);
}

/* ---- store writes ---- */

static int put_member_txn(MDB_txn *txn, const store *st, void *userdata)
{
    return members_put(txn, st, userdata);
}

static int add_outbox_txn(MDB_txn *txn, const store *st, void *userdata)
{
    return outbox_add(txn, st, userdata);
}

static gboolean write_ok(bridge *b, store_write_fn fn, void *data,
                         const char *what)
{
    GError *err = NULL;

    if (store_write(b->st, fn, data, &err) == 0)
        return TRUE;
    log_error(LOG_BRIDGE, "%s: %s", what, err ? err->message : "failed");
    g_clear_error(&err);
    return FALSE;
}

static member_rec *member_load(bridge *b, const char *account,
                               const char *handle)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    member_rec *m = NULL;
    int rc;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
        return NULL;
    }
    rc = members_get(txn, b->st, account, handle, &m);
    store_read_end(txn);
    if (rc != 0 && rc != MDB_NOTFOUND)
        log_error(LOG_BRIDGE, "member of %s cannot be read: %s", account,
                  mdb_strerror(rc));
    return rc == 0 ? m : NULL;
}

static void wake(bridge *b);

/* Queues a message for a legacy target (durably, in the current turn):
 * nick NOTICE_NICK for the bot's own words. */
static void queue(bridge *b, bacct *a, char kind, const char *target,
                  const char *nick, const char *body)
{
    outbox_msg msg = {0};
    char *key;

    msg.account = a->name;
    msg.kind = kind;
    msg.target = (char *)target;
    msg.group = a->group;
    msg.time_us = g_get_real_time();
    msg.nick = (char *)nick;
    msg.body = (char *)body;
    if (!write_ok(b, add_outbox_txn, &msg, "outbox"))
        return;
    key = target_key(kind, target);
    g_hash_table_replace(a->dirty, key, key);
    wake(b);
}

static void notice(bridge *b, bacct *a, const char *handle, const char *text)
{
    queue(b, a, OUTBOX_KIND_IM, handle, NOTICE_NICK, text);
}

/* ---- nicks ---- */

/* What a member is called by default: their alias, else their handle
 * without a domain part (a handle like bob@example.org stays private). */
static char *nick_base(const char *alias, const char *handle)
{
    const char *src = alias && *alias ? alias : handle;
    char *s, *at;
    GString *out = g_string_new(NULL);

    s = g_utf8_make_valid(src, -1);
    if (!(alias && *alias) && (at = strchr(s, '@')) && at != s)
        *at = '\0';
    for (const char *p = s; *p && g_utf8_strlen(out->str, -1) < NICK_MAX_CHARS;
         p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        g_string_append_unichar(out, g_unichar_iscntrl(c) ? ' ' : c);
    }
    g_free(s);
    /* RFC 8266 as for every nick (nick.h); room left for a suffix. */
    s = nick_clean(out->str, BOUND_NICK_BYTES - 32);
    g_string_free(out, TRUE);
    return s ? s : g_strdup("guest");
}

/* base, or base with a suffix naming the network when taken. */
static char *nick_unique(bridge *b, const bacct *a, const char *base,
                         const char *bare)
{
    const char *net = network_name(a->protocol);

    if (muc_legacy_nick_free(b->m, a->group, base, bare))
        return g_strdup(base);
    for (int i = 1; i < 100; i++) {
        char *n = i == 1 ? g_strdup_printf("%s (%s)", base, net)
                         : g_strdup_printf("%s (%s %d)", base, net, i);
        if (muc_legacy_nick_free(b->m, a->group, n, bare))
            return n;
        g_free(n);
    }
    return g_strdup_printf("%s (%s %08x)", base, net, g_random_int());
}

/* ---- occupants ---- */

static const char *show_of(const char *status)
{
    if (!strcmp(status, "away"))
        return "away";
    if (!strcmp(status, "dnd"))
        return "dnd";
    return NULL;
}

/* Enters member m (or updates its presence); a nick that someone took
 * meanwhile is replaced by a unique one and kept. Returns the error and
 * *why when the room refuses. */
static enum xerr member_enter(bridge *b, bacct *a, member_rec *m,
                              const char **why)
{
    const char *status = g_hash_table_lookup(a->online, m->handle);
    char *bare = member_jid(b, a, m->handle);
    enum xerr e;

    e = muc_legacy_enter(b->m, b->up, a->group, bare, 'i', a->name, m->handle,
                         m->nick, status ? show_of(status) : NULL, why);
    if (e == XERR_CONFLICT) {
        char *base = nick_base(m->alias, m->handle);
        char *nick = nick_unique(b, a, base, bare);
        g_free(base);
        g_free(m->nick);
        m->nick = nick;
        write_ok(b, put_member_txn, m, "member");
        e = muc_legacy_enter(b->m, b->up, a->group, bare, 'i', a->name,
                             m->handle, m->nick,
                             status ? show_of(status) : NULL, why);
    }
    g_free(bare);
    return e;
}

static void member_exit(bridge *b, bacct *a, const char *handle,
                        const char *status)
{
    char *bare = member_jid(b, a, handle);

    muc_legacy_exit(b->m, b->up, a->group, bare, status);
    g_free(bare);
}

/* Every occupant that account a brought in leaves (the bot went away). */
static void exit_all(bridge *b, bacct *a, const char *why)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, a->online);
    while (g_hash_table_iter_next(&it, &k, NULL))
        member_exit(b, a, k, why);
    g_hash_table_iter_init(&it, a->in_chat);
    while (g_hash_table_iter_next(&it, NULL, &v))
        muc_legacy_exit(b->m, b->up, a->group, v, why);
    g_hash_table_remove_all(a->online);
    g_hash_table_remove_all(a->in_chat);
    a->chat_in = FALSE;
}

/* Deliveries handed to the worker are forgotten: they go again, in order,
 * from the outbox. */
static void rewind_all(bacct *a)
{
    g_hash_table_remove_all(a->inflight);
    g_hash_table_remove_all(a->cursor);
}

static void rewind_target(bacct *a, const char *key)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, a->inflight);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!strcmp(((flight *)v)->key, key))
            g_hash_table_iter_remove(&it);
    g_hash_table_remove(a->cursor, key);
}

/* ---- the outbox pump: runs outside turns, on committed data ---- */

typedef struct pick {
    bridge *b;
    const bacct *a;
    guint64 count; /* digest: entries seen */
    guint keep;    /* digest: the last this many are shown */
    GQueue lines;  /* digest: char * */
    guint64 last_id;
    outbox_msg *first; /* plain: the next entry */
} pick;

static char *render(const outbox_msg *msg)
{
    if (!*msg->nick)
        return g_strdup(msg->body);
    if (g_str_has_prefix(msg->body, "/me "))
        return g_strdup_printf("* %s %s", msg->nick, msg->body + 4);
    return g_strdup_printf("<%s> %s", msg->nick, msg->body);
}

static int pick_first(const outbox_msg *msg, void *userdata)
{
    pick *p = userdata;

    p->first = g_new0(outbox_msg, 1);
    p->first->id = msg->id;
    p->first->nick = g_strdup(msg->nick);
    p->first->body = g_strdup(msg->body);
    return 1;
}

static int pick_digest(const outbox_msg *msg, void *userdata)
{
    pick *p = userdata;

    p->count++;
    p->last_id = msg->id;
    g_queue_push_tail(&p->lines, render(msg));
    while (p->lines.length > p->keep)
        g_free(g_queue_pop_head(&p->lines));
    return 0;
}

static gboolean reachable(const bacct *a, const char *key)
{
    if (!a->up)
        return FALSE;
    if (key[0] == OUTBOX_KIND_CHAT)
        return a->chat_in && a->chat && !strcmp(key + 1, a->chat);
    return g_hash_table_contains(a->online, key + 1);
}

static void hand_out(bridge *b, bacct *a, const char *key, guint64 id,
                     gboolean upto, const char *text)
{
    guint64 *idp = g_new(guint64, 1);
    guint64 *cur = g_new(guint64, 1);
    flight *f = g_new0(flight, 1);
    enum proto_type t =
        key[0] == OUTBOX_KIND_CHAT ? PROTO_SEND_CHAT : PROTO_SEND_IM;

    *idp = *cur = id;
    f->key = g_strdup(key);
    f->upto = upto;
    g_hash_table_replace(a->inflight, idp, f);
    g_hash_table_replace(a->cursor, g_strdup(key), cur);
    legacy_send(b->lg, a->name, t,
                g_variant_new("(tsss)", id, a->name, key + 1, text));
}

/* Hands the next entry of key to the worker: 1 sent, 0 nothing waiting,
 * -1 the store could not be read. */
static int send_next(bridge *b, bacct *a, const char *key)
{
    guint64 *cur = g_hash_table_lookup(a->cursor, key);
    guint64 after = cur ? *cur : 0;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    pick p = {b, a, 0, 0, G_QUEUE_INIT, 0, NULL};
    guint64 waiting = 0;
    int rc = 0, sent = 0;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "outbox: %s", err->message);
        g_error_free(err);
        return -1;
    }
    if (!cur && b->cfg->digest_after > 0)
        rc =
            outbox_count_target(txn, b->st, a->name, key[0], key + 1, &waiting);
    if (rc == 0 && waiting > b->cfg->digest_after) {
        /* DESIGN: past a limit, a member who was away gets a digest. */
        p.keep = b->cfg->digest_after;
        rc = outbox_foreach_target(txn, b->st, a->name, key[0], key + 1, 0,
                                   pick_digest, &p);
    } else if (rc == 0)
        rc = outbox_foreach_target(txn, b->st, a->name, key[0], key + 1, after,
                                   pick_first, &p);
    store_read_end(txn);
    if (rc < 0 || (rc > 1 && rc != MDB_NOTFOUND)) {
        log_error(LOG_BRIDGE, "outbox of %s cannot be read: %s", a->name,
                  mdb_strerror(rc));
        sent = -1;
    } else if (p.count > 0) {
        GString *text = g_string_new(NULL);
        g_string_printf(text,
                        "(%" G_GUINT64_FORMAT
                        " messages while you were away; the last %u:)",
                        p.count, p.lines.length);
        for (GList *l = p.lines.head; l; l = l->next)
            g_string_append_printf(text, "\n%s", (char *)l->data);
        hand_out(b, a, key, p.last_id, TRUE, text->str);
        g_string_free(text, TRUE);
        sent = 1;
    } else if (p.first) {
        char *text = render(p.first);
        hand_out(b, a, key, p.first->id, FALSE, text);
        g_free(text);
        sent = 1;
    }
    g_queue_clear_full(&p.lines, g_free);
    if (p.first)
        outbox_msg_free(p.first);
    return sent;
}

static gboolean pump_cb(gpointer data);

static void pump_later(bridge *b, guint ms)
{
    if (!b->pump_id)
        b->pump_id = g_timeout_add(ms, pump_cb, b);
}

static void wake(bridge *b)
{
    pump_later(b, 0);
}

/* The account's pace (bucket.h). */
static void refill(bacct *a)
{
    bucket_refill(&a->pace, a->rate, a->burst, g_get_monotonic_time());
}

/* Round robin over the account's waiting targets, one entry each per
 * round, while tokens last. Returns the ms until tokens are back, or 0. */
static guint pump_account(bridge *b, bacct *a)
{
    gboolean progress = TRUE;

    if (!a->up || g_hash_table_size(a->dirty) == 0)
        return 0;
    refill(a);
    while (progress) {
        GList *keys = g_hash_table_get_keys(a->dirty);
        progress = FALSE;
        for (GList *l = keys; l; l = l->next) {
            const char *key = l->data;
            int rc;
            if (!reachable(a, key))
                continue;
            if (a->pace.tokens < 1.0) {
                g_list_free(keys);
                return (guint)MAX(1.0, 1000.0 / a->rate);
            }
            rc = send_next(b, a, key);
            if (rc == 1) {
                a->pace.tokens -= 1.0;
                progress = TRUE;
            } else if (rc == 0)
                g_hash_table_remove(a->dirty, key);
        }
        g_list_free(keys);
    }
    return 0;
}

static gboolean pump_cb(gpointer data)
{
    bridge *b = data;
    GHashTableIter it;
    gpointer v;
    guint again = 0;

    b->pump_id = 0;
    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        guint ms = pump_account(b, v);
        if (ms && (!again || ms < again))
            again = ms;
    }
    if (again)
        pump_later(b, again);
    return G_SOURCE_REMOVE;
}

/* Every target of a with entries waiting goes on its dirty list. */
static int mark_dirty(const char *account, char kind, const char *target,
                      guint64 pending, void *userdata)
{
    bacct *a = userdata;
    char *key = target_key(kind, target);

    g_hash_table_replace(a->dirty, key, key);
    return 0;
}

static void load_dirty(bridge *b, bacct *a)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "outbox: %s", err->message);
        g_error_free(err);
        return;
    }
    outbox_foreach_pending_target(txn, b->st, a->name, mark_dirty, a);
    store_read_end(txn);
}

/* ---- deliveries reported ---- */

typedef struct remove_args {
    const bacct *a;
    const char *key;
    guint64 id;
    gboolean upto;
    GArray *ids;
} remove_args;

static int collect_upto(const outbox_msg *msg, void *userdata)
{
    remove_args *r = userdata;

    if (msg->id > r->id)
        return 1;
    g_array_append_val(r->ids, msg->id);
    return 0;
}

static int remove_txn(MDB_txn *txn, const store *st, void *userdata)
{
    remove_args *r = userdata;
    int rc;

    if (!r->upto)
        return outbox_remove(txn, st, r->a->name, r->key[0], r->key + 1, r->id);
    g_array_set_size(r->ids, 0);
    rc = outbox_foreach_target(txn, st, r->a->name, r->key[0], r->key + 1, 0,
                               collect_upto, r);
    if (rc < 0 || (rc > 1 && rc != MDB_NOTFOUND))
        return rc;
    for (guint i = 0; i < r->ids->len; i++) {
        rc = outbox_remove(txn, st, r->a->name, r->key[0], r->key + 1,
                           g_array_index(r->ids, guint64, i));
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* settle_txn's state: the transaction is only known inside it. */
typedef struct settle_args {
    const char *account;
    guint64 id;
    MDB_txn *txn;
    const store *st;
} settle_args;

static int settle_target(const char *account, char kind, const char *target,
                         guint64 pending, void *userdata)
{
    settle_args *sa = userdata;

    (void)pending;
    return outbox_remove(sa->txn, sa->st, account, kind, target, sa->id);
}

static int settle_txn(MDB_txn *txn, const store *st, void *userdata)
{
    settle_args *sa = userdata;

    sa->txn = txn;
    sa->st = st;
    return outbox_foreach_pending_target(txn, st, sa->account, settle_target,
                                         sa);
}

/* Removes entry id of whichever target of a holds it (ids are unique). */
static void settle_by_id(bridge *b, bacct *a, guint64 id)
{
    settle_args sa = {a->name, id, NULL, NULL};

    write_ok(b, settle_txn, &sa, "outbox");
}

static void on_delivered(bridge *b, bacct *a, GVariant *body)
{
    guint64 id;
    flight *f;
    remove_args r = {a, NULL, 0, FALSE, NULL};

    g_variant_get(body, "(t)", &id);
    f = g_hash_table_lookup(a->inflight, &id);
    if (!f) {
        /* Handed out before a rewind or by an earlier run of imgroups (a
         * worker reports, when it starts, what the network took after its
         * last core died): it went out, so it must not go again. */
        settle_by_id(b, a, id);
        return;
    }
    r.key = f->key;
    r.id = id;
    r.upto = f->upto;
    r.ids = g_array_new(FALSE, FALSE, sizeof(guint64));
    write_ok(b, remove_txn, &r, "outbox");
    g_array_unref(r.ids);
    g_hash_table_remove(a->inflight, &id);
}

static void chat_join(bridge *b, bacct *a);

static gboolean rejoin_cb(gpointer data)
{
    bacct *a = data;

    a->rejoin_id = 0;
    chat_join(a->b, a);
    return G_SOURCE_REMOVE;
}

static void on_failed(bridge *b, bacct *a, GVariant *body)
{
    guint64 id;
    const char *why;
    flight *f;
    char *key;

    g_variant_get(body, "(t&s)", &id, &why);
    f = g_hash_table_lookup(a->inflight, &id);
    if (!f)
        return;
    key = g_strdup(f->key);
    log_info(LOG_BRIDGE, "account %s: a delivery failed (%s); it waits",
             a->name, why);
    /* The target is unreachable for now: what was handed out after it
     * goes again, in order, once it is back. */
    rewind_target(a, key);
    if (key[0] == OUTBOX_KIND_IM) {
        member_exit(b, a, key + 1, NULL);
        g_hash_table_remove(a->online, key + 1);
    } else {
        a->chat_in = FALSE;
        chat_join(b, a);
    }
    g_free(key);
}

/* ---- contacts mode: members and their commands ---- */

static void welcome(bridge *b, bacct *a, const member_rec *m)
{
    const group_cfg *g = muc_group(b->m, a->group);
    gint32 days =
        g && g->keep_days >= 0 ? g->keep_days : (gint32)b->cfg->keep_days;
    char *kept = days > 0
                     ? g_strdup_printf("kept in its archive for %d days", days)
                     : g_strdup("kept in its archive");
    char *text = g_strdup_printf(
        "Welcome to the group %s@%s. Everything you send me is said in the "
        "group as \"%s\" and %s; what the group says reaches you from me. "
        "Members see your nick, never your address. Send /help for "
        "commands, /leave to stop, /forgetme to leave and erase what the "
        "group keeps about you.",
        a->group, b->cfg->jid, m->nick, kept);

    notice(b, a, m->handle, text);
    g_free(text);
    g_free(kept);
}

typedef struct cmd_ctx {
    bridge *b;
    bacct *a;
    member_rec *m;
    const char *arg; /* after the command word, stripped; "" if none */
} cmd_ctx;

static void cmd_help(cmd_ctx *c)
{
    notice(c->b, c->a, c->m->handle,
           "Commands: /who (who is here), /nick NEW (change your nick), "
           "/mute and /unmute (stop and resume messages from the group), "
           "/history N (the last N messages), /me TEXT (an action), "
           "/leave (leave the group), /forgetme (leave and erase your "
           "messages and membership). Anything else you send is said in "
           "the group.");
}

static void cmd_who(cmd_ctx *c)
{
    char **nicks = muc_occupant_nicks(c->b->m, c->a->group);
    guint n = nicks ? g_strv_length(nicks) : 0;
    char *list = nicks ? g_strjoinv(", ", nicks) : g_strdup("");
    char *text = g_strdup_printf("In the group (%u): %s", n, list);

    notice(c->b, c->a, c->m->handle, text);
    g_free(text);
    g_free(list);
    g_strfreev(nicks);
}

static void cmd_nick(cmd_ctx *c)
{
    char *bare = member_jid(c->b, c->a, c->m->handle);
    char *nick = nick_base(c->arg, c->m->handle);
    char *text;

    if (!*c->arg) {
        text = g_strdup_printf("Your nick is %s. /nick NEW changes it.",
                               c->m->nick);
    } else if (!muc_legacy_nick_free(c->b->m, c->a->group, nick, bare)) {
        text = g_strdup_printf("The nick %s is taken; pick another.", nick);
    } else {
        enum xerr e =
            muc_legacy_rename(c->b->m, c->b->up, c->a->group, bare, nick);
        if (e == XERR_NONE || e == XERR_ITEM_NOT_FOUND) {
            g_free(c->m->nick);
            c->m->nick = g_strdup(nick);
            write_ok(c->b, put_member_txn, c->m, "member");
            text = g_strdup_printf("You are now %s.", nick);
        } else
            text = g_strdup_printf("The nick %s is taken; pick another.", nick);
    }
    notice(c->b, c->a, c->m->handle, text);
    g_free(text);
    g_free(nick);
    g_free(bare);
}

static void cmd_mute(cmd_ctx *c, gboolean on)
{
    c->m->muted = on;
    write_ok(c->b, put_member_txn, c->m, "member");
    notice(c->b, c->a, c->m->handle,
           on ? "Muted: the group's messages stop until you send /unmute. "
                "What you send is still said in the group."
              : "Unmuted: the group's messages reach you again.");
}

static void cmd_history(cmd_ctx *c)
{
    int n = *c->arg ? atoi(c->arg) : HISTORY_DEFAULT;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    GPtrArray *msgs = NULL;
    GString *text;
    int rc;

    n = CLAMP(n, 1, HISTORY_MAX);
    if (store_read_begin(c->b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
        return;
    }
    rc = archive_history(txn, c->b->st, c->a->group, n, -1, 0, NULL, NULL,
                         &msgs);
    store_read_end(txn);
    if (rc != 0) {
        notice(c->b, c->a, c->m->handle,
               "The history cannot be read right now.");
        return;
    }
    text = g_string_new(NULL);
    g_string_printf(text, "The last %u messages:", msgs->len);
    for (guint i = 0; i < msgs->len; i++) {
        const archive_msg *am = g_ptr_array_index(msgs, i);
        GDateTime *t = g_date_time_new_from_unix_utc(am->time_us / 1000000);
        char *hm = g_date_time_format(t, "%H:%M");
        g_string_append_printf(text, "\n[%s] <%s> %s", hm, am->nick,
                               am->body ? am->body : "");
        g_free(hm);
        g_date_time_unref(t);
    }
    if (msgs->len == 0)
        g_string_assign(text, "Nothing has been said yet.");
    notice(c->b, c->a, c->m->handle, text->str);
    g_string_free(text, TRUE);
    g_ptr_array_unref(msgs);
}

typedef struct drop_args {
    const bacct *a;
    const char *handle;
    const char *bare;
} drop_args;

static int drop_member_txn(MDB_txn *txn, const store *st, void *userdata)
{
    drop_args *d = userdata;
    guint64 dropped = 0;
    enum affiliation aff = AFF_NONE;
    int rc = members_delete(txn, st, d->a->name, d->handle);

    if (rc == 0)
        rc = outbox_drop_target(txn, st, d->a->name, OUTBOX_KIND_IM, d->handle,
                                &dropped);
    if (rc == 0)
        rc = affiliations_get(txn, st, d->a->group, d->bare, &aff);
    /* A ban stays: leaving is no way around it. */
    if (rc == 0 && aff != AFF_OUTCAST && aff != AFF_NONE)
        rc = affiliations_set(txn, st, d->a->group, d->bare, AFF_NONE, NULL);
    return rc;
}

static gboolean jobs_cb(gpointer data);

static void member_drop(cmd_ctx *c, gboolean erase)
{
    char *bare = member_jid(c->b, c->a, c->m->handle);
    drop_args d = {c->a, c->m->handle, bare};
    char *key = target_key(OUTBOX_KIND_IM, c->m->handle);

    member_exit(c->b, c->a, c->m->handle, erase ? "erased" : "left");
    rewind_target(c->a, key);
    g_hash_table_remove(c->a->dirty, key);
    g_free(key);
    if (!write_ok(c->b, drop_member_txn, &d, "member")) {
        notice(c->b, c->a, c->m->handle,
               "Something went wrong; nothing was changed. Try again later.");
        g_free(bare);
        return;
    }
    legacy_send(c->b->lg, c->a->name, PROTO_BUDDY_REMOVE,
                g_variant_new("(ss)", c->a->name, c->m->handle));
    if (erase) {
        g_queue_push_tail(
            &c->b->jobs,
            archive_job_forget_legacy(c->a->name, c->m->handle, FORGET_BATCH));
        if (!c->b->jobs_id)
            c->b->jobs_id = g_idle_add(jobs_cb, c->b);
        log_info(LOG_BRIDGE, "account %s: a member asked to be forgotten",
                 c->a->name);
    }
    notice(c->b, c->a, c->m->handle,
           erase ? "You have left the group, and your membership and every "
                   "message you sent to it are being erased. Message me "
                   "again to rejoin as someone new."
                 : "You have left the group; its messages stop now. Message "
                   "me again to rejoin.");
    g_free(bare);
}

static void cmd_leave(cmd_ctx *c)
{
    member_drop(c, FALSE);
}

static void cmd_forgetme(cmd_ctx *c)
{
    member_drop(c, TRUE);
}

static void cmd_mute_on(cmd_ctx *c)
{
    cmd_mute(c, TRUE);
}

static void cmd_mute_off(cmd_ctx *c)
{
    cmd_mute(c, FALSE);
}

static const struct {
    const char *name;
    void (*fn)(cmd_ctx *c);
} commands[] = {
    {"help", cmd_help},    {"who", cmd_who},           {"nick", cmd_nick},
    {"mute", cmd_mute_on}, {"unmute", cmd_mute_off},   {"history", cmd_history},
    {"leave", cmd_leave},  {"forgetme", cmd_forgetme},
};

/* A line starting with '/' that names a command: runs it, TRUE. */
static gboolean command(bridge *b, bacct *a, member_rec *m, const char *body)
{
    const char *p = body + 1;
    size_t len = strcspn(p, " \t\n");
    char *arg;

    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        cmd_ctx c = {b, a, m, NULL};
        if (strlen(commands[i].name) != len ||
            g_ascii_strncasecmp(p, commands[i].name, len) != 0)
            continue;
        arg = g_strstrip(g_strdup(p + len));
        c.arg = arg;
        commands[i].fn(&c);
        g_free(arg);
        return TRUE;
    }
    return FALSE;
}

/* A new member of a's group, or NULL (told why) when the group refuses. */
static member_rec *member_join(bridge *b, bacct *a, const char *handle,
                               const char *alias)
{
    char *bare = member_jid(b, a, handle);
    gboolean exists = FALSE;
    enum affiliation aff = muc_group_affiliation(b->m, a->group, bare, &exists);
    const group_cfg *g = muc_group(b->m, a->group);
    member_rec *m = NULL;
    char *base;

    if (!exists || !g) {
        notice(b, a, handle, "This group does not exist any more.");
        goto leave;
    }
    if (aff == AFF_OUTCAST) {
        notice(b, a, handle, "You are banned from this group.");
        goto leave;
    }
    if (g->members_only && aff == AFF_NONE) {
        char *text = g_strdup_printf(
            "This group is for members only. Ask one of its owners to add "
            "you: they need your %s handle, %s.",
            network_name(a->protocol), handle);
        notice(b, a, handle, text);
        g_free(text);
        goto leave;
    }
    m = g_new0(member_rec, 1);
    m->account = g_strdup(a->name);
    m->handle = g_strdup(handle);
    m->group = g_strdup(a->group);
    m->alias = alias && *alias ? g_strdup(alias) : NULL;
    base = nick_base(alias, handle);
    m->nick = nick_unique(b, a, base, bare);
    g_free(base);
    m->since_us = m->seen_us = g_get_real_time();
    if (!write_ok(b, put_member_txn, m, "member")) {
        member_rec_free(m);
        m = NULL;
        goto leave;
    }
    legacy_send(b->lg, a->name, PROTO_BUDDY_ADD,
                g_variant_new("(ss)", a->name, handle));
    log_info(LOG_BRIDGE, "account %s: a new member joined %s", a->name,
             a->group);
leave:
    g_free(bare);
    return m;
}

/* A legacy handle is part of the members' and outbox keys: one over
 * STORE_HANDLE_MAX cannot be kept, so it is not made a member, an occupant
 * or a buddy (issue 9, item 11: bounded where it enters). */
static gboolean handle_fits(const bacct *a, const char *handle)
{
    if (strlen(handle) <= STORE_HANDLE_MAX)
        return TRUE;
    log_debug(LOG_BRIDGE, "account %s: ignoring a legacy handle of %zu bytes "
                          "(over %d)",
              a->name, strlen(handle), STORE_HANDLE_MAX);
    return FALSE;
}

static void on_im(bridge *b, bacct *a, GVariant *body)
{
    const char *handle, *alias, *text;
    member_rec *m;
    const char *why = NULL;
    enum xerr e;
    char *bare;

    g_variant_get(body, "(&s&s&s&s)", NULL, &handle, &alias, &text);
    if (!*handle || !*text || !handle_fits(a, handle))
        return;
    /* Whoever writes to the bot is online and can be answered. */
    if (!g_hash_table_contains(a->online, handle))
        g_hash_table_insert(a->online, g_strdup(handle), g_strdup(""));
    if (a->chat_mode) {
        char *t = g_strdup_printf("I relay the chat %s; talk to the group "
                                  "there.",
                                  a->chat);
        notice(b, a, handle, t);
        g_free(t);
        return;
    }
    m = member_load(b, a->name, handle);
    if (!m && !(m = member_join(b, a, handle, alias)))
        return;
    if (!m->welcomed) {
        /* DESIGN, Privacy: told once, on first contact. */
        welcome(b, a, m);
        m->welcomed = TRUE;
    }
    m->seen_us = g_get_real_time();
    write_ok(b, put_member_txn, m, "member");
    if (text[0] == '/' && text[1] != '/' && !g_str_has_prefix(text, "/me ")) {
        if (!command(b, a, m, text))
            notice(b, a, handle,
                   "Unknown command; /help lists them. To "
                   "say a line starting with /, start it "
                   "with //.");
        goto leave;
    }
    if (text[0] == '/' && text[1] == '/')
        text++;
    e = member_enter(b, a, m, &why);
    if (e == XERR_NONE) {
        bare = member_jid(b, a, handle);
        e = muc_legacy_say(b->m, b->up, a->group, bare, text, NULL, &why);
        g_free(bare);
    }
    if (e != XERR_NONE) {
        char *t = g_strdup_printf("Not said in the group: %s.",
                                  why ? why : xerr_condition(e));
        notice(b, a, handle, t);
        g_free(t);
    }
leave:
    member_rec_free(m);
}

/* TRUE if a delivery to the target key waits for the worker's report. */
static gboolean in_flight(bacct *a, const char *key)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, a->inflight);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!strcmp(((flight *)v)->key, key))
            return TRUE;
    return FALSE;
}

static void on_presence(bridge *b, bacct *a, GVariant *body)
{
    const char *handle, *alias, *status;
    member_rec *m;
    const char *why = NULL;
    gboolean was = FALSE;

    g_variant_get(body, "(&s&s&s&s)", NULL, &handle, &alias, &status);
    if (!handle_fits(a, handle))
        return;
    was = g_hash_table_contains(a->online, handle);
    if (!strcmp(status, "offline"))
        g_hash_table_remove(a->online, handle);
    else
        g_hash_table_replace(a->online, g_strdup(handle), g_strdup(status));
    m = member_load(b, a->name, handle);
    if (!m)
        return;
    if (!strcmp(status, "offline"))
        member_exit(b, a, handle, NULL);
    else {
        member_enter(b, a, m, &why);
        if (!was) {
            char *key = target_key(OUTBOX_KIND_IM, handle);

            /* Back from an absence: what waited is counted afresh, so that
             * past digest_after it comes as a digest. The cursor goes only
             * when nothing is in flight to them (it would be sent twice). */
            if (!in_flight(a, key))
                g_hash_table_remove(a->cursor, key);
            g_hash_table_replace(a->dirty, key, key);
            wake(b);
        }
    }
    member_rec_free(m);
}

static void on_auth_request(bridge *b, bacct *a, GVariant *body)
{
    const char *handle;
    char *bare;
    gboolean exists = FALSE;
    enum affiliation aff;
    const group_cfg *g = muc_group(b->m, a->group);
    gboolean accept;

    g_variant_get(body, "(&s&s&s)", NULL, &handle, NULL);
    bare = member_jid(b, a, handle);
    aff = muc_group_affiliation(b->m, a->group, bare, &exists);
    /* Open groups accept anyone not banned; members-only groups their
     * members. */
    accept = handle_fits(a, handle) && exists && g && aff != AFF_OUTCAST &&
             (!g->members_only || aff != AFF_NONE);
    log_info(LOG_BRIDGE, "account %s: %s a buddy request", a->name,
             accept ? "accepting" : "refusing");
    legacy_send(b->lg, a->name, PROTO_AUTH_ANSWER,
                g_variant_new("(ssb)", a->name, handle, accept));
    g_free(bare);
}

/* ---- chat mode ---- */

static void chat_join(bridge *b, bacct *a)
{
    if (a->chat_mode && a->up && !a->chat_in)
        legacy_send(b->lg, a->name, PROTO_CHAT_JOIN,
                    g_variant_new("(ss)", a->name, a->chat));
}

static const char *chat_enter(bridge *b, bacct *a, const char *nick)
{
    const char *bare = g_hash_table_lookup(a->in_chat, nick);
    const char *why = NULL;
    char *jid, *room_nick, *base;

    if (bare)
        return bare;
    if (!handle_fits(a, nick))
        return NULL;
    jid = bridge_legacy_jid(b->cfg->jid, a->name, 'c', nick);
    base = nick_base(nick, nick);
    room_nick = nick_unique(b, a, base, jid);
    if (muc_legacy_enter(b->m, b->up, a->group, jid, 'c', a->name, nick,
                         room_nick, NULL, &why) != XERR_NONE) {
        log_debug(LOG_BRIDGE, "account %s: a chat participant stays out: %s",
                  a->name, why);
        g_free(jid);
        jid = NULL;
    } else
        g_hash_table_insert(a->in_chat, g_strdup(nick), jid);
    g_free(base);
    g_free(room_nick);
    return jid;
}

static void on_chat_joined(bridge *b, bacct *a, GVariant *body)
{
    char *key;

    a->chat_in = TRUE;
    key = target_key(OUTBOX_KIND_CHAT, a->chat);
    g_hash_table_replace(a->dirty, key, key);
    log_info(LOG_BRIDGE, "account %s: in the legacy chat", a->name);
    wake(b);
}

static void on_chat_left(bridge *b, bacct *a, GVariant *body)
{
    const char *why;
    GHashTableIter it;
    gpointer v;

    g_variant_get(body, "(&s&s&s)", NULL, NULL, &why);
    log_warning(LOG_BRIDGE, "account %s: out of the legacy chat (%s)", a->name,
                why);
    g_hash_table_iter_init(&it, a->in_chat);
    while (g_hash_table_iter_next(&it, NULL, &v))
        muc_legacy_exit(b->m, b->up, a->group, v, NULL);
    g_hash_table_remove_all(a->in_chat);
    a->chat_in = FALSE;
    rewind_target(a, "c");
    if (!a->rejoin_id)
        a->rejoin_id = g_timeout_add_seconds(CHAT_REJOIN_S, rejoin_cb, a);
}

static void on_chat_user_joined(bridge *b, bacct *a, GVariant *body)
{
    const char *nick;

    g_variant_get(body, "(&s&s&sb)", NULL, NULL, &nick, NULL);
    chat_enter(b, a, nick);
}

static void on_chat_user_left(bridge *b, bacct *a, GVariant *body)
{
    const char *nick, *why;
    const char *bare;

    g_variant_get(body, "(&s&s&s&s)", NULL, NULL, &nick, &why);
    bare = g_hash_table_lookup(a->in_chat, nick);
    if (!bare)
        return;
    muc_legacy_exit(b->m, b->up, a->group, bare, *why ? why : NULL);
    g_hash_table_remove(a->in_chat, nick);
}

static void on_chat_user_renamed(bridge *b, bacct *a, GVariant *body)
{
    const char *old, *new_nick;
    char *bare = NULL;
    char *base, *room_nick;

    g_variant_get(body, "(&s&s&s&s)", NULL, NULL, &old, &new_nick);
    char *old_key = NULL;

    if (!g_hash_table_steal_extended(a->in_chat, old, (gpointer *)&old_key,
                                     (gpointer *)&bare)) {
        chat_enter(b, a, new_nick);
        return;
    }
    g_free(old_key);
    base = nick_base(new_nick, new_nick);
    room_nick = nick_unique(b, a, base, bare);
    muc_legacy_rename(b->m, b->up, a->group, bare, room_nick);
    g_hash_table_insert(a->in_chat, g_strdup(new_nick), bare);
    g_free(base);
    g_free(room_nick);
}

static void on_chat_received(bridge *b, bacct *a, GVariant *body)
{
    const char *nick, *text;
    const char *bare, *why = NULL;

    g_variant_get(body, "(&s&s&s&s&s)", NULL, NULL, NULL, &nick, &text);
    if (!*text)
        return;
    bare = chat_enter(b, a, nick);
    if (!bare)
        return;
    if (muc_legacy_say(b->m, b->up, a->group, bare, text, NULL, &why) !=
        XERR_NONE)
        log_info(LOG_BRIDGE, "account %s: a chat line was not said: %s",
                 a->name, why);
}

static void on_chat_topic(bridge *b, bacct *a, GVariant *body)
{
    const char *who, *topic;
    const char *bare, *why = NULL;
    const group_cfg *g = muc_group(b->m, a->group);

    g_variant_get(body, "(&s&s&s&s)", NULL, NULL, &who, &topic);
    if (!g || !g_strcmp0(g->subject, topic))
        return; /* already the room's: no echo */
    bare = *who ? g_hash_table_lookup(a->in_chat, who) : NULL;
    if (muc_legacy_say(b->m, b->up, a->group, bare, NULL, topic, &why) !=
        XERR_NONE)
        log_info(LOG_BRIDGE, "account %s: the legacy topic was not taken: %s",
                 a->name, why);
}

/* ---- account state ---- */

static void on_account_up(bridge *b, bacct *a, GVariant *body);
static void on_account_down(bridge *b, bacct *a, GVariant *body);

static const struct {
    enum proto_type t;
    void (*fn)(bridge *b, bacct *a, GVariant *body);
} handlers[] = {
    {PROTO_ACCOUNT_UP, on_account_up},
    {PROTO_ACCOUNT_DOWN, on_account_down},
    {PROTO_IM_RECEIVED, on_im},
    {PROTO_BUDDY_PRESENCE, on_presence},
    {PROTO_AUTH_REQUEST, on_auth_request},
    {PROTO_DELIVERED, on_delivered},
    {PROTO_FAILED, on_failed},
    {PROTO_CHAT_JOINED, on_chat_joined},
    {PROTO_CHAT_LEFT, on_chat_left},
    {PROTO_CHAT_USER_JOINED, on_chat_user_joined},
    {PROTO_CHAT_USER_LEFT, on_chat_user_left},
    {PROTO_CHAT_USER_RENAMED, on_chat_user_renamed},
    {PROTO_CHAT_RECEIVED, on_chat_received},
    {PROTO_CHAT_TOPIC, on_chat_topic},
};

static int buddy_add_each(const member_rec *m, void *userdata)
{
    bridge *b = ((void **)userdata)[0];
    bacct *a = ((void **)userdata)[1];

    legacy_send(b->lg, a->name, PROTO_BUDDY_ADD,
                g_variant_new("(ss)", a->name, m->handle));
    return 0;
}

static void on_account_up(bridge *b, bacct *a, GVariant *body)
{
    void *pair[2] = {b, a};
    MDB_txn *txn = NULL;
    GError *err = NULL;

    a->up = TRUE;
    registry_set_state(b->reg, a->name, REGISTRY_ONLINE, NULL);
    log_info(LOG_BRIDGE, "account %s is online", a->name);
    /* Presence of every member is asked for again (IRC polls buddies). */
    if (store_read_begin(b->st, &txn, &err) == 0) {
        members_foreach_account(txn, b->st, a->name, buddy_add_each, pair);
        store_read_end(txn);
    } else {
        log_error(LOG_BRIDGE, "%s", err->message);
        g_error_free(err);
    }
    chat_join(b, a);
    load_dirty(b, a);
    wake(b);
}

static void went_down(bridge *b, bacct *a, const char *why)
{
    a->up = FALSE;
    exit_all(b, a, "the group's bot lost its connection");
    rewind_all(a);
    (void)why;
}

static void on_account_down(bridge *b, bacct *a, GVariant *body)
{
    const char *why;

    g_variant_get(body, "(&s&s)", NULL, &why);
    log_warning(LOG_BRIDGE, "account %s is offline: %s", a->name, why);
    registry_set_state(b->reg, a->name, REGISTRY_OFFLINE, why);
    went_down(b, a, why);
}

/* ---- events from legacy.c ---- */

static void ev_turn(void (*fn)(void *), void *data, void *userdata)
{
    bridge *b = userdata;

    if (b->up)
        uplink_run_turn(b->up, fn, data);
}

static void ev_message(const char *account, enum proto_type t, GVariant *body,
                       void *userdata)
{
    bridge *b = userdata;
    bacct *a = g_hash_table_lookup(b->accts, account);
    GVariant *first;

    if (!a || (b->stopping && t != PROTO_DELIVERED && t != PROTO_FAILED))
        return;
    /* Every message after hello names its account first. */
    first = g_variant_n_children(body) > 0 ? g_variant_get_child_value(body, 0)
                                           : NULL;
    if (first && g_variant_is_of_type(first, G_VARIANT_TYPE_STRING) &&
        strcmp(g_variant_get_string(first, NULL), account) != 0) {
        log_warning(LOG_BRIDGE,
                    "worker of %s spoke for another account: ignored", account);
        g_variant_unref(first);
        return;
    }
    if (first)
        g_variant_unref(first);
    for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++)
        if (handlers[i].t == t) {
            handlers[i].fn(b, a, body);
            return;
        }
    log_debug(LOG_BRIDGE, "worker of %s: %s ignored", account, proto_name(t));
}

typedef struct lost_args {
    bridge *b;
    char *account;
    char *why;
    gboolean quarantined;
} lost_args;

static void tell_admins(bridge *b, const char *text)
{
    xmpp_ctx_t *ctx = uplink_ctx(b->up);

    for (char **adm = b->cfg->admins; adm && *adm; adm++) {
        xmpp_stanza_t *msg = xmpp_message_new(ctx, "normal", *adm, NULL);
        xmpp_stanza_set_from(msg, b->cfg->jid);
        stanza_add_text(ctx, msg, "body", text);
        stanza_send(b->up, msg);
    }
}

static void lost_turn(void *data)
{
    lost_args *l = data;
    bacct *a = g_hash_table_lookup(l->b->accts, l->account);

    if (!a)
        return;
    registry_set_state(l->b->reg, a->name,
                       l->quarantined ? REGISTRY_QUARANTINED : REGISTRY_OFFLINE,
                       l->why);
    went_down(l->b, a, l->why);
    if (l->quarantined) {
        char *text = g_strdup_printf(
            "imgroups: the bot account %s (group %s) is quarantined: %s. "
            "Run the account-enable command to try it again.",
            a->name, a->group, l->why);
        tell_admins(l->b, text);
        g_free(text);
    }
}

static void ev_lost(const char *account, const char *why, gboolean quarantined,
                    void *userdata)
{
    bridge *b = userdata;
    lost_args l = {b, (char *)account, (char *)why, quarantined};

    if (b->up && !b->stopping)
        uplink_run_turn(b->up, lost_turn, &l);
}

/* ---- room events (muc hooks) ---- */

typedef struct said_args {
    MDB_txn *txn;
    const store *st;
    bridge *b;
    const archive_msg *msg;
    char from_kind;
    int rc;
} said_args;

static int said_member(const member_rec *m, void *userdata)
{
    said_args *s = userdata;
    outbox_msg o = {0};
    bacct *a = g_hash_table_lookup(s->b->accts, m->account);
    int rc;

    if (m->muted || !a || a->chat_mode)
        return 0;
    /* Never echo a member's own words back. */
    if (s->from_kind == 'i' && !g_strcmp0(s->msg->sender_account, m->account) &&
        !g_strcmp0(s->msg->sender_handle, m->handle))
        return 0;
    o.account = m->account;
    o.kind = OUTBOX_KIND_IM;
    o.target = m->handle;
    o.group = m->group;
    o.archive_seq = s->msg->seq;
    o.time_us = s->msg->time_us;
    o.nick = s->msg->nick;
    o.body = s->msg->body;
    rc = outbox_add(s->txn, s->st, &o);
    if (rc == 0) {
        char *key = target_key(OUTBOX_KIND_IM, m->handle);
        g_hash_table_replace(a->dirty, key, key);
    }
    return rc;
}

static int hook_said(MDB_txn *txn, const store *st, const char *group,
                     const archive_msg *msg, char from_kind, void *userdata)
{
    bridge *b = userdata;
    said_args s = {txn, st, b, msg, from_kind, 0};
    GHashTableIter it;
    gpointer v;
    int rc;

    /* DESIGN: the outbox entry is written in the transaction that
     * archives the message. */
    rc = members_foreach_group(txn, st, group, said_member, &s);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        bacct *a = v;
        outbox_msg o = {0};
        if (!a->chat_mode || strcmp(a->group, group) != 0)
            continue;
        if (from_kind == 'c' && !g_strcmp0(msg->sender_account, a->name))
            continue;
        o.account = a->name;
        o.kind = OUTBOX_KIND_CHAT;
        o.target = a->chat;
        o.group = a->group;
        o.archive_seq = msg->seq;
        o.time_us = msg->time_us;
        o.nick = msg->nick;
        o.body = msg->body;
        rc = outbox_add(txn, st, &o);
        if (rc != 0)
            return rc;
        {
            char *key = target_key(OUTBOX_KIND_CHAT, a->chat);
            g_hash_table_replace(a->dirty, key, key);
        }
    }
    return 0;
}

static void hook_wake(const char *group, void *userdata)
{
    wake(userdata);
}

static void hook_subject(const char *group, const char *nick,
                         const char *subject, void *userdata)
{
    bridge *b = userdata;
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        bacct *a = v;
        if (!a->chat_mode || !a->chat_in || strcmp(a->group, group) != 0 ||
            !*nick)
            continue;
        {
            /* a topic that came from this chat is not sent back */
            gboolean ours = FALSE;
            GHashTableIter ci;
            gpointer cv;
            g_hash_table_iter_init(&ci, a->in_chat);
            while (!ours && g_hash_table_iter_next(&ci, NULL, &cv))
                ours = !g_strcmp0(muc_legacy_nick(b->m, group, cv), nick);
            if (ours)
                continue;
        }
        legacy_send(b->lg, a->name, PROTO_CHAT_TOPIC,
                    g_variant_new("(ssss)", a->name, a->chat, "", subject));
    }
}

/* The account of group whose member or participant bare is, or NULL. */
static bacct *owner_of(bridge *b, const char *group, const char *bare)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        bacct *a = v;
        char *suffix = g_strdup_printf("@%s.legacy.%s", a->name, b->cfg->jid);
        char *lower = g_ascii_strdown(suffix, -1);
        gboolean match =
            strcmp(a->group, group) == 0 && g_str_has_suffix(bare, lower);
        g_free(suffix);
        g_free(lower);
        if (match)
            return a;
    }
    return NULL;
}

typedef struct find_args {
    bridge *b;
    bacct *a;
    const char *bare;
    char *handle;
} find_args;

static int find_member(const member_rec *m, void *userdata)
{
    find_args *f = userdata;
    char *jid;

    if (strcmp(m->account, f->a->name) != 0)
        return 0;
    jid = member_jid(f->b, f->a, m->handle);
    if (!strcmp(jid, f->bare))
        f->handle = g_strdup(m->handle);
    g_free(jid);
    return f->handle ? 1 : 0;
}

/* The handle of the member of a whose bare JID is bare (g_free), or NULL. */
static char *handle_of(bridge *b, bacct *a, const char *bare)
{
    find_args f = {b, a, bare, NULL};
    MDB_txn *txn = NULL;
    GError *err = NULL;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        g_error_free(err);
        return NULL;
    }
    members_foreach_group(txn, b->st, a->group, find_member, &f);
    store_read_end(txn);
    return f.handle;
}

static void hook_removed(const char *group, const char *bare, int code,
                         const char *reason, void *userdata)
{
    bridge *b = userdata;
    bacct *a = owner_of(b, group, bare);
    char *handle, *text;
    const char *what;

    if (!a)
        return;
    handle = handle_of(b, a, bare);
    if (!handle) {
        /* a chat participant: it stays out until it speaks again */
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, a->in_chat);
        while (g_hash_table_iter_next(&it, NULL, &v))
            if (!strcmp(v, bare))
                g_hash_table_iter_remove(&it);
        return;
    }
    what = code == 301   ? "You have been banned from the group"
           : code == 307 ? "A moderator removed you from the group"
                         : "You are no longer a member of the group";
    text = g_strdup_printf("%s%s%s.%s", what, reason ? ": " : "",
                           reason ? reason : "",
                           code == 307 ? " Message me to come back." : "");
    notice(b, a, handle, text);
    g_free(text);
    g_free(handle);
}

static enum xerr hook_private(const char *group, const char *bare,
                              const char *from_nick, const char *body,
                              void *userdata)
{
    bridge *b = userdata;
    bacct *a = owner_of(b, group, bare);
    char *handle = a ? handle_of(b, a, bare) : NULL;
    char *nick;

    if (!handle)
        return XERR_ITEM_NOT_FOUND;
    nick = g_strdup_printf("%s (privately)", from_nick);
    queue(b, a, OUTBOX_KIND_IM, handle, nick, body);
    g_free(nick);
    g_free(handle);
    return XERR_NONE;
}

/* ---- registry hooks ---- */

static void reg_start(const account_rec *rec, const char *password,
                      void *userdata)
{
    bridge *b = userdata;
    bacct *a = g_hash_table_lookup(b->accts, rec->name);

    if (!a) {
        a = g_new0(bacct, 1);
        a->b = b;
        a->name = g_strdup(rec->name);
        a->online =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        a->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        a->cursor =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        a->inflight = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                            flight_free);
        a->in_chat =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_insert(b->accts, a->name, a);
    } else {
        /* restarted with new settings: everything it had is gone */
        a->up = FALSE;
        rewind_all(a);
    }
    g_free(a->protocol);
    g_free(a->group);
    g_free(a->chat);
    a->protocol = g_strdup(rec->protocol);
    a->group = g_strdup(rec->group);
    a->chat_mode = !g_strcmp0(rec->mode, "chat");
    a->chat = g_strdup(rec->chat);
    a->burst = MAX(rec->pace_burst, 1);
    a->rate = rec->pace_rate > 0 ? rec->pace_rate : 1.0;
    a->pace.at = 0;
    registry_set_state(b->reg, a->name, REGISTRY_STARTING, NULL);
    legacy_start(b->lg, rec->name, rec->protocol, rec->username, password,
                 rec->options);
}

static void stop_turn(void *data)
{
    void **args = data;
    bridge *b = args[0];
    bacct *a = args[1];

    exit_all(b, a, "the group's bot was stopped");
}

static void reg_stop(const char *name, void *userdata)
{
    bridge *b = userdata;
    bacct *a = g_hash_table_lookup(b->accts, name);
    void *args[2] = {b, a};

    legacy_stop(b->lg, name);
    if (!a)
        return;
    if (b->up)
        uplink_run_turn(b->up, stop_turn, args);
    g_hash_table_remove(b->accts, name);
}

typedef struct add_args {
    member_rec *m;
    const char *bare;
} add_args;

static int member_add_txn(MDB_txn *txn, const store *st, void *userdata)
{
    add_args *ad = userdata;
    enum affiliation aff = AFF_NONE;
    int rc = members_put(txn, st, ad->m);

    if (rc == 0)
        rc = affiliations_get(txn, st, ad->m->group, ad->bare, &aff);
    if (rc == 0 && aff == AFF_NONE)
        rc =
            affiliations_set(txn, st, ad->m->group, ad->bare, AFF_MEMBER, NULL);
    return rc;
}

static int reg_member_add(const char *group, const char *account,
                          const char *handle, char **why, void *userdata)
{
    bridge *b = userdata;
    bacct *a = g_hash_table_lookup(b->accts, account);
    member_rec *m;
    char *bare, *base;
    add_args ad;

    if (!a || strcmp(a->group, group) != 0 || a->chat_mode) {
        *why = g_strdup_printf("no running contacts-mode account %s serves "
                               "this group",
                               account);
        return -1;
    }
    if (!*handle) {
        *why = g_strdup("the handle is empty");
        return -1;
    }
    bare = member_jid(b, a, handle);
    m = member_load(b, account, handle);
    if (!m) {
        m = g_new0(member_rec, 1);
        m->account = g_strdup(account);
        m->handle = g_strdup(handle);
        m->group = g_strdup(group);
        base = nick_base(NULL, handle);
        m->nick = nick_unique(b, a, base, bare);
        g_free(base);
        m->since_us = g_get_real_time();
    }
    ad.m = m;
    ad.bare = bare;
    if (!write_ok(b, member_add_txn, &ad, "member")) {
        *why = g_strdup("the store refused the change");
        member_rec_free(m);
        g_free(bare);
        return -1;
    }
    legacy_send(b->lg, account, PROTO_BUDDY_ADD,
                g_variant_new("(ss)", account, handle));
    member_rec_free(m);
    g_free(bare);
    return 0;
}

/* ---- erasure jobs ---- */

static gboolean jobs_cb(gpointer data)
{
    bridge *b = data;
    archive_job *job = g_queue_peek_head(&b->jobs);
    GError *err = NULL;
    gboolean done = FALSE;

    if (!job) {
        b->jobs_id = 0;
        return G_SOURCE_REMOVE;
    }
    if (archive_job_step(job, b->st, &done, &err) < 0) {
        log_error(LOG_BRIDGE, "erasure: %s; retrying", err->message);
        g_error_free(err);
        return G_SOURCE_CONTINUE;
    }
    if (done) {
        log_info(LOG_BRIDGE, "erasure done: %u messages deleted",
                 archive_job_removed(job));
        archive_job_free(g_queue_pop_head(&b->jobs));
    }
    return G_SOURCE_CONTINUE;
}

/* ---- life ---- */

bridge *bridge_new(const config *cfg, store *st, muc *m, registry *reg)
{
    bridge *b = g_new0(bridge, 1);
    static const legacy_events ev = {ev_turn, ev_message, ev_lost};
    muc_bridge_hooks mh = {hook_said, hook_wake, hook_subject, hook_removed,
                           hook_private};
    registry_hooks rh = {reg_start, reg_stop, reg_member_add};

    b->cfg = cfg;
    b->st = st;
    b->m = m;
    b->reg = reg;
    b->accts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, bacct_free);
    g_queue_init(&b->jobs);
    b->lg = legacy_new(cfg, &ev, b);
    muc_set_bridge(m, &mh, b);
    registry_set_hooks(reg, &rh, b);
    return b;
}

void bridge_start(bridge *b, uplink *up)
{
    b->up = up;
    registry_start_all(b->reg);
}

void bridge_shutdown(bridge *b)
{
    if (b)
        b->stopping = TRUE;
}

void bridge_free(bridge *b)
{
    if (!b)
        return;
    legacy_free(b->lg);
    if (b->pump_id)
        g_source_remove(b->pump_id);
    if (b->jobs_id)
        g_source_remove(b->jobs_id);
    g_queue_clear_full(&b->jobs, (GDestroyNotify)archive_job_free);
    g_hash_table_destroy(b->accts);
    g_free(b);
}
