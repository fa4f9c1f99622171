/* Unit tests for common/backoff.c: the schedules of the bots' reconnects
 * and of the workers' restarts, with an injected clock. */
#include <glib.h>

#include "backoff.h"
#include "clock.h"

#define S ((gint64)G_USEC_PER_SEC)

/* The numbers the callers use (transports/purple/account.c,
 * component/bridge/legacy.c). */
static const struct schedule {
    const char *who;
    guint first_ms, max_ms;
    gint64 stable_us;
} bot = {"bot", 1000, 5 * 60 * 1000, 60 * S},
  worker = {"worker", 1000, 60 * 1000, 60 * S};

/* delay is within ±25 % of base, never past the cap. */
static void assert_jittered(guint delay, guint base, guint max_ms)
{
    g_assert_cmpuint(delay, >=, (guint)(base * 0.75));
    g_assert_cmpuint(delay, <=, MIN((guint)(base * 1.25), max_ms));
}

/* Failures one after another, never up in between: the bases expected,
 * then the cap for good. */
static const struct {
    const struct schedule *s;
    guint bases[12];
} doubling[] = {
    {&bot,
     {1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000,
      300000, 300000}},
    {&worker,
     {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000, 60000,
      60000}},
};

static void each_failure_doubles_the_delay_up_to_the_cap(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(doubling); i++) {
        const struct schedule *s = doubling[i].s;
        backoff b;
        gint64 now = 1000 * S;

        g_test_message("%s", s->who);
        backoff_init(&b, s->first_ms, s->max_ms, s->stable_us);
        for (gsize k = 0; k < G_N_ELEMENTS(doubling[i].bases); k++) {
            guint d = backoff_next(&b, now, FALSE);

            assert_jittered(d, doubling[i].bases[k], s->max_ms);
            now += (gint64)d * 1000;
        }
    }
}

/* Up at 0, failing after up_for: whether the schedule started again. */
static const struct {
    const struct schedule *s;
    gint64 up_for;
    gboolean afresh;
} stability[] = {
    {&bot, 60 * S, TRUE},    {&bot, 59 * S, FALSE},    {&bot, 3600 * S, TRUE},
    {&worker, 60 * S, TRUE}, {&worker, 59 * S, FALSE}, {&worker, 1 * S, FALSE},
};

static void a_failure_after_the_stable_period_starts_from_the_first_delay(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(stability); i++) {
        const struct schedule *s = stability[i].s;
        backoff b;
        gint64 now = 1000 * S;
        guint d;

        g_test_message("%s up for %" G_GINT64_FORMAT " s", s->who,
                       stability[i].up_for / S);
        backoff_init(&b, s->first_ms, s->max_ms, s->stable_us);
        /* Three failures: the next base is 8 s. */
        for (int k = 0; k < 3; k++)
            backoff_next(&b, now, FALSE);
        backoff_up(&b, now);
        d = backoff_next(&b, now + stability[i].up_for, FALSE);
        assert_jittered(d, stability[i].afresh ? s->first_ms : 8000, s->max_ms);
    }
}

static void a_fatal_failure_starts_at_the_cap(void)
{
    backoff b;

    backoff_init(&b, bot.first_ms, bot.max_ms, bot.stable_us);
    assert_jittered(backoff_next(&b, 1, TRUE), bot.max_ms, bot.max_ms);
    /* and stays there */
    assert_jittered(backoff_next(&b, 2, FALSE), bot.max_ms, bot.max_ms);
}

static void a_reset_forgets_the_history(void)
{
    backoff b;

    backoff_init(&b, worker.first_ms, worker.max_ms, worker.stable_us);
    for (int k = 0; k < 5; k++)
        backoff_next(&b, 1, FALSE);
    backoff_reset(&b);
    assert_jittered(backoff_next(&b, 2, FALSE), worker.first_ms, worker.max_ms);
}

/* Many peers failing together spread out: the delays fill the ±25 %
 * band, and never leave it. */
static void the_jitter_spreads_delays_within_a_quarter_either_way(void)
{
    guint lo = G_MAXUINT, hi = 0;

    for (int k = 0; k < 400; k++) {
        backoff b;
        guint d;

        backoff_init(&b, 1000, 60000, 60 * S);
        d = backoff_next(&b, 1, FALSE);
        assert_jittered(d, 1000, 60000);
        lo = MIN(lo, d);
        hi = MAX(hi, d);
    }
    g_assert_cmpuint(lo, <, 850);
    g_assert_cmpuint(hi, >, 1150);
}

/* The injectable clock: a minute of uptime passes without a sleep. */
static void the_clock_advanced_a_minute_counts_as_stable_uptime(void)
{
    backoff b;

    backoff_init(&b, worker.first_ms, worker.max_ms, worker.stable_us);
    for (int k = 0; k < 4; k++)
        backoff_next(&b, clock_now(), FALSE);
    backoff_up(&b, clock_now());
    clock_advance(60 * S);
    assert_jittered(backoff_next(&b, clock_now(), FALSE), worker.first_ms,
                    worker.max_ms);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/backoff/each_failure_doubles_the_delay_up_to_the_cap",
                    each_failure_doubles_the_delay_up_to_the_cap);
    g_test_add_func(
        "/backoff/a_failure_after_the_stable_period_starts_from_the_first_"
        "delay",
        a_failure_after_the_stable_period_starts_from_the_first_delay);
    g_test_add_func("/backoff/a_fatal_failure_starts_at_the_cap",
                    a_fatal_failure_starts_at_the_cap);
    g_test_add_func("/backoff/a_reset_forgets_the_history",
                    a_reset_forgets_the_history);
    g_test_add_func(
        "/backoff/the_jitter_spreads_delays_within_a_quarter_either_way",
        the_jitter_spreads_delays_within_a_quarter_either_way);
    g_test_add_func(
        "/backoff/the_clock_advanced_a_minute_counts_as_stable_uptime",
        the_clock_advanced_a_minute_counts_as_stable_uptime);
    return g_test_run();
}
