/* retention: deletes archived messages older than [archive] keep_days, in
 * short write transactions spread over main-loop turns. */
#ifndef IMGROUPS_RETENTION_H
#define IMGROUPS_RETENTION_H

#include <glib.h>

#include "store.h"

typedef struct retention retention;

/* Starts the sweeper on the default main context: a first round soon after
 * start, then one an hour. keep_days is the service's default (0: keep
 * forever); a group's own keep_days (groups.md) overrides it. st is
 * borrowed and outlives the sweeper. Caller owns the result. */
retention *retention_start(store *st, guint keep_days);

/* Starts one sweep now of everything before cutoff_us (unix µs); it runs
 * one batch per idle turn. For the timer and for tests. */
void retention_sweep_now(retention *rt, gint64 cutoff_us);

/* Starts one round now: every group swept of what is older than its
 * retention, as of now_us. */
void retention_sweep_due(retention *rt, gint64 now_us);

/* Is a sweep under way? Messages removed by sweeps so far. */
gboolean retention_busy(const retention *rt);
guint retention_removed(const retention *rt);

void retention_stop(retention *rt);

#endif
