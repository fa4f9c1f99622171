/* dump: every database of the store printed for people, decoded through
 * the schema's types, the secrets masked (dump.h). */
#include "dump.h"

#include <errno.h>
#include <string.h>

#include <lmdb.h>

#include "backup.h"
#include "store.h"

/* The value type of a record, by its key; "" for an empty value (the
 * indexes), NULL when unknown (printed in hex). */
typedef const char *(*dump_type_fn)(const MDB_val *key);
/* Replaces what must not be shown in a decoded record of that key. */
typedef GVariant *(*dump_mask_fn)(const MDB_val *key, GVariant *v);

typedef struct dump_db {
    guint be64_after;    /* key parts before a be64 number (0: none) */
    const char *type;    /* the value type of every record, or */
    dump_type_fn by_key; /* the type told by the key */
    dump_mask_fn mask;   /* NULL: nothing masked */
} dump_db;

#define MASKED "***"

static gboolean key_is(const MDB_val *key, const char *s, size_t n)
{
    return key->mv_size == n && memcmp(key->mv_data, s, n) == 0;
}

/* The occupant-id salt (muc.c): whoever holds it can tell which JID is
 * behind an occupant id (XEP-0421), so it is a secret like a password. */
#define SALT_KEY "occupant_id_salt"

static const char *meta_type(const MDB_val *key)
{
    if (key_is(key, "schema_version", 14))
        return "(qu)";
    if (key_is(key, SALT_KEY, strlen(SALT_KEY)))
        return "(qay)";
    return key_is(key, "created", 7) ? "(qx)" : NULL;
}

/* group \0 seq: a message; group \0 alone: the high-water mark. */
static const char *archive_type(const MDB_val *key)
{
    const char *k = key->mv_data;

    return key->mv_size && k[key->mv_size - 1] == '\0' ? "(qt)"
                                                       : "(qsxsmsa{sv})";
}

/* schema/outbox.md "Keys": \0 the id mark, \0 s the last slot, the rest
 * cursors and entries. */
static const char *outbox_type(const MDB_val *key)
{
    if (key_is(key, "", 1))
        return "(qt)";
    return key_is(key, "\0s", 2) ? "(qu)" : "(qa{sv})";
}

/* The record version, then MASKED for the rest. */
static GVariant *masked(GVariant *v)
{
    guint16 version;

    g_variant_get_child(v, 0, "q", &version);
    g_variant_unref(v);
    return g_variant_new("(qs)", version, MASKED);
}

/* The account password: (q s). */
static GVariant *mask_secret(const MDB_val *key, GVariant *v)
{
    (void)key;
    return masked(v);
}

static GVariant *mask_meta(const MDB_val *key, GVariant *v)
{
    return key_is(key, SALT_KEY, strlen(SALT_KEY)) ? masked(v) : v;
}

/* A room password, in the group's dictionary (schema/groups.md). */
static GVariant *mask_group(const MDB_val *key, GVariant *v)
{
    GVariant *out;
    GVariantBuilder b;
    GVariantIter it;
    GVariant *dict, *val;
    const char *k;
    guint16 version;

    g_variant_get_child(v, 0, "q", &version);
    dict = g_variant_get_child_value(v, 1);
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_iter_init(&it, dict);
    while (g_variant_iter_next(&it, "{&sv}", &k, &val)) {
        if (!strcmp(k, "password") &&
            g_variant_is_of_type(val, G_VARIANT_TYPE_STRING) &&
            *g_variant_get_string(val, NULL))
            g_variant_builder_add(&b, "{sv}", k, g_variant_new_string(MASKED));
        else
            g_variant_builder_add(&b, "{sv}", k, val);
        g_variant_unref(val);
    }
    g_variant_unref(dict);
    g_variant_unref(v);
    out = g_variant_new("(qa{sv})", version, &b);
    (void)key;
    return out;
}

/* How each database reads (schema/README.md gives the types). The dump
 * walks every database of store.h: one missing here is shown in hex. */
static const dump_db dump_dbs[STORE_DB_COUNT] = {
    [STORE_DB_META] = {0, NULL, meta_type, mask_meta},
    [STORE_DB_GROUPS] = {0, "(qa{sv})", NULL, mask_group},
    [STORE_DB_AFFILIATIONS] = {0, "(qsa{sv})", NULL, NULL},
    [STORE_DB_MEMBERS] = {0, "(qa{sv})", NULL, NULL},
    [STORE_DB_ACCOUNTS] = {0, "(qa{sv})", NULL, NULL},
    [STORE_DB_ARCHIVE] = {1, NULL, archive_type, NULL},
    [STORE_DB_OUTBOX] = {2, NULL, outbox_type, NULL},
    [STORE_DB_NICKS] = {0, "(qssa{sv})", NULL, NULL},
    [STORE_DB_MEMBER_INDEX] = {0, "", NULL, NULL},
    [STORE_DB_SECRETS] = {0, "(qs)", NULL, mask_secret},
    [STORE_DB_ARCHIVE_GAPS] = {1, "(qt)", NULL, NULL},
    [STORE_DB_OWNED] = {0, "", NULL, NULL},
    [STORE_DB_DIRECTORY] = {0, "", NULL, NULL},
    [STORE_DB_AVATARS] = {0, "(qa{sv})", NULL, NULL},
    [STORE_DB_NOTICED] = {0, "(qx)", NULL, NULL},
    [STORE_DB_PHOTOS] = {0, "(qa{sv})", NULL, NULL},
};

static void append_hex(GString *s, const void *p, size_t n)
{
    const guchar *b = p;

    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", b[i]);
}

/* One key part: GVariant string text, or x'hex' when not UTF-8. */
static void append_part(GString *s, const char *p, size_t n)
{
    if (g_utf8_validate(p, (gssize)n, NULL)) {
        GVariant *v =
            g_variant_ref_sink(g_variant_new_take_string(g_strndup(p, n)));
        g_variant_print_string(v, s, FALSE);
        g_variant_unref(v);
        return;
    }
    g_string_append(s, "x'");
    append_hex(s, p, n);
    g_string_append_c(s, '\'');
}

/* The key as a tuple of its parts (split at \0); after be64_after parts,
 * 8 remaining bytes are a number (schema/README.md "Keys"). */
static void append_key(GString *s, const MDB_val *key, guint be64_after)
{
    const char *p = key->mv_data, *end = p + key->mv_size;
    guint parts = 0;

    g_string_append_c(s, '(');
    for (;;) {
        const char *nul;

        if (parts)
            g_string_append(s, ", ");
        if (be64_after && parts == be64_after && end - p == 8) {
            g_string_append_printf(s, "#%" G_GUINT64_FORMAT, store_get_be64(p));
            break;
        }
        nul = memchr(p, '\0', (size_t)(end - p));
        append_part(s, p, (size_t)((nul ? nul : end) - p));
        parts++;
        if (!nul)
            break;
        p = nul + 1;
    }
    g_string_append_c(s, ')');
}

static void append_value(GString *s, const dump_db *d, const MDB_val *key,
                         const MDB_val *val)
{
    const char *type = d->by_key ? d->by_key(key) : d->type;
    GVariant *v = NULL;

    if (type && !*type && val->mv_size == 0) {
        g_string_append(s, "empty");
        return;
    }
    if (!type || !*type ||
        store_decode_variant(val, G_VARIANT_TYPE(type), &v) != 0) {
        g_string_append(s, "hex:");
        append_hex(s, val->mv_data, val->mv_size);
        return;
    }
    if (d->mask) /* takes v, gives a new value (or v itself) */
        v = g_variant_take_ref(d->mask(key, v));
    g_variant_print_string(v, s, FALSE);
    g_variant_unref(v);
}

typedef struct dump_walk {
    const dump_db *d;
    FILE *out;
    GString *line;
} dump_walk;

static int dump_record(const MDB_val *key, const MDB_val *val, void *userdata)
{
    dump_walk *w = userdata;

    g_string_truncate(w->line, 0);
    append_key(w->line, key, w->d->be64_after);
    g_string_append(w->line, " = ");
    append_value(w->line, w->d, key, val);
    g_string_append_c(w->line, '\n');
    return fwrite(w->line->str, 1, w->line->len, w->out) == w->line->len ? 0
                                                                         : -EIO;
}

static int dump_one(MDB_txn *txn, enum store_db db, FILE *out)
{
    const dump_db *d = &dump_dbs[db];
    const char *name = store_db_name(db);
    dump_walk w = {.d = d, .out = out};
    MDB_dbi dbi;
    MDB_stat st;
    int rc = mdb_dbi_open(txn, name, 0, &dbi);

    if (rc == MDB_NOTFOUND) { /* a store of an older schema */
        fprintf(out, "[%s] absent\n", name);
        return 0;
    }
    if (rc == 0)
        rc = mdb_stat(txn, dbi, &st);
    if (rc != 0)
        return store_rc(rc);
    fprintf(out, "[%s] %zu records\n", name, (size_t)st.ms_entries);
    w.line = g_string_new(NULL);
    rc = store_walk(txn, dbi, NULL, 0, dump_record, &w);
    g_string_free(w.line, TRUE);
    return rc;
}

/* An LMDB code or an errno value negated, in words. */
static const char *why(int rc)
{
    return rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE ? mdb_strerror(rc)
                                                        : g_strerror(-rc);
}

int dump_store(const char *store_path, size_t map_size, FILE *out, GError **err)
{
    backup_snapshot snap;
    int rc = backup_snapshot_open(store_path, map_size, FALSE, &snap, err);

    if (rc != 0)
        return rc;
    fprintf(out, "# imgroups store %s: schema version %u\n", store_path,
            snap.schema);
    for (int db = 0; db < STORE_DB_COUNT && rc == 0; db++)
        rc = dump_one(snap.txn, db, out);
    if (rc == 0 && fflush(out) != 0)
        rc = -errno;
    if (rc != 0)
        g_set_error(err, BACKUP_ERROR, 0, "store %s: dump failed: %s",
                    store_path, why(rc));
    backup_snapshot_close(&snap);
    return rc;
}
