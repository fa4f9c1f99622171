/* clock: the one monotonic clock of the tree, injectable so tests of
 * backoff, retention and rate limits need no sleeps. */
#ifndef IMGROUPS_CLOCK_H
#define IMGROUPS_CLOCK_H

#include <glib.h>

/* Monotonic µs: g_get_monotonic_time(), plus what clock_advance added. */
gint64 clock_now(void);

/* Wall-clock µs since the epoch (g_get_real_time()), plus the same offset:
 * for stamps and retention. */
gint64 clock_real(void);

/* Tests only: moves both clocks forward by us. */
void clock_advance(gint64 us);

#endif
