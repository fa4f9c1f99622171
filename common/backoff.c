/* backoff: the retry schedule shared by the link, the workers and the bots. */
#include "backoff.h"

void backoff_init(backoff *b, guint first_ms, guint max_ms, gint64 stable_us)
{
    b->first_ms = first_ms ? first_ms : 1;
    b->max_ms = MAX(max_ms, b->first_ms);
    b->stable_us = stable_us;
    b->next_ms = 0;
    b->up_at = 0;
}

void backoff_up(backoff *b, gint64 now)
{
    b->up_at = now ? now : 1;
}

void backoff_reset(backoff *b)
{
    b->next_ms = 0;
    b->up_at = 0;
}

guint backoff_next(backoff *b, gint64 now, gboolean fatal)
{
    guint base;
    double jittered;

    if (b->up_at && now - b->up_at >= b->stable_us)
        b->next_ms = 0;
    b->up_at = 0;
    base = b->next_ms ? b->next_ms : b->first_ms;
    if (fatal)
        base = b->max_ms;
    b->next_ms = base >= b->max_ms / 2 ? b->max_ms : base * 2;
    /* ±25 %, so that many peers failing together spread out; never past
     * the cap. Drawn once: MIN() evaluates its arguments twice. */
    jittered = base * g_random_double_range(0.75, 1.25);
    return (guint)MIN((double)b->max_ms, jittered);
}
