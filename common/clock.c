/* clock: GLib's clocks plus a test offset. */
#include "clock.h"

static gint64 offset_us;

gint64 clock_now(void)
{
    return g_get_monotonic_time() + offset_us;
}

gint64 clock_real(void)
{
    return g_get_real_time() + offset_us;
}

void clock_advance(gint64 us)
{
    offset_us += us;
}
