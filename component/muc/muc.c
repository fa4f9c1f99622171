/* muc: the XEP-0045 engine: the rooms (lookup, creation, erasure), the
 * occupant-id salt, the iq entry and the shutdown; presence.c, message.c,
 * history.c and disco.c do the rest. */
#include "muc.h"
#include "muc_int.h"
#include "avatar.h"
#include "disco.h"
#include "history.h"
#include "iq.h"
#include "message.h"
#include "presence.h"
#include "retract.h"
#include "options.h"
#include "register.h"

#include <string.h>
#include <sys/random.h>

#include "affiliations.h"
#include "bounds.h"
#include "bucket.h"
#include "clock.h"
#include "groups.h"
#include "jid.h"
#include "archive.h"
#include "log.h"
#include "nicks.h"
#include "stanza.h"
#include "room.h"
#include "xerr.h"

#define SALT_KEY "occupant_id_salt"

/* ---- setup ---- */

static int salt_txn(MDB_txn *txn, const store *st, void *userdata)
{
    muc *m = userdata;
    MDB_dbi dbi = store_dbi(st, STORE_DB_META);
    GVariant *v = NULL;
    int rc = store_get_variant(txn, dbi, SALT_KEY, strlen(SALT_KEY),
                               G_VARIANT_TYPE("(qay)"), &v);

    if (rc == 0) {
        GVariant *bytes = g_variant_get_child_value(v, 1);
        gsize n = 0;
        const guchar *p = g_variant_get_fixed_array(bytes, &n, 1);
        if (n == MUC_SALT_LEN)
            memcpy(m->salt, p, MUC_SALT_LEN);
        g_variant_unref(bytes);
        g_variant_unref(v);
        return n == MUC_SALT_LEN ? 0 : MDB_CORRUPTED;
    }
    if (rc != MDB_NOTFOUND)
        return rc;
    /* XEP-0421 §4: the id must not let anyone learn the real JID, so it is
     * a keyed hash with a secret kept in the store. */
    if (getrandom(m->salt, MUC_SALT_LEN, 0) != MUC_SALT_LEN)
        return -1;
    return store_put_variant(
        txn, dbi, SALT_KEY, strlen(SALT_KEY),
        g_variant_new("(q@ay)", (guint16)1,
                      g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, m->salt,
                                                MUC_SALT_LEN, 1)));
}

int muc_new(const config *cfg, store *st, muc **out, GError **err)
{
    muc *m = g_new0(muc, 1);

    *out = NULL;
    m->cfg = cfg;
    m->st = st;
    m->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                     (GDestroyNotify)room_free);
    m->joins = bucket_table_new();
    if (store_write(st, salt_txn, m, err) < 0) {
        muc_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void muc_free(muc *m)
{
    if (!m)
        return;
    g_hash_table_destroy(m->rooms);
    g_hash_table_destroy(m->joins);
    g_free(m);
}

/* ---- small stanza helpers ---- */

void muc_reply_error(uplink *up, xmpp_stanza_t *st, enum xerr e,
                     const char *text)
{
    xmpp_stanza_t *err = xerr_reply(uplink_ctx(up), st, e, text);

    log_debug(LOG_ROUTER, "room: answering <%s> with %s",
              xmpp_stanza_get_name(st), xerr_condition(e));
    if (err)
        stanza_send(up, err);
}

char *muc_occ_nick_jid(const room *r, const occ *o)
{
    return g_strconcat(r->jid, "/", o->nick, NULL);
}

/* ---- the bridge's hooks ---- */

void muc_set_bridge(muc *m, const muc_bridge_hooks *hooks, void *userdata)
{
    m->bridge = *hooks;
    m->bridge_data = userdata;
}

/* ---- rooms ---- */

room *muc_room_lookup(muc *m, const char *name, gboolean *missing)
{
    room *r = g_hash_table_lookup(m->rooms, name);
    MDB_txn *txn = NULL;
    GError *err = NULL;
    group_cfg *g = NULL;
    int rc;

    *missing = FALSE;
    if (r)
        return r;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        return NULL;
    }
    rc = groups_get(txn, m->st, name, &g);
    store_read_end(txn);
    if (rc == MDB_NOTFOUND) {
        *missing = TRUE;
        return NULL;
    }
    if (rc != 0) {
        log_error_about(LOG_STORE, name, "a group cannot be read (%s)",
                        mdb_strerror(rc));
        return NULL;
    }
    r = room_new(m->cfg->jid, g);
    g_hash_table_insert(m->rooms, r->name, r);
    return r;
}

typedef struct create_args {
    const char *name;
    const char *owner;
    group_cfg *out;
} create_args;

static int create_txn(MDB_txn *txn, const store *st, void *userdata)
{
    create_args *a = userdata;
    group_cfg g = {
        .localpart = (char *)a->name,
        .name = "",
        .description = "",
        .is_public = TRUE,
        .persistent = TRUE,
        .created = clock_real() / G_USEC_PER_SEC,
        .allow_pm = "anyone",
        .history_len = MUC_HISTORY_DEFAULT,
        .keep_days = -1,
    };
    int rc = groups_put(txn, st, &g);

    if (rc == 0)
        rc = affiliations_set(txn, st, a->name, a->owner, AFF_OWNER, NULL);
    if (rc == 0)
        rc = groups_get(txn, st, a->name, &a->out);
    return rc;
}

/* [service] room_creation, then [limits] max_rooms for non-admins. Sets
 * *why when refused. */
gboolean muc_may_create(muc *m, const char *bare, const char **why)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    guint owned = 0;
    int rc;

    if (config_is_admin(m->cfg, bare))
        return TRUE;
    if (m->cfg->room_creation != CONFIG_ROOMS_ANYONE) {
        *why = "only the service admins may create groups here";
        return FALSE;
    }
    if (m->cfg->max_rooms == 0)
        return TRUE;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        g_error_free(err);
        *why = "the store cannot be read";
        return FALSE;
    }
    rc = affiliations_count_owned(txn, m->st, bare, &owned);
    store_read_end(txn);
    if (rc != 0 || owned >= m->cfg->max_rooms) {
        *why = "you own as many groups as this service allows";
        return FALSE;
    }
    return TRUE;
}

room *muc_room_create(muc *m, const char *name, const char *owner)
{
    create_args a = {name, owner, NULL};
    GError *err = NULL;
    room *r;

    if (store_write(m->st, create_txn, &a, &err) < 0) {
        log_error_about(LOG_STORE, name, "cannot create a group: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        return NULL;
    }
    r = room_new(m->cfg->jid, a.out);
    g_hash_table_insert(m->rooms, r->name, r);
    log_for_group(LOG_ROUTER, LOG_INFO, name, "group %s@%s created", name,
                  m->cfg->jid);
    return r;
}

typedef struct destroy_args {
    const char *name;
    GPtrArray *jids; /* bare JIDs with an affiliation */
} destroy_args;

static int collect_aff(const char *bare, enum affiliation a, const char *reason,
                       void *userdata)
{
    g_ptr_array_add(userdata, g_strdup(bare));
    return 0;
}

static int destroy_txn(MDB_txn *txn, const store *st, void *userdata)
{
    destroy_args *a = userdata;
    int rc;

    g_ptr_array_set_size(a->jids, 0);
    rc = affiliations_foreach(txn, st, a->name, collect_aff, a->jids);
    for (guint i = 0; rc == 0 && i < a->jids->len; i++)
        rc = affiliations_set(txn, st, a->name, g_ptr_array_index(a->jids, i),
                              AFF_NONE, NULL);
    if (rc == 0)
        rc = nicks_drop_group(txn, st, a->name);
    if (rc == 0)
        rc = avatars_delete(txn, st, a->name);
    if (rc == 0)
        rc = groups_delete(txn, st, a->name);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int muc_room_erase(muc *m, room *r)
{
    destroy_args a = {r->name, g_ptr_array_new_with_free_func(g_free)};
    GError *err = NULL;
    guint removed = 0;
    int rc = 0;

    if (store_write(m->st, destroy_txn, &a, &err) < 0) {
        log_error_about(LOG_STORE, r->name, "erasing a group: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
        rc = -1;
        goto leave;
    }
    /* The archive goes too; numbering carries on if the name is reused. */
    if (archive_sweep(m->st, r->name, G_MAXINT64, 0, &removed, &err) < 0) {
        log_error_about(LOG_STORE, r->name, "erasing an archive: %s",
                        err ? err->message : "?");
        g_clear_error(&err);
    }
    log_for_group(LOG_ROUTER, LOG_INFO, r->name,
                  "group %s erased (%u messages)", r->name, removed);
    g_hash_table_remove(m->rooms, r->name); /* frees r */
leave:
    g_ptr_array_unref(a.jids);
    return rc;
}

char *muc_occupant_id(muc *m, const room *r, const char *bare)
{
    char *data = g_strconcat(r->jid, "\n", bare, NULL);
    char *id = g_compute_hmac_for_string(G_CHECKSUM_SHA256, m->salt,
                                         MUC_SALT_LEN, data, -1);

    g_free(data);
    id[32] = '\0'; /* 128 bits are plenty to be unique within a room */
    return id;
}

/* DESIGN: a stanza serialised once, sent to each session as that text with
 * only 'to' changed. */
uplink_fanout *muc_fanout_of(uplink *up, xmpp_stanza_t *st)
{
    uplink_fanout *f = uplink_fanout_new(up, st);

    xmpp_stanza_release(st);
    return f;
}

void muc_fanout_to(uplink_fanout *f, const occ *to)
{
    for (guint i = 0; f && i < to->sessions->len; i++)
        uplink_fanout_send(f, g_ptr_array_index(to->sessions, i));
}

/* One bucket per (room, real bare JID), so that more sessions, another
 * nick, or leaving and joining again do not refill it (issue 9, item 6). */
gboolean muc_rate_allows(muc *m, room *r, const occ *o)
{
    gint64 now = clock_now();
    bucket *b;

    if (!r->rates)
        r->rates = bucket_table_new();
    b = bucket_table_get(r->rates, o->bare, m->cfg->rate, m->cfg->burst,
                         BOUND_BUCKETS_PER_ROOM, now);
    return bucket_take(b, m->cfg->rate, m->cfg->burst, now);
}

gboolean muc_said_by(const occ *o, const archive_msg *a)
{
    return archive_msg_said_by(a, o->bare, o->legacy_account,
                               o->legacy_handle);
}

void muc_fanout_said(uplink *up, room *r, const archive_msg *a,
                     const char *live, const char *id)
{
    /* Live, the message is the same for everyone (real JIDs only go into
     * history): written once as text, without a stanza tree, and queued
     * to each session with only 'to' changed. XEP-0045 §7.4: the sender's
     * own copy carries its id, so the client can match its reflection. */
    GString *b = g_string_sized_new(512);
    GHashTableIter it;
    gpointer value;
    gsize at = 0;
    uplink_fanout *f;

    history_text(b, r, a, live, NULL, &at, id, NULL, FALSE, FALSE);
    f = uplink_fanout_text(up, "message", b->str, b->len, at);
    g_string_free(b, TRUE);
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value))
        muc_fanout_to(f, value);
    uplink_fanout_free(f);
}

enum affiliation muc_affiliation(muc *m, const room *r, const char *bare)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    enum affiliation a = AFF_NONE;

    /* The service's admins own every group: groups made for bot accounts
     * in the config file have no other owner. */
    if (config_is_admin(m->cfg, bare))
        return AFF_OWNER;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        g_error_free(err);
        return AFF_NONE;
    }
    if (affiliations_get(txn, m->st, r->name, bare, &a) != 0)
        a = AFF_NONE;
    store_read_end(txn);
    return a;
}

/* ---- iq ---- */

/* XEP-0199 on the room: it answers. */
static enum xerr room_ping(const iq_req *q, iq_res *res)
{
    return XERR_NONE;
}

/* XEP-0410 §4: a ping to one's own occupant JID is answered by the room. */
static enum xerr self_ping(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;

    if (room_occ_by_nick(c->r, q->to->resource) != c->o)
        return XERR_FEATURE_NOT_IMPLEMENTED;
    return XERR_NONE;
}

/* iqs to the room's bare JID (type x child x namespace). */
static const iq_route room_routes[] = {
    {"get", "query", NS_DISCO_INFO, disco_info},
    {"get", NULL, NS_DISCO_ITEMS, disco_items},
    {"get", NULL, NS_PING, room_ping},
    {"get", "query", NS_MUC_ADMIN, muc_admin_get},
    {"set", "query", NS_MUC_ADMIN, muc_admin_set},
    {"get", "query", NS_MUC_OWNER, muc_owner_get},
    {"set", "query", NS_MUC_OWNER, muc_owner_set},
    {"get", "query", NS_MAM, history_mam_form},
    {"set", "query", NS_MAM, history_mam_query},
    {"set", "moderate", NS_MODERATE, retract_moderate},
    {"set", "apply-to", NS_FASTEN, retract_moderate},
    {"get", "query", NS_REGISTER, register_get},
    {"set", "query", NS_REGISTER, register_set},
    {"get", "vCard", NS_VCARD, avatar_get},
    {"set", "vCard", NS_VCARD, avatar_set},
};

/* iqs to an occupant JID, from one of the room's occupants. */
static const iq_route occupant_routes[] = {
    {"get", "ping", NS_PING, self_ping},
    {"get", "vCard", NS_VCARD, avatar_occupant_get},
};

/* The room's answer to q: through the tables, on the room c->r. */
static enum xerr room_iq(const iq_req *q, iq_res *res)
{
    muc_call *c = q->data;

    if (!q->to->resource)
        return iq_dispatch(room_routes, G_N_ELEMENTS(room_routes), q, res);
    /* XEP-0410 §4: a client that is not joined gets not-acceptable, so it
     * knows to join again; anything but a ping to an occupant is not
     * relayed. */
    if (!c->o)
        return iq_fail(res, XERR_NOT_ACCEPTABLE, "you are not joined");
    if (!iq_routed(occupant_routes, G_N_ELEMENTS(occupant_routes), q))
        return XERR_FEATURE_NOT_IMPLEMENTED;
    return iq_dispatch(occupant_routes, G_N_ELEMENTS(occupant_routes), q, res);
}

enum xerr muc_iq(const iq_req *rq, iq_res *res)
{
    muc *m = rq->data;
    gboolean missing = FALSE;
    muc_call c = {m, muc_room_lookup(m, rq->to->node, &missing), NULL, NULL,
                  NULL};
    iq_req q = *rq;
    enum xerr e;

    if (!c.r)
        return iq_fail(res,
                       missing ? XERR_ITEM_NOT_FOUND
                               : XERR_INTERNAL_SERVER_ERROR,
                       missing ? "no such group" : NULL);
    c.o = room_occ_by_full(c.r, q.from);
    q.data = &c;
    e = room_iq(&q, res);
    /* The router sends the one reply, then what the handler left for
     * after it. */
    res->after = c.after;
    res->after_data = c.after_data;
    return e;
}

void muc_shutdown(muc *m, uplink *up)
{
    static const int self[] = {110, 332, 0};
    GHashTableIter it;
    gpointer value;

    /* XEP-0045 status 332: "Inform user that he or she is being removed
     * from the room because the MUC service is being shut down"; clients
     * rejoin when it is back. */
    g_hash_table_iter_init(&it, m->rooms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        room *r = value;
        GHashTableIter oi;
        gpointer ov;
        g_hash_table_iter_init(&oi, r->by_nick);
        while (g_hash_table_iter_next(&oi, NULL, &ov)) {
            occ *o = ov;
            for (guint i = 0; i < o->sessions->len; i++)
                stanza_send(up, muc_occ_presence(
                                    up, r, o, g_ptr_array_index(o->sessions, i),
                                    TRUE, "unavailable", NULL, self));
        }
    }
    g_hash_table_remove_all(m->rooms);
}
