/* affiliations: "(qsa{sv})" records keyed group\0bare JID. */
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

static GString *make_key(const char *group, const char *bare)
{
    GString *k = g_string_new(group);

    g_string_append_c(k, '\0');
    if (bare)
        g_string_append(k, bare);
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

typedef struct owned_args {
    const char *bare;
    size_t blen;
    guint count;
} owned_args;

static int count_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    owned_args *oa = userdata;
    const char *key = k->mv_data;
    GVariant *v = NULL;
    const char *name;

    /* key: group \0 bare; the bare part must match exactly */
    if (k->mv_size <= oa->blen + 1 || key[k->mv_size - oa->blen - 1] != '\0' ||
        memcmp(key + k->mv_size - oa->blen, oa->bare, oa->blen) != 0)
        return 0;
    if (store_decode_variant(d, AFF_TYPE, &v) != 0)
        return 0;
    g_variant_get(v, "(q&s@a{sv})", NULL, &name, NULL);
    if (strcmp(name, "owner") == 0)
        oa->count++;
    g_variant_unref(v);
    return 0;
}

int affiliations_count_owned(MDB_txn *txn, const store *s, const char *bare,
                             guint *count)
{
    owned_args oa = {bare, strlen(bare), 0};
    int rc;

    *count = 0;
    if (oa.blen > STORE_JID_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_walk(txn, store_dbi(s, STORE_DB_AFFILIATIONS), NULL, 0,
                    count_one, &oa);
    if (rc == 0)
        *count = oa.count;
    return rc;
}
