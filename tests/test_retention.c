/* test_retention: the archive sweeper under the main loop. */
#include <glib.h>
#include <stdlib.h>

#include "archive.h"
#include "groups.h"
#include "log.h"
#include "retention.h"
#include "testutil.h"

static int add_txn(MDB_txn *txn, const store *st, void *userdata)
{
    const char *groups[] = {"a", "b"};

    for (int i = 0; i < 10; i++) {
        archive_msg m = {.nick = "n", .body = "x"};
        int rc = archive_append(txn, st, groups[i % 2], &m);
        g_free(m.stanza_id);
        if (rc)
            return rc;
    }
    return 0;
}

static guint64 count(store *st, const char *group)
{
    MDB_txn *txn;
    archive_query q = {0};
    guint64 n = 0;

    g_assert_cmpint(store_read_begin(st, &txn, NULL), ==, 0);
    g_assert_cmpint(archive_query_run(txn, st, group, &q, NULL, NULL, &n), ==,
                    0);
    store_read_end(txn);
    return n;
}

static void run_until_idle(retention *rt)
{
    for (int i = 0; i < 10000 && retention_busy(rt); i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_false(retention_busy(rt));
}

static void a_sweep_removes_only_what_is_older_than_the_cutoff(void)
{
    char *dir = g_dir_make_tmp("imgroups-ret-XXXXXX", NULL);
    store *st = NULL;
    retention *rt;

    g_assert_cmpint(store_open(dir, 0, &st, NULL), ==, 0);
    g_assert_cmpint(store_write(st, add_txn, NULL, NULL), ==, 0);
    rt = retention_start(st, 30);
    g_assert_nonnull(rt);
    /* Everything is newer than a cutoff an hour ago: nothing goes. */
    retention_sweep_now(rt, g_get_real_time() - (gint64)3600 * G_USEC_PER_SEC);
    run_until_idle(rt);
    g_assert_cmpuint(count(st, "a") + count(st, "b"), ==, 10);
    /* A cutoff in the future takes every message, in every group. */
    retention_sweep_now(rt, g_get_real_time() + (gint64)3600 * G_USEC_PER_SEC);
    run_until_idle(rt);
    g_assert_cmpuint(count(st, "a"), ==, 0);
    g_assert_cmpuint(count(st, "b"), ==, 0);
    g_assert_cmpuint(retention_removed(rt), ==, 10);
    retention_stop(rt);
    store_close(st);
    testutil_rm_rf(dir);
    g_free(dir);
}

static int set_keep_txn(MDB_txn *txn, const store *st, void *userdata)
{
    const char *names[] = {"a", "b"};
    int rc = 0;

    /* group a keeps 1 day, group b the service default */
    for (int i = 0; i < 2 && rc == 0; i++) {
        group_cfg *g = NULL;
        gboolean created;
        rc = groups_ensure(txn, st, names[i], &created);
        if (rc == 0)
            rc = groups_get(txn, st, names[i], &g);
        if (rc == 0) {
            g->keep_days = i == 0 ? 1 : -1;
            rc = groups_put(txn, st, g);
        }
        group_cfg_free(g);
    }
    return rc;
}

static void each_group_keeps_messages_for_its_own_days(void)
{
    char *dir = g_dir_make_tmp("imgroups-ret-XXXXXX", NULL);
    store *st = NULL;
    retention *rt;
    gint64 day = (gint64)86400 * G_USEC_PER_SEC;

    g_assert_cmpint(store_open(dir, 0, &st, NULL), ==, 0);
    g_assert_cmpint(store_write(st, add_txn, NULL, NULL), ==, 0);
    g_assert_cmpint(store_write(st, set_keep_txn, NULL, NULL), ==, 0);
    /* service default 0: forever. Two days on, only group a is swept. */
    rt = retention_start(st, 0);
    retention_sweep_due(rt, g_get_real_time() + 2 * day);
    run_until_idle(rt);
    g_assert_cmpuint(count(st, "a"), ==, 0);
    g_assert_cmpuint(count(st, "b"), ==, 5);
    retention_stop(rt);
    /* service default 30 days: forty days on, b goes too. */
    rt = retention_start(st, 30);
    retention_sweep_due(rt, g_get_real_time() + 20 * day);
    run_until_idle(rt);
    g_assert_cmpuint(count(st, "b"), ==, 5);
    retention_sweep_due(rt, g_get_real_time() + 40 * day);
    run_until_idle(rt);
    g_assert_cmpuint(count(st, "b"), ==, 0);
    retention_stop(rt);
    store_close(st);
    testutil_rm_rf(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    log_set_level(LOG_ERROR);
    g_test_add_func("/retention/a_sweep_removes_only_what_is_older_than_the_"
                    "cutoff",
                    a_sweep_removes_only_what_is_older_than_the_cutoff);
    g_test_add_func("/retention/each_group_keeps_messages_for_its_own_days",
                    each_group_keeps_messages_for_its_own_days);
    return g_test_run();
}
