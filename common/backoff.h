/* backoff: the one retry schedule of the tree (the component link, worker
 * restarts, bot reconnects): doubling from a first delay to a cap, ±25 %
 * jitter, reset once what it guards has stayed up long enough. */
#ifndef IMGROUPS_BACKOFF_H
#define IMGROUPS_BACKOFF_H

#include <glib.h>

typedef struct backoff {
    guint first_ms;  /* the first delay */
    guint max_ms;    /* the cap */
    gint64 stable_us; /* up this long: the next failure starts afresh */
    guint next_ms;   /* the next delay before jitter; 0: first_ms */
    gint64 up_at;    /* monotonic µs when backoff_up was called; 0: down */
} backoff;

/* A schedule starting at first_ms, doubling to max_ms, reset after
 * stable_us of uptime. */
void backoff_init(backoff *b, guint first_ms, guint max_ms, gint64 stable_us);

/* What it guards is up at now (monotonic µs, clock_now() or a test's). */
void backoff_up(backoff *b, gint64 now);

/* It failed at now: the delay to wait, jittered, and the schedule doubled.
 * A failure after stable_us of uptime starts again from first_ms; fatal
 * starts from the cap. */
guint backoff_next(backoff *b, gint64 now, gboolean fatal);

/* Forget the history: the next delay is first_ms. */
void backoff_reset(backoff *b);

#endif
