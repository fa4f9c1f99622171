/* Unit tests for transports/purple/irc_reply.c: the server lines the IRC
 * delivery confirmation waits for, one table. */
#include <glib.h>

#include "irc_reply.h"

#define TOKEN "imgroups-"

static const struct {
    const char *line;
    irc_reply_kind kind;
    guint64 id;
    const char *target, *why;
} cases[] = {
    /* the PONG to our PING, as ngircd and others send it */
    {":irc.example PONG irc.example :imgroups-42", IRC_REPLY_PONG, 42, NULL,
     NULL},
    {"PONG :imgroups-7", IRC_REPLY_PONG, 7, NULL, NULL},
    /* the token as a middle parameter, no trailing */
    {":irc.example PONG irc.example imgroups-9", IRC_REPLY_PONG, 9, NULL, NULL},
    /* a PONG to someone else's PING */
    {":irc.example PONG irc.example :LAG123", IRC_REPLY_OTHER, 0, NULL, NULL},
    {":irc.example PONG", IRC_REPLY_OTHER, 0, NULL, NULL},
    /* refusals name their target; the reason is the trailing text */
    {":irc.example 401 bot alice :No such nick or channel name",
     IRC_REPLY_REFUSED, 0, "alice", "No such nick or channel name"},
    {":irc.example 403 bot #gone :No such channel", IRC_REPLY_REFUSED, 0,
     "#gone", "No such channel"},
    {":irc.example 404 bot #moderated :Cannot send to channel",
     IRC_REPLY_REFUSED, 0, "#moderated", "Cannot send to channel"},
    {":irc.example 401 bot alice", IRC_REPLY_REFUSED, 0, "alice", NULL},
    /* too short to name a target, or another numeric */
    {":irc.example 401 bot", IRC_REPLY_OTHER, 0, NULL, NULL},
    {":irc.example 402 bot alice :No such server", IRC_REPLY_OTHER, 0, NULL,
     NULL},
    {":alice!a@host PRIVMSG bot :PONG :imgroups-1", IRC_REPLY_OTHER, 0, NULL,
     NULL},
    /* a prefix and nothing else */
    {":irc.example", IRC_REPLY_OTHER, 0, NULL, NULL},
    {"", IRC_REPLY_OTHER, 0, NULL, NULL},
};

static void each_server_line_is_read_as_the_table_says(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        irc_reply r;

        g_test_message("%s", cases[i].line);
        g_assert_cmpint(irc_reply_parse(cases[i].line, TOKEN, &r), ==,
                        cases[i].kind);
        g_assert_cmpuint(r.id, ==, cases[i].id);
        g_assert_cmpstr(r.target, ==, cases[i].target);
        g_assert_cmpstr(r.why, ==, cases[i].why);
        irc_reply_clear(&r);
    }
}

static void no_line_is_nothing_the_worker_waits_for(void)
{
    irc_reply r;

    g_assert_cmpint(irc_reply_parse(NULL, TOKEN, &r), ==, IRC_REPLY_OTHER);
    g_assert_null(r.target);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/irc_reply/each_server_line_is_read_as_the_table_says",
                    each_server_line_is_read_as_the_table_says);
    g_test_add_func("/irc_reply/no_line_is_nothing_the_worker_waits_for",
                    no_line_is_nothing_the_worker_waits_for);
    return g_test_run();
}
