/* ratecount: events per minute in sixty one-second slots. */
#include "ratecount.h"

/* Moves the window to the second of now_us: the slots of the seconds
 * passed since the newest are emptied (all of them after a minute). */
static void advance(ratecount *c, gint64 now_us)
{
    gint64 sec = now_us / G_USEC_PER_SEC;

    if (sec <= c->at)
        return;
    if (sec - c->at >= RATECOUNT_SLOTS) {
        for (guint i = 0; i < RATECOUNT_SLOTS; i++)
            c->slot[i] = 0;
    } else {
        for (gint64 s = c->at + 1; s <= sec; s++)
            c->slot[s % RATECOUNT_SLOTS] = 0;
    }
    c->at = sec;
}

void ratecount_add(ratecount *c, gint64 now_us, guint n)
{
    advance(c, now_us);
    c->slot[c->at % RATECOUNT_SLOTS] += n;
}

guint ratecount_minute(ratecount *c, gint64 now_us)
{
    guint n = 0;

    advance(c, now_us);
    for (guint i = 0; i < RATECOUNT_SLOTS; i++)
        n += c->slot[i];
    return n;
}
