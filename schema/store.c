/* store: the LMDB environment, its named databases, the meta records
 * (schema version, migrations), the map set once, GVariant values and the
 * cursor walker. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#include "affiliations.h"
#include "archive.h"
#include "directory.h"
#include "outbox.h"

GQuark store_error_quark(void)
{
    return g_quark_from_static_string("imgroups-store-error-quark");
}

/* Room for databases later schema versions add, so that a migration can
 * create them without reopening the environment. */
#define STORE_SPARE_DBS 8

/* Meta keys (schema/meta.md). The value type of "schema_version" is frozen:
 * every build, past and future, can read it. */
#define META_SCHEMA_KEY   "schema_version"
#define META_SCHEMA_TYPE  "(qu)"
#define META_CREATED_KEY  "created"
#define META_CREATED_TYPE "(qx)"

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_DB_COUNT];
    char *path;
    size_t map_size; /* set once at open (store_open) */
    unsigned schema_version;
    unsigned readers;  /* read snapshots open in this process */
    gboolean writing;  /* inside store_write */
    gboolean batching; /* between store_batch_begin and store_batch_end */
    MDB_txn *batch;    /* the batch's open write transaction, or NULL */
    gboolean broken;   /* the map was lost; only store_close is safe */
};

static const char *const db_names[STORE_DB_COUNT] = {
    [STORE_DB_META] = "meta",
    [STORE_DB_GROUPS] = "groups",
    [STORE_DB_AFFILIATIONS] = "affiliations",
    [STORE_DB_MEMBERS] = "members",
    [STORE_DB_ACCOUNTS] = "accounts",
    [STORE_DB_ARCHIVE] = "archive",
    [STORE_DB_OUTBOX] = "outbox",
    [STORE_DB_NICKS] = "nicks",
    [STORE_DB_MEMBER_INDEX] = "member_index",
    [STORE_DB_SECRETS] = "secrets",
    [STORE_DB_ARCHIVE_GAPS] = "archive_gaps",
    [STORE_DB_OWNED] = "owned",
    [STORE_DB_DIRECTORY] = "directory",
    [STORE_DB_AVATARS] = "avatars",
    [STORE_DB_NOTICED] = "noticed",
    [STORE_DB_PHOTOS] = "photos",
};

/* Every key layout fits LMDB's limit with each part at its bound
 * (store.h). */
G_STATIC_ASSERT(STORE_GROUP_MAX <= STORE_KEY_MAX);
G_STATIC_ASSERT(STORE_ACCOUNT_MAX <= STORE_KEY_MAX); /* accounts */
G_STATIC_ASSERT(STORE_GROUP_MAX + 1 + STORE_JID_MAX <= STORE_KEY_MAX);
G_STATIC_ASSERT(STORE_GROUP_MAX + 1 + 8 <= STORE_KEY_MAX); /* archive */
G_STATIC_ASSERT(STORE_ACCOUNT_MAX + 1 + STORE_HANDLE_MAX <= STORE_KEY_MAX);
G_STATIC_ASSERT(STORE_GROUP_MAX + STORE_ACCOUNT_MAX + STORE_HANDLE_MAX + 2 <=
                STORE_KEY_MAX); /* index */
G_STATIC_ASSERT(STORE_ACCOUNT_MAX + STORE_HANDLE_MAX + 3 + 8 <=
                STORE_KEY_MAX); /* outbox */
G_STATIC_ASSERT(STORE_GROUP_MAX + 1 + STORE_NICK_MAX <= STORE_KEY_MAX);

int store_key_part_check(const char *s, size_t max)
{
    return s && strlen(s) > max ? STORE_KEY_TOO_LONG : 0;
}

/* Migrations: migrations[v] turns a store at schema version v into one at
 * v + 1, inside the open transaction. Schema version 1 is the first. */
typedef int (*store_migration_fn)(MDB_txn *txn, store *s);

/* 1 -> 2: the archive's gap index (schema/archive.md, "Counting"), built
 * from the messages and high-water marks already there. */
static int migrate_archive_gaps(MDB_txn *txn, store *s)
{
    return archive_gaps_rebuild(txn, s);
}

static const store_migration_fn migrations[STORE_SCHEMA_VERSION] = {
    [1] = migrate_archive_gaps,
    /* 2 -> 3: room messages go by reference (schema/outbox.md) */
    [2] = outbox_migrate_cursors,
    /* 3 -> 4: the groups each JID owns (schema/affiliations.md, "owned") */
    [3] = affiliations_owned_rebuild,
    /* 4 -> 5: the public groups' list (schema/directory.md) */
    [4] = directory_rebuild,
};

/* LMDB's codes are negative, but a call can also fail with an errno value,
 * which is positive: every store function returns it negated. */
void store_put_be64(void *p, guint64 x)
{
    guint64 be = GUINT64_TO_BE(x);

    memcpy(p, &be, sizeof(be));
}

guint64 store_get_be64(const void *p)
{
    guint64 be;

    memcpy(&be, p, sizeof(be));
    return GUINT64_FROM_BE(be);
}

int store_rc(int rc)
{
    return rc > 0 ? -rc : rc;
}

/* The text of an LMDB code or an errno value. */
static const char *rc_text(int rc)
{
    return rc > 0 ? g_strerror(rc) : mdb_strerror(rc);
}

static void refresh_map_size(store *s)
{
    MDB_envinfo info;

    if (mdb_env_info(s->env, &info) == 0)
        s->map_size = info.me_mapsize;
}

static gboolean store_usable(const store *s, GError **err)
{
    if (!s->broken)
        return TRUE;
    g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                "store %s: unusable after a failed map resize; restart "
                "imgroups",
                s->path);
    return FALSE;
}

/* Another process set a larger map: adopt its size (no transaction
 * open). */
static int adopt_map_size(store *s, GError **err)
{
    int rc;

    if (s->readers > 0) {
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                    "store %s: another process resized the map while a read "
                    "snapshot is open",
                    s->path);
        return -1;
    }
    rc = mdb_env_set_mapsize(s->env, 0);
    if (rc != 0) {
        s->broken = TRUE;
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                    "store %s: cannot adopt the resized map: %s", s->path,
                    rc_text(rc));
        return -1;
    }
    refresh_map_size(s);
    return 0;
}

static void set_abort_error(const store *s, int rc, GError **err)
{
    if (rc == STORE_KEY_TOO_LONG)
        g_set_error(err, STORE_ERROR, STORE_ERROR_ABORTED,
                    "store %s: transaction abandoned: a key part is longer "
                    "than its bound",
                    s->path);
    else if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE)
        g_set_error(err, STORE_ERROR, STORE_ERROR_ABORTED,
                    "store %s: transaction abandoned: %s", s->path,
                    mdb_strerror(rc));
    else if (rc > 0)
        g_set_error(err, STORE_ERROR, STORE_ERROR_ABORTED,
                    "store %s: transaction abandoned: %s", s->path,
                    g_strerror(rc));
    else
        g_set_error(err, STORE_ERROR, STORE_ERROR_ABORTED,
                    "store %s: transaction abandoned (code %d)", s->path, rc);
}

/* Begins a top-level write transaction, adopting a map another process
 * resized. Returns 0, or negative with *err set. */
static int begin_write(store *s, MDB_txn **txn, GError **err)
{
    int resized = 0;
    int rc;

    for (;;) {
        rc = mdb_txn_begin(s->env, NULL, 0, txn);
        if (rc == MDB_MAP_RESIZED && resized++ < 3) {
            *txn = NULL;
            if (adopt_map_size(s, err) < 0)
                return -1;
            continue;
        }
        if (rc != 0) {
            *txn = NULL;
            g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                        "store %s: cannot begin a write transaction: %s",
                        s->path, rc_text(rc));
            return store_rc(rc);
        }
        return 0;
    }
}

/* MDB_MAP_FULL: the store reached [storage] map_size. It is handled as a
 * full disk (nothing of the transaction is written, the caller withdraws
 * its replies), with its own clear error. */
static void set_full_error(const store *s, GError **err)
{
    g_set_error(err, STORE_ERROR, STORE_ERROR_FULL,
                "store %s: the store reached its map size of %zu MiB "
                "([storage] map_size); nothing of this transaction was "
                "written",
                s->path, s->map_size >> 20);
}

/* One write transaction: fn, then the commit. */
static int write_txn(store *s, store_write_fn fn, void *userdata, GError **err)
{
    MDB_txn *txn = NULL;
    int rc;

    rc = begin_write(s, &txn, err);
    if (rc != 0)
        return rc;
    rc = fn(txn, s, userdata);
    if (rc != 0) {
        mdb_txn_abort(txn);
        if (rc == MDB_MAP_FULL)
            set_full_error(s, err);
        else
            set_abort_error(s, rc, err);
        return store_rc(rc);
    }
    /* mdb_txn_commit frees txn whether it succeeds or not. */
    rc = mdb_txn_commit(txn);
    if (rc == MDB_MAP_FULL)
        set_full_error(s, err);
    else if (rc != 0)
        g_set_error(err, STORE_ERROR, STORE_ERROR_IO,
                    "store %s: commit failed: %s", s->path, rc_text(rc));
    return store_rc(rc);
}

/* Begins the batch's outer write transaction if it is not open yet. */
static int batch_open(store *s, GError **err)
{
    if (s->batch)
        return 0;
    return begin_write(s, &s->batch, err) == 0 ? 0 : -1;
}

/* Commits the batch's outer transaction (synced), if one is open. */
static int batch_commit(store *s, GError **err)
{
    int rc;

    if (!s->batch)
        return 0;
    rc = mdb_txn_commit(s->batch);
    s->batch = NULL;
    if (rc == MDB_MAP_FULL)
        set_full_error(s, err);
    else if (rc != 0)
        g_set_error(err, STORE_ERROR, STORE_ERROR_IO,
                    "store %s: commit of a batch failed: %s", s->path,
                    rc_text(rc));
    return store_rc(rc);
}

/* One event inside the batch: a nested transaction, so that an event that
 * fails (the map full included) leaves the others of its batch intact. */
static int batch_write(store *s, store_write_fn fn, void *userdata,
                       GError **err)
{
    MDB_txn *child = NULL;
    int rc;

    if (batch_open(s, err) < 0)
        return -1;
    rc = mdb_txn_begin(s->env, s->batch, 0, &child);
    if (rc != 0) {
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                    "store %s: cannot begin a nested transaction: %s", s->path,
                    rc_text(rc));
        return store_rc(rc);
    }
    rc = fn(child, s, userdata);
    if (rc == 0)
        rc = mdb_txn_commit(child); /* into the batch */
    else
        mdb_txn_abort(child);
    if (rc == MDB_MAP_FULL)
        set_full_error(s, err);
    else if (rc != 0)
        set_abort_error(s, rc, err);
    return store_rc(rc);
}

void store_batch_begin(store *s)
{
    s->batching = TRUE;
}

int store_batch_end(store *s, GError **err)
{
    s->batching = FALSE;
    return batch_commit(s, err);
}

int store_write(store *s, store_write_fn fn, void *userdata, GError **err)
{
    int rc;

    g_return_val_if_fail(s != NULL && fn != NULL, -EINVAL);
    if (!store_usable(s, err))
        return -1;
    /* LMDB's writer lock is not recursive: a nested call would hang. */
    if (s->writing) {
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                    "store %s: store_write called from inside store_write",
                    s->path);
        return -EDEADLK;
    }
    s->writing = TRUE;
    rc = s->batching ? batch_write(s, fn, userdata, err)
                     : write_txn(s, fn, userdata, err);
    s->writing = FALSE;
    return rc;
}

int store_read_begin(store *s, MDB_txn **txn, GError **err)
{
    int resized = 0;
    int rc;

    g_return_val_if_fail(s != NULL && txn != NULL, -EINVAL);
    *txn = NULL;
    if (!store_usable(s, err))
        return -1;
    if (s->batch) {
        /* Inside a batch, reads see what the batch has written: they use
         * its transaction (store_read_end leaves it open). */
        *txn = s->batch;
        return 0;
    }
    for (;;) {
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
        if (rc == MDB_MAP_RESIZED && resized++ < 3) {
            if (adopt_map_size(s, err) < 0)
                return -1;
            continue;
        }
        break;
    }
    if (rc != 0) {
        *txn = NULL;
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                    "store %s: cannot begin a read transaction: %s", s->path,
                    rc_text(rc));
        return store_rc(rc);
    }
    s->readers++;
    return 0;
}

void store_read_end(MDB_txn *txn)
{
    store *s;

    if (!txn)
        return;
    s = mdb_env_get_userctx(mdb_txn_env(txn));
    if (s && txn == s->batch)
        return;
    mdb_txn_abort(txn);
    if (s && s->readers > 0)
        s->readers--;
}

int store_walk(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t len,
               store_walk_fn fn, void *userdata)
{
    unsigned char last[STORE_KEY_MAX];
    size_t last_len = len;
    gboolean first = TRUE;
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    int rc, stop = 0;

    if (len > sizeof(last))
        return -EINVAL;
    if (len)
        memcpy(last, prefix, len);
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return store_rc(rc);
    for (;;) {
        /* From the first key at or after the prefix, then from the first
         * key after the last one given to fn: a put or delete by fn may
         * have moved any cursor. */
        k = (MDB_val){.mv_size = last_len, .mv_data = last};
        rc = mdb_cursor_get(cur, &k, &d, last_len ? MDB_SET_RANGE : MDB_FIRST);
        if (rc == 0 && !first && k.mv_size == last_len &&
            !memcmp(k.mv_data, last, last_len))
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
        if (rc != 0 || k.mv_size < len ||
            (len && memcmp(k.mv_data, prefix, len)))
            break;
        if (k.mv_size > sizeof(last)) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(last, k.mv_data, k.mv_size);
        last_len = k.mv_size;
        first = FALSE;
        if ((stop = fn(&k, &d, userdata)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (stop)
        return stop > 0 ? 0 : stop;
    return rc == MDB_NOTFOUND ? 0 : store_rc(rc);
}

void store_key_part(const MDB_val *key, gboolean last, MDB_val *part)
{
    const unsigned char *k = key->mv_data;
    const unsigned char *nul = NULL;

    for (size_t i = 0; i < key->mv_size && (last || !nul); i++)
        if (!k[i])
            nul = k + i;

    if (!nul)
        *part = *key;
    else if (last)
        *part = (MDB_val){.mv_size = key->mv_size - (size_t)(nul + 1 - k),
                          .mv_data = (void *)(nul + 1)};
    else
        *part = (MDB_val){.mv_size = (size_t)(nul - k), .mv_data = (void *)k};
}

int store_put_variant(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                      GVariant *v)
{
    GVariant *normal;
    MDB_val k = {.mv_size = klen, .mv_data = (void *)key};
    MDB_val d;
    int rc;

    g_return_val_if_fail(txn != NULL && v != NULL, -EINVAL);
    g_variant_ref_sink(v);
    normal = g_variant_get_normal_form(v);
    d.mv_size = g_variant_get_size(normal);
    d.mv_data = (void *)g_variant_get_data(normal);
    rc = mdb_put(txn, dbi, &k, &d, 0);
    g_variant_unref(normal);
    g_variant_unref(v);
    return store_rc(rc);
}

int store_decode_variant(const MDB_val *val, const GVariantType *t,
                         GVariant **out)
{
    GBytes *bytes;
    GVariant *v;

    g_return_val_if_fail(val != NULL && t != NULL && out != NULL, -EINVAL);
    g_return_val_if_fail(g_variant_type_is_definite(t), -EINVAL);
    *out = NULL;
    /* A copy: it outlives the transaction, and malloc aligns it as GVariant
     * needs for fixed-size types (a value in the map need not be). */
    bytes = g_bytes_new(val->mv_data, val->mv_size);
    v = g_variant_ref_sink(g_variant_new_from_bytes(t, bytes, FALSE));
    g_bytes_unref(bytes);
    if (!g_variant_is_normal_form(v)) {
        g_variant_unref(v);
        return MDB_CORRUPTED;
    }
    *out = v;
    return 0;
}

int store_get_variant(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                      const GVariantType *t, GVariant **out)
{
    MDB_val k = {.mv_size = klen, .mv_data = (void *)key};
    MDB_val d;
    int rc;

    g_return_val_if_fail(txn != NULL && out != NULL, -EINVAL);
    *out = NULL;
    rc = mdb_get(txn, dbi, &k, &d);
    if (rc != 0)
        return store_rc(rc);
    return store_decode_variant(&d, t, out);
}

MDB_dbi store_dbi(const store *s, enum store_db db)
{
    g_return_val_if_fail(s != NULL && db < STORE_DB_COUNT, 0);
    return s->dbi[db];
}

const char *store_db_name(enum store_db db)
{
    g_return_val_if_fail(db < STORE_DB_COUNT, NULL);
    return db_names[db];
}

unsigned store_schema_version(const store *s)
{
    return s->schema_version;
}

size_t store_map_size(const store *s)
{
    return s->map_size;
}

int store_set_meta_sync(store *s, gboolean on)
{
    g_return_val_if_fail(s != NULL, -EINVAL);
    return store_rc(mdb_env_set_flags(s->env, MDB_NOMETASYNC, !on));
}

gboolean store_meta_sync(const store *s)
{
    unsigned flags = 0;

    g_return_val_if_fail(s != NULL, TRUE);
    mdb_env_get_flags(s->env, &flags);
    return !(flags & MDB_NOMETASYNC);
}

/* The open transaction: what it found goes here, since store_write only
 * knows that the callback gave up. */
typedef struct store_init {
    store *s;
    GError *err;
} store_init;

/* Distinct from every LMDB code and errno value. */
#define INIT_REFUSED (-1)

static int init_refuse(store_init *in, enum store_error code, const char *fmt,
                       ...) G_GNUC_PRINTF(3, 4);

static int init_refuse(store_init *in, enum store_error code, const char *fmt,
                       ...)
{
    va_list ap;
    char *why;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_clear_error(&in->err);
    g_set_error(&in->err, STORE_ERROR, code, "store %s: %s", in->s->path, why);
    g_free(why);
    return INIT_REFUSED;
}

static int put_meta(MDB_txn *txn, const store *s, const char *key, GVariant *v)
{
    return store_put_variant(txn, s->dbi[STORE_DB_META], key, strlen(key), v);
}

/* Reads the recorded schema version from an existing meta database. */
static int read_schema_version(MDB_txn *txn, store_init *in, unsigned *out)
{
    GVariant *v = NULL;
    guint16 record;
    guint32 version;
    int rc;

    rc = store_get_variant(txn, in->s->dbi[STORE_DB_META], META_SCHEMA_KEY,
                           strlen(META_SCHEMA_KEY),
                           G_VARIANT_TYPE(META_SCHEMA_TYPE), &v);
    if (rc == MDB_NOTFOUND)
        return init_refuse(in, STORE_ERROR_CORRUPTED,
                           "the meta database records no schema version");
    if (rc == MDB_CORRUPTED)
        return init_refuse(in, STORE_ERROR_CORRUPTED,
                           "the recorded schema version cannot be decoded");
    if (rc != 0)
        return rc;
    /* The record version does not matter here: this record's type is
     * frozen, so any version of it is read the same way. */
    g_variant_get(v, META_SCHEMA_TYPE, &record, &version);
    g_variant_unref(v);
    if (version == 0)
        return init_refuse(in, STORE_ERROR_CORRUPTED,
                           "the recorded schema version is 0");
    *out = version;
    return 0;
}

static int create_databases(MDB_txn *txn, store *s)
{
    int rc;

    for (int i = 0; i < STORE_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A new environment: the main database must be empty (anything else is
 * some other program's LMDB environment, not to be written into). */
static int init_new(MDB_txn *txn, store_init *in)
{
    store *s = in->s;
    MDB_dbi main_dbi;
    MDB_stat st;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    int rc;

    rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
    if (rc == 0)
        rc = mdb_stat(txn, main_dbi, &st);
    if (rc != 0)
        return rc;
    if (st.ms_entries > 0)
        return init_refuse(in, STORE_ERROR_NOT_STORE,
                           "holds an LMDB environment that is not an "
                           "imgroups store");
    rc = create_databases(txn, s);
    if (rc == 0)
        rc = put_meta(txn, s, META_SCHEMA_KEY,
                      g_variant_new(META_SCHEMA_TYPE,
                                    (guint16)STORE_META_RECORD_VERSION,
                                    (guint32)STORE_SCHEMA_VERSION));
    if (rc == 0)
        rc = put_meta(txn, s, META_CREATED_KEY,
                      g_variant_new(META_CREATED_TYPE,
                                    (guint16)STORE_META_RECORD_VERSION, now));
    if (rc == 0)
        s->schema_version = STORE_SCHEMA_VERSION;
    return rc;
}

/* An existing store: refuse a newer schema, migrate an older one. */
static int init_existing(MDB_txn *txn, store_init *in)
{
    store *s = in->s;
    unsigned version = 0;
    int rc;

    rc = read_schema_version(txn, in, &version);
    if (rc != 0)
        return rc;
    if (version > STORE_SCHEMA_VERSION)
        return init_refuse(in, STORE_ERROR_NEWER_SCHEMA,
                           "schema version %u is newer than this imgroups "
                           "understands (%u); upgrade imgroups or use another "
                           "[storage] path",
                           version, STORE_SCHEMA_VERSION);
    rc = create_databases(txn, s);
    if (rc != 0)
        return rc;
    for (unsigned v = version; v < STORE_SCHEMA_VERSION; v++) {
        if (!migrations[v])
            return init_refuse(in, STORE_ERROR_CORRUPTED,
                               "no migration from schema version %u", v);
        rc = migrations[v](txn, s);
        if (rc != 0)
            return rc;
    }
    if (version != STORE_SCHEMA_VERSION) {
        rc = put_meta(txn, s, META_SCHEMA_KEY,
                      g_variant_new(META_SCHEMA_TYPE,
                                    (guint16)STORE_META_RECORD_VERSION,
                                    (guint32)STORE_SCHEMA_VERSION));
        if (rc != 0)
            return rc;
    }
    s->schema_version = STORE_SCHEMA_VERSION;
    return 0;
}

static int init_txn(MDB_txn *txn, const store *unused, void *userdata)
{
    store_init *in = userdata;
    MDB_dbi meta;
    int rc;

    rc = mdb_dbi_open(txn, db_names[STORE_DB_META], 0, &meta);
    if (rc == MDB_NOTFOUND)
        return init_new(txn, in);
    if (rc == MDB_INCOMPATIBLE)
        return init_refuse(in, STORE_ERROR_NOT_STORE,
                           "holds an LMDB environment that is not an "
                           "imgroups store");
    if (rc != 0)
        return rc;
    in->s->dbi[STORE_DB_META] = meta;
    return init_existing(txn, in);
}

/* The directory: made with its parents, or checked and tightened. */
static int prepare_directory(const char *path, GError **err)
{
    struct stat st;

    if (g_mkdir_with_parents(path, 0700) != 0) {
        int e = errno;
        if (e == ENOTDIR || e == EEXIST)
            g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_DIRECTORY,
                        "store %s: not a directory", path);
        else
            g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_WRITABLE,
                        "store %s: cannot create the directory: %s", path,
                        g_strerror(e));
        return -1;
    }
    if (stat(path, &st) != 0) {
        int e = errno;
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED, "store %s: %s", path,
                    g_strerror(e));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_DIRECTORY,
                    "store %s: not a directory", path);
        return -1;
    }
    /* The store holds who is in which group: nobody else may look. */
    if ((st.st_mode & 077) != 0 && chmod(path, 0700) != 0) {
        int e = errno;
        g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_WRITABLE,
                    "store %s: cannot restrict the directory to mode 0700: %s",
                    path, g_strerror(e));
        return -1;
    }
    if (access(path, W_OK | X_OK) != 0) {
        int e = errno;
        g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_WRITABLE,
                    "store %s: the directory is not writable: %s", path,
                    g_strerror(e));
        return -1;
    }
    return 0;
}

static void set_open_error(const char *path, int rc, GError **err)
{
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
        g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_STORE,
                    "store %s: data.mdb or lock.mdb is not an LMDB "
                    "environment this imgroups can open: %s",
                    path, mdb_strerror(rc));
    else if (rc == EACCES || rc == EROFS || rc == EPERM)
        g_set_error(err, STORE_ERROR, STORE_ERROR_NOT_WRITABLE,
                    "store %s: cannot open the environment for writing: %s",
                    path, g_strerror(rc));
    else
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                    "store %s: cannot open the environment: %s", path,
                    rc_text(rc));
}

int store_open(const char *path, size_t map_size, store **out, GError **err)
{
    store *s = NULL;
    store_init in = {0};
    int dead;
    int rc;

    g_return_val_if_fail(path != NULL && out != NULL, -EINVAL);
    *out = NULL;
    if (prepare_directory(path, err) < 0)
        return -1;
    s = g_new0(store, 1);
    s->path = g_strdup(path);
    rc = mdb_env_create(&s->env);
    if (rc != 0) {
        s->env = NULL;
        set_open_error(path, rc, err);
        goto leave;
    }
    rc = mdb_env_set_maxdbs(s->env, STORE_DB_COUNT + STORE_SPARE_DBS);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env,
                                 map_size ? map_size : STORE_MAP_DEFAULT);
    if (rc == 0)
        rc = mdb_env_set_userctx(s->env, s);
    if (rc == 0)
        rc = mdb_env_open(s->env, path, 0, 0600);
    if (rc != 0) {
        set_open_error(path, rc, err);
        goto leave;
    }
    /* The key bounds of store.h assume LMDB's default limit. */
    if (mdb_env_get_maxkeysize(s->env) < STORE_KEY_MAX) {
        g_set_error(err, STORE_ERROR, STORE_ERROR_FAILED,
                    "store %s: this LMDB limits keys to %d bytes; imgroups "
                    "needs %d",
                    path, mdb_env_get_maxkeysize(s->env), STORE_KEY_MAX);
        rc = -1;
        goto leave;
    }
    /* LMDB keeps a map at least as big as the data already there. The map
     * is address space only: LMDB writes pages with pwrite and the file
     * grows with the data, not with the map. */
    refresh_map_size(s);
    /* Reader slots left by a crashed process would pin old pages. */
    mdb_reader_check(s->env, &dead);
    in.s = s;
    rc = store_write(s, init_txn, &in, err);
    if (rc != 0 && in.err) {
        g_clear_error(err);
        g_propagate_error(err, in.err);
        in.err = NULL;
    }
    if (rc != 0)
        goto leave;
    *out = s;
    s = NULL;
leave:
    g_clear_error(&in.err);
    store_close(s);
    return store_rc(rc);
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->batch)
        batch_commit(s, NULL);
    if (s->env)
        mdb_env_close(s->env);
    g_free(s->path);
    g_free(s);
}

char *store_dict_string(GVariant *dict, const char *key)
{
    GVariant *v = g_variant_lookup_value(dict, key, G_VARIANT_TYPE_STRING);
    char *s;

    if (!v)
        return NULL;
    s = g_variant_dup_string(v, NULL);
    g_variant_unref(v);
    return s;
}
