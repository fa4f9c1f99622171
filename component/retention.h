/* retention: deletes archived messages older than [archive] keep_days, in
 * short write transactions spread over main-loop turns. */
#ifndef IMGROUPS_RETENTION_H
#define IMGROUPS_RETENTION_H

#include <glib.h>

#include "store.h"

typedef struct retention retention;

/* Starts the sweeper on the default main context: a first sweep soon after
 * start, then one an hour. keep_days 0 keeps everything (no sweeper).
 * st is borrowed and outlives the sweeper. Caller owns the result (NULL
 * when keep_days is 0). */
retention *retention_start(store *st, guint keep_days);

/* Starts one sweep now of everything before cutoff_us (unix µs); it runs
 * one batch per idle turn. For the timer and for tests. */
void retention_sweep_now(retention *rt, gint64 cutoff_us);

/* Is a sweep under way? Messages removed by sweeps so far. */
gboolean retention_busy(const retention *rt);
guint retention_removed(const retention *rt);

void retention_stop(retention *rt);

#endif
