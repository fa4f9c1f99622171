/* delivery: the outbox pump. What rooms say and the bot's notices go to
 * legacy targets in order, paced per account, each once: handed to the
 * worker, removed when it reports them delivered (bridge_int.h). */
#include "delivery.h"

#include <string.h>

#include "archive.h"
#include "log.h"
#include "chat.h"
#include "contacts.h"
#include "outbox.h"

/* A delivery handed to the worker and not yet reported. */
typedef struct flight {
    char *key;     /* target key */
    gboolean upto; /* a digest: every entry up to the id goes with it */
} flight;

static void flight_free(gpointer data)
{
    flight *f = data;

    g_free(f->key);
    g_free(f);
}

void delivery_init(bacct *a)
{
    a->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a->cursor = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    a->inflight = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        flight_free);
}

void delivery_clear(bacct *a)
{
    g_clear_pointer(&a->dirty, g_hash_table_unref);
    g_clear_pointer(&a->cursor, g_hash_table_unref);
    g_clear_pointer(&a->inflight, g_hash_table_unref);
}

static int add_outbox_txn(MDB_txn *txn, const store *st, void *userdata)
{
    return outbox_add(txn, st, userdata);
}

void delivery_mark(bacct *a, char kind, const char *target)
{
    char *key = bridge_target_key(kind, target);

    g_hash_table_replace(a->dirty, key, key);
}

void delivery_queue(bridge *b, bacct *a, char kind, const char *target,
                    const char *nick, const char *body)
{
    outbox_msg msg = {0};

    msg.account = a->name;
    msg.kind = kind;
    msg.target = (char *)target;
    msg.group = a->group;
    msg.time_us = g_get_real_time();
    msg.nick = (char *)nick;
    msg.body = (char *)body;
    if (!bridge_write(b, add_outbox_txn, &msg, "outbox"))
        return;
    delivery_mark(a, kind, target);
    delivery_wake(b);
}

void delivery_notice(bridge *b, bacct *a, const char *handle,
                     const char *text)
{
    delivery_queue(b, a, OUTBOX_KIND_IM, handle, DELIVERY_NOTICE_NICK, text);
}

void delivery_rewind_all(bacct *a)
{
    g_hash_table_remove_all(a->inflight);
    g_hash_table_remove_all(a->cursor);
}

void delivery_rewind(bacct *a, char kind, const char *target)
{
    char *key = bridge_target_key(kind, target);
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, a->inflight);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!strcmp(((flight *)v)->key, key))
            g_hash_table_iter_remove(&it);
    g_hash_table_remove(a->cursor, key);
    g_free(key);
}

/* ---- the outbox pump: runs outside turns, on committed data ---- */

typedef struct pick {
    guint64 count; /* digest: entries seen */
    guint keep;    /* digest: the last this many are shown */
    GQueue lines;  /* digest: char * */
    guint64 last_id;
    outbox_msg *first; /* plain: the next entry */
} pick;

char *delivery_render(const char *nick, const char *body)
{
    if (!*nick)
        return g_strdup(body);
    if (g_str_has_prefix(body, "/me "))
        return g_strdup_printf("* %s %s", nick, body + 4);
    return g_strdup_printf("<%s> %s", nick, body);
}

char *delivery_digest(guint64 count, GQueue *lines)
{
    GString *text = g_string_new(NULL);

    g_string_printf(text,
                    "(%" G_GUINT64_FORMAT
                    " messages while you were away; the last %u:)",
                    count, lines->length);
    for (GList *l = lines->head; l; l = l->next)
        g_string_append_printf(text, "\n%s", (char *)l->data);
    return g_string_free(text, FALSE);
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
    g_queue_push_tail(&p->lines, delivery_render(msg->nick, msg->body));
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
    pick p = {0, 0, G_QUEUE_INIT, 0, NULL};
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
    /* pick_first stops the walk with 1; anything negative is an error. */
    if (rc < 0) {
        log_error(LOG_BRIDGE, "outbox of %s cannot be read: %s", a->name,
                  mdb_strerror(rc));
        sent = -1;
    } else if (p.count > 0) {
        char *text = delivery_digest(p.count, &p.lines);
        hand_out(b, a, key, p.last_id, TRUE, text);
        g_free(text);
        sent = 1;
    } else if (p.first) {
        char *text = delivery_render(p.first->nick, p.first->body);
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

void delivery_wake(bridge *b)
{
    pump_later(b, 0);
}

/* Round robin over the account's waiting targets, one entry each per
 * round, while tokens last (bucket.h). Returns the ms until tokens are
 * back, or 0. */
static guint pump_account(bridge *b, bacct *a)
{
    gboolean progress = TRUE;

    if (!a->up || g_hash_table_size(a->dirty) == 0)
        return 0;
    bucket_refill(&a->pace, a->rate, a->burst, g_get_monotonic_time());
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

static int mark_pending(const char *account, char kind, const char *target,
                        guint64 pending, void *userdata)
{
    delivery_mark(userdata, kind, target);
    return 0;
}

void delivery_load(bridge *b, bacct *a)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "outbox: %s", err->message);
        g_error_free(err);
        return;
    }
    outbox_foreach_pending_target(txn, b->st, a->name, mark_pending, a);
    store_read_end(txn);
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

void delivery_back(bridge *b, bacct *a, const char *handle)
{
    char *key = bridge_target_key(OUTBOX_KIND_IM, handle);

    /* Back from an absence: what waited is counted afresh, so that past
     * digest_after it comes as a digest. The cursor goes only when
     * nothing is in flight to them (it would be sent twice). */
    if (!in_flight(a, key))
        g_hash_table_remove(a->cursor, key);
    g_hash_table_replace(a->dirty, key, key);
    delivery_wake(b);
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
    /* collect_upto stops the walk with 1; anything negative is an error. */
    if (rc < 0)
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

void delivery_on_delivered(bridge *b, bacct *a, GVariant *body)
{
    guint64 id;
    flight *f;
    remove_args r = {a, NULL, 0, FALSE, NULL};

    g_variant_get(body, "(t)", &id);
    f = g_hash_table_lookup(a->inflight, &id);
    if (!f) {
        /* Handed out before a rewind or by an earlier run of imgroups (a
         * worker reports, when it starts, what the network took after its
         * last core died): it went out, so it must not go again. Entry ids
         * are unique: whichever target holds it loses it. */
        settle_args sa = {a->name, id, NULL, NULL};
        bridge_write(b, settle_txn, &sa, "outbox");
        return;
    }
    r.key = f->key;
    r.id = id;
    r.upto = f->upto;
    r.ids = g_array_new(FALSE, FALSE, sizeof(guint64));
    bridge_write(b, remove_txn, &r, "outbox");
    g_array_unref(r.ids);
    g_hash_table_remove(a->inflight, &id);
}

void delivery_on_failed(bridge *b, bacct *a, GVariant *body)
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
    delivery_rewind(a, key[0], key + 1);
    if (key[0] == OUTBOX_KIND_IM) {
        contacts_exit(b, a, key + 1, NULL);
        g_hash_table_remove(a->online, key + 1);
    } else {
        a->chat_in = FALSE;
        chat_join(b, a);
    }
    g_free(key);
}

/* ---- room events (muc hooks) ---- */

typedef struct said_args {
    MDB_txn *txn;
    const store *st;
    bridge *b;
    const archive_msg *msg;
    char from_kind;
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
    if (rc == 0)
        delivery_mark(a, OUTBOX_KIND_IM, m->handle);
    return rc;
}

int delivery_said(MDB_txn *txn, const store *st, const char *group,
                  const archive_msg *msg, char from_kind, void *userdata)
{
    bridge *b = userdata;
    said_args s = {txn, st, b, msg, from_kind};
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
        delivery_mark(a, OUTBOX_KIND_CHAT, a->chat);
    }
    return 0;
}

void delivery_woken(const char *group, void *userdata)
{
    delivery_wake(userdata);
}
