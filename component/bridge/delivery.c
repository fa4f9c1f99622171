/* delivery: the outbox pump. What rooms say (read from the archive after
 * each target's cursor) and the bot's notices (outbox entries) go to legacy
 * targets in order, paced per account, each once: handed to the worker,
 * and the cursor moved or the entry removed when it reports them
 * delivered (delivery.h). */
#include "delivery.h"

#include <string.h>

#include "archive.h"
#include "clock.h"
#include "log.h"
#include "chat.h"
#include "contacts.h"
#include "outbox.h"
#include "render.h"

/* A delivery handed to the worker and not yet reported. */
typedef struct flight {
    char *key;      /* target key */
    guint64 seq;    /* a room message (or a digest up to it); 0 an entry */
    gboolean done;  /* reported, waiting for an earlier one of its target */
} flight;

/* What was handed out last to a target, since the outbox was read for it
 * afresh. */
typedef struct sent {
    guint64 seq; /* archive seq (from its cursor on) */
    guint64 id;  /* entry id */
} sent;

static void flight_free(gpointer data)
{
    flight *f = data;

    g_free(f->key);
    g_free(f);
}

void delivery_init(bacct *a)
{
    a->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a->sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    a->inflight = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        flight_free);
}

void delivery_clear(bacct *a)
{
    g_clear_pointer(&a->dirty, g_hash_table_unref);
    g_clear_pointer(&a->sent, g_hash_table_unref);
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
    msg.time_us = clock_real();
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
    g_hash_table_remove_all(a->sent);
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
    g_hash_table_remove(a->sent, key);
    g_free(key);
}

typedef struct start_args {
    const bacct *a;
    char kind;
    const char *target;
} start_args;

static int start_txn(MDB_txn *txn, const store *st, void *userdata)
{
    start_args *sa = userdata;

    return outbox_cursor_start(txn, st, sa->a->name, sa->kind, sa->target,
                               sa->a->group);
}

void delivery_start(bridge *b, bacct *a, char kind, const char *target)
{
    start_args sa = {a, kind, target};

    bridge_write(b, start_txn, &sa, "outbox cursor");
}

/* ---- the outbox pump: runs outside turns, on committed data ---- */

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

/* Whether msg was said by someone other than the target. */
static gboolean said_by_other(const archive_msg *msg, const char *account,
                              char kind, const char *target)
{
    /* Never echo a member's own words back, nor a chat's to itself. */
    if (g_strcmp0(msg->sender_account, account) != 0)
        return TRUE;
    return kind == OUTBOX_KIND_IM && g_strcmp0(msg->sender_handle, target);
}

gboolean delivery_for(const archive_msg *msg, const char *account, char kind,
                      const char *target)
{
    return render_wants(msg) && said_by_other(msg, account, kind, target);
}

/* What send_next found: the next entry, the next room message, or a
 * digest of the room messages waiting. */
typedef struct pick {
    MDB_txn *txn; /* the read transaction, for render_msg's look-ups */
    const store *st;
    const bacct *a;
    const char *key;
    const outbox_cursor *c;
    gboolean all;      /* walk every waiting room message (digest count) */
    guint keep;        /* digest: the last this many are shown */
    guint64 count;     /* room messages waiting */
    GQueue lines;      /* digest: char * */
    guint64 last_seq;  /* the last of them */
    outbox_msg *entry; /* the next entry */
    char *room;        /* the next room message, rendered */
    guint64 room_seq;
    gint64 room_time;
} pick;

static int pick_entry(const outbox_msg *msg, void *userdata)
{
    pick *p = userdata;

    p->entry = g_new0(outbox_msg, 1);
    p->entry->id = msg->id;
    p->entry->time_us = msg->time_us;
    p->entry->nick = g_strdup(msg->nick);
    p->entry->body = g_strdup(msg->body);
    return 1;
}

static int pick_room(const archive_msg *msg, void *userdata)
{
    pick *p = userdata;
    char *text = NULL;
    int rc;

    if (!outbox_cursor_wants(p->c, msg->seq) ||
        !delivery_for(msg, p->a->name, p->key[0], p->key + 1))
        return 0;
    rc = render_msg(p->txn, p->st, p->c->group, msg, &text);
    if (rc != 0)
        return rc < 0 ? rc : -rc; /* stops the walk, as an error */
    if (!text)
        return 0; /* nothing a legacy member can read */
    if (!p->room) {
        p->room = g_strdup(text);
        p->room_seq = msg->seq;
        p->room_time = msg->time_us;
    }
    if (!p->all) {
        g_free(text);
        return 1;
    }
    p->count++;
    p->last_seq = msg->seq;
    g_queue_push_tail(&p->lines, text);
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
                     guint64 seq, const char *text)
{
    guint64 *idp = g_new(guint64, 1);
    flight *f = g_new0(flight, 1);
    sent *pos = g_hash_table_lookup(a->sent, key);
    enum proto_type t =
        key[0] == OUTBOX_KIND_CHAT ? PROTO_SEND_CHAT : PROTO_SEND_IM;

    *idp = id;
    f->key = g_strdup(key);
    f->seq = seq;
    g_hash_table_replace(a->inflight, idp, f);
    if (seq)
        pos->seq = seq;
    else
        pos->id = id;
    legacy_send(b->lg, a->name, t,
                g_variant_new("(tsss)", id, a->name, key + 1, text));
}

/* Hands the next delivery of key to the worker, entries and room messages
 * in time order: 1 sent, 0 nothing waiting, -1 the store could not be
 * read. */
static int send_next(bridge *b, bacct *a, const char *key)
{
    sent *pos = g_hash_table_lookup(a->sent, key);
    gboolean fresh = pos == NULL;
    outbox_cursor *c = NULL;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    pick p = {.a = a, .key = key, .lines = G_QUEUE_INIT};
    int rc, sent_one = 0;

    if (store_read_begin(b->st, &txn, &err) < 0) {
        log_error(LOG_BRIDGE, "outbox: %s", err->message);
        g_error_free(err);
        return -1;
    }
    rc = outbox_cursor_get(txn, b->st, a->name, key[0], key + 1, &c);
    if (rc == MDB_NOTFOUND)
        rc = 0; /* no cursor (not a member): entries only */
    if (rc == 0 && fresh) {
        pos = g_new0(sent, 1);
        pos->seq = c ? c->seq : 0;
        g_hash_table_replace(a->sent, g_strdup(key), pos);
    }
    if (rc == 0)
        rc = outbox_foreach_target(txn, b->st, a->name, key[0], key + 1,
                                   pos->id, pick_entry, &p);
    if (rc == 0 && c) {
        p.txn = txn;
        p.st = b->st;
        p.c = c;
        /* DESIGN: past a limit, a member who was away gets a digest. A
         * chat's people were not away (the bot was: out of the chat, or
         * imgroups restarting): its lines go one by one, none dropped. */
        p.all = fresh && key[0] == OUTBOX_KIND_IM && b->cfg->digest_after > 0;
        p.keep = b->cfg->digest_after;
        rc = archive_foreach_after(txn, b->st, c->group, pos->seq, pick_room,
                                   &p);
    }
    store_read_end(txn);
    if (rc < 0) {
        log_error(LOG_BRIDGE, "outbox of %s cannot be read: %s", a->name,
                  mdb_strerror(rc));
        sent_one = -1;
    } else if (p.all && p.count > b->cfg->digest_after) {
        char *text = delivery_digest(p.count, &p.lines);
        hand_out(b, a, key, outbox_room_id(c->slot, p.last_seq), p.last_seq,
                 text);
        g_free(text);
        sent_one = 1;
    } else if (p.entry && (!p.room || p.entry->time_us <= p.room_time)) {
        char *text = render_line(p.entry->nick, p.entry->body);
        hand_out(b, a, key, p.entry->id, 0, text);
        g_free(text);
        sent_one = 1;
    } else if (p.room) {
        hand_out(b, a, key, outbox_room_id(c->slot, p.room_seq), p.room_seq,
                 p.room);
        sent_one = 1;
    }
    g_queue_clear_full(&p.lines, g_free);
    outbox_msg_free(p.entry);
    g_free(p.room);
    outbox_cursor_free(c);
    return sent_one;
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
    bucket_refill(&a->pace, a->rate, a->burst, clock_now());
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

    /* Members are marked as they come online (delivery_back). */
    if (a->chat_mode && a->chat)
        delivery_mark(a, OUTBOX_KIND_CHAT, a->chat);
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
     * digest_after it comes as a digest. Not while something is in flight
     * to them (it would be sent twice). */
    if (!in_flight(a, key))
        g_hash_table_remove(a->sent, key);
    g_hash_table_replace(a->dirty, key, key);
    delivery_wake(b);
}

/* ---- deliveries reported ---- */

typedef struct report_args {
    const bacct *a;
    char kind;
    const char *target;
    guint64 id;  /* an entry to remove, or 0 */
    guint64 seq; /* the cursor to move forward, or 0 */
    guint32 slot;
    MDB_txn *txn; /* slot_txn: the transaction, known only inside it */
    const store *st;
} report_args;

static int report_txn(MDB_txn *txn, const store *st, void *userdata)
{
    report_args *r = userdata;
    int rc = 0;

    if (r->id)
        rc = outbox_remove(txn, st, r->a->name, r->kind, r->target, r->id);
    if (rc == 0 && r->seq)
        rc = outbox_cursor_advance(txn, st, r->a->name, r->kind, r->target,
                                   r->seq);
    return rc == MDB_NOTFOUND ? 0 : rc; /* dropped meanwhile: nothing to do */
}

static int settle_entry(const char *account, char kind, const char *target,
                        guint64 pending, void *userdata)
{
    report_args *r = userdata;

    (void)pending;
    return outbox_remove(r->txn, r->st, account, kind, target, r->id);
}

static int settle_slot(const char *account, char kind, const char *target,
                       const outbox_cursor *c, void *userdata)
{
    report_args *r = userdata;

    if (c->slot != r->slot)
        return 0;
    return outbox_cursor_advance(r->txn, r->st, account, kind, target, r->seq);
}

/* A report of a delivery this run does not know: entry ids are unique in
 * the store and a room delivery's id names its target's slot. */
static int settle_txn(MDB_txn *txn, const store *st, void *userdata)
{
    report_args *r = userdata;

    r->txn = txn;
    r->st = st;
    if (outbox_room_id_split(r->id, &r->slot, &r->seq)) {
        r->id = 0;
        return outbox_cursor_foreach(txn, st, r->a->name, settle_slot, r);
    }
    return outbox_foreach_pending_target(txn, st, r->a->name, settle_entry, r);
}

/* The seq the target's cursor may move to now that f is reported: the
 * highest of its reported room deliveries with none unreported before
 * them (those are forgotten); 0 when it may not move. */
static guint64 confirmed_upto(bacct *a, const flight *f)
{
    GHashTableIter it;
    gpointer v;
    guint64 pending = G_MAXUINT64, upto = 0;

    g_hash_table_iter_init(&it, a->inflight);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        flight *o = v;
        if (o->seq && !o->done && !strcmp(o->key, f->key))
            pending = MIN(pending, o->seq);
    }
    g_hash_table_iter_init(&it, a->inflight);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        flight *o = v;
        if (o->seq && o->done && o->seq < pending && !strcmp(o->key, f->key)) {
            upto = MAX(upto, o->seq);
            if (o != f)
                g_hash_table_iter_remove(&it);
        }
    }
    return upto;
}

void delivery_on_delivered(bridge *b, bacct *a, GVariant *body)
{
    guint64 id;
    flight *f;
    report_args r = {a, 0, NULL, 0, 0, 0, NULL, NULL};

    g_variant_get(body, "(t)", &id);
    ratecount_add(&b->delivered, clock_now(), 1);
    f = g_hash_table_lookup(a->inflight, &id);
    if (!f) {
        /* Handed out before a rewind or by an earlier run of imgroups (a
         * worker reports, when it starts, what the network took after its
         * last core died): it went out, so it must not go again. */
        r.id = id;
        bridge_write(b, settle_txn, &r, "outbox");
        return;
    }
    f->done = TRUE;
    r.kind = f->key[0];
    r.target = f->key + 1;
    if (f->seq)
        r.seq = confirmed_upto(a, f); /* one cursor write */
    else
        r.id = id; /* one entry removed */
    if (r.id || r.seq)
        bridge_write(b, report_txn, &r, "outbox");
    if (!f->seq || r.seq)
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

void delivery_woken(const char *group, void *userdata)
{
    bridge *b = userdata;
    GHashTableIter it, ht;
    gpointer v, k;
    gboolean marked = FALSE;

    /* After the message is archived: nothing is written for it (each
     * target's cursor finds it there); whoever can be reached now is
     * looked at by the pump. A group with no one to reach wakes nothing:
     * a timer per message would cost the main loop a turn of its own. */
    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        bacct *a = v;
        if (!a->up || strcmp(a->group, group) != 0)
            continue;
        if (a->chat_mode) {
            if (a->chat) {
                delivery_mark(a, OUTBOX_KIND_CHAT, a->chat);
                marked = TRUE;
            }
            continue;
        }
        g_hash_table_iter_init(&ht, a->online);
        while (g_hash_table_iter_next(&ht, &k, NULL)) {
            delivery_mark(a, OUTBOX_KIND_IM, k);
            marked = TRUE;
        }
    }
    if (marked)
        delivery_wake(b);
}

/* ---- a message withdrawn (muc hook, inside its transaction) ---- */

typedef struct retract_args {
    bacct *a; /* the account if it runs, else NULL (nothing in flight) */
    MDB_txn *txn;
    const store *st;
    const char *group;
    guint64 seq;
    const archive_msg *msg; /* the record now (for its sender), or NULL */
    const char *text;       /* the notice */
    GPtrArray *told;        /* target keys to mark once it is queued */
} retract_args;

/* A copy queued as an entry by schema version 2 is removed with it. */
static int drop_copy(const outbox_msg *m, void *userdata)
{
    retract_args *r = userdata;

    if (m->archive_seq != r->seq || g_strcmp0(m->group, r->group))
        return 0;
    return outbox_remove(r->txn, r->st, m->account, m->kind, m->target,
                         m->id);
}

static int retract_target(const char *account, char kind, const char *target,
                          const outbox_cursor *c, void *userdata)
{
    retract_args *r = userdata;
    char *key;
    sent *pos;
    outbox_msg n = {0};
    gboolean had;
    int rc;

    if (strcmp(c->group, r->group) != 0)
        return 0;
    rc = outbox_foreach_target(r->txn, r->st, account, kind, target, 0,
                               drop_copy, r);
    if (rc != 0 || (r->msg && !said_by_other(r->msg, account, kind, target)))
        return rc;
    key = bridge_target_key(kind, target);
    pos = r->a ? g_hash_table_lookup(r->a->sent, key) : NULL;
    /* Confirmed, or handed to the worker in this run (in flight): the
     * target saw it, so it is told; the others never will see it. */
    had = outbox_cursor_had(c, r->seq) ||
          (pos && pos->seq >= r->seq && outbox_cursor_wants(c, r->seq));
    if (!had) {
        g_free(key);
        return 0;
    }
    n.account = (char *)account;
    n.kind = kind;
    n.target = (char *)target;
    n.group = (char *)r->group;
    n.time_us = clock_real();
    n.nick = DELIVERY_NOTICE_NICK;
    n.body = (char *)r->text;
    rc = outbox_add(r->txn, r->st, &n);
    if (rc == 0)
        g_ptr_array_add(r->told, key);
    else
        g_free(key);
    return rc;
}

typedef struct group_accounts {
    const char *group;
    GPtrArray *names; /* borrowed from the registry or the bridge */
} group_accounts;

static void add_group_account(registry_account *ra, void *userdata)
{
    group_accounts *ga = userdata;

    if (!g_strcmp0(ra->rec->group, ga->group) &&
        !g_ptr_array_find_with_equal_func(ga->names, ra->rec->name,
                                          g_str_equal, NULL))
        g_ptr_array_add(ga->names, ra->rec->name);
}

int delivery_retracted(MDB_txn *txn, const store *st, const char *group,
                       guint64 seq, const char *nick, void *userdata)
{
    bridge *b = userdata;
    retract_args r = {NULL, txn, st, group, seq, NULL, NULL, NULL};
    group_accounts ga = {group, g_ptr_array_new()};
    archive_msg *msg = NULL;
    GHashTableIter it;
    gpointer v;
    char *text = NULL;
    int rc = archive_get(txn, st, group, seq, &msg);

    if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_CORRUPTED)
        goto leave;
    rc = 0;
    text = render_deleted(nick ? nick : "", msg ? msg->retracted_by : NULL);
    r.msg = msg;
    r.text = text;
    r.told = g_ptr_array_new_with_free_func(g_free);
    /* The group's accounts that run, and those that do not (stopped,
     * quarantined): their members who had the line are told when they
     * are back. */
    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!strcmp(((bacct *)v)->group, group))
            g_ptr_array_add(ga.names, ((bacct *)v)->name);
    if (b->reg)
        registry_foreach(b->reg, add_group_account, &ga);
    for (guint n = 0; rc == 0 && n < ga.names->len; n++) {
        const char *name = g_ptr_array_index(ga.names, n);
        r.a = g_hash_table_lookup(b->accts, name);
        if (r.a && strcmp(r.a->group, group) != 0)
            r.a = NULL; /* restarted for another group since */
        g_ptr_array_set_size(r.told, 0);
        rc = outbox_cursor_foreach(txn, st, name, retract_target, &r);
        /* Marks are memory only: after an aborted transaction the pump
         * finds nothing for them. */
        for (guint i = 0; rc == 0 && r.a && i < r.told->len; i++)
            delivery_mark(r.a, ((char *)g_ptr_array_index(r.told, i))[0],
                          (char *)g_ptr_array_index(r.told, i) + 1);
    }
    if (rc == 0)
        delivery_wake(b);
    g_ptr_array_unref(r.told);
leave:
    g_ptr_array_unref(ga.names);
    archive_msg_free(msg);
    g_free(text);
    return rc;
}
