/* muc: the XEP-0045 engine: presence (join, leave, nick change), messages
 * (groupchat, private, subject), iqs to rooms and occupants. */
#include "muc.h"
#include "muc_int.h"
#include "options.h"

#include <string.h>
#include <sys/random.h>

#include "affiliations.h"
#include "archive.h"
#include "bounds.h"
#include "bucket.h"
#include "groups.h"
#include "log.h"
#include "nick.h"
#include "stanza.h"
#include "room.h"
#include "xerr.h"

#define NS_MUC         "http://jabber.org/protocol/muc"
#define NS_SID         "urn:xmpp:sid:0"
#define NS_OCCUPANT_ID "urn:xmpp:occupant-id:0"
#define NS_DELAY       "urn:xmpp:delay"
#define NS_PING        "urn:xmpp:ping"
#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_DATA        "jabber:x:data"
#define NS_MAM         "urn:xmpp:mam:2"
#define NS_RSM         "http://jabber.org/protocol/rsm"
#define NS_FORWARD     "urn:xmpp:forward:0"
#define NS_CAPS        "http://jabber.org/protocol/caps"
#define NS_VCARD_X     "vcard-temp:x:update"
#define NS_CLIENT      "jabber:client"

#define SALT_KEY        "occupant_id_salt"
#define HISTORY_DEFAULT 20  /* messages sent on join unless asked otherwise */
#define HISTORY_MAX     100 /* at most this many, whatever is asked */

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

static char *occ_nick_jid(const room *r, const occ *o)
{
    return g_strconcat(r->jid, "/", o->nick, NULL);
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
        .created = g_get_real_time() / G_USEC_PER_SEC,
        .allow_pm = "anyone",
        .history_len = HISTORY_DEFAULT,
        .keep_days = -1,
    };
    int rc = groups_put(txn, st, &g);

    if (rc == 0)
        rc = affiliations_set(txn, st, a->name, a->owner, AFF_OWNER, NULL);
    if (rc == 0)
        rc = groups_get(txn, st, a->name, &a->out);
    return rc;
}

static gboolean is_admin(muc *m, const char *bare)
{
    for (char **a = m->cfg->admins; a && *a; a++)
        if (strcmp(*a, bare) == 0)
            return TRUE;
    return FALSE;
}

/* [service] room_creation, then [limits] max_rooms for non-admins. Sets
 * *why when refused. */
static gboolean may_create(muc *m, const char *bare, const char **why)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    guint owned = 0;
    int rc;

    if (is_admin(m, bare))
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

static room *room_create(muc *m, const char *name, const char *owner)
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
    log_info(LOG_ROUTER, "group %s@%s created", name, m->cfg->jid);
    return r;
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

/* ---- presence ---- */

/* XEP-0045 §5.1.2/§10.2: in a semi-anonymous room only moderators see real
 * JIDs; in a non-anonymous room everyone does. */
gboolean muc_sees_jids(const room *r, const occ *viewer)
{
    return r->cfg->whois_anyone || viewer->role == ROLE_MODERATOR;
}

/* Presence of occupant o as the recipient sees it. status: extra codes,
 * 0-terminated. Semi-anonymous (XEP-0045 §7.2.4): the real JID only for
 * moderators. */
xmpp_stanza_t *muc_occ_presence(uplink *up, const room *r, const occ *o,
                                const char *to, gboolean to_moderator,
                                const char *type, const char *new_nick,
                                const int *status)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    xmpp_stanza_t *x, *item;
    char *from = occ_nick_jid(r, o);

    xmpp_stanza_set_from(p, from);
    xmpp_stanza_set_to(p, to);
    if (type)
        xmpp_stanza_set_type(p, type);
    else if (o->presence) {
        /* show, status, priority, caps...: what the occupant sent, minus
         * what the room itself owns. */
        for (xmpp_stanza_t *c = xmpp_stanza_get_children(o->presence); c;
             c = xmpp_stanza_get_next(c)) {
            if (!xmpp_stanza_is_tag(c) || stanza_is(c, "x", NS_MUC) ||
                stanza_is(c, "x", NS_MUC_USER) ||
                stanza_is(c, "occupant-id", NS_OCCUPANT_ID))
                continue;
            stanza_add(p, xmpp_stanza_copy(c));
        }
    }
    x = stanza_elem(ctx, "x", NS_MUC_USER);
    item = stanza_elem(ctx, "item", NULL);
    xmpp_stanza_set_attribute(item, "affiliation", affiliation_name(o->aff));
    xmpp_stanza_set_attribute(item, "role", type ? "none" : role_name(o->role));
    if (to_moderator)
        xmpp_stanza_set_attribute(item, "jid", room_occ_jid(o));
    if (new_nick)
        xmpp_stanza_set_attribute(item, "nick", new_nick);
    stanza_add(x, item);
    for (; status && *status; status++) {
        xmpp_stanza_t *s = stanza_elem(ctx, "status", NULL);
        char code[8];
        g_snprintf(code, sizeof(code), "%d", *status);
        xmpp_stanza_set_attribute(s, "code", code);
        stanza_add(x, s);
    }
    stanza_add(p, x);
    if (o->occupant_id) {
        xmpp_stanza_t *oid = stanza_elem(ctx, "occupant-id", NS_OCCUPANT_ID);
        xmpp_stanza_set_attribute(oid, "id", o->occupant_id);
        stanza_add(p, oid);
    }
    g_free(from);
    return p;
}

/* Sends o's presence to every session of every occupant; self gets 110
 * plus self_codes, the others get others_codes. */
/* st serialised once; a fan-out that sends it to each session of to. */
static uplink_fanout *fanout_of(uplink *up, xmpp_stanza_t *st)
{
    uplink_fanout *f = uplink_fanout_new(up, st);

    xmpp_stanza_release(st);
    return f;
}

static void fanout_to(uplink_fanout *f, const occ *to)
{
    for (guint i = 0; f && i < to->sessions->len; i++)
        uplink_fanout_send(f, g_ptr_array_index(to->sessions, i));
}

void muc_broadcast_presence(uplink *up, room *r, const occ *o, const char *type,
                            const char *new_nick, const int *self_codes,
                            const int *others_codes)
{
    /* DESIGN: serialised once per variant (own, with real JID, without),
     * each recipient gets that text with only 'to' changed. */
    uplink_fanout *self = fanout_of(
        up, muc_occ_presence(up, r, o, r->jid, TRUE, type, new_nick,
                             self_codes));
    uplink_fanout *with_jid = fanout_of(
        up, muc_occ_presence(up, r, o, r->jid, TRUE, type, new_nick,
                             others_codes));
    uplink_fanout *plain = fanout_of(
        up, muc_occ_presence(up, r, o, r->jid, FALSE, type, new_nick,
                             others_codes));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *to = value;
        /* Moderators see real JIDs; everyone sees their own. */
        fanout_to(to == o                ? self
                  : muc_sees_jids(r, to) ? with_jid
                                         : plain,
                  to);
    }
    uplink_fanout_free(self);
    uplink_fanout_free(with_jid);
    uplink_fanout_free(plain);
}

static void send_subject(uplink *up, const room *r, const char *to)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "groupchat", to, NULL);
    xmpp_stanza_t *subject = stanza_elem(ctx, "subject", NULL);
    const char *text = r->cfg->subject ? r->cfg->subject : "";
    char *from = *r->cfg->subject_nick
                     ? g_strconcat(r->jid, "/", r->cfg->subject_nick, NULL)
                     : g_strdup(r->jid);

    /* XEP-0045 §7.2.15: the subject is sent last, and an empty <subject/>
     * when there is none, which tells the client the join is complete. */
    xmpp_stanza_set_from(msg, from);
    if (*text) {
        xmpp_stanza_t *t = xmpp_stanza_new(ctx);
        xmpp_stanza_set_text(t, text);
        stanza_add(subject, t);
    }
    stanza_add(msg, subject);
    stanza_send(up, msg);
    g_free(from);
}

/* The history limits a joiner asked for (XEP-0045 §7.2.14). */
typedef struct history_req {
    int maxstanzas;
    int maxchars;
    gint64 since_us;
} history_req;

static void history_request(xmpp_stanza_t *x, history_req *h)
{
    xmpp_stanza_t *hist =
        x ? xmpp_stanza_get_child_by_name(x, "history") : NULL;
    const char *v;

    h->maxstanzas = HISTORY_DEFAULT;
    h->maxchars = -1;
    h->since_us = 0;
    if (!hist)
        return;
    if ((v = xmpp_stanza_get_attribute(hist, "maxstanzas")))
        h->maxstanzas = (int)MIN(g_ascii_strtoll(v, NULL, 10), G_MAXINT);
    if ((v = xmpp_stanza_get_attribute(hist, "maxchars")))
        h->maxchars = (int)MIN(g_ascii_strtoll(v, NULL, 10), G_MAXINT);
    if ((v = xmpp_stanza_get_attribute(hist, "seconds"))) {
        gint64 s = g_ascii_strtoll(v, NULL, 10);
        h->since_us = g_get_real_time() - s * G_USEC_PER_SEC;
    }
    if ((v = xmpp_stanza_get_attribute(hist, "since"))) {
        GDateTime *dt = g_date_time_new_from_iso8601(v, NULL);
        if (dt) {
            gint64 since = g_date_time_to_unix(dt) * G_USEC_PER_SEC;
            h->since_us = MAX(h->since_us, since);
            g_date_time_unref(dt);
        }
    }
    /* The room decides the most it sends (XEP-0045 §7.2.14: the service
     * may send less than asked). */
    if (h->maxstanzas < 0)
        h->maxstanzas = 0;
    if (h->maxstanzas > HISTORY_MAX)
        h->maxstanzas = HISTORY_MAX;
}

static char *stamp(gint64 time_us)
{
    GDateTime *dt = g_date_time_new_from_unix_utc(time_us / G_USEC_PER_SEC);
    char *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");

    g_date_time_unref(dt);
    return s;
}

/* A stored message as a groupchat stanza to one recipient. delay: add the
 * XEP-0203 stamp (history), else it is live. */
static xmpp_stanza_t *archived_message(uplink *up, const room *r,
                                       const archive_msg *a, const char *to,
                                       gboolean to_moderator, gboolean delay)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "groupchat", to, a->origin_id);
    /* nick "": the room itself speaks, from its bare JID. */
    char *from =
        *a->nick ? g_strconcat(r->jid, "/", a->nick, NULL) : g_strdup(r->jid);
    xmpp_stanza_t *sid, *e;

    xmpp_stanza_set_from(msg, from);
    if (a->body)
        stanza_add_text(ctx, msg, "body", a->body);
    if (a->subject)
        stanza_add_text(ctx, msg, "subject", a->subject);
    if (delay) {
        char *ts = stamp(a->time_us);
        e = stanza_elem(ctx, "delay", NS_DELAY);
        xmpp_stanza_set_attribute(e, "stamp", ts);
        xmpp_stanza_set_attribute(e, "from", r->jid);
        stanza_add(msg, e);
        g_free(ts);
    }
    /* XEP-0359 §3.1: the archiving entity stamps the id it stored the
     * message under, with by = its own JID (the room's). */
    sid = stanza_elem(ctx, "stanza-id", NS_SID);
    xmpp_stanza_set_attribute(sid, "id", a->stanza_id);
    xmpp_stanza_set_attribute(sid, "by", r->jid);
    stanza_add(msg, sid);
    if (a->origin_id) {
        e = stanza_elem(ctx, "origin-id", NS_SID);
        xmpp_stanza_set_attribute(e, "id", a->origin_id);
        stanza_add(msg, e);
    }
    if (a->occupant_id) {
        e = stanza_elem(ctx, "occupant-id", NS_OCCUPANT_ID);
        xmpp_stanza_set_attribute(e, "id", a->occupant_id);
        stanza_add(msg, e);
    }
    if (delay && to_moderator && a->sender_jid) {
        /* XEP-0045 §7.2.15: the real JID in history only where the
         * recipient may see real JIDs. */
        e = stanza_elem(ctx, "x", "http://jabber.org/protocol/muc#user");
        xmpp_stanza_t *item = stanza_elem(ctx, "item", NULL);
        xmpp_stanza_set_attribute(item, "jid", a->sender_jid);
        stanza_add(e, item);
        stanza_add(msg, e);
    }
    g_free(from);
    return msg;
}

static void send_history(muc *m, uplink *up, const room *r, const occ *o,
                         const char *to, const history_req *h)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    GPtrArray *list = NULL;

    if (h->maxstanzas == 0)
        return;
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "history: %s", err->message);
        g_error_free(err);
        return;
    }
    if (archive_history(txn, m->st, r->name, h->maxstanzas, h->maxchars,
                        h->since_us, NULL, NULL, &list) != 0)
        log_error_about(LOG_STORE, r->name, "a group's history cannot be read");
    store_read_end(txn);
    for (guint i = 0; list && i < list->len; i++)
        stanza_send(up, archived_message(up, r, g_ptr_array_index(list, i), to,
                                         muc_sees_jids(r, o), TRUE));
    if (list)
        g_ptr_array_unref(list);
}

enum affiliation muc_affiliation(muc *m, const room *r, const char *bare)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    enum affiliation a = AFF_NONE;

    /* The service's admins own every group: groups made for bot accounts
     * in the config file have no other owner. */
    if (is_admin(m, bare))
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

/* ---- what an occupant's presence may carry ---- */

/* An element of the stanza's own namespace (a client's <show/> arrives
 * with no xmlns of its own, or with jabber:client). */
static gboolean plain(xmpp_stanza_t *c, const char *name)
{
    const char *ns = xmpp_stanza_get_ns(c);

    return !g_strcmp0(xmpp_stanza_get_name(c), name) &&
           (!ns || !strcmp(ns, NS_CLIENT) ||
            !strcmp(ns, "jabber:component:accept"));
}

static gboolean text_within(xmpp_stanza_t *c, gsize max)
{
    char *t = xmpp_stanza_get_text(c);
    gboolean ok = !t || strlen(t) <= max;

    if (t)
        xmpp_free(xmpp_stanza_get_context(c), t);
    return ok;
}

static enum xerr check_show(xmpp_stanza_t *c, const char **why)
{
    static const char *const shows[] = {"away", "chat", "dnd", "xa"};
    char *t = xmpp_stanza_get_text(c);
    gboolean ok = FALSE;

    /* RFC 6121 §4.7.2.1: one of four values. */
    for (size_t i = 0; t && i < G_N_ELEMENTS(shows); i++)
        ok = ok || !strcmp(t, shows[i]);
    if (t)
        xmpp_free(xmpp_stanza_get_context(c), t);
    *why = "<show/> is one of away, chat, dnd, xa";
    return ok ? XERR_NONE : XERR_BAD_REQUEST;
}

static enum xerr check_status(xmpp_stanza_t *c, const char **why)
{
    *why = "the status text is too long for this service";
    return text_within(c, BOUND_STATUS_BYTES) ? XERR_NONE
                                               : XERR_POLICY_VIOLATION;
}

static enum xerr check_priority(xmpp_stanza_t *c, const char **why)
{
    char *t = xmpp_stanza_get_text(c), *end = NULL;
    gint64 v = t ? g_ascii_strtoll(t, &end, 10) : 0;
    gboolean ok = t && *t && end && !*end && v >= -128 && v <= 127;

    if (t)
        xmpp_free(xmpp_stanza_get_context(c), t);
    /* RFC 6121 §4.7.2.3: an integer between -128 and +127. */
    *why = "<priority/> is an integer from -128 to 127";
    return ok ? XERR_NONE : XERR_BAD_REQUEST;
}

/* XEP-0115 attributes a client's <c/> carries on; nothing else is kept. */
static const char *const caps_attrs[] = {"hash", "node", "ver", "ext"};

static enum xerr check_caps(xmpp_stanza_t *c, const char **why)
{
    for (size_t i = 0; i < G_N_ELEMENTS(caps_attrs); i++) {
        const char *v = xmpp_stanza_get_attribute(c, caps_attrs[i]);
        if (v && strlen(v) > BOUND_CAPS_BYTES) {
            *why = "the caps element is too long for this service";
            return XERR_POLICY_VIOLATION;
        }
    }
    return XERR_NONE;
}

static enum xerr check_photo(xmpp_stanza_t *c, const char **why)
{
    xmpp_stanza_t *photo = xmpp_stanza_get_child_by_name(c, "photo");

    *why = "the vCard photo hash is too long for this service";
    return !photo || text_within(photo, BOUND_PHOTO_BYTES)
               ? XERR_NONE
               : XERR_POLICY_VIOLATION;
}

static xmpp_stanza_t *copy_text(xmpp_ctx_t *ctx, xmpp_stanza_t *c, gsize max)
{
    char *t = xmpp_stanza_get_text(c);
    char *cut = stanza_utf8_cut(t ? t : "", max);
    xmpp_stanza_t *e = stanza_elem(ctx, xmpp_stanza_get_name(c), NULL);

    if (*cut) {
        xmpp_stanza_t *txt = xmpp_stanza_new(ctx);
        xmpp_stanza_set_text(txt, cut);
        stanza_add(e, txt);
    }
    g_free(cut);
    if (t)
        xmpp_free(ctx, t);
    return e;
}

static xmpp_stanza_t *copy_show(xmpp_ctx_t *ctx, xmpp_stanza_t *c)
{
    return copy_text(ctx, c, 4);
}

static xmpp_stanza_t *copy_status(xmpp_ctx_t *ctx, xmpp_stanza_t *c)
{
    return copy_text(ctx, c, BOUND_STATUS_BYTES);
}

static xmpp_stanza_t *copy_priority(xmpp_ctx_t *ctx, xmpp_stanza_t *c)
{
    return copy_text(ctx, c, 4);
}

static xmpp_stanza_t *copy_caps(xmpp_ctx_t *ctx, xmpp_stanza_t *c)
{
    xmpp_stanza_t *e = stanza_elem(ctx, "c", NS_CAPS);

    for (size_t i = 0; i < G_N_ELEMENTS(caps_attrs); i++) {
        const char *v = xmpp_stanza_get_attribute(c, caps_attrs[i]);
        if (v && strlen(v) <= BOUND_CAPS_BYTES)
            xmpp_stanza_set_attribute(e, caps_attrs[i], v);
    }
    return e;
}

static xmpp_stanza_t *copy_photo(xmpp_ctx_t *ctx, xmpp_stanza_t *c)
{
    xmpp_stanza_t *e = stanza_elem(ctx, "x", NS_VCARD_X);
    xmpp_stanza_t *photo = xmpp_stanza_get_child_by_name(c, "photo");

    if (photo)
        stanza_add(e, copy_text(ctx, photo, BOUND_PHOTO_BYTES));
    return e;
}

/* What of a client's presence the room keeps and shows every joiner
 * (issue 9: the kept presence is re-sent on every join, so it holds only
 * these, the first of each, each bounded): show, status, priority, XEP-0115
 * caps, the XEP-0153 photo hash. The muc <x/> (history, password) and
 * everything else stays behind. */
static const struct {
    const char *name, *ns; /* ns NULL: the stanza's own namespace */
    enum xerr (*check)(xmpp_stanza_t *c, const char **why);
    xmpp_stanza_t *(*copy)(xmpp_ctx_t *ctx, xmpp_stanza_t *c);
} kept[] = {
    {"show", NULL, check_show, copy_show},
    {"status", NULL, check_status, copy_status},
    {"priority", NULL, check_priority, copy_priority},
    {"c", NS_CAPS, check_caps, copy_caps},
    {"x", NS_VCARD_X, check_photo, copy_photo},
};

static int kept_index(xmpp_stanza_t *c)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
        if (kept[i].ns ? stanza_is(c, kept[i].name, kept[i].ns)
                       : plain(c, kept[i].name))
            return (int)i;
    return -1;
}

/* Refuses a client's presence whose kept parts are out of bounds. */
static enum xerr presence_check(xmpp_stanza_t *st, const char **why)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        int i = xmpp_stanza_is_tag(c) ? kept_index(c) : -1;
        enum xerr e = i >= 0 ? kept[i].check(c, why) : XERR_NONE;
        if (e != XERR_NONE)
            return e;
    }
    return XERR_NONE;
}

void muc_keep_presence(occ *o, xmpp_stanza_t *st)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(st);
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    guint seen = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        int i = xmpp_stanza_is_tag(c) ? kept_index(c) : -1;
        if (i < 0 || (seen & (1u << i)))
            continue;
        seen |= 1u << i;
        stanza_add(p, kept[i].copy(ctx, c));
    }
    if (o->presence)
        xmpp_stanza_release(o->presence);
    o->presence = p;
}

/* [limits] join_rate, join_burst: joins per bare JID across every room,
 * whatever the resource (issue 9, item 6). */
static gboolean join_allowed(muc *m, const char *bare)
{
    gint64 now = g_get_monotonic_time();
    bucket *b = bucket_table_get(m->joins, bare, m->cfg->join_rate,
                                 m->cfg->join_burst, BOUND_JOIN_BUCKETS, now);

    return bucket_take(b, m->cfg->join_rate, m->cfg->join_burst, now);
}

/* nick: prepared (nick_prepare); modified: it differs from what the client
 * asked for, so its self-presence carries status 210. */
static void join(muc *m, uplink *up, room *r, gboolean created,
                 xmpp_stanza_t *st, const char *full, const char *bare,
                 const char *nick, gboolean modified)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC);
    occ *o = room_occ_by_nick(r, nick);
    enum affiliation aff;
    history_req h;
    GHashTableIter it;
    gpointer value;
    int self_codes[5] = {110, 0, 0, 0, 0};
    int n = 1;

    if (o && strcmp(o->bare, bare) != 0) {
        /* XEP-0045 §7.2.9: another user holds the nick; nicks are compared
         * by their RFC 8266 key, so a look-alike is the same nick. */
        muc_reply_error(up, st, XERR_CONFLICT, "that nick is in use");
        return;
    }
    /* A room created for this join has counted it already. */
    if (!created && !join_allowed(m, bare)) {
        muc_reply_error(up, st, XERR_RESOURCE_CONSTRAINT,
                        "you are joining groups too fast; wait a moment");
        return;
    }
    aff = o ? o->aff : muc_affiliation(m, r, bare);
    if (aff == AFF_OUTCAST) {
        /* XEP-0045 §7.2.7: banned users get forbidden. */
        muc_reply_error(up, st, XERR_FORBIDDEN,
                        "you are banned from this group");
        return;
    }
    if (!o) {
        char *password = x ? stanza_child_text(x, "password") : NULL;
        const char *why = NULL;
        options_join j = {r->cfg, aff, password, room_occupant_count(r)};
        enum xerr e = options_join_veto(&j, &why);
        if (password)
            xmpp_free(uplink_ctx(up), password);
        if (e != XERR_NONE) {
            muc_reply_error(up, st, e, why);
            return;
        }
    }
    history_request(x, &h);
    if (h.maxstanzas > r->cfg->history_len)
        h.maxstanzas = MAX(r->cfg->history_len, 0);
    if (o) {
        /* Another session of the same user under the same nick joins the
         * occupant; the others see no change. */
        room_session_add(r, o, full);
    } else {
        char *oid = muc_occupant_id(m, r, bare);
        /* XEP-0045 §5.1.1: owners and admins are moderators; in a
         * moderated room, newcomers without affiliation are visitors. */
        enum role role = aff == AFF_OWNER || aff == AFF_ADMIN ? ROLE_MODERATOR
                         : r->cfg->moderated && aff == AFF_NONE
                             ? ROLE_VISITOR
                             : ROLE_PARTICIPANT;
        o = room_occ_add(r, nick, bare, full, aff, role, oid);
        g_free(oid);
    }
    muc_keep_presence(o, st);
    /* XEP-0045 §7.2.3: first the presence of every occupant already
     * there, then the joiner's own presence (status 110 last). */
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *other = value;
        if (other != o)
            stanza_send(up, muc_occ_presence(up, r, other, full,
                                             muc_sees_jids(r, o), NULL, NULL,
                                             NULL));
    }
    if (o->sessions->len == 1) {
        static const int none[] = {0};
        GHashTableIter it2;
        g_hash_table_iter_init(&it2, r->by_nick);
        while (g_hash_table_iter_next(&it2, NULL, &value)) {
            const occ *to = value;
            if (to == o)
                continue;
            for (guint i = 0; i < to->sessions->len; i++)
                stanza_send(up,
                            muc_occ_presence(
                                up, r, o, g_ptr_array_index(to->sessions, i),
                                muc_sees_jids(r, to), NULL, NULL, none));
        }
    }
    if (r->cfg->whois_anyone)
        self_codes[n++] = 100; /* XEP-0045 §7.2.4: real JIDs are public */
    if (created)
        self_codes[n++] = 201; /* XEP-0045 §10.1.1: a new room */
    if (modified)
        self_codes[n++] = 210; /* XEP-0045 §7.2.3: the service changed the
                                * nick (RFC 8266 mapping) */
    stanza_send(up,
                muc_occ_presence(up, r, o, full, TRUE, NULL, NULL, self_codes));
    send_history(m, up, r, o, full, &h);
    send_subject(up, r, full);
    log_debug(LOG_ROUTER, "room %s: %u occupants", r->name,
              room_occupant_count(r));
}

static void leave(uplink *up, room *r, occ *o, xmpp_stanza_t *st,
                  const char *full)
{
    static const int self[] = {110, 0};

    if (o->sessions->len > 1) {
        /* One session of several leaves: only it is told. */
        stanza_send(up, muc_occ_presence(up, r, o, full, TRUE, "unavailable",
                                         NULL, self));
        room_session_remove(r, o, full);
        return;
    }
    muc_broadcast_presence(up, r, o, "unavailable", NULL, self, NULL);
    room_session_remove(r, o, full);
}

static void change_nick(uplink *up, room *r, occ *o, xmpp_stanza_t *st,
                        const char *nick)
{
    static const int self303[] = {303, 110, 0}, others303[] = {303, 0};
    static const int self[] = {110, 0}, none[] = {0};

    occ *holder = room_occ_by_nick(r, nick);

    /* XEP-0045 §7.6.3: a nick someone else holds (compared by RFC 8266
     * key) is a conflict; one's own in another case is a rename. */
    if (holder && holder != o) {
        muc_reply_error(up, st, XERR_CONFLICT, "that nick is in use");
        return;
    }
    /* XEP-0045 §7.6: unavailable with 303 and the new nick, then available
     * under the new nick. */
    muc_broadcast_presence(up, r, o, "unavailable", nick, self303, others303);
    room_occ_rename(r, o, nick);
    muc_keep_presence(o, st);
    muc_broadcast_presence(up, r, o, NULL, NULL, self, none);
}

void muc_presence(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to)
{
    const char *type = xmpp_stanza_get_type(st);
    const char *full = xmpp_stanza_get_from(st);
    gboolean missing = FALSE, created = FALSE;
    const char *why = NULL;
    room *r;
    occ *o;
    char *bare, *nick = NULL;
    enum xerr e;

    if (type && strcmp(type, "unavailable") != 0) {
        /* error, probe, subscriptions: nothing for a room to do. */
        return;
    }
    /* Real JIDs are compared and stored folded (schema/affiliations.md). */
    bare = muc_bare(full);
    if (!bare)
        return;
    r = muc_room_lookup(m, to->node, &missing);
    if (!r && missing && !type && to->resource && may_create(m, bare, &why)) {
        /* A creation counts against the join limit too: over it, no room
         * is made for a join that would then be refused. */
        if (!join_allowed(m, bare)) {
            muc_reply_error(up, st, XERR_RESOURCE_CONSTRAINT,
                            "you are joining groups too fast; wait a moment");
            goto leave;
        }
        r = room_create(m, to->node, bare);
        created = r != NULL;
    }
    if (!r) {
        /* XEP-0045 §10.1.1: a user who may not create rooms gets
         * not-allowed; without a nick there is nothing to create. */
        if (!type && missing && to->resource)
            muc_reply_error(up, st, XERR_NOT_ALLOWED, why);
        else if (!type)
            muc_reply_error(up, st,
                            missing ? XERR_ITEM_NOT_FOUND
                                    : XERR_INTERNAL_SERVER_ERROR,
                            missing ? "no such group" : NULL);
        goto leave;
    }
    o = room_occ_by_full(r, full);
    if (type) {
        if (o) {
            leave(up, r, o, st, full);
            /* XEP-0045 §10.2 muc#roomconfig_persistentroom: a temporary
             * room goes when its last occupant leaves. */
            if (room_occupant_count(r) == 0 && !r->cfg->persistent)
                muc_room_erase(m, r);
        }
        goto leave;
    }
    if (!to->resource) {
        /* XEP-0045 §7.2.1: a join needs a nick. */
        muc_reply_error(up, st, XERR_JID_MALFORMED, "a nick is required");
        goto leave;
    }
    /* XEP-0045 §7.2.3 leaves the nick policy to the service: RFC 8266. */
    if (nick_prepare(to->resource, &nick, &why) < 0) {
        muc_reply_error(up, st, XERR_NOT_ACCEPTABLE, why);
        goto leave;
    }
    if ((e = presence_check(st, &why)) != XERR_NONE) {
        muc_reply_error(up, st, e, why);
        goto leave;
    }
    if (!o)
        join(m, up, r, created, st, full, bare, nick,
             strcmp(nick, to->resource) != 0);
    else if (strcmp(o->nick, nick) == 0) {
        static const int self[] = {110, 0}, none[] = {0};
        muc_keep_presence(o, st);
        muc_broadcast_presence(up, r, o, NULL, NULL, self, none);
    } else
        change_nick(up, r, o, st, nick);
leave:
    g_free(nick);
    g_free(bare);
}

/* ---- messages ---- */

typedef struct archive_args {
    muc *m;
    const char *group;
    archive_msg *msg;
    char from_kind; /* the sender: 0 XMPP, 'i' legacy member, 'c' chat */
} archive_args;

static int archive_txn(MDB_txn *txn, const store *st, void *userdata)
{
    archive_args *a = userdata;
    int rc = archive_append(txn, st, a->group, a->msg);

    if (rc == 0 && a->msg->body && a->m->bridge.said)
        rc = a->m->bridge.said(txn, st, a->group, a->msg, a->from_kind,
                               a->m->bridge_data);
    return rc;
}

typedef struct subject_args {
    const room *r;
    const char *subject;
    const char *nick;
} subject_args;

static int subject_txn(MDB_txn *txn, const store *st, void *userdata)
{
    subject_args *a = userdata;
    group_cfg g = *a->r->cfg;

    g.subject = (char *)a->subject;
    g.subject_nick = (char *)a->nick;
    return groups_put(txn, st, &g);
}

/* [limits] rate, burst: one bucket per (room, real bare JID), so that
 * more sessions, another nick, or leaving and joining again do not refill
 * it (issue 9, item 6). */
static gboolean rate_allows(muc *m, room *r, occ *o)
{
    gint64 now = g_get_monotonic_time();
    bucket *b = bucket_table_get(r->rates, o->bare, m->cfg->rate,
                                 m->cfg->burst, BOUND_BUCKETS_PER_ROOM, now);

    return bucket_take(b, m->cfg->rate, m->cfg->burst, now);
}

/* A groupchat message (or subject change, body NULL) from o: checked,
 * archived, then fanned out to every session and, through the bridge, to
 * the group's legacy members. id: the sender's stanza id, echoed on its own
 * copy. Returns XERR_NONE or the error for the sender, with *why. */
enum xerr muc_say(muc *m, uplink *up, room *r, occ *o, const char *body,
                  const char *subject, const char *origin_id, const char *id,
                  const char **why)
{
    archive_msg a = {0};
    archive_args args = {m, r->name, &a, o ? o->legacy_kind : 0};
    GError *err = NULL;
    GHashTableIter it;
    gpointer value;
    enum xerr e = XERR_NONE;

    if (o && o->role == ROLE_VISITOR) {
        *why = "visitors may not speak here";
        return XERR_FORBIDDEN;
    }
    if ((body && g_utf8_strlen(body, -1) > (glong)m->cfg->max_body) ||
        (subject && g_utf8_strlen(subject, -1) > (glong)m->cfg->max_body)) {
        *why = "the message is too long for this group";
        return XERR_POLICY_VIOLATION;
    }
    if (subject && strlen(subject) > BOUND_SUBJECT_BYTES) {
        *why = "the subject is too long for this service";
        return XERR_POLICY_VIOLATION;
    }
    if (origin_id && strlen(origin_id) > BOUND_ID_BYTES) {
        /* Archived and reused as the message id in history and MAM. */
        *why = "the origin-id is too long for this service";
        return XERR_POLICY_VIOLATION;
    }
    if ((body || subject) && o && !rate_allows(m, r, o)) {
        *why = "you are sending too fast; wait a moment";
        return XERR_RESOURCE_CONSTRAINT;
    }
    if (subject && !body) {
        subject_args sa = {r, subject, o ? o->nick : ""};
        /* XEP-0045 §8.1: moderators change the subject. A bridged legacy
         * chat's topic is that chat's own, set under its own rules. */
        if (o && o->legacy_kind != 'c' && o->role != ROLE_MODERATOR &&
            !r->cfg->change_subject) {
            *why = "only moderators may change the subject";
            return XERR_FORBIDDEN;
        }
        if (store_write(m->st, subject_txn, &sa, &err) < 0) {
            log_error_about(LOG_STORE, r->name, "subject: %s", err->message);
            g_clear_error(&err);
            *why = NULL;
            return XERR_INTERNAL_SERVER_ERROR;
        }
        g_free(r->cfg->subject);
        g_free(r->cfg->subject_nick);
        r->cfg->subject = g_strdup(subject);
        r->cfg->subject_nick = g_strdup(sa.nick);
        if (m->bridge.subject)
            m->bridge.subject(r->name, sa.nick, subject, m->bridge_data);
    }
    if (!body && !subject)
        return XERR_NONE;
    a.time_us = g_get_real_time();
    /* o NULL: the room itself (a legacy topic set by nobody present) */
    a.nick = o ? o->nick : "";
    a.occupant_id = o ? o->occupant_id : NULL;
    a.sender_jid = o ? o->bare : NULL;
    a.sender_account = o ? o->legacy_account : NULL;
    a.sender_handle = o ? o->legacy_handle : NULL;
    a.body = (char *)body;
    a.subject = body ? NULL : (char *)subject;
    a.origin_id = (char *)origin_id;
    /* DESIGN: a groupchat message is archived with its stanza-id before it
     * is fanned out, and queued for the legacy members in the same
     * transaction; nothing is acked before it is durable. */
    if (store_write(m->st, archive_txn, &args, &err) < 0) {
        log_error_about(LOG_STORE, r->name, "archive: %s", err->message);
        g_clear_error(&err);
        *why = "the message could not be stored; try again";
        e = XERR_RESOURCE_CONSTRAINT;
        goto leave;
    }
    {
        /* Live, the message is the same for everyone (real JIDs only go
         * into history): serialised once (DESIGN). */
        xmpp_stanza_t *out = archived_message(up, r, &a, r->jid, FALSE, FALSE);
        uplink_fanout *f;
        /* XEP-0045 §7.4: the sender's own copy carries its id, so the
         * client can match its reflection. */
        if (id)
            xmpp_stanza_set_id(out, id);
        f = fanout_of(up, out);
        g_hash_table_iter_init(&it, r->by_nick);
        while (g_hash_table_iter_next(&it, NULL, &value))
            fanout_to(f, value);
        uplink_fanout_free(f);
    }
    if (body && m->bridge.wake)
        m->bridge.wake(r->name, m->bridge_data);
leave:
    /* a.nick etc. are borrowed; only what append assigned is ours. */
    g_free(a.stanza_id);
    return e;
}

static void groupchat(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    char *body = stanza_child_text(st, "body");
    char *subject = stanza_child_text(st, "subject");
    xmpp_stanza_t *origin =
        xmpp_stanza_get_child_by_name_and_ns(st, "origin-id", NS_SID);
    const char *why = NULL;
    enum xerr e;

    /* Chat states and other payload-only messages are relayed but not
     * archived (say does nothing without body or subject). */
    e = muc_say(m, up, r, o, body, subject,
                origin ? xmpp_stanza_get_attribute(origin, "id") : NULL,
                xmpp_stanza_get_id(st), &why);
    if (e != XERR_NONE)
        muc_reply_error(up, st, e, why);
    if (body)
        xmpp_free(ctx, body);
    if (subject)
        xmpp_free(ctx, subject);
}

static void private_message(muc *m, uplink *up, room *r, occ *o,
                            xmpp_stanza_t *st, const char *nick)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    occ *target = room_occ_by_nick(r, nick);
    char *from = occ_nick_jid(r, o);

    if (!target) {
        muc_reply_error(up, st, XERR_ITEM_NOT_FOUND, "no such occupant");
        goto leave;
    }
    /* muc#roomconfig_allowpm: who may send private messages. */
    if (!g_strcmp0(r->cfg->allow_pm, "none") ||
        (!g_strcmp0(r->cfg->allow_pm, "moderators") &&
         o->role != ROLE_MODERATOR)) {
        muc_reply_error(up, st, XERR_NOT_ALLOWED,
                        "private messages are not allowed in this group");
        goto leave;
    }
    if (target->legacy_kind) {
        /* A legacy occupant: the bridge relays the body through the bot. */
        char *body = stanza_child_text(st, "body");
        enum xerr e = XERR_FEATURE_NOT_IMPLEMENTED;
        if (body && target->legacy_kind == 'i' && m->bridge.private_msg)
            e = m->bridge.private_msg(r->name, target->bare, o->nick, body,
                                      m->bridge_data);
        else if (!body)
            e = XERR_NONE; /* chat states: nothing to relay */
        if (e != XERR_NONE)
            muc_reply_error(up, st, e,
                            "private messages cannot reach this occupant");
        if (body)
            xmpp_free(ctx, body);
        goto leave;
    }
    /* XEP-0045 §7.5: from the sender's occupant JID to each session of the
     * recipient, marked with <x xmlns='…muc#user'/>. */
    for (guint i = 0; i < target->sessions->len; i++) {
        xmpp_stanza_t *out = xmpp_message_new(
            ctx, xmpp_stanza_get_type(st),
            g_ptr_array_index(target->sessions, i), xmpp_stanza_get_id(st));
        xmpp_stanza_set_from(out, from);
        /* Issue 9, item 9: no stanza-id by a room, delay, occupant-id or
         * muc#user items from the sender reach the recipient. */
        stanza_copy_relayable(out, st, m->cfg->jid);
        stanza_add(out, stanza_elem(ctx, "x", NS_MUC_USER));
        stanza_send(up, out);
    }
leave:
    g_free(from);
}

typedef struct member_args {
    const char *group;
    const char *bare;
} member_args;

static int member_txn(MDB_txn *txn, const store *st, void *userdata)
{
    member_args *a = userdata;
    enum affiliation cur;
    int rc = affiliations_get(txn, st, a->group, a->bare, &cur);

    if (rc == 0 && cur == AFF_NONE)
        rc = affiliations_set(txn, st, a->group, a->bare, AFF_MEMBER, NULL);
    return rc;
}

static guint count_children(xmpp_stanza_t *x, const char *name)
{
    guint n = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c;
         c = xmpp_stanza_get_next(c))
        n += xmpp_stanza_is_tag(c) && !g_strcmp0(xmpp_stanza_get_name(c), name);
    return n;
}

/* XEP-0045 §7.8.2 mediated invitations: the room passes the <invite/> on
 * from its own JID, naming the inviter, with the password if there is one.
 * In a members-only room an invitation by an owner or admin makes the
 * invitee a member (§9.3), so the invitation can be used.
 *
 * One invitation per stanza (issue 9, item 10): §7.8.2 describes an
 * invitation as one <invite/> naming one invitee, and a room that sent one
 * message per <invite/> would let anyone multiply a stanza into N. A stanza
 * with more is refused whole with bad-request, so that nothing is sent on
 * the sender's behalf that it cannot tell apart from what was dropped
 * (Prosody relays the first silently). */
static void invite(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st,
                   xmpp_stanza_t *x)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(x, "invite");
    xmpp_stanza_t *msg = NULL, *ux, *inv;
    const char *to = xmpp_stanza_get_attribute(c, "to");
    char *reason = NULL, *bare = NULL;
    GError *err = NULL;

    if (r->cfg->members_only && o->aff != AFF_OWNER && o->aff != AFF_ADMIN) {
        muc_reply_error(up, st, XERR_FORBIDDEN,
                        "only owners and admins invite to this group");
        return;
    }
    if (count_children(x, "invite") > 1) {
        muc_reply_error(up, st, XERR_BAD_REQUEST,
                        "one invitation per message");
        return;
    }
    if (!to || !(bare = muc_bare(to))) {
        muc_reply_error(up, st, XERR_JID_MALFORMED,
                        "an invitation needs a valid 'to'");
        return;
    }
    if (r->cfg->members_only) {
        member_args ma = {r->name, bare};
        if (store_write(m->st, member_txn, &ma, &err) < 0) {
            log_error_about(LOG_STORE, r->name, "invitation: %s",
                            err ? err->message : "?");
            g_clear_error(&err);
            muc_reply_error(up, st, XERR_INTERNAL_SERVER_ERROR, NULL);
            goto leave;
        }
    }
    msg = xmpp_message_new(ctx, NULL, to, xmpp_stanza_get_id(st));
    xmpp_stanza_set_from(msg, r->jid);
    ux = stanza_elem(ctx, "x", NS_MUC_USER);
    inv = stanza_elem(ctx, "invite", NULL);
    xmpp_stanza_set_attribute(inv, "from", o->bare);
    if ((reason = stanza_reason(ctx, c)))
        stanza_add_text(ctx, inv, "reason", reason);
    stanza_add(ux, inv);
    if (r->cfg->password && *r->cfg->password)
        stanza_add_text(ctx, ux, "password", r->cfg->password);
    stanza_add(msg, ux);
    /* Remembered so that only this invitee's decline goes back, and only
     * to this inviter. */
    room_invite_add(r, bare, o->bare, g_get_monotonic_time());
    stanza_send(up, msg);
leave:
    g_free(reason);
    g_free(bare);
}

/* XEP-0045 §7.8.2: a declined invitation goes back to the inviter, from
 * the room. Only from someone the room invited (issue 9, item 10), and
 * only to who invited them, whatever 'to' says: otherwise anyone could
 * make the room send a message to anyone. */
static void decline(uplink *up, room *r, xmpp_stanza_t *st, xmpp_stanza_t *x)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *d = xmpp_stanza_get_child_by_name(x, "decline");
    xmpp_stanza_t *msg, *ux, *dec;
    char *reason, *from_bare = muc_bare(xmpp_stanza_get_from(st));
    char *inviter = from_bare ? room_invite_take(r, from_bare,
                                                 g_get_monotonic_time())
                              : NULL;

    if (!inviter) {
        muc_reply_error(up, st, XERR_NOT_ACCEPTABLE,
                        "there is no invitation of yours to decline");
        g_free(from_bare);
        return;
    }
    msg = xmpp_message_new(ctx, NULL, inviter, xmpp_stanza_get_id(st));
    xmpp_stanza_set_from(msg, r->jid);
    ux = stanza_elem(ctx, "x", NS_MUC_USER);
    dec = stanza_elem(ctx, "decline", NULL);
    xmpp_stanza_set_attribute(dec, "from", from_bare);
    if ((reason = stanza_reason(ctx, d))) {
        stanza_add_text(ctx, dec, "reason", reason);
        g_free(reason);
    }
    stanza_add(ux, dec);
    stanza_add(msg, ux);
    stanza_send(up, msg);
    g_free(inviter);
    g_free(from_bare);
}

void muc_message(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to)
{
    xmpp_stanza_t *user_x;
    const char *type = xmpp_stanza_get_type(st);
    gboolean missing = FALSE;
    room *r = muc_room_lookup(m, to->node, &missing);
    occ *o;

    if (type && (!strcmp(type, "error") || !strcmp(type, "headline")))
        return;
    if (!r) {
        muc_reply_error(
            up, st, missing ? XERR_ITEM_NOT_FOUND : XERR_INTERNAL_SERVER_ERROR,
            missing ? "no such group" : NULL);
        return;
    }
    user_x = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
    if (!to->resource && user_x &&
        xmpp_stanza_get_child_by_name(user_x, "decline")) {
        decline(up, r, st, user_x);
        return;
    }
    o = room_occ_by_full(r, xmpp_stanza_get_from(st));
    if (!o) {
        /* XEP-0045 §7.4: messages from non-occupants are refused. */
        muc_reply_error(up, st, XERR_NOT_ACCEPTABLE,
                        "only occupants may send messages to this group");
        return;
    }
    if (!to->resource) {
        if (type && !strcmp(type, "groupchat"))
            groupchat(m, up, r, o, st);
        else if (user_x && xmpp_stanza_get_child_by_name(user_x, "invite"))
            invite(m, up, r, o, st, user_x);
        else
            muc_reply_error(up, st, XERR_FEATURE_NOT_IMPLEMENTED, NULL);
        return;
    }
    if (type && !strcmp(type, "groupchat")) {
        /* XEP-0045 §7.5: a groupchat message to an occupant is wrong. */
        muc_reply_error(up, st, XERR_BAD_REQUEST,
                        "private messages are of type chat");
        return;
    }
    private_message(m, up, r, o, st, to->resource);
}

/* ---- iq ---- */

/* Whether the asker of a disco query on r is an outsider of a room that
 * keeps to itself (hidden or members-only): not an occupant, and no
 * affiliation of member or above. */
static gboolean outsider_of_private(muc *m, room *r, xmpp_stanza_t *st,
                                    const occ *o)
{
    char *bare;
    enum affiliation a;

    if (o || (r->cfg->is_public && !r->cfg->members_only))
        return FALSE;
    if (!(bare = muc_bare(xmpp_stanza_get_from(st))))
        return TRUE;
    a = muc_affiliation(m, r, bare);
    g_free(bare);
    return a != AFF_OWNER && a != AFF_ADMIN && a != AFF_MEMBER;
}

/* XEP-0045 §6.4. Issue 9, item 7: an outsider of a hidden or members-only
 * room learns no more than Prosody's MUC tells (identity, features,
 * description, occupant count): not the subject, which Prosody's
 * muc#roominfo never carries and which in such a room is the members'
 * business. */
static void room_disco_info(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                            const occ *o)
{
    gboolean outsider = outsider_of_private(m, r, st, o);
    static const char *const features[] = {
        NS_MUC, NS_SID, NS_OCCUPANT_ID, NS_PING, NS_DISCO_INFO, NS_MAM, NULL,
    };
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *res = xmpp_iq_new(ctx, "result", xmpp_stanza_get_id(st));
    xmpp_stanza_t *q = stanza_elem(ctx, "query", NS_DISCO_INFO);
    xmpp_stanza_t *id = stanza_elem(ctx, "identity", NULL);
    xmpp_stanza_t *form, *field;
    char count[16];

    xmpp_stanza_set_to(res, xmpp_stanza_get_from(st));
    xmpp_stanza_set_from(res, r->jid);
    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    xmpp_stanza_set_attribute(id, "name",
                              *r->cfg->name ? r->cfg->name : r->name);
    stanza_add(q, id);
    {
        GPtrArray *all = g_ptr_array_new();
        for (int i = 0; features[i]; i++)
            g_ptr_array_add(all, (gpointer)features[i]);
        options_features(r->cfg, all);
        for (guint i = 0; i < all->len; i++) {
            xmpp_stanza_t *f = stanza_elem(ctx, "feature", NULL);
            xmpp_stanza_set_attribute(f, "var", g_ptr_array_index(all, i));
            stanza_add(q, f);
        }
        g_ptr_array_unref(all);
    }
    /* XEP-0045 §6.4: the muc#roominfo form. */
    form = stanza_elem(ctx, "x", NS_DATA);
    xmpp_stanza_set_type(form, "result");
    field = stanza_elem(ctx, "field", NULL);
    xmpp_stanza_set_attribute(field, "var", "FORM_TYPE");
    xmpp_stanza_set_type(field, "hidden");
    stanza_add_text(ctx, field, "value",
                    "http://jabber.org/protocol/muc#roominfo");
    stanza_add(form, field);
    field = stanza_elem(ctx, "field", NULL);
    xmpp_stanza_set_attribute(field, "var", "muc#roominfo_description");
    stanza_add_text(ctx, field, "value", r->cfg->description);
    stanza_add(form, field);
    field = stanza_elem(ctx, "field", NULL);
    xmpp_stanza_set_attribute(field, "var", "muc#roominfo_occupants");
    g_snprintf(count, sizeof(count), "%u", room_occupant_count(r));
    stanza_add_text(ctx, field, "value", count);
    stanza_add(form, field);
    if (!outsider) {
        field = stanza_elem(ctx, "field", NULL);
        xmpp_stanza_set_attribute(field, "var", "muc#roominfo_subject");
        stanza_add_text(ctx, field, "value",
                        r->cfg->subject ? r->cfg->subject : "");
        stanza_add(form, field);
    }
    stanza_add(q, form);
    stanza_add(res, q);
    stanza_send(up, res);
}

void muc_result(uplink *up, xmpp_stanza_t *st, xmpp_stanza_t *payload)
{
    xmpp_stanza_t *res =
        xmpp_iq_new(uplink_ctx(up), "result", xmpp_stanza_get_id(st));

    xmpp_stanza_set_to(res, xmpp_stanza_get_from(st));
    xmpp_stanza_set_from(res, xmpp_stanza_get_to(st));
    if (payload)
        stanza_add(res, payload);
    stanza_send(up, res);
}

/* ---- MAM (XEP-0313) ---- */

static gboolean form_has_other_fields(xmpp_stanza_t *form)
{
    static const char *const known[] = {"FORM_TYPE", "start",     "end",
                                        "after-id",  "before-id", NULL};

    for (xmpp_stanza_t *f = form ? xmpp_stanza_get_children(form) : NULL; f;
         f = xmpp_stanza_get_next(f)) {
        const char *v;
        gboolean ok = FALSE;
        if (!xmpp_stanza_is_tag(f) ||
            g_strcmp0(xmpp_stanza_get_name(f), "field") != 0)
            continue;
        v = xmpp_stanza_get_attribute(f, "var");
        for (int i = 0; known[i]; i++)
            ok = ok || g_strcmp0(v, known[i]) == 0;
        if (!ok)
            return TRUE;
    }
    return FALSE;
}

static int parse_stamp(xmpp_ctx_t *ctx, char *text, gint64 *out)
{
    GDateTime *dt;

    *out = 0;
    if (!text)
        return 0;
    dt = g_date_time_new_from_iso8601(text, NULL);
    xmpp_free(ctx, text);
    if (!dt)
        return -1;
    *out = g_date_time_to_unix(dt) * G_USEC_PER_SEC +
           g_date_time_get_microsecond(dt);
    g_date_time_unref(dt);
    return 0;
}

static void mam_form(uplink *up, xmpp_stanza_t *st)
{
    static const char *const fields[] = {"start", "end", "after-id",
                                         "before-id", NULL};
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *q = stanza_elem(ctx, "query", NS_MAM);
    xmpp_stanza_t *form = stanza_elem(ctx, "x", NS_DATA);
    xmpp_stanza_t *f = stanza_elem(ctx, "field", NULL);

    /* XEP-0313 §5.1: the fields the archive can filter on. */
    xmpp_stanza_set_type(form, "form");
    xmpp_stanza_set_attribute(f, "var", "FORM_TYPE");
    xmpp_stanza_set_type(f, "hidden");
    stanza_add_text(ctx, f, "value", NS_MAM);
    stanza_add(form, f);
    for (int i = 0; fields[i]; i++) {
        f = stanza_elem(ctx, "field", NULL);
        xmpp_stanza_set_attribute(f, "var", fields[i]);
        xmpp_stanza_set_type(f, "text-single");
        stanza_add(form, f);
    }
    stanza_add(q, form);
    muc_result(up, st, q);
}

static gboolean may_read_archive(muc *m, room *r, const char *full)
{
    char *bare;
    enum affiliation a;

    /* Privacy: the archive is for the group, not for passers-by: occupants
     * and affiliated users (members and up) may read it. */
    if (room_occ_by_full(r, full))
        return TRUE;
    if (!(bare = muc_bare(full)))
        return FALSE;
    a = muc_affiliation(m, r, bare);
    g_free(bare);
    return a == AFF_OWNER || a == AFF_ADMIN || a == AFF_MEMBER;
}

static void mam_query(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                      xmpp_stanza_t *q)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    const char *from = xmpp_stanza_get_from(st);
    const char *queryid = xmpp_stanza_get_attribute(q, "queryid");
    xmpp_stanza_t *form = xmpp_stanza_get_child_by_name_and_ns(q, "x", NS_DATA);
    xmpp_stanza_t *set = xmpp_stanza_get_child_by_name_and_ns(q, "set", NS_RSM);
    xmpp_stanza_t *e;
    archive_query aq = {0};
    char *after = NULL, *before = NULL, *max = NULL;
    GPtrArray *list = NULL;
    gboolean complete = FALSE, mod;
    guint64 count = 0;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    occ *o = room_occ_by_full(r, from);
    int rc;

    if (!may_read_archive(m, r, from)) {
        muc_reply_error(up, st, XERR_FORBIDDEN,
                        "only members of this group may read its archive");
        return;
    }
    mod = o ? muc_sees_jids(r, o) : r->cfg->whois_anyone;
    if (form_has_other_fields(form)) {
        muc_reply_error(up, st, XERR_FEATURE_NOT_IMPLEMENTED,
                        "filters supported: start, end, after-id, before-id");
        return;
    }
    if (parse_stamp(ctx, stanza_form_value(form, "start"), &aq.start_us) < 0 ||
        parse_stamp(ctx, stanza_form_value(form, "end"), &aq.end_us) < 0) {
        muc_reply_error(up, st, XERR_BAD_REQUEST,
                        "start/end are not XEP-0082 "
                        "date-times");
        return;
    }
    after = stanza_form_value(form, "after-id");
    before = stanza_form_value(form, "before-id");
    if (set) {
        xmpp_stanza_t *a = xmpp_stanza_get_child_by_name(set, "after");
        xmpp_stanza_t *b = xmpp_stanza_get_child_by_name(set, "before");
        xmpp_stanza_t *mx = xmpp_stanza_get_child_by_name(set, "max");
        if (a && !after)
            after = xmpp_stanza_get_text(a);
        if (b) {
            char *t = xmpp_stanza_get_text(b);
            /* XEP-0059 §2.5: an empty <before/> asks for the last page. */
            if (t && *t && !before)
                before = t;
            else {
                aq.before_last = TRUE;
                if (t)
                    xmpp_free(ctx, t);
            }
        }
        if (mx)
            max = xmpp_stanza_get_text(mx);
    }
    aq.after_id = after;
    aq.before_id = before;
    aq.max = max ? (guint)MIN(g_ascii_strtoull(max, NULL, 10), G_MAXUINT) : 0;
    if (max && aq.max == 0)
        aq.max = 1; /* RSM max 0 asks for the count only; one is harmless */
    if (store_read_begin(m->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "mam: %s", err->message);
        g_error_free(err);
        muc_reply_error(up, st, XERR_INTERNAL_SERVER_ERROR, NULL);
        goto leave;
    }
    rc = archive_query_run(txn, m->st, r->name, &aq, &list, &complete, &count);
    store_read_end(txn);
    if (rc == ARCHIVE_ITEM_NOT_FOUND) {
        /* XEP-0313 §6.1: an unknown id in after/before is item-not-found. */
        muc_reply_error(up, st, XERR_ITEM_NOT_FOUND, "no message with that id");
        goto leave;
    }
    if (rc != 0) {
        log_error_about(LOG_STORE, r->name, "mam query failed (%d)", rc);
        muc_reply_error(up, st, XERR_INTERNAL_SERVER_ERROR, NULL);
        goto leave;
    }
    for (guint i = 0; i < list->len; i++) {
        const archive_msg *a = g_ptr_array_index(list, i);
        xmpp_stanza_t *msg = xmpp_message_new(ctx, NULL, from, NULL);
        xmpp_stanza_t *res = stanza_elem(ctx, "result", NS_MAM);
        xmpp_stanza_t *fwd = stanza_elem(ctx, "forwarded", NS_FORWARD);
        xmpp_stanza_t *inner, *delay;
        char *ts = stamp(a->time_us);

        xmpp_stanza_set_from(msg, r->jid);
        if (queryid)
            xmpp_stanza_set_attribute(res, "queryid", queryid);
        xmpp_stanza_set_id(res, a->stanza_id);
        delay = stanza_elem(ctx, "delay", NS_DELAY);
        xmpp_stanza_set_attribute(delay, "stamp", ts);
        stanza_add(fwd, delay);
        inner = archived_message(up, r, a, from, mod, FALSE);
        /* Inside <forwarded/> the message is the one the room sent, in
         * the client namespace. */
        xmpp_stanza_set_ns(inner, "jabber:client");
        stanza_add(fwd, inner);
        stanza_add(res, fwd);
        stanza_add(msg, res);
        stanza_send(up, msg);
        g_free(ts);
    }
    {
        xmpp_stanza_t *fin = stanza_elem(ctx, "fin", NS_MAM);
        xmpp_stanza_t *rsm = stanza_elem(ctx, "set", NS_RSM);
        char n[24];
        if (queryid)
            xmpp_stanza_set_attribute(fin, "queryid", queryid);
        if (complete)
            xmpp_stanza_set_attribute(fin, "complete", "true");
        if (list->len) {
            const archive_msg *first = g_ptr_array_index(list, 0);
            const archive_msg *last = g_ptr_array_index(list, list->len - 1);
            stanza_add_text(ctx, rsm, "first", first->stanza_id);
            stanza_add_text(ctx, rsm, "last", last->stanza_id);
        }
        g_snprintf(n, sizeof(n), "%" G_GUINT64_FORMAT, count);
        stanza_add_text(ctx, rsm, "count", n);
        stanza_add(fin, rsm);
        e = fin;
        muc_result(up, st, e);
    }
leave:
    if (list)
        g_ptr_array_unref(list);
    if (after)
        xmpp_free(ctx, after);
    if (before)
        xmpp_free(ctx, before);
    if (max)
        xmpp_free(ctx, max);
}

void muc_iq(muc *m, uplink *up, xmpp_stanza_t *st, xmpp_stanza_t *child,
            const jid *to)
{
    const char *type = xmpp_stanza_get_type(st);
    const char *ns = xmpp_stanza_get_ns(child);
    const char *name = xmpp_stanza_get_name(child);
    gboolean missing = FALSE;
    room *r = muc_room_lookup(m, to->node, &missing);
    occ *o;

    if (!r) {
        muc_reply_error(
            up, st, missing ? XERR_ITEM_NOT_FOUND : XERR_INTERNAL_SERVER_ERROR,
            missing ? "no such group" : NULL);
        return;
    }
    o = room_occ_by_full(r, xmpp_stanza_get_from(st));
    if (to->resource) {
        /* XEP-0410 §4: a ping to one's own occupant JID is answered by the
         * room; a client that is not joined gets not-acceptable, so it
         * knows to join again. */
        if (!o) {
            muc_reply_error(up, st, XERR_NOT_ACCEPTABLE, "you are not joined");
            return;
        }
        if (!strcmp(type, "get") && !strcmp(name, "ping") && ns &&
            !strcmp(ns, NS_PING) && room_occ_by_nick(r, to->resource) == o) {
            muc_result(up, st, NULL);
            return;
        }
        muc_reply_error(up, st, XERR_FEATURE_NOT_IMPLEMENTED, NULL);
        return;
    }
    if (!strcmp(type, "get") && ns && !strcmp(ns, NS_DISCO_INFO) &&
        !xmpp_stanza_get_attribute(child, "node")) {
        room_disco_info(m, up, r, st, o);
        return;
    }
    if (!strcmp(type, "get") && ns && !strcmp(ns, NS_DISCO_ITEMS)) {
        /* XEP-0045 §6.5: occupants may be listed. Only to occupants, and
         * only their nicks: outsiders cannot enumerate who is in a
         * group. */
        xmpp_stanza_t *q = stanza_elem(uplink_ctx(up), "query", NS_DISCO_ITEMS);
        if (o) {
            GHashTableIter it;
            gpointer value;
            g_hash_table_iter_init(&it, r->by_nick);
            while (g_hash_table_iter_next(&it, NULL, &value)) {
                const occ *other = value;
                xmpp_stanza_t *item = stanza_elem(uplink_ctx(up), "item", NULL);
                char *j = g_strconcat(r->jid, "/", other->nick, NULL);
                xmpp_stanza_set_attribute(item, "jid", j);
                xmpp_stanza_set_attribute(item, "name", other->nick);
                stanza_add(q, item);
                g_free(j);
            }
        }
        muc_result(up, st, q);
        return;
    }
    if (!strcmp(type, "get") && ns && !strcmp(ns, NS_PING)) {
        muc_result(up, st, NULL);
        return;
    }
    if (ns && !strcmp(ns, NS_MUC_ADMIN) && !strcmp(name, "query")) {
        muc_admin_iq(m, up, r, st, child);
        return;
    }
    if (ns && !strcmp(ns, NS_MUC_OWNER) && !strcmp(name, "query")) {
        muc_owner_iq(m, up, r, st, child);
        return;
    }
    if (ns && !strcmp(ns, NS_MAM) && !strcmp(name, "query")) {
        if (!strcmp(type, "get"))
            mam_form(up, st);
        else
            mam_query(m, up, r, st, child);
        return;
    }
    muc_reply_error(up, st, XERR_SERVICE_UNAVAILABLE, NULL);
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
