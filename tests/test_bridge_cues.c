/* test_bridge_cues: the pacing of a bot's typing (bridge/cues.c), times
 * passed in: one update per CUES_PACE_US whatever the typists do, the
 * busiest typist wins, stale typists lapse, a body ends typing. */
#include <glib.h>

#include "cues.h"

#define S(n) ((gint64)(n)*G_USEC_PER_SEC)

typedef struct fixture {
    cues_pace p;
} fixture;

static void setup(fixture *f, gconstpointer data)
{
    cues_pace_init(&f->p);
}

static void teardown(fixture *f, gconstpointer data)
{
    cues_pace_clear(&f->p);
}

/* What is due at now, sent if so: the state, or -1 with *next. */
static int tick(fixture *f, gint64 now, gint64 *next)
{
    int state;
    gint64 n = 0;

    if (!cues_pace_due(&f->p, now, &state, &n)) {
        if (next)
            *next = n;
        return -1;
    }
    cues_pace_sent(&f->p, state, now);
    return state;
}

static void nothing_is_sent_while_nobody_types(fixture *f, gconstpointer d)
{
    gint64 next = -1;

    g_assert_cmpint(tick(f, S(1), &next), ==, -1);
    g_assert_cmpint(next, ==, 0);
    cues_pace_note(&f->p, "a@x", "active", S(1));
    g_assert_cmpint(tick(f, S(1), &next), ==, -1);
}

static void
the_first_composing_goes_at_once_the_next_change_waits(fixture *f,
                                                       gconstpointer d)
{
    gint64 next = 0;

    cues_pace_note(&f->p, "a@x", "composing", S(10));
    g_assert_cmpint(tick(f, S(10), NULL), ==, CUES_COMPOSING);
    cues_pace_note(&f->p, "a@x", "paused", S(11));
    g_assert_cmpint(tick(f, S(11), &next), ==, -1);
    g_assert_cmpint(next, ==, S(10) + CUES_PACE_US);
    g_assert_cmpint(tick(f, next, NULL), ==, CUES_PAUSED);
}

static void a_busy_typist_costs_one_update_per_pace(fixture *f, gconstpointer d)
{
    guint sent = 0;

    /* composing and paused every 100 ms for a minute: 1 200 changes */
    for (gint64 t = 0; t < S(60); t += G_USEC_PER_SEC / 10) {
        cues_pace_note(&f->p, "a@x",
                       (t / (G_USEC_PER_SEC / 10)) % 2 ? "paused" : "composing",
                       S(100) + t);
        if (tick(f, S(100) + t, NULL) >= 0)
            sent++;
    }
    g_test_message("%u updates", sent);
    g_assert_cmpuint(sent, <=, S(60) / CUES_PACE_US + 1);
    g_assert_cmpuint(sent, >=, 1);
}

static void
the_busiest_typist_wins_and_the_last_to_stop_ends_it(fixture *f,
                                                     gconstpointer d)
{
    cues_pace_note(&f->p, "a@x", "paused", S(1));
    cues_pace_note(&f->p, "b@x", "composing", S(1));
    g_assert_cmpint(tick(f, S(1), NULL), ==, CUES_COMPOSING);
    cues_pace_note(&f->p, "b@x", "active", S(20));
    g_assert_cmpint(tick(f, S(20), NULL), ==, CUES_PAUSED);
    cues_pace_note(&f->p, "a@x", "gone", S(30));
    g_assert_cmpint(tick(f, S(30), NULL), ==, CUES_ACTIVE);
}

static void composing_is_said_again_each_pace_while_it_lasts(fixture *f,
                                                             gconstpointer d)
{
    gint64 next = 0;

    cues_pace_note(&f->p, "a@x", "composing", S(1));
    g_assert_cmpint(tick(f, S(1), &next), ==, CUES_COMPOSING);
    g_assert_cmpint(tick(f, S(2), &next), ==, -1);
    g_assert_cmpint(next, ==, S(1) + CUES_PACE_US);
    g_assert_cmpint(tick(f, next, NULL), ==, CUES_COMPOSING);
    /* paused is said once */
    cues_pace_note(&f->p, "a@x", "paused", S(7));
    g_assert_cmpint(tick(f, S(1) + 2 * CUES_PACE_US, &next), ==, CUES_PAUSED);
    g_assert_cmpint(tick(f, S(1) + 3 * CUES_PACE_US, &next), ==, -1);
    g_assert_cmpint(next, ==, S(7) + CUES_STALE_US);
}

static void a_typist_never_heard_again_lapses(fixture *f, gconstpointer d)
{
    gint64 t = S(1), next = 0;
    int state = CUES_COMPOSING;

    cues_pace_note(&f->p, "a@x", "composing", S(1));
    /* composing each pace, then active once the typist is stale */
    while (state == CUES_COMPOSING) {
        state = tick(f, t, &next);
        g_assert_cmpint(state, !=, -1);
        g_assert_cmpint(t, <=, S(1) + CUES_STALE_US);
        t += CUES_PACE_US;
    }
    g_assert_cmpint(state, ==, CUES_ACTIVE);
    g_assert_cmpint(tick(f, t, &next), ==, -1);
    g_assert_cmpint(next, ==, 0);
}

static void unknown_states_are_ignored(fixture *f, gconstpointer d)
{
    cues_pace_note(&f->p, "a@x", "dancing", S(1));
    g_assert_cmpint(tick(f, S(1), NULL), ==, -1);
    g_assert_cmpstr(cues_state_name(CUES_PAUSED), ==, "paused");
    g_assert_cmpstr(cues_state_name(CUES_COMPOSING), ==, "composing");
    g_assert_cmpstr(cues_state_name(CUES_ACTIVE), ==, "active");
}

#define T(fn)                                                                  \
    g_test_add("/bridge_cues/" #fn, fixture, NULL, setup, fn, teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    T(nothing_is_sent_while_nobody_types);
    T(the_first_composing_goes_at_once_the_next_change_waits);
    T(a_busy_typist_costs_one_update_per_pace);
    T(the_busiest_typist_wins_and_the_last_to_stop_ends_it);
    T(composing_is_said_again_each_pace_while_it_lasts);
    T(a_typist_never_heard_again_lapses);
    T(unknown_states_are_ignored);
    return g_test_run();
}
