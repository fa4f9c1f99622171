/* test_store: the LMDB environment — directory, schema version, refusals,
 * the map set once, write transactions, GVariant values, the walker. */
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "store.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;  /* a fresh temp dir, removed afterwards */
    char *path; /* dir/store: where the store goes */
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    GError *err = NULL;

    f->dir = g_dir_make_tmp("imgroups-store-XXXXXX", &err);
    g_assert_no_error(err);
    f->path = g_build_filename(f->dir, "store", NULL);
}

static void teardown(fixture *f, gconstpointer data)
{
    /* A test may have made a directory unwritable. */
    g_chmod(f->path, 0700);
    testutil_rm_rf(f->dir);
    g_free(f->path);
    g_free(f->dir);
}

static store *open_ok(const char *path, size_t map)
{
    store *s = NULL;
    GError *err = NULL;

    g_assert_cmpint(store_open(path, map, &s, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_nonnull(s);
    return s;
}

/* Opens and expects a refusal of the given code; returns the message. */
static char *open_refused(const char *path, enum store_error code)
{
    store *s = (store *)1;
    GError *err = NULL;
    char *msg;

    g_assert_cmpint(store_open(path, 0, &s, &err), <, 0);
    g_assert_null(s);
    g_assert_error(err, STORE_ERROR, (gint)code);
    g_assert_nonnull(strstr(err->message, path));
    msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static guint mode_of(const char *path)
{
    struct stat st;

    g_assert_cmpint(g_stat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

/* Writes one raw value into a named database of the environment at path,
 * with LMDB alone (as another program, or an older or newer imgroups). */
static void raw_put(const char *path, const char *db, const char *key,
                    const void *data, size_t len)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    MDB_val d = {.mv_size = len, .mv_data = (void *)data};

    g_assert_cmpint(mdb_env_create(&env), ==, 0);
    g_assert_cmpint(mdb_env_set_maxdbs(env, 32), ==, 0);
    g_assert_cmpint(mdb_env_open(env, path, 0, 0600), ==, 0);
    g_assert_cmpint(mdb_txn_begin(env, NULL, 0, &txn), ==, 0);
    g_assert_cmpint(mdb_dbi_open(txn, db, db ? MDB_CREATE : 0, &dbi), ==, 0);
    g_assert_cmpint(mdb_put(txn, dbi, &k, &d, 0), ==, 0);
    g_assert_cmpint(mdb_txn_commit(txn), ==, 0);
    mdb_env_close(env);
}

/* Reads one raw value with LMDB alone; returns a copy or NULL. */
static GBytes *raw_get(const char *path, const char *db, const char *key)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key};
    MDB_val d;
    GBytes *b = NULL;

    g_assert_cmpint(mdb_env_create(&env), ==, 0);
    g_assert_cmpint(mdb_env_set_maxdbs(env, 32), ==, 0);
    g_assert_cmpint(mdb_env_open(env, path, MDB_RDONLY, 0600), ==, 0);
    g_assert_cmpint(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), ==, 0);
    if (mdb_dbi_open(txn, db, 0, &dbi) == 0 && mdb_get(txn, dbi, &k, &d) == 0)
        b = g_bytes_new(d.mv_data, d.mv_size);
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return b;
}

static void put_bytes(const char *path, const char *db, const char *key,
                      GVariant *v)
{
    g_variant_ref_sink(v);
    raw_put(path, db, key, g_variant_get_data(v), g_variant_get_size(v));
    g_variant_unref(v);
}

/* A store_write callback: puts (key, value) pairs, "(qs)" records. */
typedef struct kv_batch {
    enum store_db db;
    guint first, count; /* keys "k<first>" .. "k<first+count-1>" */
    gsize value_len;    /* bytes of filler in each value */
    guint calls;        /* how many times the callback ran */
    int result;         /* what the callback returns after putting */
} kv_batch;

static char *key_of(guint i)
{
    return g_strdup_printf("k%08u", i);
}

static char *filler_of(guint i, gsize len)
{
    char *s = g_malloc(len + 1);

    for (gsize j = 0; j < len; j++)
        s[j] = (char)('a' + (i + j) % 26);
    s[len] = '\0';
    return s;
}

static int put_batch(MDB_txn *txn, const store *s, void *userdata)
{
    kv_batch *b = userdata;
    int rc = 0;

    b->calls++;
    for (guint i = b->first; i < b->first + b->count && rc == 0; i++) {
        char *k = key_of(i);
        char *fill = filler_of(i, b->value_len);
        rc = store_put_variant(txn, store_dbi(s, b->db), k, strlen(k),
                               g_variant_new("(qs)", (guint16)1, fill));
        g_free(fill);
        g_free(k);
    }
    return rc != 0 ? rc : b->result;
}

static void write_batch(store *s, kv_batch *b)
{
    GError *err = NULL;

    if (store_write(s, put_batch, b, &err) != 0)
        g_error("store_write: %s", err ? err->message : "?");
    g_assert_no_error(err);
}

/* Every key of [first, first+count) is there with its value. */
static void assert_batch(store *s, enum store_db db, guint first, guint count,
                         gsize value_len)
{
    MDB_txn *txn;
    GError *err = NULL;

    g_assert_cmpint(store_read_begin(s, &txn, &err), ==, 0);
    g_assert_no_error(err);
    for (guint i = first; i < first + count; i++) {
        char *k = key_of(i);
        char *fill = filler_of(i, value_len);
        GVariant *v = NULL;
        guint16 version;
        const char *got;

        g_assert_cmpint(store_get_variant(txn, store_dbi(s, db), k, strlen(k),
                                          G_VARIANT_TYPE("(qs)"), &v),
                        ==, 0);
        g_variant_get(v, "(q&s)", &version, &got);
        g_assert_cmpuint(version, ==, 1);
        g_assert_cmpstr(got, ==, fill);
        g_variant_unref(v);
        g_free(fill);
        g_free(k);
    }
    store_read_end(txn);
}

static gboolean key_absent(store *s, enum store_db db, const char *key)
{
    MDB_txn *txn;
    GVariant *v = NULL;
    int rc;

    g_assert_cmpint(store_read_begin(s, &txn, NULL), ==, 0);
    rc = store_get_variant(txn, store_dbi(s, db), key, strlen(key),
                           G_VARIANT_TYPE("(qs)"), &v);
    store_read_end(txn);
    if (v)
        g_variant_unref(v);
    return rc == MDB_NOTFOUND && v == NULL;
}

static void open_creates_directory_with_mode_0700(fixture *f,
                                                  gconstpointer data)
{
    char *deep = g_build_filename(f->path, "a", "b", NULL);
    char *file = g_build_filename(deep, "data.mdb", NULL);
    store *s;

    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
    s = open_ok(deep, 0);
    g_assert_cmpuint(mode_of(deep), ==, 0700);
    g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpuint(mode_of(file) & 077, ==, 0);
    store_close(s);
    g_free(file);
    g_free(deep);
}

static void open_tightens_an_existing_directory_to_mode_0700(fixture *f,
                                                             gconstpointer data)
{
    store *s;

    g_assert_cmpint(g_mkdir(f->path, 0700), ==, 0);
    g_assert_cmpint(g_chmod(f->path, 0755), ==, 0);
    g_assert_cmpuint(mode_of(f->path), ==, 0755);
    s = open_ok(f->path, 0);
    g_assert_cmpuint(mode_of(f->path), ==, 0700);
    store_close(s);
}

static void reopen_keeps_what_was_written(fixture *f, gconstpointer data)
{
    kv_batch b = {
        .db = STORE_DB_ARCHIVE, .first = 0, .count = 50, .value_len = 100};
    store *s = open_ok(f->path, 0);

    write_batch(s, &b);
    store_close(s);
    s = open_ok(f->path, 0);
    assert_batch(s, STORE_DB_ARCHIVE, 0, 50, 100);
    g_assert_true(key_absent(s, STORE_DB_ARCHIVE, "k00000050"));
    g_assert_true(key_absent(s, STORE_DB_OUTBOX, "k00000000"));
    store_close(s);
}

static void a_new_store_records_the_current_schema_version(fixture *f,
                                                           gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    GBytes *b;
    GVariant *v;
    guint16 record;
    guint32 version;

    g_assert_cmpuint(store_schema_version(s), ==, STORE_SCHEMA_VERSION);
    store_close(s);

    b = raw_get(f->path, "meta", "schema_version");
    g_assert_nonnull(b);
    v = g_variant_ref_sink(
        g_variant_new_from_bytes(G_VARIANT_TYPE("(qu)"), b, FALSE));
    g_assert_true(g_variant_is_normal_form(v));
    g_variant_get(v, "(qu)", &record, &version);
    g_assert_cmpuint(record, ==, STORE_META_RECORD_VERSION);
    g_assert_cmpuint(version, ==, STORE_SCHEMA_VERSION);
    g_variant_unref(v);
    g_bytes_unref(b);

    b = raw_get(f->path, "meta", "created");
    g_assert_nonnull(b);
    g_assert_cmpuint(g_bytes_get_size(b), ==, 16); /* (qx): q, pad, x */
    g_bytes_unref(b);
}

static void every_named_database_exists_after_open(fixture *f,
                                                   gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;

    for (int i = 0; i < STORE_DB_COUNT; i++) {
        g_assert_nonnull(store_db_name((enum store_db)i));
        for (int j = 0; j < i; j++)
            g_assert_cmpuint(store_dbi(s, (enum store_db)i), !=,
                             store_dbi(s, (enum store_db)j));
    }
    store_close(s);
    g_assert_cmpint(mdb_env_create(&env), ==, 0);
    g_assert_cmpint(mdb_env_set_maxdbs(env, 32), ==, 0);
    g_assert_cmpint(mdb_env_open(env, f->path, MDB_RDONLY, 0600), ==, 0);
    g_assert_cmpint(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), ==, 0);
    for (int i = 0; i < STORE_DB_COUNT; i++)
        g_assert_cmpint(
            mdb_dbi_open(txn, store_db_name((enum store_db)i), 0, &dbi), ==, 0);
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

static void open_refuses_a_store_with_a_newer_schema_version(fixture *f,
                                                             gconstpointer d)
{
    store *s = open_ok(f->path, 0);
    char *msg;
    GBytes *b;

    store_close(s);
    put_bytes(f->path, "meta", "schema_version",
              g_variant_new("(qu)", (guint16)1, (guint32)7));
    msg = open_refused(f->path, STORE_ERROR_NEWER_SCHEMA);
    g_assert_nonnull(strstr(
        msg, "schema version 7 is newer than this "
             "imgroups understands (" G_STRINGIFY(STORE_SCHEMA_VERSION) ")"));
    g_assert_nonnull(strstr(msg, "[storage] path"));
    g_free(msg);

    /* The refusal changed nothing: the record still says 7. */
    b = raw_get(f->path, "meta", "schema_version");
    g_assert_nonnull(b);
    g_assert_cmpuint(g_bytes_get_size(b), ==, 8);
    g_assert_cmpuint(((const guint32 *)g_bytes_get_data(b, NULL))[1], ==, 7);
    g_bytes_unref(b);
}

static void open_refuses_an_unreadable_schema_record(fixture *f,
                                                     gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    char *msg;

    store_close(s);
    raw_put(f->path, "meta", "schema_version", "junk", 4);
    msg = open_refused(f->path, STORE_ERROR_CORRUPTED);
    g_assert_nonnull(strstr(msg, "schema version cannot be decoded"));
    g_free(msg);
}

static void open_refuses_a_path_that_is_not_a_directory(fixture *f,
                                                        gconstpointer data)
{
    char *below = g_build_filename(f->path, "sub", NULL);
    char *msg;

    g_assert_true(g_file_set_contents(f->path, "x", 1, NULL));
    msg = open_refused(f->path, STORE_ERROR_NOT_DIRECTORY);
    g_assert_nonnull(strstr(msg, "not a directory"));
    g_free(msg);
    msg = open_refused(below, STORE_ERROR_NOT_DIRECTORY);
    g_assert_nonnull(strstr(msg, "not a directory"));
    g_free(msg);
    g_free(below);
}

static void open_refuses_a_data_file_that_is_not_lmdb(fixture *f,
                                                      gconstpointer data)
{
    char *file = g_build_filename(f->path, "data.mdb", NULL);
    char *junk = g_strnfill(16384, 'j');
    char *msg;

    g_assert_cmpint(g_mkdir(f->path, 0700), ==, 0);
    g_assert_true(g_file_set_contents(file, junk, 16384, NULL));
    msg = open_refused(f->path, STORE_ERROR_NOT_STORE);
    g_assert_nonnull(strstr(msg, "not an LMDB environment"));
    g_free(msg);
    g_free(junk);
    g_free(file);
}

static void
open_refuses_an_lmdb_environment_that_is_not_imgroups(fixture *f,
                                                      gconstpointer data)
{
    char *msg;

    g_assert_cmpint(g_mkdir(f->path, 0700), ==, 0);
    raw_put(f->path, NULL, "someone-else", "x", 1);
    msg = open_refused(f->path, STORE_ERROR_NOT_STORE);
    g_assert_nonnull(strstr(msg, "not an imgroups store"));
    g_free(msg);
}

static void open_refuses_a_directory_it_cannot_write(fixture *f,
                                                     gconstpointer data)
{
    char *msg;

    if (geteuid() == 0) {
        g_test_skip("root writes anywhere");
        return;
    }
    g_assert_cmpint(g_mkdir(f->path, 0500), ==, 0);
    msg = open_refused(f->path, STORE_ERROR_NOT_WRITABLE);
    g_assert_nonnull(strstr(msg, g_strerror(EACCES)));
    g_free(msg);
}

static size_t tiny_map(void)
{
    return 32 * (size_t)sysconf(_SC_PAGESIZE);
}

/* [storage] sync = no-meta: LMDB's MDB_NOMETASYNC, off until asked for,
 * and commits still land. */
static void the_meta_page_is_synced_at_each_commit_unless_turned_off(
    fixture *f, gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    kv_batch b = {.db = STORE_DB_ARCHIVE, .count = 3, .value_len = 10};

    g_assert_true(store_meta_sync(s));
    g_assert_cmpint(store_set_meta_sync(s, FALSE), ==, 0);
    g_assert_false(store_meta_sync(s));
    write_batch(s, &b);
    store_close(s);
    s = open_ok(f->path, 0);
    g_assert_true(store_meta_sync(s)); /* not kept: the config's each run */
    assert_batch(s, STORE_DB_ARCHIVE, 0, 3, 10);
    store_close(s);
}

static void
a_store_keeps_the_map_it_was_opened_with_and_its_file_small(fixture *f,
                                                            gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    char *file = g_build_filename(f->path, "data.mdb", NULL);
    struct stat st;

    g_assert_cmpuint(store_map_size(s), ==, STORE_MAP_DEFAULT);
    /* 2000 records of 1 KiB in 200 transactions: about 2.5 MiB. */
    for (guint i = 0; i < 200; i++) {
        kv_batch b = {.db = STORE_DB_ARCHIVE,
                      .first = i * 10,
                      .count = 10,
                      .value_len = 1000};
        write_batch(s, &b);
        g_assert_cmpuint(b.calls, ==, 1);
    }
    g_assert_cmpuint(store_map_size(s), ==, STORE_MAP_DEFAULT);
    /* The map is address space: the file holds the data, not the map. */
    g_assert_cmpint(g_stat(file, &st), ==, 0);
    g_assert_cmpuint((guint64)st.st_size, <, 16 << 20);
    store_close(s);
    s = open_ok(f->path, 0);
    assert_batch(s, STORE_DB_ARCHIVE, 0, 2000, 1000);
    store_close(s);
    g_free(file);
}

static void
a_write_past_the_map_fails_as_full_once_and_writes_nothing(fixture *f,
                                                           gconstpointer data)
{
    store *s = open_ok(f->path, tiny_map());
    kv_batch big = {
        .db = STORE_DB_OUTBOX, .first = 0, .count = 1000, .value_len = 1000};
    kv_batch small = {
        .db = STORE_DB_OUTBOX, .first = 2000, .count = 2, .value_len = 10};
    GError *err = NULL;

    g_assert_cmpint(store_write(s, put_batch, &big, &err), ==, MDB_MAP_FULL);
    g_assert_error(err, STORE_ERROR, STORE_ERROR_FULL);
    g_assert_nonnull(strstr(err->message, "map_size"));
    g_test_message("%s", err->message);
    g_clear_error(&err);
    /* fn ran once: a transaction body is never run again */
    g_assert_cmpuint(big.calls, ==, 1);
    g_assert_true(key_absent(s, STORE_DB_OUTBOX, "k00000000"));
    g_assert_cmpuint(store_map_size(s), <=, 2 * tiny_map());
    /* and the store is still usable for what fits */
    write_batch(s, &small);
    assert_batch(s, STORE_DB_OUTBOX, 2000, 2, 10);
    store_close(s);
}

static const struct {
    int result;         /* what the callback returns */
    int returned;       /* what store_write returns */
    const char *reason; /* in the message */
} aborts[] = {
    {-42, -42, "code -42"},
    {MDB_KEYEXIST, MDB_KEYEXIST, "MDB_KEYEXIST"},
    {EINVAL, -EINVAL, "Invalid argument"},
};

static void
write_callback_abort_returns_its_value_and_writes_nothing(fixture *f,
                                                          gconstpointer data)
{
    store *s = open_ok(f->path, 0);

    for (gsize i = 0; i < G_N_ELEMENTS(aborts); i++) {
        kv_batch b = {.db = STORE_DB_GROUPS,
                      .first = 0,
                      .count = 5,
                      .value_len = 10,
                      .result = aborts[i].result};
        GError *err = NULL;

        g_assert_cmpint(store_write(s, put_batch, &b, &err), ==,
                        aborts[i].returned);
        g_assert_error(err, STORE_ERROR, STORE_ERROR_ABORTED);
        g_test_message("%s", err->message);
        g_assert_nonnull(strstr(err->message, aborts[i].reason));
        g_assert_cmpuint(b.calls, ==, 1);
        g_error_free(err);
        g_assert_true(key_absent(s, STORE_DB_GROUPS, "k00000000"));
        g_assert_true(key_absent(s, STORE_DB_GROUPS, "k00000004"));
    }
    /* The store is still usable. */
    {
        kv_batch b = {
            .db = STORE_DB_GROUPS, .first = 0, .count = 5, .value_len = 10};
        write_batch(s, &b);
        assert_batch(s, STORE_DB_GROUPS, 0, 5, 10);
    }
    store_close(s);
}

static int always_full(MDB_txn *txn, const store *s, void *userdata)
{
    guint *calls = userdata;

    (*calls)++;
    return MDB_MAP_FULL;
}

static void
a_callback_returning_map_full_is_a_full_store_not_a_retry(fixture *f,
                                                          gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    GError *err = NULL;
    guint calls = 0;

    g_assert_cmpint(store_write(s, always_full, &calls, &err), ==,
                    MDB_MAP_FULL);
    g_assert_error(err, STORE_ERROR, STORE_ERROR_FULL);
    g_assert_cmpuint(calls, ==, 1);
    g_error_free(err);
    store_close(s);
}

typedef struct nested {
    store *s;
    int inner_rc;
    GError *inner_err;
} nested;

static int write_from_inside(MDB_txn *txn, const store *s, void *userdata)
{
    nested *n = userdata;
    kv_batch b = {.db = STORE_DB_NICKS, .first = 0, .count = 1, .value_len = 1};

    n->inner_rc = store_write(n->s, put_batch, &b, &n->inner_err);
    return 0;
}

static void write_refuses_to_nest_instead_of_hanging(fixture *f,
                                                     gconstpointer data)
{
    nested n = {.s = open_ok(f->path, 0)};
    GError *err = NULL;

    g_assert_cmpint(store_write(n.s, write_from_inside, &n, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpint(n.inner_rc, <, 0);
    g_assert_error(n.inner_err, STORE_ERROR, STORE_ERROR_FAILED);
    g_clear_error(&n.inner_err);
    g_assert_true(key_absent(n.s, STORE_DB_NICKS, "k00000000"));
    store_close(n.s);
}

static void a_read_snapshot_does_not_stop_a_write(fixture *f,
                                                  gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    kv_batch b = {
        .db = STORE_DB_ARCHIVE, .first = 0, .count = 500, .value_len = 1000};
    GError *err = NULL;
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(s, &txn, &err), ==, 0);
    write_batch(s, &b);
    /* the snapshot still sees the store as it was */
    {
        GVariant *v = NULL;
        g_assert_cmpint(store_get_variant(txn, store_dbi(s, STORE_DB_ARCHIVE),
                                          "k00000000", 9,
                                          G_VARIANT_TYPE("(qs)"), &v),
                        ==, MDB_NOTFOUND);
    }
    store_read_end(txn);
    assert_batch(s, STORE_DB_ARCHIVE, 0, 500, 1000);
    store_close(s);
}

/* A file size limit makes the commit's writes fail, as a full disk would.
 * The limit and SIGXFSZ are restored before the test ends. */
static void a_failed_commit_is_an_error_naming_the_errno_text(fixture *f,
                                                              gconstpointer d)
{
    store *s = open_ok(f->path, 0);
    char *file = g_build_filename(f->path, "data.mdb", NULL);
    kv_batch small = {
        .db = STORE_DB_ARCHIVE, .first = 0, .count = 1, .value_len = 10};
    kv_batch big = {
        .db = STORE_DB_ARCHIVE, .first = 100, .count = 200, .value_len = 4000};
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old_action;
    struct rlimit old, lim;
    GError *err = NULL;
    struct stat st;
    int rc;

    write_batch(s, &small);
    g_assert_cmpint(g_stat(file, &st), ==, 0);
    g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 8192;
    g_assert_cmpint(sigaction(SIGXFSZ, &ignore, &old_action), ==, 0);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &lim), ==, 0);
    rc = store_write(s, put_batch, &big, &err);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
    g_assert_cmpint(sigaction(SIGXFSZ, &old_action, NULL), ==, 0);

    g_assert_cmpint(rc, <, 0);
    g_assert_error(err, STORE_ERROR, STORE_ERROR_IO);
    g_test_message("%s", err->message);
    /* LMDB reports a short write as EIO. */
    g_assert_true(strstr(err->message, g_strerror(EFBIG)) ||
                  strstr(err->message, g_strerror(EIO)));
    g_assert_nonnull(strstr(err->message, f->path));
    g_clear_error(&err);

    /* Nothing of it was kept, and the store works once there is room. */
    g_assert_true(key_absent(s, STORE_DB_ARCHIVE, "k00000100"));
    assert_batch(s, STORE_DB_ARCHIVE, 0, 1, 10);
    write_batch(s, &big);
    store_close(s);
    s = open_ok(f->path, 0);
    assert_batch(s, STORE_DB_ARCHIVE, 100, 200, 4000);
    store_close(s);
    g_free(file);
}

typedef struct one_value {
    const char *key;
    GVariant *v; /* put when non-NULL (sunk by store_put_variant) */
    const void *raw;
    size_t raw_len;
} one_value;

static int put_one(MDB_txn *txn, const store *s, void *userdata)
{
    one_value *o = userdata;
    MDB_val k = {.mv_size = strlen(o->key), .mv_data = (void *)o->key};
    MDB_val d = {.mv_size = o->raw_len, .mv_data = (void *)o->raw};

    if (o->v)
        return store_put_variant(txn, store_dbi(s, STORE_DB_MEMBERS), o->key,
                                 strlen(o->key), o->v);
    return mdb_put(txn, store_dbi(s, STORE_DB_MEMBERS), &k, &d, 0);
}

static void
get_variant_returns_a_copy_that_outlives_the_transaction(fixture *f,
                                                         gconstpointer data)
{
    store *s = open_ok(f->path, 0);
    one_value o = {.key = "m"};
    GVariant *got = NULL, *want;
    MDB_txn *txn;

    want = g_variant_ref_sink(
        g_variant_new("(qxs)", (guint16)1, (gint64)-5, "first"));
    o.v = want;
    g_assert_cmpint(store_write(s, put_one, &o, NULL), ==, 0);
    g_assert_cmpint(store_read_begin(s, &txn, NULL), ==, 0);
    g_assert_cmpint(store_get_variant(txn, store_dbi(s, STORE_DB_MEMBERS), "m",
                                      1, G_VARIANT_TYPE("(qxs)"), &got),
                    ==, 0);
    store_read_end(txn);
    g_variant_unref(want);

    /* Overwritten and the snapshot gone: the copy is unchanged. */
    o.v = g_variant_ref_sink(
        g_variant_new("(qxs)", (guint16)1, (gint64)7, "second, and longer"));
    g_assert_cmpint(store_write(s, put_one, &o, NULL), ==, 0);
    g_variant_unref(o.v);
    g_assert_false(g_variant_is_floating(got));
    want = g_variant_new("(qxs)", (guint16)1, (gint64)-5, "first");
    g_assert_true(g_variant_equal(got, want));
    g_variant_unref(g_variant_ref_sink(want));
    g_variant_unref(got);
    store_close(s);
}

static const struct {
    const char *raw;
    size_t len;
    const char *type;
} malformed[] = {
    {"", 0, "(qu)"},                     /* fixed size 8, got 0 */
    {"abcdefg", 7, "(qu)"},              /* fixed size 8, got 7 */
    {"abcdefghi", 9, "(qu)"},            /* fixed size 8, got 9 */
    {"no terminator", 13, "s"},          /* a string lacks its NUL */
    {"\x01\x00\x00\x00\xff", 5, "(qs)"}, /* inner NULs, no terminator */
    {"\x02", 1, "b"},                    /* a boolean is 0 or 1 */
    {"\xff\xfe\x00", 3, "s"},            /* not UTF-8 */
};

static void get_variant_reports_malformed_bytes_as_corrupted(fixture *f,
                                                             gconstpointer d)
{
    store *s = open_ok(f->path, 0);

    for (gsize i = 0; i < G_N_ELEMENTS(malformed); i++) {
        one_value o = {
            .key = "bad", .raw = malformed[i].raw, .raw_len = malformed[i].len};
        GVariant *v = (GVariant *)&o;
        MDB_txn *txn;

        g_test_message("case %zu: type %s", i, malformed[i].type);
        g_assert_cmpint(store_write(s, put_one, &o, NULL), ==, 0);
        g_assert_cmpint(store_read_begin(s, &txn, NULL), ==, 0);
        g_assert_cmpint(
            store_get_variant(txn, store_dbi(s, STORE_DB_MEMBERS), "bad", 3,
                              G_VARIANT_TYPE(malformed[i].type), &v),
            ==, MDB_CORRUPTED);
        g_assert_null(v);
        v = (GVariant *)&o;
        g_assert_cmpint(
            store_get_variant(txn, store_dbi(s, STORE_DB_MEMBERS), "none", 4,
                              G_VARIANT_TYPE(malformed[i].type), &v),
            ==, MDB_NOTFOUND);
        g_assert_null(v);
        store_read_end(txn);
    }
    store_close(s);
}

/* Group commit: the writes of a batch are seen by reads inside it, and are
 * durable once the batch ends. */
static void a_batch_is_seen_inside_and_durable_after_it_ends(fixture *f,
                                                             gconstpointer d)
{
    store *s = open_ok(f->path, 0);
    GError *err = NULL;

    store_batch_begin(s);
    for (guint i = 0; i < 5; i++) {
        kv_batch b = {.db = STORE_DB_ARCHIVE,
                      .first = i * 4,
                      .count = 4,
                      .value_len = 10};
        write_batch(s, &b);
    }
    assert_batch(s, STORE_DB_ARCHIVE, 0, 20, 10); /* the batch's own view */
    g_assert_cmpint(store_batch_end(s, &err), ==, 0);
    g_assert_no_error(err);
    store_close(s);
    s = open_ok(f->path, 0);
    assert_batch(s, STORE_DB_ARCHIVE, 0, 20, 10);
    store_close(s);
}

static void a_failed_write_in_a_batch_leaves_the_others(fixture *f,
                                                        gconstpointer d)
{
    store *s = open_ok(f->path, 0);
    kv_batch ok1 = {
        .db = STORE_DB_ARCHIVE, .first = 0, .count = 3, .value_len = 10};
    kv_batch bad = {.db = STORE_DB_ARCHIVE,
                    .first = 3,
                    .count = 3,
                    .value_len = 10,
                    .result = -5};
    kv_batch ok2 = {
        .db = STORE_DB_ARCHIVE, .first = 6, .count = 3, .value_len = 10};
    GError *err = NULL;

    store_batch_begin(s);
    write_batch(s, &ok1);
    g_assert_cmpint(store_write(s, put_batch, &bad, &err), ==, -5);
    g_clear_error(&err);
    write_batch(s, &ok2);
    g_assert_cmpint(store_batch_end(s, &err), ==, 0);
    store_close(s);
    s = open_ok(f->path, 0);
    assert_batch(s, STORE_DB_ARCHIVE, 0, 3, 10);
    assert_batch(s, STORE_DB_ARCHIVE, 6, 3, 10);
    for (guint i = 3; i < 6; i++) {
        char *k = key_of(i);
        g_assert_true(key_absent(s, STORE_DB_ARCHIVE, k));
        g_free(k);
    }
    store_close(s);
}

static void a_batch_event_past_the_map_fails_alone(fixture *f, gconstpointer d)
{
    store *s = open_ok(f->path, tiny_map());
    GError *err = NULL;
    guint stored = 0;
    int rc = 0;

    /* events of 10 records of 1 KiB in one batch, until one does not fit */
    store_batch_begin(s);
    for (guint i = 0; i < 100 && rc == 0; i++) {
        kv_batch b = {.db = STORE_DB_ARCHIVE,
                      .first = i * 10,
                      .count = 10,
                      .value_len = 1000};
        rc = store_write(s, put_batch, &b, &err);
        if (rc == 0)
            stored = i + 1;
        else
            g_assert_cmpuint(b.calls, ==, 1);
    }
    g_assert_cmpint(rc, ==, MDB_MAP_FULL);
    g_assert_error(err, STORE_ERROR, STORE_ERROR_FULL);
    g_clear_error(&err);
    g_assert_cmpuint(stored, >, 0);
    /* the batch's earlier events are still in it */
    assert_batch(s, STORE_DB_ARCHIVE, 0, stored * 10, 1000);
    g_assert_true(key_absent(s, STORE_DB_ARCHIVE, "k00000999"));
    rc = store_batch_end(s, &err);
    g_test_message("%u events before the map was full; the batch's commit: %d",
                   stored, rc);
    if (rc == 0) {
        store_close(s);
        s = open_ok(f->path, 0);
        assert_batch(s, STORE_DB_ARCHIVE, 0, stored * 10, 1000);
    } else {
        /* a commit that does not fit loses the batch, as a full disk
         * does: the caller withdraws its replies */
        g_assert_error(err, STORE_ERROR, STORE_ERROR_FULL);
        g_clear_error(&err);
    }
    store_close(s);
}

static void every_code_is_returned_as_zero_or_negative(fixture *f,
                                                       gconstpointer data)
{
    static const struct {
        int in, out;
    } cases[] = {
        {0, 0},
        {EINVAL, -EINVAL},
        {ENOSPC, -ENOSPC},
        {MDB_NOTFOUND, MDB_NOTFOUND},
        {MDB_MAP_FULL, MDB_MAP_FULL},
        {STORE_KEY_TOO_LONG, STORE_KEY_TOO_LONG},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(store_rc(cases[i].in), ==, cases[i].out);
}

static void
numbers_in_keys_are_big_endian_and_sort_as_numbers(fixture *f,
                                                   gconstpointer data)
{
    static const guint64 numbers[] = {
        0, 1, 255, 256, 0x0102030405060708u, G_MAXUINT64};
    unsigned char a[9], b[9];

    store_put_be64(a + 1, 0x0102030405060708u); /* unaligned */
    for (int i = 0; i < 8; i++)
        g_assert_cmpuint(a[1 + i], ==, i + 1);
    for (gsize i = 0; i < G_N_ELEMENTS(numbers); i++) {
        store_put_be64(a, numbers[i]);
        g_assert_cmpuint(store_get_be64(a), ==, numbers[i]);
        if (i + 1 < G_N_ELEMENTS(numbers)) {
            store_put_be64(b, numbers[i + 1]);
            g_assert_cmpint(memcmp(a, b, 8), <, 0);
        }
    }
}

/* ---- store_walk ---- */

static const char *const walk_keys[] = {"a", "b/1", "b/2", "b/3", "ba", "c"};

static int put_walk_keys(MDB_txn *txn, const store *s, void *userdata)
{
    int rc = 0;

    for (gsize i = 0; i < G_N_ELEMENTS(walk_keys) && rc == 0; i++) {
        MDB_val k = {strlen(walk_keys[i]), (void *)walk_keys[i]};
        MDB_val d = {1, (void *)"v"};
        rc = mdb_put(txn, store_dbi(s, STORE_DB_NICKS), &k, &d, 0);
    }
    return rc;
}

/* Records the keys walked; stops (or fails) at the key named. */
typedef struct walk_log {
    GString *seen;
    const char *stop_at;
    int stop_with;
    MDB_txn *txn; /* set: deletes each key walked and puts "b/25" */
    MDB_dbi dbi;
} walk_log;

static int log_key(const MDB_val *key, const MDB_val *val, void *userdata)
{
    walk_log *w = userdata;
    char *k = g_strndup(key->mv_data, key->mv_size);
    int rc = 0;

    g_string_append_printf(w->seen, "%s%s", w->seen->len ? " " : "", k);
    if (w->stop_at && !strcmp(k, w->stop_at))
        rc = w->stop_with;
    if (w->txn) {
        MDB_val del = {strlen(k), k}, extra = {4, (void *)"b/25"};
        MDB_val d = {1, (void *)"v"};
        g_assert_cmpint(mdb_del(w->txn, w->dbi, &del, NULL), ==, 0);
        g_assert_cmpint(mdb_put(w->txn, w->dbi, &extra, &d, 0), ==, 0);
    }
    g_free(k);
    return rc;
}

static store *store_with_walk_keys(fixture *f)
{
    store *s = open_ok(f->path, 0);
    GError *err = NULL;

    g_assert_cmpint(store_write(s, put_walk_keys, NULL, &err), ==, 0);
    g_assert_no_error(err);
    return s;
}

static void walk_visits_the_keys_with_the_prefix_in_order(fixture *f,
                                                          gconstpointer data)
{
    static const struct {
        const char *prefix;
        const char *stop_at;
        int stop_with;
        int rc;
        const char *seen;
    } cases[] = {
        {"b/", NULL, 0, 0, "b/1 b/2 b/3"},
        {"b", NULL, 0, 0, "b/1 b/2 b/3 ba"},
        {"", NULL, 0, 0, "a b/1 b/2 b/3 ba c"},
        {"bb", NULL, 0, 0, ""},
        {"z", NULL, 0, 0, ""},
        {"c", NULL, 0, 0, "c"},
        {"b/", "b/2", 1, 0, "b/1 b/2"},
        {"b/", "b/2", -5, -5, "b/1 b/2"},
    };
    store *s = store_with_walk_keys(f);
    MDB_txn *txn;

    g_assert_cmpint(store_read_begin(s, &txn, NULL), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        walk_log w = {g_string_new(NULL), cases[i].stop_at, cases[i].stop_with,
                      NULL, 0};
        g_assert_cmpint(store_walk(txn, store_dbi(s, STORE_DB_NICKS),
                                   cases[i].prefix, strlen(cases[i].prefix),
                                   log_key, &w),
                        ==, cases[i].rc);
        g_assert_cmpstr(w.seen->str, ==, cases[i].seen);
        g_string_free(w.seen, TRUE);
    }
    store_read_end(txn);
    store_close(s);
}

static int walk_and_rewrite(MDB_txn *txn, const store *s, void *userdata)
{
    walk_log *w = userdata;

    w->txn = txn;
    w->dbi = store_dbi(s, STORE_DB_NICKS);
    return store_walk(txn, w->dbi, "b/", 2, log_key, w);
}

static void walk_goes_on_after_the_callback_deletes_and_puts(fixture *f,
                                                             gconstpointer data)
{
    store *s = store_with_walk_keys(f);
    walk_log w = {g_string_new(NULL), NULL, 0, NULL, 0};
    walk_log after = {g_string_new(NULL), NULL, 0, NULL, 0};
    MDB_txn *txn;

    g_assert_cmpint(store_write(s, walk_and_rewrite, &w, NULL), ==, 0);
    /* b/25, put while b/1 was walked, is after b/2 and is walked too
     * (then deleted, and put again) */
    g_assert_cmpstr(w.seen->str, ==, "b/1 b/2 b/25 b/3");
    g_assert_cmpint(store_read_begin(s, &txn, NULL), ==, 0);
    g_assert_cmpint(
        store_walk(txn, store_dbi(s, STORE_DB_NICKS), "", 0, log_key, &after),
        ==, 0);
    store_read_end(txn);
    g_assert_cmpstr(after.seen->str, ==, "a b/25 ba c");
    g_string_free(w.seen, TRUE);
    g_string_free(after.seen, TRUE);
    store_close(s);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(fixture *, gconstpointer);
    } tests[] = {
#define T(name) {"/store/" #name, name}
        T(open_creates_directory_with_mode_0700),
        T(open_tightens_an_existing_directory_to_mode_0700),
        T(reopen_keeps_what_was_written),
        T(a_new_store_records_the_current_schema_version),
        T(every_named_database_exists_after_open),
        T(open_refuses_a_store_with_a_newer_schema_version),
        T(open_refuses_an_unreadable_schema_record),
        T(open_refuses_a_path_that_is_not_a_directory),
        T(open_refuses_a_data_file_that_is_not_lmdb),
        T(open_refuses_an_lmdb_environment_that_is_not_imgroups),
        T(open_refuses_a_directory_it_cannot_write),
        T(a_store_keeps_the_map_it_was_opened_with_and_its_file_small),
        T(a_write_past_the_map_fails_as_full_once_and_writes_nothing),
        T(write_callback_abort_returns_its_value_and_writes_nothing),
        T(a_callback_returning_map_full_is_a_full_store_not_a_retry),
        T(write_refuses_to_nest_instead_of_hanging),
        T(a_read_snapshot_does_not_stop_a_write),
        T(a_failed_commit_is_an_error_naming_the_errno_text),
        T(get_variant_returns_a_copy_that_outlives_the_transaction),
        T(get_variant_reports_malformed_bytes_as_corrupted),
        T(a_batch_is_seen_inside_and_durable_after_it_ends),
        T(a_failed_write_in_a_batch_leaves_the_others),
        T(a_batch_event_past_the_map_fails_alone),
        T(every_code_is_returned_as_zero_or_negative),
        T(numbers_in_keys_are_big_endian_and_sort_as_numbers),
        T(walk_visits_the_keys_with_the_prefix_in_order),
        T(walk_goes_on_after_the_callback_deletes_and_puts),
        T(the_meta_page_is_synced_at_each_commit_unless_turned_off),
#undef T
    };

    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(tests); i++)
        g_test_add(tests[i].name, fixture, NULL, setup, tests[i].fn, teardown);
    return g_test_run();
}
