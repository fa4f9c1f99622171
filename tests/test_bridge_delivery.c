/* Tests for delivery: how a room line and a digest read over IM. */
#include <string.h>

#include "bridge_int.h"
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


static void a_target_gets_lines_with_a_body_said_by_someone_else(void)
{
    static const struct {
        const char *account, *handle, *body;
        char kind;
        const char *target;
        gboolean want;
    } cases[] = {
        /* an XMPP occupant's line goes to every member and chat */
        {NULL, NULL, "hi", 'i', "bob", TRUE},
        {NULL, NULL, "hi", 'c', "#chan", TRUE},
        /* a subject change alone is no line */
        {NULL, NULL, NULL, 'i', "bob", FALSE},
        /* a member's own line is not echoed to them; others get it */
        {"irc", "bob", "hi", 'i', "bob", FALSE},
        {"irc", "bob", "hi", 'i', "carol", TRUE},
        {"msn", "bob", "hi", 'i', "bob", TRUE},
        /* a chat's lines do not go back to that chat */
        {"irc", "someone", "hi", 'c', "#chan", FALSE},
        {"msn", "someone", "hi", 'c', "#chan", TRUE},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        archive_msg m = {.sender_account = (char *)cases[i].account,
                         .sender_handle = (char *)cases[i].handle,
                         .body = (char *)cases[i].body,
                         .subject = cases[i].body ? NULL : "topic"};
        g_assert_cmpint(
            delivery_for(&m, "irc", cases[i].kind, cases[i].target), ==,
            cases[i].want);
    }
}

/* A line said in a group wakes the pump only when one of its bot accounts
 * has someone to reach; otherwise it costs the main loop nothing. */
static void a_line_wakes_the_pump_only_when_someone_can_be_reached(void)
{
    bridge b = {.accts = g_hash_table_new(g_str_hash, g_str_equal)};
    bacct a = {.b = &b, .name = "irc", .group = "club", .up = TRUE};

    a.online = g_hash_table_new(g_str_hash, g_str_equal);
    a.dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(b.accts, a.name, &a);

    delivery_woken("club", &b); /* nobody online */
    g_assert_cmpuint(b.pump_id, ==, 0);
    g_hash_table_insert(a.online, "bob", "");
    delivery_woken("other", &b); /* another group's line */
    g_assert_cmpuint(b.pump_id, ==, 0);
    delivery_woken("club", &b);
    g_assert_cmpuint(b.pump_id, !=, 0);
    g_assert_true(g_hash_table_contains(a.dirty, "ibob"));

    g_source_remove(b.pump_id);
    g_hash_table_destroy(a.dirty);
    g_hash_table_destroy(a.online);
    g_hash_table_destroy(b.accts);
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
    g_test_add_func(
        "/delivery/a_target_gets_lines_with_a_body_said_by_someone_else",
        a_target_gets_lines_with_a_body_said_by_someone_else);
    g_test_add_func(
        "/delivery/a_line_wakes_the_pump_only_when_someone_can_be_reached",
        a_line_wakes_the_pump_only_when_someone_can_be_reached);
    return g_test_run();
}
