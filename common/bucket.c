/* bucket: token buckets and bounded tables of them. */
#include "bucket.h"

void bucket_refill(bucket *b, double rate, double burst, gint64 now)
{
    if (b->at == 0)
        b->tokens = burst;
    else if (now > b->at)
        b->tokens =
            MIN(burst, b->tokens + rate * (double)(now - b->at) / G_USEC_PER_SEC);
    b->at = now;
}

gboolean bucket_take(bucket *b, double rate, double burst, gint64 now)
{
    bucket_refill(b, rate, burst, now);
    if (b->tokens < 1.0)
        return FALSE;
    b->tokens -= 1.0;
    return TRUE;
}

gboolean bucket_full(const bucket *b, double rate, double burst, gint64 now)
{
    bucket c = *b;

    bucket_refill(&c, rate, burst, now);
    return c.tokens >= burst;
}

GHashTable *bucket_table_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

typedef struct sweep_args {
    double rate, burst;
    gint64 now;
} sweep_args;

static gboolean is_full(gpointer key, gpointer value, gpointer userdata)
{
    sweep_args *a = userdata;

    (void)key;
    return bucket_full(value, a->rate, a->burst, a->now);
}

bucket *bucket_table_get(GHashTable *t, const char *key, double rate,
                         double burst, guint max, gint64 now)
{
    bucket *b = g_hash_table_lookup(t, key);

    if (b)
        return b;
    if (g_hash_table_size(t) >= max && g_hash_table_size(t) % max == 0) {
        /* A full bucket is what a new one would be: dropping it loses
         * nothing. What is left is bounded by who sent within the last
         * burst / rate seconds. Swept at max, 2 max, 3 max... entries, so
         * that a table of busy senders costs no sweep per new one. */
        sweep_args a = {rate, burst, now};
        g_hash_table_foreach_remove(t, is_full, &a);
    }
    b = g_new0(bucket, 1);
    g_hash_table_insert(t, g_strdup(key), b);
    return b;
}
