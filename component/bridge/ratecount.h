/* ratecount: how many events in the last minute, cheaply: sixty one-second
 * slots, no allocation (the service statistics' deliveries per minute). */
#ifndef IMGROUPS_RATECOUNT_H
#define IMGROUPS_RATECOUNT_H

#include <glib.h>

#define RATECOUNT_SLOTS 60

/* Zero-initialised is empty. */
typedef struct ratecount {
    guint slot[RATECOUNT_SLOTS]; /* events in each second, by second % 60 */
    gint64 at;                   /* the second of the newest slot */
} ratecount;

/* n events at now_us (monotonic µs, clock_now). */
void ratecount_add(ratecount *c, gint64 now_us, guint n);
/* The events of the 60 seconds up to now_us. */
guint ratecount_minute(ratecount *c, gint64 now_us);

#endif
