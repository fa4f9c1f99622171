/* nicks: registrations keyed group\0folded nick, and each bare JID's index
 * entries (\0 bare \0 group) kept in step with them. */
#include "nicks.h"

#include <errno.h>
#include <string.h>

/* Both records: version, two strings, extensions. A registration: owner's
 * bare JID, nick as displayed, {since}. An index entry: folded nick, nick
 * as displayed, {}. */
#define NICK_TYPE G_VARIANT_TYPE("(qssa{sv})")

static int check(const char *group, const char *key, const char *bare)
{
    if (store_key_part_check(group, STORE_GROUP_MAX) != 0 ||
        store_key_part_check(key, STORE_NICK_MAX) != 0 ||
        store_key_part_check(bare, NICKS_JID_MAX) != 0 || (key && !*key))
        return STORE_KEY_TOO_LONG;
    return 0;
}

/* group \0 key (key NULL: the prefix of group's registrations). A group
 * is never empty, so these never start with \0 as index keys do. */
static GString *reg_key(const char *group, const char *key)
{
    GString *k = g_string_new(group);

    g_string_append_c(k, '\0');
    if (key)
        g_string_append(k, key);
    return k;
}

/* \0 bare \0 group (group NULL: the prefix of bare's entries). */
static GString *index_key(const char *bare, const char *group)
{
    GString *k = g_string_new(NULL);

    g_string_append_c(k, '\0');
    g_string_append(k, bare);
    g_string_append_c(k, '\0');
    if (group)
        g_string_append(k, group);
    return k;
}

/* The record under k: its two strings (g_free), NULL when absent. */
static int get_pair(MDB_txn *txn, const store *s, const GString *k,
                    char **first, char **second)
{
    GVariant *v = NULL;
    guint16 version;
    int rc = store_get_variant(txn, store_dbi(s, STORE_DB_NICKS), k->str,
                               k->len, NICK_TYPE, &v);

    *first = NULL;
    if (second)
        *second = NULL;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    g_variant_get(v, "(qssa{sv})", &version, first, second ? second : NULL,
                  NULL);
    g_variant_unref(v);
    if (version == 0 || version > NICKS_RECORD_VERSION) {
        g_clear_pointer(first, g_free);
        if (second)
            g_clear_pointer(second, g_free);
        return MDB_CORRUPTED;
    }
    return 0;
}

static int del(MDB_txn *txn, const store *s, const GString *k)
{
    MDB_val key = {k->len, k->str};
    int rc = store_rc(mdb_del(txn, store_dbi(s, STORE_DB_NICKS), &key, NULL));

    return rc == MDB_NOTFOUND ? 0 : rc;
}

int nicks_owner(MDB_txn *txn, const store *s, const char *group,
                const char *key, char **owner)
{
    GString *k;
    int rc = check(group, key, NULL);

    *owner = NULL;
    if (rc != 0)
        return rc;
    k = reg_key(group, key);
    rc = get_pair(txn, s, k, owner, NULL);
    g_string_free(k, TRUE);
    return rc;
}

int nicks_of(MDB_txn *txn, const store *s, const char *group, const char *bare,
             char **nick, char **key)
{
    GString *k;
    char *folded = NULL;
    int rc = check(group, NULL, bare);

    *nick = NULL;
    if (key)
        *key = NULL;
    if (rc != 0)
        return rc;
    k = index_key(bare, group);
    rc = get_pair(txn, s, k, &folded, nick);
    g_string_free(k, TRUE);
    if (key)
        *key = folded;
    else
        g_free(folded);
    return rc;
}

/* Drops bare's registration with group: the record its index entry names,
 * then the entry. */
static int unregister(MDB_txn *txn, const store *s, const char *group,
                      const char *bare)
{
    GString *ik = index_key(bare, group), *rk;
    char *key = NULL, *owner = NULL;
    int rc = get_pair(txn, s, ik, &key, NULL);

    if (rc == 0 && key) {
        rk = reg_key(group, key);
        /* Only a record that is bare's: an index entry never names another's,
         * but a damaged store is no reason to drop someone else's nick. */
        rc = get_pair(txn, s, rk, &owner, NULL);
        if (rc == 0 && g_strcmp0(owner, bare) == 0)
            rc = del(txn, s, rk);
        if (rc == MDB_CORRUPTED)
            rc = del(txn, s, rk);
        g_string_free(rk, TRUE);
    }
    if (rc == 0 || rc == MDB_CORRUPTED)
        rc = del(txn, s, ik);
    g_free(owner);
    g_free(key);
    g_string_free(ik, TRUE);
    return rc;
}

int nicks_register(MDB_txn *txn, const store *s, const char *group,
                   const char *bare, const char *nick, const char *key)
{
    GString *rk, *ik;
    GVariantBuilder b;
    char *owner = NULL;
    int rc = check(group, key, bare);

    if (rc != 0)
        return rc;
    if (!nick || !g_utf8_validate(nick, -1, NULL) ||
        !g_utf8_validate(key, -1, NULL))
        return -EINVAL;
    rk = reg_key(group, key);
    ik = index_key(bare, group);
    rc = get_pair(txn, s, rk, &owner, NULL);
    if (rc == 0 && owner && strcmp(owner, bare) != 0)
        rc = NICKS_TAKEN;
    if (rc == 0)
        rc = unregister(txn, s, group, bare);
    if (rc == 0) {
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(
            &b, "{sv}", "since",
            g_variant_new_int64(g_get_real_time() / G_USEC_PER_SEC));
        rc = store_put_variant(
            txn, store_dbi(s, STORE_DB_NICKS), rk->str, rk->len,
            g_variant_new("(qssa{sv})", (guint16)NICKS_RECORD_VERSION, bare,
                          nick, &b));
    }
    /* In the same transaction, so the index never disagrees with the
     * registrations. */
    if (rc == 0)
        rc = store_put_variant(
            txn, store_dbi(s, STORE_DB_NICKS), ik->str, ik->len,
            g_variant_new("(qssa{sv})", (guint16)NICKS_RECORD_VERSION, key,
                          nick, NULL));
    g_free(owner);
    g_string_free(ik, TRUE);
    g_string_free(rk, TRUE);
    return rc;
}

int nicks_unregister(MDB_txn *txn, const store *s, const char *group,
                     const char *bare)
{
    int rc = check(group, NULL, NULL);

    if (rc != 0)
        return rc;
    /* A JID too long for the index never registered: nothing to drop. */
    if (store_key_part_check(bare, NICKS_JID_MAX) != 0)
        return 0;
    return unregister(txn, s, group, bare);
}

typedef struct count_args {
    guint n, max;
} count_args;

static int count_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    count_args *ca = userdata;

    return ++ca->n >= ca->max ? 1 : 0;
}

int nicks_count(MDB_txn *txn, const store *s, const char *group, guint max,
                guint *count)
{
    count_args ca = {0, max};
    GString *prefix;
    int rc = check(group, NULL, NULL);

    *count = 0;
    if (rc != 0 || max == 0)
        return rc;
    prefix = reg_key(group, NULL);
    rc = store_walk(txn, store_dbi(s, STORE_DB_NICKS), prefix->str, prefix->len,
                    count_one, &ca);
    g_string_free(prefix, TRUE);
    if (rc == 0)
        *count = ca.n;
    return rc;
}

typedef struct drop_args {
    MDB_txn *txn;
    const store *s;
    size_t prefix_len;
    const char *group, *bare; /* the one the walk is over */
    guint dropped;
} drop_args;

/* One registration of a dropped group: its owner's index entry, then the
 * record. A record that cannot be decoded goes alone. */
static int drop_registration(const MDB_val *k, const MDB_val *d, void *userdata)
{
    drop_args *da = userdata;
    GVariant *v = NULL;
    GString *rk = g_string_new_len(k->mv_data, k->mv_size), *ik;
    const char *owner;
    int rc = 0;

    if (store_decode_variant(d, NICK_TYPE, &v) == 0) {
        g_variant_get(v, "(q&s&sa{sv})", NULL, &owner, NULL, NULL);
        if (store_key_part_check(owner, NICKS_JID_MAX) == 0) {
            ik = index_key(owner, da->group);
            rc = del(da->txn, da->s, ik);
            g_string_free(ik, TRUE);
        }
        g_variant_unref(v);
    }
    if (rc == 0)
        rc = del(da->txn, da->s, rk);
    g_string_free(rk, TRUE);
    return rc;
}

int nicks_drop_group(MDB_txn *txn, const store *s, const char *group)
{
    drop_args da = {txn, s, 0, group, NULL, 0};
    GString *prefix;
    int rc = check(group, NULL, NULL);

    if (rc != 0)
        return rc;
    prefix = reg_key(group, NULL);
    rc = store_walk(txn, store_dbi(s, STORE_DB_NICKS), prefix->str, prefix->len,
                    drop_registration, &da);
    g_string_free(prefix, TRUE);
    return rc;
}

/* One index entry of a forgotten user: the registration it names. */
static int forget_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    drop_args *da = userdata;
    char *group = g_strndup((const char *)k->mv_data + da->prefix_len,
                            k->mv_size - da->prefix_len);
    int rc = 0;

    /* unregister deletes this entry too (store_walk allows it). */
    if (check(group, NULL, NULL) == 0)
        rc = unregister(da->txn, da->s, group, da->bare);
    else {
        GString *ik = g_string_new_len(k->mv_data, k->mv_size);
        rc = del(da->txn, da->s, ik);
        g_string_free(ik, TRUE);
    }
    if (rc == 0)
        da->dropped++;
    g_free(group);
    return rc;
}

int nicks_forget(MDB_txn *txn, const store *s, const char *bare, guint *dropped)
{
    drop_args da = {txn, s, 0, NULL, bare, 0};
    GString *prefix;
    int rc = check(NULL, NULL, bare);

    if (dropped)
        *dropped = 0;
    if (rc != 0)
        return rc;
    if (!bare || !*bare)
        return -EINVAL;
    prefix = index_key(bare, NULL);
    da.prefix_len = prefix->len;
    rc = store_walk(txn, store_dbi(s, STORE_DB_NICKS), prefix->str, prefix->len,
                    forget_one, &da);
    g_string_free(prefix, TRUE);
    if (rc == 0 && dropped)
        *dropped = da.dropped;
    return rc;
}

typedef struct jid_args {
    MDB_txn *txn;
    const store *s;
    const char *bare;
    size_t prefix_len;
    nicks_jid_fn fn;
    void *userdata;
} jid_args;

/* One index entry of bare: the nick registered with the group it names. */
static int jid_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    jid_args *ja = userdata;
    char *group = g_strndup((const char *)k->mv_data + ja->prefix_len,
                            k->mv_size - ja->prefix_len);
    char *nick = NULL;
    int rc = 0;

    if (check(group, NULL, NULL) == 0 &&
        nicks_of(ja->txn, ja->s, group, ja->bare, &nick, NULL) == 0 && nick)
        rc = ja->fn(group, nick, ja->userdata);
    g_free(nick);
    g_free(group);
    return rc;
}

int nicks_foreach_jid(MDB_txn *txn, const store *s, const char *bare,
                      nicks_jid_fn fn, void *userdata)
{
    jid_args ja = {txn, s, bare, 0, fn, userdata};
    GString *prefix;
    int rc = check(NULL, NULL, bare);

    if (rc != 0)
        return rc;
    if (!bare || !*bare)
        return -EINVAL;
    prefix = index_key(bare, NULL);
    ja.prefix_len = prefix->len;
    rc = store_walk(txn, store_dbi(s, STORE_DB_NICKS), prefix->str, prefix->len,
                    jid_one, &ja);
    g_string_free(prefix, TRUE);
    return rc;
}

void nicks_key_group(const MDB_val *key, MDB_val *group)
{
    /* A registration's group is never empty: only index keys start \0. */
    gboolean index = key->mv_size && !*(const char *)key->mv_data;

    store_key_part(key, index, group);
}
