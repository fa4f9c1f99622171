/* members: "(qa{sv})" records keyed account\0handle in "members", and the
 * group index group\0account\0handle (empty values) in "member_index". */
#include <errno.h>
#include <string.h>

#include "members.h"
#include "photos.h"

#define MEMBERS_TYPE G_VARIANT_TYPE("(qa{sv})")

/* LMDB's default key size limit. */
#define KEY_MAX 511

/* A key built here. */
typedef struct mkey {
    size_t len;
    unsigned char b[KEY_MAX];
} mkey;

void member_rec_free(member_rec *m)
{
    if (!m)
        return;
    g_free(m->account);
    g_free(m->handle);
    g_free(m->group);
    g_free(m->nick);
    g_free(m->alias);
    g_free(m->photo);
    g_free(m);
}

/* Keys */

static gboolean part_ok(const char *p)
{
    return p != NULL && *p != '\0';
}

static gboolean text_ok(const char *p)
{
    return p == NULL || g_utf8_validate(p, -1, NULL);
}

/* Appends the parts, each but the last followed by \0; FALSE if the key
 * would pass KEY_MAX. */
static gboolean key_build(mkey *k, const char *const *parts, int n)
{
    k->len = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(parts[i]);

        if (len + (i < n - 1) > KEY_MAX - k->len)
            return FALSE;
        memcpy(k->b + k->len, parts[i], len);
        k->len += len;
        if (i < n - 1)
            k->b[k->len++] = '\0';
    }
    return TRUE;
}

/* account\0handle; handle NULL gives the prefix account\0. FALSE when a
 * part is longer than its bound (store.h). */
static gboolean key_primary(mkey *k, const char *account, const char *handle)
{
    const char *parts[] = {account, handle ? handle : ""};

    if (store_key_part_check(account, STORE_ACCOUNT_MAX) ||
        store_key_part_check(handle, STORE_HANDLE_MAX))
        return FALSE;
    return key_build(k, parts, 2);
}

/* group\0account\0handle; handle NULL gives the prefix group\0. */
static gboolean key_index(mkey *k, const char *group, const char *account,
                          const char *handle)
{
    const char *parts[] = {group, account, handle};

    if (store_key_part_check(group, STORE_GROUP_MAX) ||
        store_key_part_check(account, STORE_ACCOUNT_MAX) ||
        store_key_part_check(handle, STORE_HANDLE_MAX))
        return FALSE;
    if (!handle) {
        const char *prefix[] = {group, ""};
        return key_build(k, prefix, 2);
    }
    return key_build(k, parts, 3);
}

static int del_key(MDB_txn *txn, MDB_dbi dbi, const mkey *key)
{
    MDB_val k = {.mv_size = key->len, .mv_data = (void *)key->b};
    int rc = mdb_del(txn, dbi, &k, NULL);

    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Records */

static GVariant *members_encode(const member_rec *m)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "group", g_variant_new_string(m->group));
    if (m->nick)
        g_variant_builder_add(&b, "{sv}", "nick",
                              g_variant_new_string(m->nick));
    if (m->alias)
        g_variant_builder_add(&b, "{sv}", "alias",
                              g_variant_new_string(m->alias));
    g_variant_builder_add(&b, "{sv}", "muted", g_variant_new_boolean(m->muted));
    g_variant_builder_add(&b, "{sv}", "welcomed",
                          g_variant_new_boolean(m->welcomed));
    g_variant_builder_add(&b, "{sv}", "since",
                          g_variant_new_int64(m->since_us));
    g_variant_builder_add(&b, "{sv}", "seen", g_variant_new_int64(m->seen_us));
    if (m->photo && photos_hash_valid(m->photo))
        g_variant_builder_add(&b, "{sv}", "photo",
                              g_variant_new_string(m->photo));
    return g_variant_new("(qa{sv})", (guint16)MEMBERS_RECORD_VERSION, &b);
}

static gboolean lookup_boolean(GVariant *dict, const char *key)
{
    GVariant *v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE_BOOLEAN);
    gboolean b;

    if (!v)
        return FALSE;
    b = g_variant_get_boolean(v);
    g_variant_unref(v);
    return b;
}

static gint64 lookup_int64(GVariant *dict, const char *key)
{
    GVariant *v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE_INT64);
    gint64 x;

    if (!v)
        return 0;
    x = g_variant_get_int64(v);
    g_variant_unref(v);
    return x;
}

/* The string key ("group", "photo") of a stored value, whatever its
 * record version (the type "(qa{sv})" is the same for all of them), or
 * NULL if it has none. Used to find the index entry and the picture of a
 * record being replaced or deleted. */
static char *value_string(const MDB_val *d, const char *key)
{
    GVariant *v = NULL, *dict = NULL;
    char *text;

    if (store_decode_variant(d, MEMBERS_TYPE, &v) != 0)
        return NULL;
    dict = g_variant_get_child_value(v, 1);
    text = store_dict_string(dict, key);
    g_variant_unref(dict);
    g_variant_unref(v);
    if (text && !*text) {
        g_free(text);
        text = NULL;
    }
    return text;
}

/* The picture count follows the record (photos.h): one more for the hash
 * it names now, one fewer for the one it named (old, may be NULL). */
static int photo_moved(MDB_txn *txn, const store *s, const char *old,
                       const char *now)
{
    int rc = 0;

    if (!g_strcmp0(old, now))
        return 0;
    if (now)
        rc = photos_ref(txn, s, now);
    if (rc == 0 && old)
        rc = photos_unref(txn, s, old);
    return rc;
}

/* Decodes a value stored under account\0handle into owned memory. */
static int members_decode(const MDB_val *d, const char *account,
                          size_t account_len, const char *handle,
                          size_t handle_len, member_rec **out)
{
    GVariant *v = NULL, *dict = NULL;
    member_rec *m = NULL;
    guint16 version;
    int rc;

    *out = NULL;
    rc = store_decode_variant(d, MEMBERS_TYPE, &v);
    if (rc != 0)
        goto leave;
    rc = MDB_CORRUPTED;
    g_variant_get(v, "(q@a{sv})", &version, &dict);
    if (version == 0 || version > MEMBERS_RECORD_VERSION)
        goto leave;
    m = g_new0(member_rec, 1);
    m->group = store_dict_string(dict, "group");
    if (!m->group || !*m->group)
        goto leave;
    m->account = g_strndup(account, account_len);
    m->handle = g_strndup(handle, handle_len);
    m->nick = store_dict_string(dict, "nick");
    m->alias = store_dict_string(dict, "alias");
    m->muted = lookup_boolean(dict, "muted");
    m->welcomed = lookup_boolean(dict, "welcomed");
    m->since_us = lookup_int64(dict, "since");
    m->seen_us = lookup_int64(dict, "seen");
    m->photo = store_dict_string(dict, "photo");
    if (m->photo && !photos_hash_valid(m->photo))
        g_clear_pointer(&m->photo, g_free);
    *out = m;
    m = NULL;
    rc = 0;
leave:
    member_rec_free(m);
    if (dict)
        g_variant_unref(dict);
    if (v)
        g_variant_unref(v);
    return rc;
}

/* Writing */

int members_put(MDB_txn *txn, const store *s, const member_rec *m)
{
    MDB_dbi primary = store_dbi(s, STORE_DB_MEMBERS);
    MDB_dbi index = store_dbi(s, STORE_DB_MEMBER_INDEX);
    MDB_val k, d, empty = {.mv_size = 0, .mv_data = NULL};
    char *old_group = NULL, *old_photo = NULL;
    mkey pkey, ikey, old;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && m != NULL, -EINVAL);
    if (!part_ok(m->account) || !part_ok(m->handle) || !part_ok(m->group) ||
        !g_utf8_validate(m->group, -1, NULL) || !text_ok(m->nick) ||
        !text_ok(m->alias))
        return -EINVAL;
    /* Both keys are checked before anything is written, so that a key too
     * long leaves the transaction as it was. */
    if (!key_primary(&pkey, m->account, m->handle) ||
        !key_index(&ikey, m->group, m->account, m->handle))
        return STORE_KEY_TOO_LONG;
    k = (MDB_val){.mv_size = pkey.len, .mv_data = pkey.b};
    rc = mdb_get(txn, primary, &k, &d);
    if (rc == 0) {
        old_group = value_string(&d, "group");
        old_photo = value_string(&d, "photo");
    } else if (rc != MDB_NOTFOUND) {
        goto leave;
    }
    if (old_group && strcmp(old_group, m->group) != 0 &&
        key_index(&old, old_group, m->account, m->handle)) {
        rc = del_key(txn, index, &old);
        if (rc != 0)
            goto leave;
    }
    rc = photo_moved(txn, s, old_photo,
                     m->photo && photos_hash_valid(m->photo) ? m->photo : NULL);
    if (rc != 0)
        goto leave;
    rc = store_put_variant(txn, primary, pkey.b, pkey.len, members_encode(m));
    if (rc != 0)
        goto leave;
    k = (MDB_val){.mv_size = ikey.len, .mv_data = ikey.b};
    rc = mdb_put(txn, index, &k, &empty, 0);
leave:
    g_free(old_group);
    g_free(old_photo);
    return rc;
}

int members_delete(MDB_txn *txn, const store *s, const char *account,
                   const char *handle)
{
    MDB_dbi primary = store_dbi(s, STORE_DB_MEMBERS);
    char *group = NULL, *photo = NULL;
    mkey pkey, ikey;
    MDB_val k, d;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL, -EINVAL);
    if (!part_ok(account) || !part_ok(handle))
        return -EINVAL;
    if (!key_primary(&pkey, account, handle))
        return STORE_KEY_TOO_LONG;
    k = (MDB_val){.mv_size = pkey.len, .mv_data = pkey.b};
    rc = mdb_get(txn, primary, &k, &d);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    group = value_string(&d, "group");
    photo = value_string(&d, "photo");
    if (group && key_index(&ikey, group, account, handle)) {
        rc = del_key(txn, store_dbi(s, STORE_DB_MEMBER_INDEX), &ikey);
        if (rc != 0)
            goto leave;
    }
    rc = photo_moved(txn, s, photo, NULL);
    if (rc == 0)
        rc = del_key(txn, primary, &pkey);
leave:
    g_free(group);
    g_free(photo);
    return rc;
}

/* Reading */

int members_get(MDB_txn *txn, const store *s, const char *account,
                const char *handle, member_rec **out)
{
    mkey pkey;
    MDB_val k, d;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && out != NULL, -EINVAL);
    *out = NULL;
    if (!part_ok(account) || !part_ok(handle))
        return -EINVAL;
    if (!key_primary(&pkey, account, handle))
        return STORE_KEY_TOO_LONG;
    k = (MDB_val){.mv_size = pkey.len, .mv_data = pkey.b};
    rc = mdb_get(txn, store_dbi(s, STORE_DB_MEMBERS), &k, &d);
    if (rc != 0)
        return rc;
    return members_decode(&d, account, strlen(account), handle, strlen(handle),
                          out);
}

/* A walk's state, for the store_walk callbacks below. */
typedef struct mwalk {
    MDB_txn *txn;
    const store *s;
    const char *group; /* by group: the group the records must name */
    size_t skip;       /* bytes of the key before account\0handle */
    members_fn fn;
    void *userdata;
} mwalk;

/* Decodes the record of the primary key at kb (account \0 handle, both
 * non-empty, the handle without NUL) and gives it to fn; anything else is
 * not a member and is stepped over. */
static int walk_record(mwalk *w, const char *kb, size_t klen,
                       const MDB_val *d)
{
    const char *sep = memchr(kb, '\0', klen);
    member_rec *m = NULL;
    int stop = 0;

    if (!sep || sep == kb || (size_t)(sep - kb) + 1 >= klen ||
        memchr(sep + 1, '\0', klen - (size_t)(sep - kb) - 1))
        return 0;
    if (members_decode(d, kb, (size_t)(sep - kb), sep + 1,
                       klen - (size_t)(sep - kb) - 1, &m) != 0)
        return 0;
    if (!w->group || strcmp(m->group, w->group) == 0)
        stop = w->fn(m, w->userdata);
    member_rec_free(m);
    return stop;
}

static int walk_primary(const MDB_val *k, const MDB_val *d, void *userdata)
{
    return walk_record(userdata, k->mv_data, k->mv_size, d);
}

/* An index key group \0 account \0 handle: the record is read from the
 * primary key, the rest of it. It must still name the group: an entry left
 * by a record that changed group or could not be read is stale. */
static int walk_index(const MDB_val *k, const MDB_val *d, void *userdata)
{
    mwalk *w = userdata;
    mkey pkey;
    MDB_val pk, pd;
    int rc;

    (void)d;
    pkey.len = k->mv_size - w->skip;
    memcpy(pkey.b, (const char *)k->mv_data + w->skip, pkey.len);
    /* A corrupt entry whose rest is not account \0 handle names no
     * record; LMDB refuses an empty key outright (MDB_BAD_VALSIZE). */
    {
        const char *sep = memchr(pkey.b, '\0', pkey.len);

        if (!sep || sep == (const char *)pkey.b ||
            (size_t)(sep - (const char *)pkey.b) + 1 >= pkey.len)
            return 0;
    }
    pk = (MDB_val){.mv_size = pkey.len, .mv_data = pkey.b};
    rc = mdb_get(w->txn, store_dbi(w->s, STORE_DB_MEMBERS), &pk, &pd);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    return walk_record(w, (const char *)pkey.b, pkey.len, &pd);
}

int members_foreach_account(MDB_txn *txn, const store *s, const char *account,
                            members_fn fn, void *userdata)
{
    mwalk w = {txn, s, NULL, 0, fn, userdata};
    mkey prefix;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    if (!part_ok(account))
        return -EINVAL;
    if (!key_primary(&prefix, account, NULL))
        return STORE_KEY_TOO_LONG;
    return store_walk(txn, store_dbi(s, STORE_DB_MEMBERS), prefix.b,
                      prefix.len, walk_primary, &w);
}

int members_foreach_group(MDB_txn *txn, const store *s, const char *group,
                          members_fn fn, void *userdata)
{
    mwalk w = {txn, s, group, 0, fn, userdata};
    mkey prefix;

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    if (!part_ok(group))
        return -EINVAL;
    if (!key_index(&prefix, group, NULL, NULL))
        return STORE_KEY_TOO_LONG;
    w.skip = prefix.len;
    return store_walk(txn, store_dbi(s, STORE_DB_MEMBER_INDEX), prefix.b,
                      prefix.len, walk_index, &w);
}

int members_foreach(MDB_txn *txn, const store *s, members_fn fn,
                    void *userdata)
{
    mwalk w = {txn, s, NULL, 0, fn, userdata};

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    return store_walk(txn, store_dbi(s, STORE_DB_MEMBERS), NULL, 0,
                      walk_primary, &w);
}
