/* outbox: "(qa{sv})" entries keyed account\0 kind target\0 id(be64) in
 * "outbox", and the id high-water mark "(qt)" under the key "\0". */
#include <errno.h>
#include <string.h>

#include "outbox.h"

#define OUTBOX_TYPE G_VARIANT_TYPE("(qa{sv})")
#define MARK_TYPE   G_VARIANT_TYPE("(qt)")

/* LMDB's default key size limit. */
#define KEY_MAX 511

/* The high-water mark's key: every entry key starts with a non-empty
 * account name, so no entry key starts with \0. */
static const char mark_key[1] = {'\0'};

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

static void put_be64(unsigned char *p, guint64 x)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(x & 0xff);
        x >>= 8;
    }
}

static guint64 get_be64(const unsigned char *p)
{
    guint64 x = 0;

    for (int i = 0; i < 8; i++)
        x = x << 8 | p[i];
    return x;
}

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
    put_be64(k->b + prefix_len, id);
    k->len = prefix_len + 8;
}

static gboolean has_prefix(const MDB_val *k, const okey *prefix)
{
    return k->mv_size >= prefix->len &&
           memcmp(k->mv_data, prefix->b, prefix->len) == 0;
}

static void key_copy(okey *dst, const MDB_val *k)
{
    dst->len = k->mv_size <= KEY_MAX ? k->mv_size : KEY_MAX;
    memcpy(dst->b, k->mv_data, dst->len);
}

/* Moves cur to the first key after last (a copy), wherever the transaction
 * has put or deleted keys since: fn may write while a walk is under way. */
static int seek_after(MDB_cursor *cur, const okey *last, MDB_val *k, MDB_val *d)
{
    int rc;

    *k = (MDB_val){.mv_size = last->len, .mv_data = (void *)last->b};
    rc = mdb_cursor_get(cur, k, d, MDB_SET_RANGE);
    if (rc == 0 && k->mv_size == last->len &&
        memcmp(k->mv_data, last->b, last->len) == 0)
        rc = mdb_cursor_get(cur, k, d, MDB_NEXT);
    return rc;
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
    *id = get_be64(sep + 1);
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

/* Deletes every key that starts with prefix; *dropped counts them. */
static int drop_prefix(MDB_txn *txn, const store *s, const okey *prefix,
                       guint64 *dropped)
{
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    int rc;

    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_OUTBOX), &cur);
    if (rc != 0)
        goto leave;
    for (;;) {
        /* From the prefix again after each deletion: the cursor's place
         * after mdb_cursor_del need not be relied on. */
        k = (MDB_val){.mv_size = prefix->len, .mv_data = (void *)prefix->b};
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        if (rc != 0 || !has_prefix(&k, prefix))
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0)
            goto leave;
        if (dropped)
            (*dropped)++;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
leave:
    if (cur)
        mdb_cursor_close(cur);
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

int outbox_foreach_target(MDB_txn *txn, const store *s, const char *account,
                          char kind, const char *target, guint64 after_id,
                          outbox_fn fn, void *userdata)
{
    MDB_cursor *cur = NULL;
    okey prefix, start, last;
    MDB_val k, d;
    size_t alen;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    if (!part_ok(account) || !kind_ok(kind) || !part_ok(target))
        return -EINVAL;
    if (!key_target(&prefix, account, kind, target))
        return STORE_KEY_TOO_LONG;
    if (after_id == G_MAXUINT64)
        return 0;
    alen = strlen(account);
    start = prefix;
    key_set_id(&start, prefix.len, after_id + 1);
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_OUTBOX), &cur);
    if (rc != 0)
        goto leave;
    k = (MDB_val){.mv_size = start.len, .mv_data = start.b};
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && has_prefix(&k, &prefix)) {
        outbox_msg *m = NULL;
        int stop = 0;

        key_copy(&last, &k);
        if (k.mv_size == prefix.len + 8 &&
            outbox_decode(&d, account, alen, kind,
                          (const unsigned char *)target, strlen(target),
                          get_be64(last.b + prefix.len), &m) == 0) {
            stop = fn(m, userdata);
            outbox_msg_free(m);
        }
        if (stop) {
            rc = stop;
            goto leave;
        }
        rc = seek_after(cur, &last, &k, &d);
    }
    if (rc == MDB_NOTFOUND || rc == 0)
        rc = 0;
leave:
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

int outbox_count_target(MDB_txn *txn, const store *s, const char *account,
                        char kind, const char *target, guint64 *count)
{
    MDB_cursor *cur = NULL;
    okey prefix;
    MDB_val k, d;
    guint64 n = 0;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && count != NULL, -EINVAL);
    *count = 0;
    if (!part_ok(account) || !kind_ok(kind) || !part_ok(target))
        return -EINVAL;
    if (!key_target(&prefix, account, kind, target))
        return STORE_KEY_TOO_LONG;
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_OUTBOX), &cur);
    if (rc != 0)
        goto leave;
    k = (MDB_val){.mv_size = prefix.len, .mv_data = prefix.b};
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
         rc == 0 && has_prefix(&k, &prefix);
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        if (k.mv_size == prefix.len + 8)
            n++;
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        goto leave;
    rc = 0;
    *count = n;
leave:
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

int outbox_foreach_pending_target(MDB_txn *txn, const store *s,
                                  const char *account, outbox_target_fn fn,
                                  void *userdata)
{
    MDB_cursor *cur = NULL;
    okey prefix, tprefix;
    MDB_val k, d;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    if (!part_ok(account))
        return -EINVAL;
    if (!key_account(&prefix, account))
        return STORE_KEY_TOO_LONG;
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_OUTBOX), &cur);
    if (rc != 0)
        goto leave;
    k = (MDB_val){.mv_size = prefix.len, .mv_data = prefix.b};
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && has_prefix(&k, &prefix)) {
        const unsigned char *target;
        size_t tlen;
        guint64 id, pending = 0;
        char kind;
        char *name;
        int stop;

        if (!parse_entry((const unsigned char *)k.mv_data + prefix.len,
                         k.mv_size - prefix.len, &kind, &target, &tlen, &id)) {
            /* Not an entry: step over it. */
            key_copy(&tprefix, &k);
            rc = seek_after(cur, &tprefix, &k, &d);
            continue;
        }
        /* account\0 kind target\0: the target's entries follow in a row. */
        tprefix.len = prefix.len + 1 + tlen + 1;
        memcpy(tprefix.b, k.mv_data, tprefix.len);
        for (; rc == 0 && has_prefix(&k, &tprefix);
             rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
            if (k.mv_size == tprefix.len + 8)
                pending++;
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            goto leave;
        name = g_strndup((const char *)tprefix.b + prefix.len + 1, tlen);
        stop = fn(account, kind, name, pending, userdata);
        g_free(name);
        if (stop) {
            rc = stop;
            goto leave;
        }
        /* Skip to the next target: the first key after every
         * account\0 kind target\0 id is account\0 kind target\1. */
        tprefix.b[tprefix.len - 1] = 1;
        k = (MDB_val){.mv_size = tprefix.len, .mv_data = tprefix.b};
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    }
    if (rc == MDB_NOTFOUND || rc == 0)
        rc = 0;
leave:
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}
