/* Tests for delivery: how a room line and a digest read over IM. */
#include <string.h>

#include "delivery.h"

static void a_line_reads_as_nick_then_body_and_an_action_as_a_star(void)
{
    static const struct {
        const char *nick, *body, *want;
    } cases[] = {
        {"alice", "hi", "<alice> hi"},
        {"alice", "/me waves", "* alice waves"},
        {"", "Welcome", "Welcome"},
        {"", "/me stays", "/me stays"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *t = delivery_render(cases[i].nick, cases[i].body);
        g_assert_cmpstr(t, ==, cases[i].want);
        g_free(t);
    }
}

static void a_digest_counts_everything_and_shows_the_last_lines(void)
{
    GQueue lines = G_QUEUE_INIT;
    char *t;

    g_queue_push_tail(&lines, "<a> 9");
    g_queue_push_tail(&lines, "<b> 10");
    t = delivery_digest(10, &lines);
    g_assert_cmpstr(t, ==,
                    "(10 messages while you were away; the last 2:)\n"
                    "<a> 9\n<b> 10");
    g_free(t);
    g_queue_clear(&lines);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func(
        "/delivery/a_line_reads_as_nick_then_body_and_an_action_as_a_star",
        a_line_reads_as_nick_then_body_and_an_action_as_a_star);
    g_test_add_func(
        "/delivery/a_digest_counts_everything_and_shows_the_last_lines",
        a_digest_counts_everything_and_shows_the_last_lines);
    return g_test_run();
}
