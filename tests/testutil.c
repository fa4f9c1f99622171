/* testutil: temp directories and the temp store fixture for the C tests. */
#include "testutil.h"

#include <glib.h>
#include <glib/gstdio.h>

void testutil_rm_rf(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;

    if (!d) {
        g_remove(path);
        return;
    }
    while ((name = g_dir_read_name(d))) {
        char *sub = g_build_filename(path, name, NULL);
        testutil_rm_rf(sub);
        g_free(sub);
    }
    g_dir_close(d);
    g_assert_cmpint(g_rmdir(path), ==, 0);
}

void testutil_store_setup(testutil_store *f, gconstpointer data)
{
    GError *err = NULL;

    f->dir = g_dir_make_tmp("imgroups-test-XXXXXX", &err);
    g_assert_no_error(err);
    g_assert_cmpint(store_open(f->dir, 0, &f->s, &err), ==, 0);
    g_assert_no_error(err);
}

void testutil_store_teardown(testutil_store *f, gconstpointer data)
{
    store_close(f->s);
    testutil_rm_rf(f->dir);
    g_free(f->dir);
}

void testutil_store_reopen(testutil_store *f)
{
    GError *err = NULL;

    store_close(f->s);
    g_assert_cmpint(store_open(f->dir, 0, &f->s, &err), ==, 0);
    g_assert_no_error(err);
}

void testutil_store_load_fixture(testutil_store *f, const char *name)
{
    const char *srcdir = g_getenv("IMGROUPS_SRCDIR");
    char *dir = srcdir ? g_build_filename(srcdir, "tests", NULL)
                       : g_path_get_dirname(__FILE__);
    char *from = g_build_filename(dir, "fixtures", name, "data.mdb", NULL);
    char *to = g_build_filename(f->dir, "data.mdb", NULL);
    char *bytes = NULL;
    gsize len = 0;

    store_close(f->s);
    f->s = NULL;
    g_remove(to);
    g_assert_true(g_file_get_contents(from, &bytes, &len, NULL));
    g_assert_true(g_file_set_contents(to, bytes, (gssize)len, NULL));
    testutil_store_reopen(f);
    g_free(bytes);
    g_free(to);
    g_free(from);
    g_free(dir);
}

void testutil_store_add(const testutil_store_case *cases, gsize n)
{
    for (gsize i = 0; i < n; i++)
        g_test_add(cases[i].name, testutil_store, NULL, testutil_store_setup,
                   cases[i].fn, testutil_store_teardown);
}

int testutil_store_write(testutil_store *f, store_write_fn fn, void *userdata,
                         const int *rc)
{
    GError *err = NULL;
    int wrc = store_write(f->s, fn, userdata, &err);

    if (*rc == 0) {
        g_assert_cmpint(wrc, ==, 0);
        g_assert_no_error(err);
    } else {
        g_assert_cmpint(wrc, !=, 0);
        g_assert_nonnull(err);
        g_error_free(err);
    }
    return *rc;
}

typedef struct raw_value {
    enum store_db db;
    MDB_val key;
    MDB_val data;
} raw_value;

static int raw_txn(MDB_txn *txn, const store *s, void *userdata)
{
    raw_value *r = userdata;

    return mdb_put(txn, store_dbi(s, r->db), &r->key, &r->data, 0);
}

void testutil_put_raw(testutil_store *f, enum store_db db, const void *key,
                      size_t klen, const void *bytes, size_t len,
                      const char *parsed)
{
    GVariant *v = NULL;
    raw_value r = {.db = db,
                   .key = {.mv_size = klen, .mv_data = (void *)key},
                   .data = {.mv_size = len, .mv_data = (void *)bytes}};

    if (!bytes) {
        v = g_variant_ref_sink(g_variant_new_parsed(parsed));
        r.data.mv_size = g_variant_get_size(v);
        r.data.mv_data = (void *)g_variant_get_data(v);
    }
    g_assert_cmpint(store_write(f->s, raw_txn, &r, NULL), ==, 0);
    if (v)
        g_variant_unref(v);
}
