/* outbox: "(qa{sv})" entries keyed account\0 kind target\0 id(be64) in
 * "outbox", each target's cursor "(qa{sv})" under account\0 kind target\0,
 * the id high-water mark "(qt)" under "\0" and the last slot "(qu)" under
 * "\0s". */
#include <errno.h>
#include <string.h>

#include "outbox.h"

#include "archive.h"
#include "members.h"

#define OUTBOX_TYPE G_VARIANT_TYPE("(qa{sv})")
#define MARK_TYPE   G_VARIANT_TYPE("(qt)")
#define SLOTS_TYPE  G_VARIANT_TYPE("(qu)")

/* LMDB's default key size limit. */
#define KEY_MAX 511

/* The high-water mark's key: every entry key starts with a non-empty
 * account name, so no entry key starts with \0. */
static const char mark_key[1] = {'\0'};
/* The last slot given to a cursor: also before every account. */
static const char slots_key[2] = {'\0', 's'};

/* A key built here. */
typedef struct okey {
    size_t len;
    unsigned char b[KEY_MAX];
} okey;

void outbox_msg_free(outbox_msg *m)
{
    if (!m)
        return;
    g_free(m->account);
    g_free(m->target);
    g_free(m->group);
    g_free(m->nick);
    g_free(m->body);
    g_free(m);
}

/* Keys */

static gboolean part_ok(const char *p)
{
    return p != NULL && *p != '\0';
}

static gboolean kind_ok(char kind)
{
    return kind == OUTBOX_KIND_IM || kind == OUTBOX_KIND_CHAT;
}

/* account\0 */
static gboolean key_account(okey *k, const char *account)
{
    size_t alen = strlen(account);

    if (alen > STORE_ACCOUNT_MAX)
        return FALSE;
    memcpy(k->b, account, alen);
    k->b[alen] = '\0';
    k->len = alen + 1;
    return TRUE;
}

/* account\0 kind target\0, with room left for an id. */
static gboolean key_target(okey *k, const char *account, char kind,
                           const char *target)
{
    size_t alen = strlen(account), tlen = strlen(target);

    if (alen > STORE_ACCOUNT_MAX || tlen > STORE_HANDLE_MAX)
        return FALSE;
    memcpy(k->b, account, alen);
    k->b[alen] = '\0';
    k->b[alen + 1] = (unsigned char)kind;
    memcpy(k->b + alen + 2, target, tlen);
    k->b[alen + 2 + tlen] = '\0';
    k->len = alen + tlen + 3;
    return TRUE;
}

/* A target prefix made into the key of its entry id. */
static void key_set_id(okey *k, size_t prefix_len, guint64 id)
{
    store_put_be64(k->b + prefix_len, id);
    k->len = prefix_len + 8;
}

/* account\0 kind target\0 after the argument checks: 0, -EINVAL or
 * STORE_KEY_TOO_LONG. It is a target's cursor key and its entries' prefix. */
static int target_prefix(okey *k, const char *account, char kind,
                         const char *target)
{
    if (!part_ok(account) || !kind_ok(kind) || !part_ok(target))
        return -EINVAL;
    return key_target(k, account, kind, target) ? 0 : STORE_KEY_TOO_LONG;
}

/* Splits the part of an entry key after account\0 (rest, len bytes) into
 * kind, target and id; FALSE if it is not shaped as one. */
static gboolean parse_entry(const unsigned char *rest, size_t len, char *kind,
                            const unsigned char **target, size_t *tlen,
                            guint64 *id)
{
    const unsigned char *sep;

    if (len < 1 + 1 + 1 + 8 || !kind_ok((char)rest[0]))
        return FALSE;
    sep = memchr(rest + 1, '\0', len - 1);
    if (!sep || sep == rest + 1 || (size_t)(sep - rest) + 1 + 8 != len)
        return FALSE;
    *kind = (char)rest[0];
    *target = rest + 1;
    *tlen = (size_t)(sep - rest) - 1;
    *id = store_get_be64(sep + 1);
    return TRUE;
}

/* Records */

static GVariant *outbox_encode(const outbox_msg *m)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "group", g_variant_new_string(m->group));
    g_variant_builder_add(&b, "{sv}", "archive_seq",
                          g_variant_new_uint64(m->archive_seq));
    g_variant_builder_add(&b, "{sv}", "time", g_variant_new_int64(m->time_us));
    g_variant_builder_add(&b, "{sv}", "nick",
                          g_variant_new_string(m->nick ? m->nick : ""));
    g_variant_builder_add(&b, "{sv}", "body", g_variant_new_string(m->body));
    if (m->action)
        g_variant_builder_add(&b, "{sv}", "action",
                              g_variant_new_boolean(TRUE));
    return g_variant_new("(qa{sv})", (guint16)OUTBOX_RECORD_VERSION, &b);
}

/* Decodes the value of entry id of (account, kind, target) into owned
 * memory. */
static int outbox_decode(const MDB_val *d, const char *account, size_t alen,
                         char kind, const unsigned char *target, size_t tlen,
                         guint64 id, outbox_msg **out)
{
    GVariant *v = NULL, *dict = NULL, *x;
    outbox_msg *m = NULL;
    guint16 version;
    int rc;

    *out = NULL;
    rc = store_decode_variant(d, OUTBOX_TYPE, &v);
    if (rc != 0)
        goto leave;
    rc = MDB_CORRUPTED;
    g_variant_get(v, "(q@a{sv})", &version, &dict);
    if (version == 0 || version > OUTBOX_RECORD_VERSION)
        goto leave;
    m = g_new0(outbox_msg, 1);
    m->group = store_dict_string(dict, "group");
    m->body = store_dict_string(dict, "body");
    if (!m->group || !*m->group || !m->body)
        goto leave;
    m->nick = store_dict_string(dict, "nick");
    if (!m->nick)
        m->nick = g_strdup("");
    if ((x = g_variant_lookup_value(dict, "archive_seq",
                                    G_VARIANT_TYPE_UINT64))) {
        m->archive_seq = g_variant_get_uint64(x);
        g_variant_unref(x);
    }
    if ((x = g_variant_lookup_value(dict, "time", G_VARIANT_TYPE_INT64))) {
        m->time_us = g_variant_get_int64(x);
        g_variant_unref(x);
    }
    if ((x = g_variant_lookup_value(dict, "action", G_VARIANT_TYPE_BOOLEAN))) {
        m->action = g_variant_get_boolean(x);
        g_variant_unref(x);
    }
    m->id = id;
    m->account = g_strndup(account, alen);
    m->kind = kind;
    m->target = g_strndup((const char *)target, tlen);
    *out = m;
    m = NULL;
    rc = 0;
leave:
    outbox_msg_free(m);
    if (dict)
        g_variant_unref(dict);
    if (v)
        g_variant_unref(v);
    return rc;
}

/* The highest id ever assigned (0: none yet). */
static int read_mark(MDB_txn *txn, MDB_dbi dbi, guint64 *high)
{
    GVariant *v = NULL;
    guint16 version;
    int rc;

    *high = 0;
    rc = store_get_variant(txn, dbi, mark_key, sizeof mark_key, MARK_TYPE, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    g_variant_get(v, "(qt)", &version, high);
    g_variant_unref(v);
    if (version == 0 || version > OUTBOX_MARK_VERSION) {
        *high = 0;
        return MDB_CORRUPTED;
    }
    return 0;
}

/* Writing */

int outbox_add(MDB_txn *txn, const store *s, outbox_msg *m)
{
    MDB_dbi dbi = store_dbi(s, STORE_DB_OUTBOX);
    guint64 high;
    okey key;
    size_t plen;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && m != NULL, -EINVAL);
    if (!part_ok(m->account) || !kind_ok(m->kind) || !part_ok(m->target) ||
        !part_ok(m->group) || !g_utf8_validate(m->group, -1, NULL) ||
        !m->body || !g_utf8_validate(m->body, -1, NULL) ||
        (m->nick && !g_utf8_validate(m->nick, -1, NULL)))
        return -EINVAL;
    if (!key_target(&key, m->account, m->kind, m->target))
        return STORE_KEY_TOO_LONG;
    plen = key.len;
    rc = read_mark(txn, dbi, &high);
    if (rc != 0)
        return rc;
    if (high == G_MAXUINT64)
        return -EOVERFLOW;
    key_set_id(&key, plen, high + 1);
    rc = store_put_variant(txn, dbi, key.b, key.len, outbox_encode(m));
    if (rc != 0)
        return rc;
    /* The mark, not the last key, says which ids were used: entries are
     * deleted as they are delivered, and an id must never come back. */
    rc = store_put_variant(txn, dbi, mark_key, sizeof mark_key,
                           g_variant_new("(qt)", (guint16)OUTBOX_MARK_VERSION,
                                         (guint64)(high + 1)));
    if (rc != 0)
        return rc;
    m->id = high + 1;
    return 0;
}

int outbox_remove(MDB_txn *txn, const store *s, const char *account, char kind,
                  const char *target, guint64 id)
{
    okey key;
    MDB_val k;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL, -EINVAL);
    if (!part_ok(account) || !kind_ok(kind) || !part_ok(target))
        return -EINVAL;
    if (!key_target(&key, account, kind, target))
        return STORE_KEY_TOO_LONG;
    key_set_id(&key, key.len, id);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_del(txn, store_dbi(s, STORE_DB_OUTBOX), &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A walk's state, for the store_walk callbacks below. */
typedef struct owalk {
    MDB_txn *txn;
    const store *s;
    const char *account;
    size_t plen;     /* the walk's prefix */
    guint64 after;   /* foreach_target: ids above this */
    guint64 n;       /* counted or dropped */
    outbox_fn fn;
    outbox_target_fn tfn;
    outbox_cursor_fn cfn;
    void *userdata;
    okey target;     /* pending: the target being counted, len 0 none */
} owalk;

static int drop_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    owalk *w = userdata;
    okey key;
    MDB_val kk;
    int rc;

    (void)d;
    /* a copy: k points into the page the deletion changes */
    key.len = MIN(k->mv_size, sizeof key.b);
    memcpy(key.b, k->mv_data, key.len);
    kk = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_del(w->txn, store_dbi(w->s, STORE_DB_OUTBOX), &kk, NULL);
    if (rc == 0)
        w->n++;
    return rc;
}

/* Deletes every key that starts with prefix; *dropped counts them. */
static int drop_prefix(MDB_txn *txn, const store *s, const okey *prefix,
                       guint64 *dropped)
{
    owalk w = {.txn = txn, .s = s};
    int rc = store_walk(txn, store_dbi(s, STORE_DB_OUTBOX), prefix->b,
                        prefix->len, drop_one, &w);

    if (dropped)
        *dropped = w.n;
    return rc;
}

int outbox_drop_target(MDB_txn *txn, const store *s, const char *account,
                       char kind, const char *target, guint64 *dropped)
{
    okey prefix;

    g_return_val_if_fail(txn != NULL && s != NULL, -EINVAL);
    if (dropped)
        *dropped = 0;
    if (!part_ok(account) || !kind_ok(kind) || !part_ok(target))
        return -EINVAL;
    if (!key_target(&prefix, account, kind, target))
        return STORE_KEY_TOO_LONG;
    return drop_prefix(txn, s, &prefix, dropped);
}

int outbox_drop_account(MDB_txn *txn, const store *s, const char *account,
                        guint64 *dropped)
{
    okey prefix;

    g_return_val_if_fail(txn != NULL && s != NULL, -EINVAL);
    if (dropped)
        *dropped = 0;
    if (!part_ok(account))
        return -EINVAL;
    if (!key_account(&prefix, account))
        return STORE_KEY_TOO_LONG;
    return drop_prefix(txn, s, &prefix, dropped);
}

/* Reading */

static int walk_entry(const MDB_val *k, const MDB_val *d, void *userdata)
{
    owalk *w = userdata;
    const unsigned char *key = k->mv_data;
    size_t alen = strlen(w->account);
    outbox_msg *m = NULL;
    guint64 id;
    int stop;

    if (k->mv_size != w->plen + 8)
        return 0; /* the target's cursor */
    id = store_get_be64(key + w->plen);
    if (id <= w->after ||
        outbox_decode(d, w->account, alen, (char)key[alen + 1], key + alen + 2,
                      w->plen - alen - 3, id, &m) != 0)
        return 0;
    stop = w->fn(m, w->userdata);
    outbox_msg_free(m);
    return stop;
}

int outbox_foreach_target(MDB_txn *txn, const store *s, const char *account,
                          char kind, const char *target, guint64 after_id,
                          outbox_fn fn, void *userdata)
{
    owalk w = {.txn = txn, .s = s, .account = account, .after = after_id,
               .fn = fn, .userdata = userdata};
    okey prefix;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    rc = target_prefix(&prefix, account, kind, target);
    if (rc != 0 || after_id == G_MAXUINT64)
        return rc;
    w.plen = prefix.len;
    return store_walk(txn, store_dbi(s, STORE_DB_OUTBOX), prefix.b, prefix.len,
                      walk_entry, &w);
}

static int count_entry(const MDB_val *k, const MDB_val *d, void *userdata)
{
    owalk *w = userdata;

    (void)d;
    if (k->mv_size == w->plen + 8)
        w->n++;
    return 0;
}

int outbox_count_target(MDB_txn *txn, const store *s, const char *account,
                        char kind, const char *target, guint64 *count)
{
    owalk w = {0};
    okey prefix;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && count != NULL, -EINVAL);
    *count = 0;
    rc = target_prefix(&prefix, account, kind, target);
    if (rc != 0)
        return rc;
    w.plen = prefix.len;
    rc = store_walk(txn, store_dbi(s, STORE_DB_OUTBOX), prefix.b, prefix.len,
                    count_entry, &w);
    if (rc == 0)
        *count = w.n;
    return rc;
}

/* Gives the target counted so far, if any, to the caller's function. */
static int pending_flush(owalk *w)
{
    char *name;
    int stop;

    if (w->target.len == 0 || w->n == 0)
        return 0;
    name = g_strndup((const char *)w->target.b + w->plen + 1,
                     w->target.len - w->plen - 2);
    stop = w->tfn(w->account, (char)w->target.b[w->plen], name, w->n,
                  w->userdata);
    g_free(name);
    w->target.len = 0;
    w->n = 0;
    return stop;
}

static int pending_entry(const MDB_val *k, const MDB_val *d, void *userdata)
{
    owalk *w = userdata;
    const unsigned char *rest = (const unsigned char *)k->mv_data + w->plen;
    const unsigned char *target;
    size_t tlen;
    guint64 id;
    char kind;
    int stop;

    (void)d;
    if (!parse_entry(rest, k->mv_size - w->plen, &kind, &target, &tlen, &id))
        return 0; /* a cursor, or no entry */
    /* account\0 kind target\0: the target's entries come in a row */
    if (w->target.len != w->plen + tlen + 2 ||
        memcmp(w->target.b, k->mv_data, w->target.len) != 0) {
        okey next;

        /* a copy first: fn may write, and k points into a page */
        next.len = w->plen + tlen + 2;
        memcpy(next.b, k->mv_data, next.len);
        if ((stop = pending_flush(w)) != 0)
            return stop;
        w->target = next;
    }
    w->n++;
    return 0;
}

int outbox_foreach_pending_target(MDB_txn *txn, const store *s,
                                  const char *account, outbox_target_fn fn,
                                  void *userdata)
{
    owalk w = {.txn = txn, .s = s, .account = account, .tfn = fn,
               .userdata = userdata};
    okey prefix;
    int rc, stop;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    if (!part_ok(account))
        return -EINVAL;
    if (!key_account(&prefix, account))
        return STORE_KEY_TOO_LONG;
    w.plen = prefix.len;
    rc = store_walk(txn, store_dbi(s, STORE_DB_OUTBOX), prefix.b, prefix.len,
                    pending_entry, &w);
    if (rc != 0 || w.target.len == 0)
        return rc;
    stop = pending_flush(&w); /* the last target */
    return stop < 0 ? stop : 0;
}

/* Cursors */

void outbox_cursor_free(outbox_cursor *c)
{
    if (!c)
        return;
    g_free(c->group);
    g_free(c);
}

gboolean outbox_cursor_wants(const outbox_cursor *c, guint64 seq)
{
    if (seq <= c->seq)
        return FALSE;
    if (c->hold && seq > c->hold)
        return FALSE;
    return !(seq > c->skip_from && seq <= c->skip_to);
}

gboolean outbox_cursor_had(const outbox_cursor *c, guint64 seq)
{
    if (seq <= c->start || seq > c->seq)
        return FALSE;
    if (c->hold && seq > c->hold)
        return FALSE;
    return !(seq > c->skip_from && seq <= c->skip_to);
}

void outbox_cursor_mute(outbox_cursor *c, guint64 head)
{
    if (!c->hold)
        c->hold = MAX(head, 1);
}

void outbox_cursor_unmute(outbox_cursor *c, guint64 head)
{
    if (!c->hold)
        return;
    if (c->seq >= c->hold) {
        /* caught up when muted: simply on from now; what was said
         * meanwhile is remembered as skipped (outbox_cursor_had) */
        c->skip_from = c->hold;
        c->skip_to = MAX(c->seq, head);
        c->seq = MAX(c->seq, head);
    } else {
        /* One range is remembered: an earlier one still ahead of the
         * cursor is replaced (its messages then go after all). */
        c->skip_from = c->hold;
        c->skip_to = head;
    }
    c->hold = 0;
}

guint64 outbox_room_id(guint32 slot, guint64 seq)
{
    return OUTBOX_ROOM_ID_BIT | (guint64)slot << OUTBOX_SEQ_BITS |
           (seq & OUTBOX_SEQ_MAX);
}

gboolean outbox_room_id_split(guint64 id, guint32 *slot, guint64 *seq)
{
    if (!(id & OUTBOX_ROOM_ID_BIT))
        return FALSE;
    *slot = (guint32)((id & ~OUTBOX_ROOM_ID_BIT) >> OUTBOX_SEQ_BITS);
    *seq = id & OUTBOX_SEQ_MAX;
    return TRUE;
}

static GVariant *cursor_encode(const outbox_cursor *c)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "group", g_variant_new_string(c->group));
    g_variant_builder_add(&b, "{sv}", "slot", g_variant_new_uint32(c->slot));
    g_variant_builder_add(&b, "{sv}", "seq", g_variant_new_uint64(c->seq));
    if (c->start)
        g_variant_builder_add(&b, "{sv}", "start",
                              g_variant_new_uint64(c->start));
    if (c->hold)
        g_variant_builder_add(&b, "{sv}", "hold",
                              g_variant_new_uint64(c->hold));
    if (c->skip_to)
        g_variant_builder_add(&b, "{sv}", "skip",
                              g_variant_new("(tt)", c->skip_from, c->skip_to));
    return g_variant_new("(qa{sv})", (guint16)OUTBOX_CURSOR_VERSION, &b);
}

static int cursor_decode(const MDB_val *d, outbox_cursor **out)
{
    GVariant *v = NULL, *dict = NULL, *x;
    outbox_cursor *c = NULL;
    guint16 version;
    int rc;

    *out = NULL;
    rc = store_decode_variant(d, OUTBOX_TYPE, &v);
    if (rc != 0)
        goto leave;
    rc = MDB_CORRUPTED;
    g_variant_get(v, "(q@a{sv})", &version, &dict);
    if (version == 0 || version > OUTBOX_CURSOR_VERSION)
        goto leave;
    c = g_new0(outbox_cursor, 1);
    c->group = store_dict_string(dict, "group");
    if (!c->group || !*c->group ||
        !g_variant_lookup(dict, "slot", "u", &c->slot) ||
        !g_variant_lookup(dict, "seq", "t", &c->seq))
        goto leave;
    g_variant_lookup(dict, "start", "t", &c->start);
    g_variant_lookup(dict, "hold", "t", &c->hold);
    if ((x = g_variant_lookup_value(dict, "skip", G_VARIANT_TYPE("(tt)")))) {
        g_variant_get(x, "(tt)", &c->skip_from, &c->skip_to);
        g_variant_unref(x);
    }
    *out = c;
    c = NULL;
    rc = 0;
leave:
    outbox_cursor_free(c);
    if (dict)
        g_variant_unref(dict);
    if (v)
        g_variant_unref(v);
    return rc;
}

int outbox_cursor_get(MDB_txn *txn, const store *s, const char *account,
                      char kind, const char *target, outbox_cursor **out)
{
    okey key;
    MDB_val k, d;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && out != NULL, -EINVAL);
    *out = NULL;
    rc = target_prefix(&key, account, kind, target);
    if (rc != 0)
        return rc;
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_get(txn, store_dbi(s, STORE_DB_OUTBOX), &k, &d);
    if (rc != 0)
        return rc;
    return cursor_decode(&d, out);
}

int outbox_cursor_put(MDB_txn *txn, const store *s, const char *account,
                      char kind, const char *target, const outbox_cursor *c)
{
    okey key;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && c != NULL, -EINVAL);
    if (!part_ok(c->group) || !g_utf8_validate(c->group, -1, NULL))
        return -EINVAL;
    rc = target_prefix(&key, account, kind, target);
    if (rc != 0)
        return rc;
    return store_put_variant(txn, store_dbi(s, STORE_DB_OUTBOX), key.b, key.len,
                             cursor_encode(c));
}

/* The next slot, recorded as the last given. */
static int next_slot(MDB_txn *txn, const store *s, guint32 *slot)
{
    MDB_dbi dbi = store_dbi(s, STORE_DB_OUTBOX);
    GVariant *v = NULL;
    guint16 version = 0;
    guint32 last = 0;
    int rc;

    rc = store_get_variant(txn, dbi, slots_key, sizeof slots_key, SLOTS_TYPE,
                           &v);
    if (rc == 0) {
        g_variant_get(v, "(qu)", &version, &last);
        g_variant_unref(v);
        if (version == 0 || version > OUTBOX_MARK_VERSION)
            return MDB_CORRUPTED;
    } else if (rc != MDB_NOTFOUND)
        return rc;
    if (last >= OUTBOX_SLOT_MAX)
        return -EOVERFLOW;
    *slot = last + 1;
    return store_put_variant(
        txn, dbi, slots_key, sizeof slots_key,
        g_variant_new("(qu)", (guint16)OUTBOX_MARK_VERSION, *slot));
}

int outbox_cursor_start(MDB_txn *txn, const store *s, const char *account,
                        char kind, const char *target, const char *group)
{
    outbox_cursor *old = NULL, c = {0};
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL, -EINVAL);
    rc = outbox_cursor_get(txn, s, account, kind, target, &old);
    outbox_cursor_free(old);
    if (rc != MDB_NOTFOUND)
        return rc; /* 0: it has one */
    c.group = (char *)group;
    rc = archive_head(txn, s, group, &c.seq);
    c.start = c.seq;
    if (rc == 0)
        rc = next_slot(txn, s, &c.slot);
    if (rc == 0)
        rc = outbox_cursor_put(txn, s, account, kind, target, &c);
    return rc;
}

int outbox_cursor_advance(MDB_txn *txn, const store *s, const char *account,
                          char kind, const char *target, guint64 seq)
{
    outbox_cursor *c = NULL;
    int rc = outbox_cursor_get(txn, s, account, kind, target, &c);

    if (rc != 0)
        return rc;
    if (seq > c->seq) {
        c->seq = seq;
        if (c->seq >= c->skip_to)
            c->skip_from = c->skip_to = 0;
        rc = outbox_cursor_put(txn, s, account, kind, target, c);
    }
    outbox_cursor_free(c);
    return rc;
}

static int walk_cursor(const MDB_val *k, const MDB_val *d, void *userdata)
{
    owalk *w = userdata;
    const unsigned char *rest = (const unsigned char *)k->mv_data + w->plen;
    size_t len = k->mv_size - w->plen;
    outbox_cursor *c = NULL;
    char *target;
    int stop;

    /* kind target \0, the target's only NUL at the end: a cursor */
    if (len < 3 || !kind_ok((char)rest[0]) || rest[len - 1] != '\0' ||
        memchr(rest + 1, '\0', len - 2) || cursor_decode(d, &c) != 0)
        return 0;
    target = g_strndup((const char *)rest + 1, len - 2);
    stop = w->cfn(w->account, (char)rest[0], target, c, w->userdata);
    g_free(target);
    outbox_cursor_free(c);
    return stop;
}

int outbox_cursor_foreach(MDB_txn *txn, const store *s, const char *account,
                          outbox_cursor_fn fn, void *userdata)
{
    owalk w = {.txn = txn, .s = s, .account = account, .cfn = fn,
               .userdata = userdata};
    okey prefix;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    if (!part_ok(account))
        return -EINVAL;
    if (!key_account(&prefix, account))
        return STORE_KEY_TOO_LONG;
    w.plen = prefix.len;
    return store_walk(txn, store_dbi(s, STORE_DB_OUTBOX), prefix.b, prefix.len,
                      walk_cursor, &w);
}

typedef struct migrate_args {
    MDB_txn *txn;
    const store *s;
} migrate_args;

static int migrate_member(const member_rec *m, void *userdata)
{
    migrate_args *ma = userdata;
    outbox_cursor *c = NULL;
    int rc = outbox_cursor_start(ma->txn, ma->s, m->account, OUTBOX_KIND_IM,
                                 m->handle, m->group);

    /* version 2 queued nothing for a muted member: held from the head */
    if (rc == 0 && m->muted)
        rc = outbox_cursor_get(ma->txn, ma->s, m->account, OUTBOX_KIND_IM,
                               m->handle, &c);
    if (rc == 0 && c) {
        outbox_cursor_mute(c, c->seq);
        rc = outbox_cursor_put(ma->txn, ma->s, m->account, OUTBOX_KIND_IM,
                               m->handle, c);
    }
    outbox_cursor_free(c);
    return rc;
}

int outbox_migrate_cursors(MDB_txn *txn, store *s)
{
    migrate_args ma = {txn, s};

    return members_foreach(txn, s, migrate_member, &ma);
}

gboolean outbox_key_is_mark(const MDB_val *key)
{
    return (key->mv_size == sizeof mark_key &&
            !memcmp(key->mv_data, mark_key, sizeof mark_key)) ||
           (key->mv_size == sizeof slots_key &&
            !memcmp(key->mv_data, slots_key, sizeof slots_key));
}

/* The number a mark holds ("(qt)" for ids, "(qu)" for slots). */
static int mark_value(const MDB_val *val, gboolean slots, guint64 *out)
{
    GVariant *v = NULL, *x;
    int rc = store_decode_variant(val, slots ? SLOTS_TYPE : MARK_TYPE, &v);

    if (rc != 0)
        return rc;
    x = g_variant_get_child_value(v, 1);
    *out = slots ? g_variant_get_uint32(x) : g_variant_get_uint64(x);
    g_variant_unref(x);
    g_variant_unref(v);
    return 0;
}

int outbox_mark_merge(MDB_txn *txn, const store *s, const MDB_val *key,
                      const MDB_val *val)
{
    MDB_dbi dbi = store_dbi(s, STORE_DB_OUTBOX);
    gboolean slots = key->mv_size == sizeof slots_key;
    MDB_val k = *key, here;
    guint64 theirs, ours = 0;
    int rc;

    if (!outbox_key_is_mark(key))
        return -EINVAL;
    rc = mark_value(val, slots, &theirs);
    if (rc != 0)
        return rc;
    rc = mdb_get(txn, dbi, &k, &here);
    if (rc == 0)
        rc = mark_value(&here, slots, &ours);
    else if (rc == MDB_NOTFOUND)
        rc = 0;
    if (rc != 0 || (ours >= theirs && ours))
        return store_rc(rc);
    here = *val;
    return store_rc(mdb_put(txn, dbi, &k, &here, 0));
}
