/* bucket: the token bucket, the one rate rule of the tree (per (room,
 * bare JID) groupchat rate, per bare JID joins, per bot account pace). */
#ifndef IMGROUPS_BUCKET_H
#define IMGROUPS_BUCKET_H

#include <glib.h>

/* burst tokens at most, rate more per second. A zeroed bucket is full. */
typedef struct bucket {
    double tokens;
    gint64 at; /* monotonic µs of the last refill; 0: never used (full) */
} bucket;

/* Refills b up to now (monotonic µs: g_get_monotonic_time(), or a test's
 * clock). */
void bucket_refill(bucket *b, double rate, double burst, gint64 now);

/* Refills, then takes one token: TRUE if there was one. */
gboolean bucket_take(bucket *b, double rate, double burst, gint64 now);

/* Whether b would be full at now (it then carries no state worth keeping:
 * a dropped bucket comes back full). */
gboolean bucket_full(const bucket *b, double rate, double burst, gint64 now);

/* A table of buckets by key (a bare JID), bounded: past max entries, the
 * full ones are dropped. The table owns its keys and buckets. */
GHashTable *bucket_table_new(void);
/* The bucket for key in t, created full if absent. Borrowed until the
 * next call on t. */
bucket *bucket_table_get(GHashTable *t, const char *key, double rate,
                         double burst, guint max, gint64 now);

#endif
