/* Tests for bucket: the token bucket and its bounded tables. */
#include "bucket.h"

#define SEC ((gint64)G_USEC_PER_SEC)

static void a_bucket_gives_its_burst_then_its_rate(void)
{
    bucket b = {0};
    gint64 t = 1000 * SEC;

    for (int i = 0; i < 3; i++)
        g_assert_true(bucket_take(&b, 0.5, 3, t));
    g_assert_false(bucket_take(&b, 0.5, 3, t));
    /* half a token a second: one more after 2 s, not after 1 s */
    g_assert_false(bucket_take(&b, 0.5, 3, t + 1 * SEC));
    g_assert_true(bucket_take(&b, 0.5, 3, t + 2 * SEC));
    g_assert_false(bucket_take(&b, 0.5, 3, t + 2 * SEC));
    /* never more than the burst, however long it waited */
    g_assert_true(bucket_full(&b, 0.5, 3, t + 100 * SEC));
    for (int i = 0; i < 3; i++)
        g_assert_true(bucket_take(&b, 0.5, 3, t + 100 * SEC));
    g_assert_false(bucket_take(&b, 0.5, 3, t + 100 * SEC));
}

static void a_table_keeps_one_bucket_per_key(void)
{
    GHashTable *t = bucket_table_new();
    gint64 now = 1000 * SEC;
    bucket *a = bucket_table_get(t, "a@x", 1, 2, 10, now);

    g_assert_true(bucket_take(a, 1, 2, now));
    g_assert_true(bucket_take(a, 1, 2, now));
    /* the same key finds the same, empty, bucket: a rejoin refills
     * nothing */
    g_assert_false(
        bucket_take(bucket_table_get(t, "a@x", 1, 2, 10, now), 1, 2, now));
    g_assert_true(
        bucket_take(bucket_table_get(t, "b@x", 1, 2, 10, now), 1, 2, now));
    g_hash_table_destroy(t);
}

static void a_full_table_drops_only_full_buckets(void)
{
    GHashTable *t = bucket_table_new();
    gint64 now = 1000 * SEC;
    char key[32];

    /* 8 busy senders fill a table of 8 */
    for (int i = 0; i < 8; i++) {
        g_snprintf(key, sizeof key, "busy%d@x", i);
        g_assert_true(
            bucket_take(bucket_table_get(t, key, 1, 5, 8, now), 1, 5, now));
    }
    /* an hour later they are full again: the next newcomer sweeps them */
    now += 3600 * SEC;
    bucket_table_get(t, "new@x", 1, 5, 8, now);
    g_assert_cmpuint(g_hash_table_size(t), ==, 1);
    /* busy ones are kept: an empty bucket is state a new one would lose */
    for (int i = 0; i < 7; i++) {
        g_snprintf(key, sizeof key, "busy%d@x", i);
        g_assert_true(
            bucket_take(bucket_table_get(t, key, 1, 5, 8, now), 1, 5, now));
    }
    /* 8 again: the newcomer's sweep drops the full "new@x" only */
    bucket_table_get(t, "next@x", 1, 5, 8, now);
    g_assert_cmpuint(g_hash_table_size(t), ==, 8);
    g_assert_null(g_hash_table_lookup(t, "new@x"));
    g_assert_nonnull(g_hash_table_lookup(t, "busy0@x"));
    g_hash_table_destroy(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bucket/a_bucket_gives_its_burst_then_its_rate",
                    a_bucket_gives_its_burst_then_its_rate);
    g_test_add_func("/bucket/a_table_keeps_one_bucket_per_key",
                    a_table_keeps_one_bucket_per_key);
    g_test_add_func("/bucket/a_full_table_drops_only_full_buckets",
                    a_full_table_drops_only_full_buckets);
    return g_test_run();
}
