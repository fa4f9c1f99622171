/* groups: the "groups" database, one "(qa{sv})" record per group keyed by
 * its room localpart; encoding, tolerant decoding and the public listing. */
#include <errno.h>
#include <string.h>

#include "groups.h"
#include "clock.h"
#include "directory.h"

#define GROUPS_TYPE G_VARIANT_TYPE("(qa{sv})")

void group_cfg_free(group_cfg *g)
{
    if (!g)
        return;
    g_free(g->localpart);
    g_free(g->name);
    g_free(g->description);
    g_free(g->subject);
    g_free(g->subject_nick);
    g_free(g->password);
    g_free(g->allow_pm);
    g_free(g);
}

static void group_cfg_free_ptr(gpointer g)
{
    group_cfg_free(g);
}

static gboolean valid_text(const char *s)
{
    return s == NULL || g_utf8_validate(s, -1, NULL);
}

static GVariant *groups_encode(const group_cfg *g)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "name",
                          g_variant_new_string(g->name ? g->name : ""));
    g_variant_builder_add(
        &b, "{sv}", "description",
        g_variant_new_string(g->description ? g->description : ""));
    g_variant_builder_add(&b, "{sv}", "public",
                          g_variant_new_boolean(g->is_public));
    g_variant_builder_add(&b, "{sv}", "persistent",
                          g_variant_new_boolean(g->persistent));
    g_variant_builder_add(&b, "{sv}", "created",
                          g_variant_new_int64(g->created));
    g_variant_builder_add(&b, "{sv}", "members_only",
                          g_variant_new_boolean(g->members_only));
    g_variant_builder_add(&b, "{sv}", "registration",
                          g_variant_new_boolean(g->registration));
    g_variant_builder_add(&b, "{sv}", "password",
                          g_variant_new_string(g->password ? g->password : ""));
    g_variant_builder_add(&b, "{sv}", "moderated",
                          g_variant_new_boolean(g->moderated));
    g_variant_builder_add(&b, "{sv}", "whois_anyone",
                          g_variant_new_boolean(g->whois_anyone));
    g_variant_builder_add(&b, "{sv}", "change_subject",
                          g_variant_new_boolean(g->change_subject));
    g_variant_builder_add(&b, "{sv}", "allow_pm",
                          g_variant_new_string(g->allow_pm && *g->allow_pm
                                                   ? g->allow_pm
                                                   : "anyone"));
    g_variant_builder_add(&b, "{sv}", "max_users",
                          g_variant_new_uint32(g->max_users));
    g_variant_builder_add(&b, "{sv}", "history_len",
                          g_variant_new_int32(g->history_len));
    g_variant_builder_add(&b, "{sv}", "keep_days",
                          g_variant_new_int32(g->keep_days));
    if (g->subject && *g->subject) {
        g_variant_builder_add(&b, "{sv}", "subject",
                              g_variant_new_string(g->subject));
        g_variant_builder_add(
            &b, "{sv}", "subject_nick",
            g_variant_new_string(g->subject_nick ? g->subject_nick : ""));
    }
    return g_variant_new("(qa{sv})", (guint16)GROUPS_RECORD_VERSION, &b);
}

static char *lookup_string(GVariant *dict, const char *key)
{
    GVariant *v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE_STRING);
    char *s;

    if (!v)
        return g_strdup("");
    s = g_variant_dup_string(v, NULL);
    g_variant_unref(v);
    return s;
}

static gboolean lookup_boolean(GVariant *dict, const char *key, gboolean dflt)
{
    GVariant *v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE_BOOLEAN);
    gboolean b;

    if (!v)
        return dflt;
    b = g_variant_get_boolean(v);
    g_variant_unref(v);
    return b;
}

static gint64 lookup_int64(GVariant *dict, const char *key, gint64 dflt)
{
    GVariant *v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE_INT64);
    gint64 x;

    if (!v)
        return dflt;
    x = g_variant_get_int64(v);
    g_variant_unref(v);
    return x;
}

/* Decodes a record (already checked to be a normal-form "(qa{sv})") into
 * owned memory. Keys of the wrong type count as missing. */
static int groups_decode(const void *key, size_t klen, GVariant *v,
                         group_cfg **out)
{
    GVariant *dict = NULL;
    group_cfg *g = NULL;
    guint16 version;
    int rc = MDB_CORRUPTED;

    *out = NULL;
    if (klen == 0 || memchr(key, '\0', klen))
        goto leave;
    g_variant_get(v, "(q@a{sv})", &version, &dict);
    if (version == 0 || version > GROUPS_RECORD_VERSION)
        goto leave;
    g = g_new0(group_cfg, 1);
    g->localpart = g_strndup(key, klen);
    g->name = lookup_string(dict, "name");
    g->description = lookup_string(dict, "description");
    g->is_public = lookup_boolean(dict, "public", FALSE);
    g->persistent = lookup_boolean(dict, "persistent", TRUE);
    g->created = lookup_int64(dict, "created", 0);
    g->subject = lookup_string(dict, "subject");
    g->subject_nick = lookup_string(dict, "subject_nick");
    g->members_only = lookup_boolean(dict, "members_only", FALSE);
    g->registration = lookup_boolean(dict, "registration", FALSE);
    g->password = lookup_string(dict, "password");
    g->moderated = lookup_boolean(dict, "moderated", FALSE);
    g->whois_anyone = lookup_boolean(dict, "whois_anyone", FALSE);
    g->change_subject = lookup_boolean(dict, "change_subject", FALSE);
    g->allow_pm = lookup_string(dict, "allow_pm");
    if (!*g->allow_pm) {
        g_free(g->allow_pm);
        g->allow_pm = g_strdup("anyone");
    }
    {
        GVariant *v =
            g_variant_lookup_value(dict, "max_users", G_VARIANT_TYPE_UINT32);
        g->max_users = v ? g_variant_get_uint32(v) : 0;
        if (v)
            g_variant_unref(v);
        v = g_variant_lookup_value(dict, "history_len", G_VARIANT_TYPE_INT32);
        g->history_len = v ? g_variant_get_int32(v) : 20;
        if (v)
            g_variant_unref(v);
        v = g_variant_lookup_value(dict, "keep_days", G_VARIANT_TYPE_INT32);
        g->keep_days = v ? g_variant_get_int32(v) : -1;
        if (v)
            g_variant_unref(v);
    }
    *out = g;
    rc = 0;
leave:
    if (dict)
        g_variant_unref(dict);
    return rc;
}

int groups_put(MDB_txn *txn, const store *s, const group_cfg *g)
{
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && g != NULL, -EINVAL);
    if (g->localpart && strlen(g->localpart) > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    if (!g->localpart || !*g->localpart || !valid_text(g->name) ||
        !valid_text(g->description) || !valid_text(g->subject) ||
        !valid_text(g->subject_nick) || !valid_text(g->password) ||
        !valid_text(g->allow_pm))
        return -EINVAL;
    rc = store_put_variant(txn, store_dbi(s, STORE_DB_GROUPS), g->localpart,
                           strlen(g->localpart), groups_encode(g));
    /* The service lists the public ones from their own database. */
    return rc ? rc : directory_set(txn, s, g->localpart, g->is_public);
}

int groups_ensure(MDB_txn *txn, const store *s, const char *localpart,
                  gboolean *created)
{
    MDB_val k, d;
    group_cfg g;
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && localpart != NULL,
                         -EINVAL);
    if (created)
        *created = FALSE;
    if (strlen(localpart) > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    if (!*localpart || !g_utf8_validate(localpart, -1, NULL))
        return -EINVAL;
    k.mv_size = strlen(localpart);
    k.mv_data = (void *)localpart;
    rc = store_rc(mdb_get(txn, store_dbi(s, STORE_DB_GROUPS), &k, &d));
    if (rc != MDB_NOTFOUND)
        return rc; /* 0: it exists, and is left as it is */
    g = (group_cfg){
        .localpart = (char *)localpart,
        .name = (char *)localpart,
        .description = "",
        .is_public = TRUE,
        .persistent = TRUE,
        .created = clock_real() / G_USEC_PER_SEC,
        .history_len = 20,
        .keep_days = -1,
    };
    rc = groups_put(txn, s, &g);
    if (rc == 0 && created)
        *created = TRUE;
    return rc;
}

int groups_get(MDB_txn *txn, const store *s, const char *localpart,
               group_cfg **out)
{
    GVariant *v = NULL;
    int rc;

    g_return_val_if_fail(
        txn != NULL && s != NULL && localpart != NULL && out != NULL, -EINVAL);
    *out = NULL;
    if (strlen(localpart) > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_get_variant(txn, store_dbi(s, STORE_DB_GROUPS), localpart,
                           strlen(localpart), GROUPS_TYPE, &v);
    if (rc != 0)
        return rc;
    rc = groups_decode(localpart, strlen(localpart), v, out);
    g_variant_unref(v);
    return rc;
}

static int list_groups(MDB_txn *txn, const store *s, gboolean public_only,
                       GPtrArray **out);

int groups_list_public(MDB_txn *txn, const store *s, GPtrArray **out)
{
    return list_groups(txn, s, TRUE, out);
}

int groups_list_all(MDB_txn *txn, const store *s, GPtrArray **out)
{
    return list_groups(txn, s, FALSE, out);
}

typedef struct list_args {
    gboolean public_only;
    GPtrArray *list;
} list_args;

static int list_one(const MDB_val *k, const MDB_val *d, void *userdata)
{
    list_args *la = userdata;
    GVariant *v = NULL;
    group_cfg *g = NULL;

    if (store_decode_variant(d, GROUPS_TYPE, &v) != 0)
        return 0;
    if (groups_decode(k->mv_data, k->mv_size, v, &g) == 0 &&
        (g->is_public || !la->public_only))
        g_ptr_array_add(la->list, g);
    else
        group_cfg_free(g);
    g_variant_unref(v);
    return 0;
}

static int list_groups(MDB_txn *txn, const store *s, gboolean public_only,
                       GPtrArray **out)
{
    list_args la = {public_only, NULL};
    int rc;

    g_return_val_if_fail(txn != NULL && s != NULL && out != NULL, -EINVAL);
    *out = NULL;
    la.list = g_ptr_array_new_with_free_func(group_cfg_free_ptr);
    rc = store_walk(txn, store_dbi(s, STORE_DB_GROUPS), NULL, 0, list_one, &la);
    if (rc < 0) {
        g_ptr_array_unref(la.list);
        return rc;
    }
    *out = la.list;
    return 0;
}

group_cfg *group_cfg_copy(const group_cfg *g)
{
    group_cfg *c = g_new(group_cfg, 1);

    *c = *g;
    c->localpart = g_strdup(g->localpart);
    c->name = g_strdup(g->name);
    c->description = g_strdup(g->description);
    c->subject = g_strdup(g->subject);
    c->subject_nick = g_strdup(g->subject_nick);
    c->password = g_strdup(g->password);
    c->allow_pm = g_strdup(g->allow_pm);
    return c;
}

int groups_delete(MDB_txn *txn, const store *s, const char *localpart)
{
    MDB_val k = {strlen(localpart), (void *)localpart};

    int rc;

    if (k.mv_size > STORE_GROUP_MAX)
        return STORE_KEY_TOO_LONG;
    rc = store_rc(mdb_del(txn, store_dbi(s, STORE_DB_GROUPS), &k, NULL));
    return rc ? rc : directory_set(txn, s, localpart, FALSE);
}
