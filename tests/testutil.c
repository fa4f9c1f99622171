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
