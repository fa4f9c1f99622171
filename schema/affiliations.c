/* affiliations: "(qsa{sv})" records keyed group\0bare JID, and the owned
 * index (owner's bare JID\0group) kept in step with them. */
#include "affiliations.h"

#include <string.h>

#define AFF_TYPE G_VARIANT_TYPE("(qsa{sv})")

static const char *const names[] = {
    [AFF_OWNER] = "owner", [AFF_ADMIN] = "admin",     [AFF_MEMBER] = "member",
    [AFF_NONE] = "none",   [AFF_OUTCAST] = "outcast",
};

const char *affiliation_name(enum affiliation a)
{
    return a <= AFF_OUTCAST ? names[a] : "none";
}

int affiliation_parse(const char *s, enum affiliation *out)
{
    for (size_t i = 0; s && i < G_N_ELEMENTS(names); i++) {
        if (strcmp(names[i], s) == 0) {
            *out = (enum affiliation)i;
            return 0;
        }
    }
    return -1;
}

/* group \0 bare: each part within its bound (store.h), so that the key
 * fits. Returns 0 or STORE_KEY_TOO_LONG. */
static int key_check(const char *group, const char *bare)
{
    int rc = store_key_part_check(group, STORE_GROUP_MAX);

    return rc ? rc : store_key_part_check(bare, STORE_JID_MAX);
}

/* first \0 second (second may be NULL: the prefix of first's keys). The
 * records are keyed group \0 bare; the owned index bare \0 group. */
static GString *make_key(const char *first, const char *second)
{
    GString *k = g_string_new(first);

    g_string_append_c(k, '\0');
    if (second)
        g_string_append(k, second);
    return k;
}

int affiliations_get(MDB_txn *txn, const store *s, const char *group,
                     const char *bare, enum affiliation *out)
{
    GString *k;
    GVariant *v = NULL;
    guint16 version;
    const char *name;
    int rc;

    *out = AFF_NONE;
    rc = key_check(group, bare);
    if (rc != 0)
        return rc;
    k = make_key(group, bare);
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_AFFILIATIONS), k->str,
                           k->len, AFF_TYPE, &v);
    g_string_free(k, TRUE);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    g_variant_get(v, "(q&s@a{sv})", &version, &name, NULL);
    if (version == 0 || version > AFFILIATIONS_RECORD_VERSION ||
        affiliation_parse(name, out) < 0)
        rc = MDB_CORRUPTED;
    g_variant_unref(v);
    return rc;
}

/* Keeps the owned index in step with one record: present when a is
 * AFF_OWNER, absent otherwise. */
static int owned_set(MDB_txn *txn, const store *s, const char *group,
                     const char *bare, enum affiliation a)
{
    GString *k = make_key(bare, group);
    MDB_val key = {k->len, k->str}, empty = {0, NULL};
    MDB_dbi dbi = store_dbi(s, STORE_DB_OWNED);
    int rc;

    if (a == AFF_OWNER)
        rc = store_rc(mdb_put(txn, dbi, &key, &empty, 0));
    else
        rc = store_rc(mdb_del(txn, dbi, &key, NULL));
    g_string_free(k, TRUE);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int affiliations_set(MDB_txn *txn, const store *s, const char *group,
                     const char *bare, enum affiliation a, const char *reason)
{
    GString *k;
    GVariantBuilder b;
    int rc = key_check(group, bare);

    if (rc != 0)
        return rc;
    k = make_key(group, bare);
    if (a == AFF_NONE) {
        MDB_val key = {k->len, k->str};
        rc = store_rc(
            mdb_del(txn, store_dbi(s, STORE_DB_AFFILIATIONS), &key, NULL));
        if (rc == MDB_NOTFOUND)
            rc = 0;
    } else {
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        if (reason && *reason)
            g_variant_builder_add(&b, "{sv}", "reason",
                                  g_variant_new_string(reason));
        g_variant_builder_add(
            &b, "{sv}", "since",
            g_variant_new_int64(g_get_real_time() / G_USEC_PER_SEC));
        rc = store_put_variant(
            txn, store_dbi(s, STORE_DB_AFFILIATIONS), k->str, k->len,
            g_variant_new("(qsa{sv})", (guint16)AFFILIATIONS_RECORD_VERSION,
                          affiliation_name(a), &b));
    }
    g_string_free(k, TRUE);
    /* In the same transaction, so the index never disagrees with the
     * records it is built from. */
    if (rc == 0)
        rc = owned_set(txn, s, group, bare, a);
    return rc;
}

typedef struct foreach_args {
    size_t prefix_len;
    affiliations_fn fn;
    void *userdata;
} foreach_args;

static int foreach_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    foreach_args *fa = userdata;
    GVariant *v = NULL, *dict = NULL, *rv;
    enum affiliation a;
    const char *name;
    char *bare, *reason = NULL;
    int rc;

    if (store_decode_variant(d, AFF_TYPE, &v) != 0)
        return 0;
    g_variant_get(v, "(q&s@a{sv})", NULL, &name, &dict);
    if (affiliation_parse(name, &a) < 0) {
        g_variant_unref(dict);
        g_variant_unref(v);
        return 0;
    }
    rv = g_variant_lookup_value(dict, "reason", G_VARIANT_TYPE_STRING);
    if (rv) {
        reason = g_variant_dup_string(rv, NULL);
        g_variant_unref(rv);
    }
    g_variant_unref(dict);
    bare = g_strndup((char *)k->mv_data + fa->prefix_len,
                     k->mv_size - fa->prefix_len);
    rc = fa->fn(bare, a, reason, fa->userdata);
    g_free(bare);
    g_free(reason);
    g_variant_unref(v);
    return rc;
}

int affiliations_foreach(MDB_txn *txn, const store *s, const char *group,
                         affiliations_fn fn, void *userdata)
{
    GString *prefix;
    foreach_args fa = {0, fn, userdata};
    int rc = key_check(group, NULL);

    if (rc != 0)
        return rc;
    prefix = make_key(group, NULL);
    fa.prefix_len = prefix->len;
    rc = store_walk(txn, store_dbi(s, STORE_DB_AFFILIATIONS), prefix->str,
                    prefix->len, foreach_one, &fa);
    g_string_free(prefix, TRUE);
    return rc;
}

static int count_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    (*(guint *)userdata)++;
    return 0;
}

int affiliations_count_owned(MDB_txn *txn, const store *s, const char *bare,
                             guint *count)
{
    GString *prefix;
    guint n = 0;
    int rc;

    *count = 0;
    if (store_key_part_check(bare, STORE_JID_MAX) != 0)
        return STORE_KEY_TOO_LONG;
    prefix = make_key(bare, NULL);
    rc = store_walk(txn, store_dbi(s, STORE_DB_OWNED), prefix->str, prefix->len,
                    count_one, &n);
    g_string_free(prefix, TRUE);
    if (rc == 0)
        *count = n;
    return rc;
}

typedef struct rebuild_args {
    MDB_txn *txn;
    const store *s;
} rebuild_args;

/* One record of the affiliations database into the owned index: keys
 * without their separator, parts over their bounds and records this build
 * cannot decode are stepped over (they never counted as owned). */
static int rebuild_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    const char *key = k->mv_data;
    const char *sep = memchr(key, '\0', k->mv_size);
    const rebuild_args *ra = userdata;
    GVariant *v = NULL;
    char *group, *bare;
    const char *name;
    enum affiliation a;
    int rc = 0;

    if (!sep || sep == key + k->mv_size - 1 ||
        memchr(sep + 1, '\0', key + k->mv_size - sep - 1))
        return 0;
    if (store_decode_variant(d, AFF_TYPE, &v) != 0)
        return 0;
    g_variant_get(v, "(q&s@a{sv})", NULL, &name, NULL);
    group = g_strndup(key, sep - key);
    bare = g_strndup(sep + 1, key + k->mv_size - sep - 1);
    if (affiliation_parse(name, &a) == 0 && a == AFF_OWNER &&
        key_check(group, bare) == 0)
        rc = owned_set(ra->txn, ra->s, group, bare, a);
    g_free(group);
    g_free(bare);
    g_variant_unref(v);
    return rc;
}

int affiliations_owned_rebuild(MDB_txn *txn, store *s)
{
    rebuild_args ra = {txn, s};
    int rc = store_rc(mdb_drop(txn, store_dbi(s, STORE_DB_OWNED), 0));

    if (rc != 0)
        return rc;
    return store_walk(txn, store_dbi(s, STORE_DB_AFFILIATIONS), NULL, 0,
                      rebuild_one, &ra);
}

/* ---- one person's affiliations (export and erasure) ---- */

typedef struct jid_args {
    const char *bare;
    size_t bare_len;
    affiliations_jid_fn fn;
    void *userdata;
} jid_args;

/* A record keyed group \0 bare whose bare part is the one asked for. */
static int jid_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    const jid_args *ja = userdata;
    const char *key = k->mv_data;
    const char *sep = memchr(key, '\0', k->mv_size);
    GVariant *v = NULL;
    const char *name;
    enum affiliation a;
    char *group;
    int rc = 0;

    if (!sep || (size_t)(key + k->mv_size - sep - 1) != ja->bare_len ||
        memcmp(sep + 1, ja->bare, ja->bare_len) != 0)
        return 0;
    if (store_decode_variant(d, AFF_TYPE, &v) != 0)
        return 0;
    g_variant_get(v, "(q&s@a{sv})", NULL, &name, NULL);
    group = g_strndup(key, sep - key);
    if (affiliation_parse(name, &a) == 0)
        rc = ja->fn(group, a, ja->userdata);
    g_free(group);
    g_variant_unref(v);
    return rc;
}

int affiliations_foreach_jid(MDB_txn *txn, const store *s, const char *bare,
                             affiliations_jid_fn fn, void *userdata)
{
    jid_args ja = {bare, bare ? strlen(bare) : 0, fn, userdata};

    if (store_key_part_check(bare, STORE_JID_MAX) != 0)
        return STORE_KEY_TOO_LONG;
    return store_walk(txn, store_dbi(s, STORE_DB_AFFILIATIONS), NULL, 0,
                      jid_one, &ja);
}

static int collect_group(const char *group, enum affiliation a, void *userdata)
{
    g_ptr_array_add(userdata, g_strdup(group));
    return 0;
}

int affiliations_forget(MDB_txn *txn, const store *s, const char *bare,
                        guint *dropped)
{
    GPtrArray *groups = g_ptr_array_new_with_free_func(g_free);
    int rc = affiliations_foreach_jid(txn, s, bare, collect_group, groups);

    for (guint i = 0; rc == 0 && i < groups->len; i++)
        rc = affiliations_set(txn, s, g_ptr_array_index(groups, i), bare,
                              AFF_NONE, NULL);
    if (rc == 0 && dropped)
        *dropped = groups->len;
    g_ptr_array_unref(groups);
    return rc;
}
