/* accounts: "(qa{sv})" records keyed by account name, and their passwords
 * as "(qs)" records of the same key in "secrets". */
#include <errno.h>
#include <string.h>

#include "accounts.h"

#define ACCOUNTS_TYPE G_VARIANT_TYPE("(qa{sv})")
#define SECRETS_TYPE  G_VARIANT_TYPE("(qs)")

#define PACE_BURST_DEFAULT 5
#define PACE_RATE_DEFAULT  1.0

static GHashTable *options_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void account_rec_free(account_rec *a)
{
    if (!a)
        return;
    g_free(a->name);
    g_free(a->protocol);
    g_free(a->username);
    g_free(a->group);
    g_free(a->mode);
    g_free(a->chat);
    if (a->options)
        g_hash_table_unref(a->options);
    g_free(a);
}

account_rec *account_rec_copy(const account_rec *a)
{
    account_rec *c = g_new(account_rec, 1);
    GHashTableIter it;
    gpointer k, v;

    *c = *a;
    c->name = g_strdup(a->name);
    c->protocol = g_strdup(a->protocol);
    c->username = g_strdup(a->username);
    c->group = g_strdup(a->group);
    c->mode = g_strdup(a->mode);
    c->chat = g_strdup(a->chat);
    c->options = options_new();
    if (a->options) {
        g_hash_table_iter_init(&it, a->options);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(c->options, g_strdup(k), g_strdup(v));
    }
    return c;
}

static gboolean valid_text(const char *s, gboolean required)
{
    if (!s)
        return !required;
    return (!required || *s) && g_utf8_validate(s, -1, NULL);
}

static gboolean valid_options(GHashTable *options)
{
    GHashTableIter it;
    gpointer k, v;

    if (!options)
        return TRUE;
    g_hash_table_iter_init(&it, options);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!valid_text(k, TRUE) || !v || !valid_text(v, FALSE))
            return FALSE;
    return TRUE;
}

static int compare_keys(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GVariant *accounts_encode(const account_rec *a)
{
    GVariantBuilder b, opts;

    g_variant_builder_init(&opts, G_VARIANT_TYPE("a{ss}"));
    if (a->options) {
        /* In key order, so that one account is always the same bytes. */
        guint n = 0;
        gpointer *keys = g_hash_table_get_keys_as_array(a->options, &n);
        qsort(keys, n, sizeof(*keys), compare_keys);
        for (guint i = 0; i < n; i++) {
            const char *v = g_hash_table_lookup(a->options, keys[i]);
            g_variant_builder_add(&opts, "{ss}", (char *)keys[i], v ? v : "");
        }
        g_free(keys);
    }
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "protocol",
                          g_variant_new_string(a->protocol));
    g_variant_builder_add(&b, "{sv}", "username",
                          g_variant_new_string(a->username));
    g_variant_builder_add(&b, "{sv}", "group", g_variant_new_string(a->group));
    g_variant_builder_add(&b, "{sv}", "mode", g_variant_new_string(a->mode));
    if (a->chat && *a->chat)
        g_variant_builder_add(&b, "{sv}", "chat",
                              g_variant_new_string(a->chat));
    g_variant_builder_add(&b, "{sv}", "options", g_variant_builder_end(&opts));
    g_variant_builder_add(&b, "{sv}", "enabled",
                          g_variant_new_boolean(a->enabled));
    g_variant_builder_add(&b, "{sv}", "pace_burst",
                          g_variant_new_uint32(a->pace_burst));
    g_variant_builder_add(&b, "{sv}", "pace_rate",
                          g_variant_new_double(a->pace_rate));
    g_variant_builder_add(&b, "{sv}", "from_config",
                          g_variant_new_boolean(a->from_config));
    return g_variant_new("(qa{sv})", (guint16)ACCOUNTS_RECORD_VERSION, &b);
}

/* Decodes a record (already checked to be a normal-form "(qa{sv})") into
 * owned memory. Keys of the wrong type count as missing. */
static int accounts_decode(const void *key, size_t klen, GVariant *v,
                           account_rec **out)
{
    GVariant *dict = NULL, *x;
    account_rec *a = NULL;
    guint16 version;
    int rc = MDB_CORRUPTED;

    *out = NULL;
    if (klen == 0 || memchr(key, '\0', klen))
        goto leave;
    g_variant_get(v, "(q@a{sv})", &version, &dict);
    if (version == 0 || version > ACCOUNTS_RECORD_VERSION)
        goto leave;
    a = g_new0(account_rec, 1);
    a->name = g_strndup(key, klen);
    a->protocol = store_dict_string(dict, "protocol");
    a->username = store_dict_string(dict, "username");
    a->group = store_dict_string(dict, "group");
    a->mode = store_dict_string(dict, "mode");
    if (!a->protocol || !a->username || !a->group || !a->mode)
        goto leave;
    a->chat = store_dict_string(dict, "chat");
    a->options = options_new();
    if ((x = g_variant_lookup_value(dict, "options",
                                    G_VARIANT_TYPE("a{ss}")))) {
        GVariantIter it;
        const char *k, *val;
        g_variant_iter_init(&it, x);
        while (g_variant_iter_next(&it, "{&s&s}", &k, &val))
            g_hash_table_insert(a->options, g_strdup(k), g_strdup(val));
        g_variant_unref(x);
    }
    a->enabled = TRUE;
    if ((x = g_variant_lookup_value(dict, "enabled", G_VARIANT_TYPE_BOOLEAN))) {
        a->enabled = g_variant_get_boolean(x);
        g_variant_unref(x);
    }
    a->pace_burst = PACE_BURST_DEFAULT;
    if ((x = g_variant_lookup_value(dict, "pace_burst",
                                    G_VARIANT_TYPE_UINT32))) {
        a->pace_burst = g_variant_get_uint32(x);
        g_variant_unref(x);
    }
    a->pace_rate = PACE_RATE_DEFAULT;
    if ((x = g_variant_lookup_value(dict, "pace_rate",
                                    G_VARIANT_TYPE_DOUBLE))) {
        a->pace_rate = g_variant_get_double(x);
        g_variant_unref(x);
    }
    if ((x = g_variant_lookup_value(dict, "from_config",
                                    G_VARIANT_TYPE_BOOLEAN))) {
        a->from_config = g_variant_get_boolean(x);
        g_variant_unref(x);
    }
    *out = a;
    a = NULL;
    rc = 0;
leave:
    account_rec_free(a);
    if (dict)
        g_variant_unref(dict);
    return rc;
}

int accounts_put(MDB_txn *txn, const store *s, const account_rec *a,
                 const char *password)
{
    size_t klen;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && a != NULL, -EINVAL);
    /* The name keys this record and the members and outbox keys of the
     * account; the group keys its room (store.h). */
    if (store_key_part_check(a->name, STORE_ACCOUNT_MAX) ||
        store_key_part_check(a->group, STORE_GROUP_MAX))
        return STORE_KEY_TOO_LONG;
    if (!valid_text(a->name, TRUE) || !valid_text(a->protocol, TRUE) ||
        !valid_text(a->username, TRUE) || !valid_text(a->group, TRUE) ||
        !valid_text(a->mode, TRUE) || !valid_text(a->chat, FALSE) ||
        !valid_options(a->options) || !valid_text(password, FALSE))
        return -EINVAL;
    klen = strlen(a->name);
    rc = store_put_variant(txn, store_dbi(s, STORE_DB_ACCOUNTS), a->name, klen,
                           accounts_encode(a));
    if (rc == 0 && password)
        rc = store_put_variant(
            txn, store_dbi(s, STORE_DB_SECRETS), a->name, klen,
            g_variant_new("(qs)", (guint16)SECRETS_RECORD_VERSION, password));
    return rc;
}

int accounts_get(MDB_txn *txn, const store *s, const char *name,
                 account_rec **out)
{
    GVariant *v = NULL;
    int rc;

    g_return_val_if_fail(
        txn != NULL && s != NULL && name != NULL && out != NULL, -EINVAL);
    *out = NULL;
    if (strlen(name) > STORE_ACCOUNT_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_ACCOUNTS), name,
                           strlen(name), ACCOUNTS_TYPE, &v);
    if (rc != 0)
        return rc;
    rc = accounts_decode(name, strlen(name), v, out);
    g_variant_unref(v);
    return rc;
}

int accounts_password(MDB_txn *txn, const store *s, const char *name,
                      char **out)
{
    GVariant *v = NULL;
    guint16 version;
    const char *pw;
    int rc;

    g_return_val_if_fail(
        txn != NULL && s != NULL && name != NULL && out != NULL, -EINVAL);
    *out = NULL;
    if (strlen(name) > STORE_ACCOUNT_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_SECRETS), name,
                           strlen(name), SECRETS_TYPE, &v);
    if (rc == MDB_NOTFOUND) {
        *out = g_strdup("");
        return 0;
    }
    if (rc != 0)
        return rc;
    g_variant_get(v, "(q&s)", &version, &pw);
    if (version == 0 || version > SECRETS_RECORD_VERSION)
        rc = MDB_CORRUPTED;
    else
        *out = g_strdup(pw);
    g_variant_unref(v);
    return rc;
}

int accounts_delete(MDB_txn *txn, const store *s, const char *name)
{
    MDB_val k = {strlen(name), (void *)name};
    int rc, rs;

    if (k.mv_size > STORE_ACCOUNT_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_rc(mdb_del(txn, store_dbi(s, STORE_DB_ACCOUNTS), &k, NULL));
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    rs = store_rc(mdb_del(txn, store_dbi(s, STORE_DB_SECRETS), &k, NULL));
    if (rs != 0 && rs != MDB_NOTFOUND)
        return rs;
    return rc;
}

typedef struct foreach_args {
    accounts_fn fn;
    void *userdata;
} foreach_args;

static int foreach_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    foreach_args *fa = userdata;
    GVariant *v = NULL;
    account_rec *a = NULL;
    int rc;

    if (store_decode_variant(d, ACCOUNTS_TYPE, &v) != 0)
        return 0;
    rc = accounts_decode(k->mv_data, k->mv_size, v, &a);
    g_variant_unref(v);
    if (rc != 0)
        return 0;
    rc = fa->fn(a, fa->userdata);
    account_rec_free(a);
    return rc;
}

int accounts_foreach(MDB_txn *txn, const store *s, accounts_fn fn,
                     void *userdata)
{
    foreach_args fa = {fn, userdata};

    g_return_val_if_fail(txn != NULL && s != NULL && fn != NULL, -EINVAL);
    return store_walk(txn, store_dbi(s, STORE_DB_ACCOUNTS), NULL, 0,
                      foreach_one, &fa);
}
