/* archive: the "archive" database: messages keyed group\0seq(be64) as
 * "(qsxsmsa{sv})" records, per-group high-water marks, stanza-ids, MAM
 * paging, history on join, and the jobs that delete (retention, erasure). */
#include <errno.h>
#include <string.h>

#include "archive.h"
#include "clock.h"

#define ARCHIVE_TYPE G_VARIANT_TYPE("(qsxsmsa{sv})")
#define MARK_TYPE    G_VARIANT_TYPE("(qt)")

/* LMDB's default key size limit. */
#define KEY_MAX 511

/* A key built here: group\0seq, or group\0 for the high-water mark. */
typedef struct akey {
    size_t len;
    unsigned char b[KEY_MAX];
} akey;

static void key_msg(akey *k, const void *group, size_t glen, guint64 seq)
{
    memcpy(k->b, group, glen);
    k->b[glen] = '\0';
    store_put_be64(k->b + glen + 1, seq);
    k->len = glen + 9;
}

static void key_mark(akey *k, const void *group, size_t glen)
{
    memcpy(k->b, group, glen);
    k->b[glen] = '\0';
    k->len = glen + 1;
}

/* Whether k is the key of a message of group (glen bytes); *seq (may be
 * NULL) gets its seq. The length check keeps "a" from seeing "ab" and the
 * mark "a\0" from passing for a message. */
static gboolean key_is_msg(const MDB_val *k, const void *group, size_t glen,
                           guint64 *seq)
{
    const unsigned char *p = k->mv_data;

    if (k->mv_size != glen + 9 || memcmp(p, group, glen) != 0 || p[glen] != 0)
        return FALSE;
    if (seq)
        *seq = store_get_be64(p + glen + 1);
    return TRUE;
}

/* 0, -EINVAL (NULL, empty or not UTF-8) or STORE_KEY_TOO_LONG (longer than
 * ARCHIVE_GROUP_MAX); *glen gets its length. */
static int group_check(const char *group, size_t *glen)
{
    if (!group)
        return -EINVAL;
    *glen = strlen(group);
    if (*glen > ARCHIVE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    return *glen > 0 && g_utf8_validate(group, (gssize)*glen, NULL) ? 0
                                                                    : -EINVAL;
}

static gboolean valid_text(const char *s)
{
    return s == NULL || g_utf8_validate(s, -1, NULL);
}

void archive_msg_free(archive_msg *m)
{
    if (!m)
        return;
    g_free(m->stanza_id);
    g_free(m->nick);
    g_free(m->occupant_id);
    g_free(m->sender_jid);
    g_free(m->sender_account);
    g_free(m->sender_handle);
    g_free(m->body);
    g_free(m->subject);
    g_free(m->origin_id);
    g_free(m->client_id);
    g_free(m->payload);
    g_free(m->replace_id);
    g_free(m->retract_of);
    g_free(m->retracted);
    g_free(m->retracted_by);
    g_free(m->retract_reason);
    g_free(m->retract_id);
    g_free(m);
}

gboolean archive_msg_said_by(const archive_msg *m, const char *bare,
                             const char *account, const char *handle)
{
    if (account)
        return !g_strcmp0(m->sender_account, account) &&
               !g_strcmp0(m->sender_handle, handle);
    return !m->sender_account && !g_strcmp0(m->sender_jid, bare);
}

static void msg_free_ptr(gpointer m)
{
    archive_msg_free(m);
}

/* Records */

/* Optional string fields, kept in the dictionary under these names. */
#define MSG_DICT_FIELDS(X)                                                     \
    X(subject)                                                                 \
    X(occupant_id)                                                             \
    X(sender_jid)                                                              \
    X(sender_account)                                                          \
    X(sender_handle)                                                           \
    X(origin_id)                                                               \
    X(client_id)                                                               \
    X(payload)                                                                 \
    X(replace_id)                                                              \
    X(retract_of)                                                              \
    X(retracted)                                                               \
    X(retracted_by)                                                            \
    X(retract_reason)                                                          \
    X(retract_id)

/* Built from its parts, without a format string or a builder to parse:
 * one record per message said, so this is on every message's path. */
static GVariant *msg_encode(const archive_msg *m, const char *id, gint64 time)
{
    GVariant *dict[14], *t[6];
    gsize n = 0;

#define ADD(f)                                                                 \
    if (m->f)                                                                  \
        dict[n++] = g_variant_new_dict_entry(                                  \
            g_variant_new_string(#f),                                          \
            g_variant_new_variant(g_variant_new_string(m->f)));
    MSG_DICT_FIELDS(ADD)
#undef ADD
    t[0] = g_variant_new_uint16(ARCHIVE_RECORD_VERSION);
    t[1] = g_variant_new_string(id);
    t[2] = g_variant_new_int64(time);
    t[3] = g_variant_new_string(m->nick ? m->nick : "");
    t[4] = g_variant_new_maybe(G_VARIANT_TYPE_STRING,
                               m->body ? g_variant_new_string(m->body) : NULL);
    t[5] = g_variant_new_array(G_VARIANT_TYPE("{sv}"), dict, n);
    return g_variant_new_tuple(t, G_N_ELEMENTS(t));
}

/* The record's child i, a fixed-size number, into *out (size bytes). */
static void record_number(GVariant *v, gsize i, void *out, gsize size)
{
    GVariant *c = g_variant_get_child_value(v, i);

    memcpy(out, g_variant_get_data(c), size);
    g_variant_unref(c);
}

/* Checks the bytes and the record version of a message value; *out is
 * owned by the caller (a copy, valid after the transaction). */
static int record_open(const MDB_val *d, GVariant **out)
{
    GVariant *v = NULL;
    guint16 version;
    int rc;

    *out = NULL;
    rc = store_decode_variant(d, ARCHIVE_TYPE, &v);
    if (rc != 0)
        return rc;
    record_number(v, 0, &version, sizeof(version));
    if (version == 0 || version > ARCHIVE_RECORD_VERSION) {
        g_variant_unref(v);
        return MDB_CORRUPTED;
    }
    *out = v;
    return 0;
}

static int record_time(const MDB_val *d, gint64 *t)
{
    GVariant *v;
    int rc = record_open(d, &v);

    if (rc != 0)
        return rc;
    record_number(v, 2, t, sizeof(*t));
    g_variant_unref(v);
    return 0;
}

/* Decodes an opened record into owned memory. */
static archive_msg *msg_from_record(GVariant *v, guint64 seq)
{
    archive_msg *m = g_new0(archive_msg, 1);
    GVariant *dict = NULL;
    const char *id, *nick, *body;
    guint16 version;

    g_variant_get(v, "(q&sx&sm&s@a{sv})", &version, &id, &m->time_us, &nick,
                  &body, &dict);
    m->seq = seq;
    m->stanza_id = g_strdup(id);
    m->nick = g_strdup(nick);
    m->body = g_strdup(body);
#define GET(f) m->f = store_dict_string(dict, #f);
    MSG_DICT_FIELDS(GET)
#undef GET
    g_variant_unref(dict);
    return m;
}

static int msg_decode(const MDB_val *d, guint64 seq, archive_msg **out)
{
    GVariant *v;
    int rc = record_open(d, &v);

    *out = NULL;
    if (rc != 0)
        return rc;
    *out = msg_from_record(v, seq);
    g_variant_unref(v);
    return 0;
}

/* A cursor walking the messages of one group. */
typedef struct gcur {
    MDB_cursor *cur;
    const char *group;
    size_t glen;
    guint64 seq; /* of the current message */
    MDB_val val; /* its value, borrowed until the cursor moves */
} gcur;

static int gcur_take(gcur *c, int rc, const MDB_val *k, const MDB_val *d)
{
    if (rc != 0)
        return rc;
    if (!key_is_msg(k, c->group, c->glen, &c->seq))
        return MDB_NOTFOUND;
    c->val = *d;
    return 0;
}

/* To the group's first message with a seq >= seq; MDB_NOTFOUND if none. */
static int gcur_ge(gcur *c, guint64 seq)
{
    akey key;
    MDB_val k, d;
    int rc;

    key_msg(&key, c->group, c->glen, seq);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_cursor_get(c->cur, &k, &d, MDB_SET_RANGE);
    return gcur_take(c, rc, &k, &d);
}

/* To the group's last message with a seq <= seq; MDB_NOTFOUND if none. */
static int gcur_le(gcur *c, guint64 seq)
{
    akey key;
    MDB_val k, d;
    guint64 found;
    int rc;

    key_msg(&key, c->group, c->glen, seq);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_cursor_get(c->cur, &k, &d, MDB_SET_RANGE);
    if (rc == 0 && key_is_msg(&k, c->group, c->glen, &found) && found == seq)
        return gcur_take(c, rc, &k, &d);
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(c->cur, &k, &d, MDB_LAST);
    else if (rc == 0)
        rc = mdb_cursor_get(c->cur, &k, &d, MDB_PREV);
    return gcur_take(c, rc, &k, &d);
}

/* To the next (MDB_NEXT) or previous (MDB_PREV) message of the group. */
static int gcur_step(gcur *c, MDB_cursor_op op)
{
    MDB_val k, d;
    int rc = mdb_cursor_get(c->cur, &k, &d, op);

    return gcur_take(c, rc, &k, &d);
}

static int gcur_open(gcur *c, MDB_txn *txn, const store *s)
{
    return mdb_cursor_open(txn, store_dbi(s, STORE_DB_ARCHIVE), &c->cur);
}

static void gcur_close(gcur *c)
{
    if (c->cur)
        mdb_cursor_close(c->cur);
    c->cur = NULL;
}

/* Appending */

/* The highest seq the group ever had (0: none) and the time of its last
 * message (G_MININT64 when it has none or it cannot be read). */
static int high_seq(MDB_txn *txn, const store *s, gcur *c, guint64 *high,
                    gint64 *last_time)
{
    GVariant *v = NULL;
    guint16 version;
    guint64 mark;
    akey key;
    int rc;

    *high = 0;
    *last_time = G_MININT64;
    rc = gcur_le(c, G_MAXUINT64);
    if (rc == 0) {
        *high = c->seq;
        if (record_time(&c->val, last_time) != 0)
            *last_time = G_MININT64;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    key_mark(&key, c->group, c->glen);
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_ARCHIVE), key.b, key.len,
                           MARK_TYPE, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    g_variant_get(v, "(qt)", &version, &mark);
    g_variant_unref(v);
    /* Numbering from a mark we cannot read could reuse stanza-ids. */
    if (version == 0 || version > ARCHIVE_MARK_VERSION)
        return MDB_CORRUPTED;
    if (mark > *high)
        *high = mark;
    return 0;
}

int archive_head(MDB_txn *txn, const store *s, const char *group,
                 guint64 *seq)
{
    gcur c = {NULL, group, 0, 0, {0, NULL}};
    gint64 last_time;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && seq != NULL, -EINVAL);
    *seq = 0;
    rc = group_check(group, &c.glen);
    if (rc != 0)
        return rc;
    rc = gcur_open(&c, txn, s);
    if (rc == 0)
        rc = high_seq(txn, s, &c, seq, &last_time);
    gcur_close(&c);
    return rc;
}

/* Calls fn for at most limit messages of group, from the first with a seq
 * >= from forward (MDB_NEXT), or from the last with a seq <= from back
 * (MDB_PREV); as archive_foreach_after. */
static int walk(MDB_txn *txn, const store *s, const char *group,
                guint64 from, MDB_cursor_op dir, guint limit, archive_fn fn,
                void *userdata)
{
    gcur c = {NULL, group, 0, 0, {0, NULL}};
    guint seen = 0;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    rc = group_check(group, &c.glen);
    if (rc != 0)
        return rc;
    rc = gcur_open(&c, txn, s);
    if (rc != 0)
        goto leave;
    /* Deleted seqs (retention, erasure) are simply not there: a walk from
     * behind them goes on with the next message kept. */
    for (rc = dir == MDB_NEXT ? gcur_ge(&c, from) : gcur_le(&c, from);
         rc == 0 && seen < limit; rc = gcur_step(&c, dir), seen++) {
        archive_msg *m = NULL;
        int r;

        if (msg_decode(&c.val, c.seq, &m) != 0)
            continue;
        r = fn(m, userdata);
        archive_msg_free(m);
        if (r != 0) {
            rc = r < 0 ? r : 0;
            goto leave;
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
leave:
    gcur_close(&c);
    return rc;
}

int archive_foreach_after(MDB_txn *txn, const store *s, const char *group,
                          guint64 after, archive_fn fn, void *userdata)
{
    if (after == G_MAXUINT64)
        return group_check(group, &(size_t){0});
    return walk(txn, s, group, after + 1, MDB_NEXT, G_MAXUINT, fn, userdata);
}

int archive_foreach_back(MDB_txn *txn, const store *s, const char *group,
                         guint limit, archive_fn fn, void *userdata)
{
    return walk(txn, s, group, G_MAXUINT64, MDB_PREV, limit, fn, userdata);
}

static gboolean msg_ok(const archive_msg *m)
{
    return valid_text(m->nick) && valid_text(m->occupant_id) &&
           valid_text(m->sender_jid) && valid_text(m->sender_account) &&
           valid_text(m->sender_handle) && valid_text(m->body) &&
           valid_text(m->subject) && valid_text(m->origin_id) &&
           valid_text(m->client_id) && valid_text(m->payload) &&
           valid_text(m->replace_id) && valid_text(m->retract_of) &&
           valid_text(m->retracted) && valid_text(m->retracted_by) &&
           valid_text(m->retract_reason) && valid_text(m->retract_id) &&
           (m->body || m->subject || m->payload || m->retract_of ||
            m->retracted);
}

/* A tombstone keeps who said what when, and nothing of what was said. */
static gboolean tombstone_ok(const archive_msg *m)
{
    return !m->retracted ||
           (!m->body && !m->subject && !m->payload && !m->replace_id);
}

int archive_append(MDB_txn *txn, const store *s, const char *group,
                   archive_msg *m)
{
    gcur c = {.group = group};
    guint64 high;
    gint64 last_time, time;
    char *id = NULL;
    akey key;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && m != NULL, -EINVAL);
    rc = group_check(group, &c.glen);
    if (rc != 0)
        return rc;
    if (!msg_ok(m) || !tombstone_ok(m))
        return -EINVAL;
    rc = gcur_open(&c, txn, s);
    if (rc != 0)
        goto leave;
    rc = high_seq(txn, s, &c, &high, &last_time);
    if (rc != 0)
        goto leave;
    if (high == G_MAXUINT64) {
        rc = -EOVERFLOW;
        goto leave;
    }
    time = m->time_us ? m->time_us : clock_real();
    /* Key order is time order: MAM's start/end and retention rely on it. */
    if (time < last_time)
        time = last_time;
    /* XEP-0359 §4: "The value of the 'id' attribute MUST be unique and
     * stable". The seq makes it unique in the group (never reused, see
     * high_seq) and lets a MAM after/before id be found by key; the random
     * part makes a guessed id not found. */
    id = g_strdup_printf("%016" G_GINT64_MODIFIER "x%08x", high + 1,
                         (unsigned)g_random_int());
    key_msg(&key, group, c.glen, high + 1);
    rc = store_put_variant(txn, store_dbi(s, STORE_DB_ARCHIVE), key.b, key.len,
                           msg_encode(m, id, time));
    if (rc != 0)
        goto leave;
    m->seq = high + 1;
    m->time_us = time;
    g_free(m->stanza_id);
    m->stanza_id = id;
    id = NULL;
leave:
    g_free(id);
    gcur_close(&c);
    return rc;
}

int archive_replace(MDB_txn *txn, const store *s, const char *group,
                    const archive_msg *m)
{
    MDB_dbi dbi;
    MDB_val k, d;
    size_t glen;
    akey key;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && m != NULL, -EINVAL);
    rc = group_check(group, &glen);
    if (rc != 0)
        return rc;
    if (!msg_ok(m) || !tombstone_ok(m) || !m->stanza_id ||
        !g_utf8_validate(m->stanza_id, -1, NULL))
        return -EINVAL;
    dbi = store_dbi(s, STORE_DB_ARCHIVE);
    key_msg(&key, group, glen, m->seq);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_get(txn, dbi, &k, &d);
    if (rc != 0)
        return rc;
    /* The time stays: key order is time order. */
    return store_put_variant(txn, dbi, key.b, key.len,
                             msg_encode(m, m->stanza_id, m->time_us));
}

/* Reading one */

/* The seq in a stanza-id of ours, or FALSE if it is not one. */
static gboolean id_seq(const char *id, guint64 *seq)
{
    guint64 x = 0;

    if (!id || strlen(id) != ARCHIVE_ID_LEN)
        return FALSE;
    for (int i = 0; i < ARCHIVE_ID_LEN; i++) {
        char ch = id[i];
        int digit;

        if (ch >= '0' && ch <= '9')
            digit = ch - '0';
        else if (ch >= 'a' && ch <= 'f')
            digit = ch - 'a' + 10;
        else
            return FALSE;
        if (i < 16)
            x = x << 4 | (guint64)digit;
    }
    if (x == 0)
        return FALSE;
    *seq = x;
    return TRUE;
}

/* Finds the message of group that id names: *seq, and its opened record in
 * *rec if rec is not NULL (owned by the caller). */
static int find_id(MDB_txn *txn, const store *s, const char *group, size_t glen,
                   const char *id, guint64 *seq, GVariant **rec)
{
    GVariant *v = NULL;
    const char *stored;
    MDB_val k, d;
    akey key;
    int rc;

    if (!id_seq(id, seq))
        return ARCHIVE_ITEM_NOT_FOUND;
    key_msg(&key, group, glen, *seq);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_get(txn, store_dbi(s, STORE_DB_ARCHIVE), &k, &d);
    if (rc == MDB_NOTFOUND)
        return ARCHIVE_ITEM_NOT_FOUND;
    if (rc != 0)
        return rc;
    rc = record_open(&d, &v);
    if (rc != 0)
        return rc;
    g_variant_get_child(v, 1, "&s", &stored);
    if (strcmp(stored, id) != 0) {
        g_variant_unref(v);
        return ARCHIVE_ITEM_NOT_FOUND;
    }
    if (rec)
        *rec = v;
    else
        g_variant_unref(v);
    return 0;
}

int archive_get(MDB_txn *txn, const store *s, const char *group, guint64 seq,
                archive_msg **out)
{
    MDB_val k, d;
    size_t glen;
    akey key;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && out != NULL, -EINVAL);
    *out = NULL;
    rc = group_check(group, &glen);
    if (rc != 0)
        return rc;
    key_msg(&key, group, glen, seq);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_get(txn, store_dbi(s, STORE_DB_ARCHIVE), &k, &d);
    if (rc != 0)
        return rc;
    return msg_decode(&d, seq, out);
}

int archive_get_id(MDB_txn *txn, const store *s, const char *group,
                   const char *stanza_id, archive_msg **out)
{
    GVariant *v = NULL;
    guint64 seq;
    size_t glen;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && out != NULL, -EINVAL);
    *out = NULL;
    rc = group_check(group, &glen);
    if (rc != 0)
        return rc;
    rc = find_id(txn, s, group, glen, stanza_id, &seq, &v);
    if (rc != 0)
        return rc;
    *out = msg_from_record(v, seq);
    g_variant_unref(v);
    return 0;
}

/* Counting: the gap index */

/* The "archive_gaps" database holds, per group, runs of seqs that have no
 * message: key group\0 start(be64), value (qt) version, end (inclusive).
 * Invariant: every seq between the group's first and last message that has
 * no message lies in a run (runs below the first message may linger until
 * the next deletion from the front drops them). Seqs are never reused, so a
 * seq once in a run stays without a message. The count of a range of seqs
 * inside [first, last] is then its width less its gaps. */

/* The run at the cursor, if it is one of the group's: its start and end. */
static gboolean gap_take(int rc, const MDB_val *k, const MDB_val *d,
                         const void *group, size_t glen, guint64 *start,
                         guint64 *end)
{
    guint64 buf[2];
    guint16 version;

    /* A "(qt)" in normal form is 16 bytes: the q, 6 bytes of padding, the
     * t, in the host's byte order (GVariant's serialisation). Read in
     * place, without a GVariant: a count may read many runs. */
    if (rc != 0 || !key_is_msg(k, group, glen, start) || d->mv_size != 16)
        return FALSE;
    memcpy(buf, d->mv_data, sizeof(buf));
    memcpy(&version, buf, sizeof(version));
    *end = buf[1];
    /* A run this build cannot read counts as none (the count is then too
     * high, never a crash). */
    return version > 0 && version <= ARCHIVE_GAP_VERSION && *end >= *start;
}

static int gap_put(MDB_txn *txn, const store *s, const void *group, size_t glen,
                   guint64 start, guint64 end)
{
    akey key;

    key_msg(&key, group, glen, start);
    return store_put_variant(
        txn, store_dbi(s, STORE_DB_ARCHIVE_GAPS), key.b, key.len,
        g_variant_new("(qt)", (guint16)ARCHIVE_GAP_VERSION, end));
}

static int gap_del(MDB_txn *txn, const store *s, const void *group, size_t glen,
                   guint64 start)
{
    akey key;
    MDB_val k;

    key_msg(&key, group, glen, start);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    return mdb_del(txn, store_dbi(s, STORE_DB_ARCHIVE_GAPS), &k, NULL);
}

/* Positions cur on the group's last run starting at or before seq; FALSE
 * (rc 0) when there is none. */
static int gap_le(MDB_cursor *cur, const void *group, size_t glen, guint64 seq,
                  guint64 *start, guint64 *end, gboolean *found)
{
    akey key;
    MDB_val k, d;
    int rc;

    *found = FALSE;
    key_msg(&key, group, glen, seq);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rc == 0 && gap_take(rc, &k, &d, group, glen, start, end) &&
        *start == seq) {
        *found = TRUE;
        return 0;
    }
    if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
    else if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &d, MDB_PREV);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    *found = gap_take(rc, &k, &d, group, glen, start, end);
    return 0;
}

/* Records that seq (deleted, not the group's first) has no message,
 * joining the runs on either side of it. */
static int gap_add(MDB_txn *txn, const store *s, const void *group, size_t glen,
                   guint64 seq)
{
    MDB_cursor *cur = NULL;
    guint64 ls = 0, le = 0, rs = 0, re = 0, start = seq, end = seq;
    gboolean left = FALSE, right = FALSE;
    int rc;

    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_ARCHIVE_GAPS), &cur);
    if (rc != 0)
        return rc;
    if (seq > 0)
        rc = gap_le(cur, group, glen, seq - 1, &ls, &le, &left);
    if (rc == 0 && seq < G_MAXUINT64)
        rc = gap_le(cur, group, glen, seq + 1, &rs, &re, &right);
    mdb_cursor_close(cur);
    if (rc != 0)
        return rc;
    if (left && le + 1 >= seq) {
        start = ls;
        end = MAX(le, seq);
    }
    if (right && rs == seq + 1) {
        end = re;
        rc = gap_del(txn, s, group, glen, rs);
    }
    return rc ? rc : gap_put(txn, s, group, glen, start, end);
}

/* Drops the group's runs that start below first (all of them when first is
 * G_MAXUINT64: the group has no message left). */
static int gap_drop_below(MDB_txn *txn, const store *s, const void *group,
                          size_t glen, guint64 first)
{
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    akey key;
    guint64 start;
    int rc;

    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_ARCHIVE_GAPS), &cur);
    if (rc != 0)
        return rc;
    key_msg(&key, group, glen, 0);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE)) {
        if (!key_is_msg(&k, group, glen, &start) ||
            (start >= first && first != G_MAXUINT64))
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0)
            break;
        k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* How many seqs in [lo, hi] lie in the group's runs. */
static int gap_count(MDB_txn *txn, const store *s, const void *group,
                     size_t glen, guint64 lo, guint64 hi, guint64 *n)
{
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    guint64 start, end;
    gboolean found;
    int rc;

    *n = 0;
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_ARCHIVE_GAPS), &cur);
    if (rc != 0)
        return rc;
    rc = gap_le(cur, group, glen, lo, &start, &end, &found);
    if (rc == 0 && !found) {
        akey key;

        /* No run starts at or before lo: begin with the first after it. */
        key_msg(&key, group, glen, lo);
        k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        found = gap_take(rc, &k, &d, group, glen, &start, &end);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    while (rc == 0 && found && start <= hi) {
        if (end >= lo)
            *n += MIN(end, hi) - MAX(start, lo) + 1;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
        found = gap_take(rc, &k, &d, group, glen, &start, &end);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* After the message seq of the group was deleted: a seq with a message
 * before it becomes a gap; the first message's going moves the front, and
 * the runs below the new front are dropped. */
static int gap_after_delete(MDB_txn *txn, const store *s, MDB_cursor *cur,
                            const void *group, size_t glen, guint64 seq)
{
    akey key;
    MDB_val k, d;
    guint64 first;
    int rc;

    key_msg(&key, group, glen, 0);
    k = (MDB_val){.mv_size = key.len, .mv_data = key.b};
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (rc != 0 || !key_is_msg(&k, group, glen, &first))
        first = G_MAXUINT64;
    if (first < seq)
        return gap_add(txn, s, group, glen, seq);
    return gap_drop_below(txn, s, group, glen, first);
}

int archive_gaps_rebuild(MDB_txn *txn, const store *s)
{
    MDB_dbi gaps = store_dbi(s, STORE_DB_ARCHIVE_GAPS);
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    GByteArray *group = g_byte_array_new();
    guint64 last = 0, mark = 0;
    gboolean any = FALSE;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL, -EINVAL);
    rc = mdb_drop(txn, gaps, 0);
    if (rc == 0)
        rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_ARCHIVE), &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const unsigned char *p = k.mv_data;
        const unsigned char *nul = memchr(p, '\0', k.mv_size);
        size_t glen = nul ? (size_t)(nul - p) : 0;
        GVariant *v = NULL;
        guint64 seq;

        if (!nul || glen == 0 || glen > ARCHIVE_GROUP_MAX)
            continue;
        if (glen != group->len || memcmp(p, group->data, glen) != 0) {
            /* The previous group's deleted newest messages are a gap. */
            if (any && mark > last)
                rc = gap_put(txn, s, group->data, group->len, last + 1, mark);
            if (rc != 0)
                break;
            g_byte_array_set_size(group, 0);
            g_byte_array_append(group, p, (guint)glen);
            last = mark = 0;
            any = FALSE;
        }
        if (k.mv_size == glen + 1) { /* the high-water mark */
            guint16 version;

            if (store_decode_variant(&d, MARK_TYPE, &v) == 0) {
                g_variant_get(v, "(qt)", &version, &mark);
                g_variant_unref(v);
            }
            continue;
        }
        if (!key_is_msg(&k, p, glen, &seq))
            continue;
        if (any && seq > last + 1)
            rc = gap_put(txn, s, p, glen, last + 1, seq - 1);
        if (rc != 0)
            break;
        last = seq;
        any = TRUE;
    }
    if (rc == MDB_NOTFOUND) {
        rc = 0;
        if (any && mark > last)
            rc = gap_put(txn, s, group->data, group->len, last + 1, mark);
    }
    if (cur)
        mdb_cursor_close(cur);
    g_byte_array_unref(group);
    return rc;
}

/* Queries */

/* The first position p in [lo, hi] such that the group's readable messages
 * with lo <= seq < p are before t and those with p <= seq < hi are at or
 * after it (key order is time order). Positions are seqs; a message need
 * not exist at p. A probe landing on a record it cannot read moves on to
 * the next readable one. */
static int first_at_or_after(gcur *c, guint64 lo, guint64 hi, gint64 t,
                             guint64 *out)
{
    while (lo < hi) {
        guint64 mid = lo + (hi - lo) / 2;
        gboolean found = FALSE;
        gint64 mt = 0;
        int rc;

        for (rc = gcur_ge(c, mid); rc == 0 && c->seq < hi;
             rc = gcur_step(c, MDB_NEXT)) {
            if (record_time(&c->val, &mt) == 0) {
                found = TRUE;
                break;
            }
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        if (!found || mt >= t)
            hi = mid;
        else
            lo = c->seq + 1;
    }
    *out = lo;
    return 0;
}

/* The seqs [*lo, *hi] that bound q's result set (its time filters);
 * *lo > *hi when it is empty. */
static int result_range(gcur *c, const archive_query *q, guint64 *lo,
                        guint64 *hi)
{
    guint64 first, last, end, p;
    int rc;

    *lo = 1;
    *hi = 0;
    rc = gcur_ge(c, 0);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;
    first = c->seq;
    rc = gcur_le(c, G_MAXUINT64);
    if (rc != 0)
        return rc;
    last = c->seq;
    end = last == G_MAXUINT64 ? last : last + 1;
    *lo = first;
    *hi = last;
    if (q->start_us) {
        rc = first_at_or_after(c, first, end, q->start_us, &p);
        if (rc != 0)
            return rc;
        *lo = p;
    }
    if (q->end_us && q->end_us < G_MAXINT64) {
        rc = first_at_or_after(c, first, end, q->end_us + 1, &p);
        if (rc != 0)
            return rc;
        if (p == 0)
            *lo = 1;
        *hi = p ? p - 1 : 0;
    }
    return 0;
}

/* The number of messages with lo <= seq <= hi, for bounds inside the
 * group's [first, last] (as result_range gives them): the width less the
 * gaps, never a walk. */
static int count_range(MDB_txn *txn, const store *s, const gcur *c, guint64 lo,
                       guint64 hi, guint64 *count)
{
    guint64 gaps;
    int rc;

    *count = 0;
    if (lo > hi)
        return 0;
    rc = gap_count(txn, s, c->group, c->glen, lo, hi, &gaps);
    if (rc == 0)
        *count = hi - lo + 1 - MIN(gaps, hi - lo + 1);
    return rc;
}

static void reverse(GPtrArray *a)
{
    for (guint i = 0, j = a->len; i + 1 < j; i++, j--) {
        gpointer x = a->pdata[i];

        a->pdata[i] = a->pdata[j - 1];
        a->pdata[j - 1] = x;
    }
}

/* Up to max messages of [lo, hi] from its front, or from its back when
 * backward (then reversed into chronological order). *done: the page
 * reaches that end of the range. */
static int collect(gcur *c, guint64 lo, guint64 hi, guint max,
                   gboolean backward, GPtrArray *page, gboolean *done)
{
    MDB_cursor_op op = backward ? MDB_PREV : MDB_NEXT;
    int rc;

    *done = TRUE;
    if (lo > hi)
        return 0;
    for (rc = backward ? gcur_le(c, hi) : gcur_ge(c, lo);
         rc == 0 && c->seq >= lo && c->seq <= hi; rc = gcur_step(c, op)) {
        archive_msg *m;

        if (page->len == max) {
            *done = FALSE;
            rc = 0;
            break;
        }
        /* A record we cannot read cannot be shown; leave it out. */
        if (msg_decode(&c->val, c->seq, &m) == 0)
            g_ptr_array_add(page, m);
    }
    if (backward)
        reverse(page);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int archive_query_run(MDB_txn *txn, const store *s, const char *group,
                      const archive_query *q, GPtrArray **out,
                      gboolean *complete, guint64 *count)
{
    gcur c = {.group = group};
    GPtrArray *page = NULL;
    guint64 lo, hi, after = 0, before = 0;
    gboolean done = TRUE;
    guint max;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && q != NULL, -EINVAL);
    if (out)
        *out = NULL;
    if (complete)
        *complete = FALSE;
    if (count)
        *count = 0;
    rc = group_check(group, &c.glen);
    if (rc != 0)
        return rc;
    /* An unknown id is item-not-found even when the result set is empty. */
    if (q->after_id) {
        rc = find_id(txn, s, group, c.glen, q->after_id, &after, NULL);
        if (rc != 0)
            goto leave;
    }
    if (q->before_id) {
        rc = find_id(txn, s, group, c.glen, q->before_id, &before, NULL);
        if (rc != 0)
            goto leave;
    }
    rc = gcur_open(&c, txn, s);
    if (rc != 0)
        goto leave;
    rc = result_range(&c, q, &lo, &hi);
    if (rc != 0)
        goto leave;
    if (count) {
        rc = count_range(txn, s, &c, lo, hi, count);
        if (rc != 0)
            goto leave;
    }
    if (!out)
        goto leave;
    if (q->after_id && after == G_MAXUINT64)
        hi = 0, lo = 1; /* nothing can come after it */
    else if (q->after_id)
        lo = MAX(lo, after + 1);
    if (q->before_id)
        hi = MIN(hi, before - 1); /* before >= 1: id_seq refuses 0 */
    max = q->max == 0 ? ARCHIVE_PAGE_DEFAULT : MIN(q->max, ARCHIVE_PAGE_MAX);
    page = g_ptr_array_new_with_free_func(msg_free_ptr);
    rc = collect(&c, lo, hi, max, q->before_id || q->before_last, page, &done);
    if (rc != 0)
        goto leave;
    *out = page;
    page = NULL;
leave:
    if (rc == 0 && complete)
        *complete = done;
    if (rc != 0 && count)
        *count = 0;
    if (page)
        g_ptr_array_unref(page);
    gcur_close(&c);
    return rc;
}

static gsize default_measure(const archive_msg *m)
{
    gsize n = ARCHIVE_HISTORY_OVERHEAD;

    if (!m->body)
        return ARCHIVE_HISTORY_SKIP;
    n += (gsize)g_utf8_strlen(m->nick, -1);
    if (m->body)
        n += (gsize)g_utf8_strlen(m->body, -1);
    if (m->subject)
        n += (gsize)g_utf8_strlen(m->subject, -1);
    return n;
}

int archive_history(MDB_txn *txn, const store *s, const char *group,
                    int maxstanzas, int maxchars, gint64 since_us,
                    archive_measure_fn measure, void *userdata, GPtrArray **out)
{
    gcur c = {.group = group};
    GPtrArray *list = NULL;
    gsize chars = 0;
    guint skipped = 0;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && out != NULL, -EINVAL);
    *out = NULL;
    rc = group_check(group, &c.glen);
    if (rc != 0)
        return rc;
    rc = gcur_open(&c, txn, s);
    if (rc != 0)
        goto leave;
    list = g_ptr_array_new_with_free_func(msg_free_ptr);
    for (rc = gcur_le(&c, G_MAXUINT64); rc == 0; rc = gcur_step(&c, MDB_PREV)) {
        archive_msg *m;
        gsize size;

        if (maxstanzas >= 0 && list->len >= (guint)maxstanzas)
            break;
        if (msg_decode(&c.val, c.seq, &m) != 0)
            continue;
        /* Key order is time order: everything further back is older. */
        if (since_us && m->time_us < since_us) {
            archive_msg_free(m);
            break;
        }
        size = measure ? measure(m, userdata) : default_measure(m);
        if (size == ARCHIVE_HISTORY_SKIP) {
            archive_msg_free(m);
            /* A run of messages history leaves out (reactions, subject
             * changes...) costs a walk, not a reply: bounded. */
            if (++skipped >= ARCHIVE_SCAN_PER_TXN)
                break;
            continue;
        }
        if (maxchars >= 0 && size > (gsize)maxchars - chars) {
            archive_msg_free(m);
            break;
        }
        chars += size;
        g_ptr_array_add(list, m);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        goto leave;
    rc = 0;
    reverse(list);
    *out = list;
    list = NULL;
leave:
    if (list)
        g_ptr_array_unref(list);
    gcur_close(&c);
    return rc;
}

/* Deleting jobs */

typedef enum job_kind { JOB_SWEEP, JOB_FORGET, JOB_ERASE, JOB_UNNAME } job_kind;

/* What a job does with the record under the key it examines. */
typedef enum job_verdict {
    JOB_KEEP,       /* go on with the next key */
    JOB_DELETE,     /* delete it, go on with the next key */
    JOB_TOMBSTONE,  /* make it a tombstone of nobody, go on */
    JOB_TAKE_NICK,  /* take the moderator's nick off it, go on */
    JOB_NEXT_GROUP, /* go on with the next group */
    JOB_DONE,       /* nothing more to examine */
} job_verdict;

#define JOB_MATCH_MAX 2

struct archive_job {
    job_kind kind;
    char *group;      /* sweep: the group, or NULL for all */
    gint64 cutoff_us; /* sweep: delete what is before this */
    const char *match_key[JOB_MATCH_MAX]; /* forget: dictionary fields */
    char *match_val[JOB_MATCH_MAX];       /* ... and the values they hold */
    guint nmatch;
    guint batch;
    GByteArray *resume; /* the next key to examine; empty: the first */
    gboolean done;
    guint removed;
    /* The step in progress: applied only once store_write committed it,
     * since a failed commit (a full disk) leaves the step undone. */
    GByteArray *next_resume;
    gboolean next_done;
    guint next_removed;
};

static archive_job *job_new(job_kind kind, guint batch)
{
    archive_job *job = g_new0(archive_job, 1);

    job->kind = kind;
    job->batch = batch ? batch : ARCHIVE_BATCH_DEFAULT;
    job->resume = g_byte_array_new();
    job->next_resume = g_byte_array_new();
    return job;
}

archive_job *archive_job_sweep(const char *group, gint64 cutoff_us, guint batch)
{
    archive_job *job = job_new(JOB_SWEEP, batch);
    size_t glen;

    job->cutoff_us = cutoff_us;
    if (group) {
        akey key;

        job->group = g_strdup(group);
        /* A group the archive cannot key has no messages. */
        if (group_check(group, &glen) != 0) {
            job->done = TRUE;
            return job;
        }
        key_msg(&key, group, glen, 0);
        g_byte_array_append(job->resume, key.b, (guint)key.len);
    }
    return job;
}

archive_job *archive_job_forget_sender(const char *jid, guint batch)
{
    archive_job *job;

    g_return_val_if_fail(jid != NULL, NULL);
    job = job_new(JOB_FORGET, batch);
    job->match_key[0] = "sender_jid";
    job->match_val[0] = g_strdup(jid);
    job->nmatch = 1;
    return job;
}

archive_job *archive_job_forget_legacy(const char *account, const char *handle,
                                       guint batch)
{
    archive_job *job;

    g_return_val_if_fail(account != NULL && handle != NULL, NULL);
    job = job_new(JOB_FORGET, batch);
    job->match_key[0] = "sender_account";
    job->match_val[0] = g_strdup(account);
    job->match_key[1] = "sender_handle";
    job->match_val[1] = g_strdup(handle);
    job->nmatch = 2;
    return job;
}

archive_job *archive_job_erase_sender(const char *jid, guint batch)
{
    archive_job *job = archive_job_forget_sender(jid, batch);

    if (job)
        job->kind = JOB_ERASE;
    return job;
}

archive_job *archive_job_erase_legacy(const char *account, const char *handle,
                                      guint batch)
{
    archive_job *job = archive_job_forget_legacy(account, handle, batch);

    if (job)
        job->kind = JOB_ERASE;
    return job;
}

archive_job *archive_job_unname(const char *group, const char *nick,
                                guint batch)
{
    archive_job *job;

    g_return_val_if_fail(group != NULL && nick != NULL, NULL);
    job = archive_job_sweep(group, 0, batch);
    job->kind = JOB_UNNAME;
    job->match_key[0] = "retracted_by";
    job->match_val[0] = g_strdup(nick);
    job->nmatch = 1;
    return job;
}

void archive_job_free(archive_job *job)
{
    if (!job)
        return;
    g_free(job->group);
    for (guint i = 0; i < JOB_MATCH_MAX; i++)
        g_free(job->match_val[i]);
    g_byte_array_unref(job->resume);
    g_byte_array_unref(job->next_resume);
    g_free(job);
}

guint archive_job_removed(const archive_job *job)
{
    g_return_val_if_fail(job != NULL, 0);
    return job->removed;
}

static gboolean forget_matches(const archive_job *job, const MDB_val *d)
{
    GVariant *v, *dict;
    gboolean match = TRUE;

    if (record_open(d, &v) != 0)
        return FALSE;
    dict = g_variant_get_child_value(v, 5);
    for (guint i = 0; i < job->nmatch && match; i++) {
        GVariant *x = g_variant_lookup_value(dict, job->match_key[i],
                                             G_VARIANT_TYPE_STRING);

        match =
            x && strcmp(g_variant_get_string(x, NULL), job->match_val[i]) == 0;
        if (x)
            g_variant_unref(x);
    }
    g_variant_unref(dict);
    g_variant_unref(v);
    return match;
}

/* *glen: the length of the key's group part (set unless JOB_KEEP/DONE). */
static job_verdict job_judge(const archive_job *job, const MDB_val *k,
                             const MDB_val *d, size_t *glen)
{
    const unsigned char *p = k->mv_data;
    const unsigned char *nul = memchr(p, '\0', k->mv_size);
    gint64 t;

    if (job->group) {
        size_t want = strlen(job->group);

        if (!nul || (size_t)(nul - p) != want ||
            memcmp(p, job->group, want) != 0)
            return JOB_DONE;
    }
    if (!nul)
        return JOB_KEEP; /* not ours */
    *glen = (size_t)(nul - p);
    if (k->mv_size != *glen + 9)
        return JOB_KEEP; /* a high-water mark, or not ours */
    if (job->kind == JOB_FORGET)
        return forget_matches(job, d) ? JOB_DELETE : JOB_KEEP;
    if (job->kind == JOB_ERASE)
        return forget_matches(job, d) ? JOB_TOMBSTONE : JOB_KEEP;
    if (job->kind == JOB_UNNAME)
        return forget_matches(job, d) ? JOB_TAKE_NICK : JOB_KEEP;
    if (record_time(d, &t) != 0)
        return JOB_KEEP; /* unknown age: left alone */
    if (t < job->cutoff_us)
        return JOB_DELETE;
    /* Key order is time order: the rest of the group is newer. */
    return job->group ? JOB_DONE : JOB_NEXT_GROUP;
}

static void set_resume(GByteArray *a, const void *key, size_t len)
{
    g_byte_array_set_size(a, 0);
    g_byte_array_append(a, key, (guint)len);
}

/* The smallest key after k and every key that extends it. FALSE: none. */
static gboolean key_after(GByteArray *a, const MDB_val *k)
{
    const unsigned char *p = k->mv_data;
    size_t n = k->mv_size;
    static const unsigned char zero = 0;

    if (n < KEY_MAX) {
        set_resume(a, p, n);
        g_byte_array_append(a, &zero, 1);
        return TRUE;
    }
    /* A key of the largest size has no extensions. */
    while (n > 0 && p[n - 1] == 0xff)
        n--;
    if (n == 0)
        return FALSE;
    set_resume(a, p, n);
    a->data[n - 1]++;
    return TRUE;
}

/* The key of the first group after the one glen bytes long at p. */
static void group_after(GByteArray *a, const void *p, size_t glen)
{
    static const unsigned char one = 1;

    set_resume(a, p, glen);
    g_byte_array_append(a, &one, 1);
}

/* Deletes the message under the cursor (its key k), sets the job's resume
 * key past it, and leaves the group's high-water mark if it was the newest
 * message of its group. */
static int job_delete(MDB_txn *txn, const store *s, MDB_cursor *cur,
                      const MDB_val *k, size_t glen, archive_job *job)
{
    akey key, mark;
    MDB_val nk, nd;
    GVariant *old = NULL;
    guint64 seq;
    int rc;

    key.len = k->mv_size;
    memcpy(key.b, k->mv_data, key.len);
    seq = store_get_be64(key.b + glen + 1);
    rc = mdb_cursor_del(cur, 0);
    if (rc != 0)
        return rc;
    if (seq < G_MAXUINT64) {
        akey next;

        key_msg(&next, key.b, glen, seq + 1);
        set_resume(job->next_resume, next.b, next.len);
    } else {
        group_after(job->next_resume, key.b, glen);
    }
    rc = gap_after_delete(txn, s, cur, key.b, glen, seq);
    if (rc != 0)
        return rc;
    nk = (MDB_val){.mv_size = job->next_resume->len,
                   .mv_data = job->next_resume->data};
    rc = mdb_cursor_get(cur, &nk, &nd, MDB_SET_RANGE);
    if (rc == 0 && key_is_msg(&nk, key.b, glen, NULL))
        return 0;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    /* The group's newest is gone: remember its seq, so that archive_append
     * never hands out this seq (and a stanza-id of it) again. A mark
     * already higher (the newer messages went before this one) stays. */
    key_mark(&mark, key.b, glen);
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_ARCHIVE), mark.b,
                           mark.len, MARK_TYPE, &old);
    if (rc == 0) {
        guint16 version;
        guint64 high;

        g_variant_get(old, "(qt)", &version, &high);
        g_variant_unref(old);
        if (version > 0 && version <= ARCHIVE_MARK_VERSION && high >= seq)
            return 0;
    } else if (rc != MDB_NOTFOUND && rc != MDB_CORRUPTED) {
        return rc;
    }
    return store_put_variant(
        txn, store_dbi(s, STORE_DB_ARCHIVE), mark.b, mark.len,
        g_variant_new("(qt)", (guint16)ARCHIVE_MARK_VERSION, seq));
}

/* Overwrites the message under key k (record d), erasing: a tombstone
 * that keeps its seq, stanza-id and time and nothing of who said what (no
 * nick, occupant-id, sender, body, subject, payload or ids); or, unname,
 * the same message without the nick of the moderator who withdrew it. The
 * key is copied first: k points into a page the put may change. */
static int job_rewrite(MDB_txn *txn, const store *s, const MDB_val *k,
                       const MDB_val *d, size_t glen, gboolean unname)
{
    guint64 seq = store_get_be64((const unsigned char *)k->mv_data + glen + 1);
    akey key = {.len = k->mv_size};
    archive_msg *m = NULL;
    archive_msg t = {0};
    GDateTime *now;
    char *stamp;
    int rc = msg_decode(d, seq, &m);

    if (rc != 0)
        return 0; /* undecodable: left alone, as by the other jobs */
    now = g_date_time_new_now_utc();
    stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
    g_date_time_unref(now);
    if (unname) {
        t = *m;
        t.retracted_by = ""; /* a moderator unnamed (retract.c) */
    } else {
        t.seq = seq;
        t.stanza_id = m->stanza_id;
        t.time_us = m->time_us;
        t.nick = "";
        t.retracted = m->retracted ? m->retracted : stamp;
    }
    memcpy(key.b, k->mv_data, key.len);
    rc = store_put_variant(txn, store_dbi(s, STORE_DB_ARCHIVE), key.b, key.len,
                           msg_encode(&t, t.stanza_id, t.time_us));
    g_free(stamp);
    archive_msg_free(m);
    return rc;
}

static int job_txn(MDB_txn *txn, const store *s, void *userdata)
{
    archive_job *job = userdata;
    MDB_dbi dbi = store_dbi(s, STORE_DB_ARCHIVE);
    MDB_cursor *cur = NULL;
    guint examined = 0, deleted = 0;
    int rc;

    set_resume(job->next_resume, job->resume->data, job->resume->len);
    job->next_done = job->done;
    job->next_removed = job->removed;
    if (job->done)
        return 0;
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        goto leave;
    while (examined < ARCHIVE_SCAN_PER_TXN && deleted < job->batch) {
        MDB_val k, d;
        size_t glen = 0;

        if (job->next_resume->len == 0) {
            rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
        } else {
            k = (MDB_val){.mv_size = job->next_resume->len,
                          .mv_data = job->next_resume->data};
            rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        }
        if (rc == MDB_NOTFOUND) {
            job->next_done = TRUE;
            rc = 0;
            break;
        }
        if (rc != 0)
            goto leave;
        examined++;
        switch (job_judge(job, &k, &d, &glen)) {
        case JOB_KEEP:
            if (!key_after(job->next_resume, &k))
                job->next_done = TRUE;
            break;
        case JOB_DELETE:
            rc = job_delete(txn, s, cur, &k, glen, job);
            if (rc != 0)
                goto leave;
            deleted++;
            job->next_removed++;
            break;
        case JOB_TOMBSTONE:
        case JOB_TAKE_NICK:
            /* The resume key first: k is not read after the put. */
            if (!key_after(job->next_resume, &k))
                job->next_done = TRUE;
            rc = job_rewrite(txn, s, &k, &d, glen, job->kind == JOB_UNNAME);
            if (rc != 0)
                goto leave;
            deleted++;
            job->next_removed++;
            break;
        case JOB_NEXT_GROUP:
            group_after(job->next_resume, k.mv_data, glen);
            break;
        case JOB_DONE:
            job->next_done = TRUE;
            break;
        }
        if (job->next_done)
            break;
    }
leave:
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

int archive_job_step(archive_job *job, store *s, gboolean *done, GError **err)
{
    GByteArray *swap;
    int rc = 0;

    g_return_val_if_fail(job != NULL && s != NULL, -EINVAL);
    if (!job->done) {
        rc = store_write(s, job_txn, job, err);
        if (rc == 0) {
            swap = job->resume;
            job->resume = job->next_resume;
            job->next_resume = swap;
            job->done = job->next_done;
            job->removed = job->next_removed;
        }
    }
    if (done)
        *done = job->done;
    return rc;
}

/* Steps job to the end and frees it. */
static int job_run(archive_job *job, store *s, guint *removed, GError **err)
{
    gboolean done = FALSE;
    int rc = 0;

    while (!done) {
        rc = archive_job_step(job, s, &done, err);
        if (rc != 0)
            break;
    }
    if (removed)
        *removed = job->removed;
    archive_job_free(job);
    return rc;
}

int archive_sweep(store *s, const char *group, gint64 cutoff_us, guint batch,
                  guint *removed, GError **err)
{
    if (removed)
        *removed = 0;
    g_return_val_if_fail(s != NULL, -EINVAL);
    return job_run(archive_job_sweep(group, cutoff_us, batch), s, removed, err);
}

int archive_forget_sender(store *s, const char *jid, guint batch,
                          guint *removed, GError **err)
{
    if (removed)
        *removed = 0;
    g_return_val_if_fail(s != NULL && jid != NULL, -EINVAL);
    return job_run(archive_job_forget_sender(jid, batch), s, removed, err);
}

int archive_forget_legacy(store *s, const char *account, const char *handle,
                          guint batch, guint *removed, GError **err)
{
    if (removed)
        *removed = 0;
    g_return_val_if_fail(s != NULL && account != NULL && handle != NULL,
                         -EINVAL);
    return job_run(archive_job_forget_legacy(account, handle, batch), s,
                   removed, err);
}
