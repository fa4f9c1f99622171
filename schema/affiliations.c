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
        rc = mdb_del(txn, store_dbi(s, STORE_DB_AFFILIATIONS), &key, NULL);
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

int affiliations_foreach(MDB_txn *txn, const store *s, const char *group,
                         affiliations_fn fn, void *userdata)
{
    GString *prefix;
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    int rc = key_check(group, NULL);

    if (rc != 0)
        return rc;
    prefix = make_key(group, NULL);
    k = (MDB_val){prefix->len, prefix->str};
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_AFFILIATIONS), &cur);
    if (rc != 0)
        goto leave;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        GVariant *v = NULL, *dict = NULL, *rv;
        enum affiliation a;
        const char *name;
        char *bare, *reason = NULL;
        int stop;

        if (k.mv_size < prefix->len ||
            memcmp(k.mv_data, prefix->str, prefix->len) != 0)
            break;
        if (store_decode_variant(&d, AFF_TYPE, &v) != 0)
            continue;
        g_variant_get(v, "(q&s@a{sv})", NULL, &name, &dict);
        if (affiliation_parse(name, &a) < 0) {
            g_variant_unref(dict);
            g_variant_unref(v);
            continue;
        }
        rv = g_variant_lookup_value(dict, "reason", G_VARIANT_TYPE_STRING);
        if (rv) {
            reason = g_variant_dup_string(rv, NULL);
            g_variant_unref(rv);
        }
        g_variant_unref(dict);
        bare =
            g_strndup((char *)k.mv_data + prefix->len, k.mv_size - prefix->len);
        stop = fn(bare, a, reason, userdata);
        g_free(bare);
        g_free(reason);
        g_variant_unref(v);
        if (stop) {
            rc = stop;
            goto leave;
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
leave:
    if (cur)
        mdb_cursor_close(cur);
    g_string_free(prefix, TRUE);
    return rc;
}

int affiliations_count_owned(MDB_txn *txn, const store *s, const char *bare,
                             guint *count)
{
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    size_t blen = strlen(bare);
    int rc;

    *count = 0;
    if (blen > STORE_JID_MAX)
        return STORE_KEY_TOO_LONG;
    rc = mdb_cursor_open(txn, store_dbi(s, STORE_DB_AFFILIATIONS), &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        const char *key = k.mv_data;
        GVariant *v = NULL;
        const char *name;

        /* key: group \0 bare; the bare part must match exactly */
        if (k.mv_size <= blen + 1 || key[k.mv_size - blen - 1] != '\0' ||
            memcmp(key + k.mv_size - blen, bare, blen) != 0)
            continue;
        if (store_decode_variant(&d, AFF_TYPE, &v) != 0)
            continue;
        g_variant_get(v, "(q&s@a{sv})", NULL, &name, NULL);
        if (strcmp(name, "owner") == 0)
            (*count)++;
        g_variant_unref(v);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
