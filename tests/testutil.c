/* testutil: temp directories for the C tests. */
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
