/* Tests for ratecount: events in the last minute. */
#include "ratecount.h"

#define SEC ((gint64)G_USEC_PER_SEC)

static void a_count_holds_the_last_sixty_seconds(void)
{
    ratecount c = {0};
    gint64 t = 1000 * SEC;

    g_assert_cmpuint(ratecount_minute(&c, t), ==, 0);
    ratecount_add(&c, t, 3);
    ratecount_add(&c, t + SEC / 2, 1);
    ratecount_add(&c, t + 30 * SEC, 2);
    g_assert_cmpuint(ratecount_minute(&c, t + 30 * SEC), ==, 6);
    /* the first second's events leave the window sixty seconds on */
    g_assert_cmpuint(ratecount_minute(&c, t + 59 * SEC), ==, 6);
    g_assert_cmpuint(ratecount_minute(&c, t + 60 * SEC), ==, 2);
    g_assert_cmpuint(ratecount_minute(&c, t + 90 * SEC), ==, 0);
}

static void a_long_silence_empties_every_slot(void)
{
    ratecount c = {0};
    gint64 t = 1000 * SEC;

    for (int i = 0; i < 60; i++)
        ratecount_add(&c, t + i * SEC, 1);
    g_assert_cmpuint(ratecount_minute(&c, t + 59 * SEC), ==, 60);
    /* an hour later: nothing, and a new event counts alone */
    ratecount_add(&c, t + 3600 * SEC, 1);
    g_assert_cmpuint(ratecount_minute(&c, t + 3600 * SEC), ==, 1);
}

static void a_clock_read_earlier_changes_nothing(void)
{
    ratecount c = {0};
    gint64 t = 1000 * SEC;

    ratecount_add(&c, t, 2);
    /* an event stamped before the newest second counts in the newest */
    ratecount_add(&c, t - 5 * SEC, 1);
    g_assert_cmpuint(ratecount_minute(&c, t - 5 * SEC), ==, 3);
    g_assert_cmpuint(ratecount_minute(&c, t + 59 * SEC), ==, 3);
    g_assert_cmpuint(ratecount_minute(&c, t + 60 * SEC), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ratecount/a_count_holds_the_last_sixty_seconds",
                    a_count_holds_the_last_sixty_seconds);
    g_test_add_func("/ratecount/a_long_silence_empties_every_slot",
                    a_long_silence_empties_every_slot);
    g_test_add_func("/ratecount/a_clock_read_earlier_changes_nothing",
                    a_clock_read_earlier_changes_nothing);
    return g_test_run();
}
