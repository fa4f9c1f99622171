/* Tests for outq: the component link's output queue. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "outq.h"

static GBytes *bytes(const char *s)
{
    return g_bytes_new(s, strlen(s));
}

/* Reads everything available on fd (non-blocking) into a string. */
static char *drain(int fd)
{
    GString *s = g_string_new(NULL);
    char buf[4096];
    ssize_t n;

    while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        g_string_append_len(s, buf, n);
    return g_string_free(s, FALSE);
}

static void framing_goes_before_the_stanzas_that_waited(void)
{
    outq *q = outq_new(10);
    int sv[2];
    char *got;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    outq_push_stanza(q, bytes("<a/>"), NULL, NULL);
    outq_push_frame(q, "<stream>");
    outq_push_frame(q, "<handshake/>");
    /* not live: only the framing may go */
    g_assert_cmpint(outq_write(q, sv[0]), ==, 0);
    got = drain(sv[1]);
    g_assert_cmpstr(got, ==, "<stream><handshake/>");
    g_free(got);
    g_assert_cmpuint(outq_stanzas(q), ==, 1);
    outq_set_live(q, TRUE);
    outq_push_stanza(q, bytes("<b to=\""), g_strdup("x@y"), bytes("\"/>"));
    g_assert_cmpint(outq_write(q, sv[0]), ==, 0);
    got = drain(sv[1]);
    g_assert_cmpstr(got, ==, "<a/><b to=\"x@y\"/>");
    g_free(got);
    g_assert_cmpuint(outq_bytes(q), ==, 0);
    g_assert_cmpuint(outq_length(q), ==, 0);
    outq_free(q);
    close(sv[0]);
    close(sv[1]);
}

static void past_queue_max_the_oldest_stanza_goes_not_the_framing(void)
{
    outq *q = outq_new(2);

    outq_push_frame(q, "<stream>");
    outq_push_stanza(q, bytes("<m1/>"), NULL, NULL);
    outq_push_stanza(q, bytes("<m2/>"), NULL, NULL);
    outq_push_stanza(q, bytes("<m3/>"), NULL, NULL);
    g_assert_cmpuint(outq_stanzas(q), ==, 2);
    g_assert_cmpuint(outq_length(q), ==, 3);
    g_assert_cmpuint(outq_bytes(q), ==, strlen("<stream><m2/><m3/>"));
    g_assert_cmpuint(outq_take_dropped(q), ==, 1);
    g_assert_cmpuint(outq_take_dropped(q), ==, 0);
    outq_free(q);
}

static void a_reset_drops_framing_and_resends_a_cut_stanza_whole(void)
{
    outq *q = outq_new(10);
    int sv[2];
    int small = 1;
    GString *big = g_string_new("<big>");

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    /* a small send buffer: the big stanza is cut */
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    for (int i = 0; i < 100000; i++)
        g_string_append_c(big, 'x');
    g_string_append(big, "</big>");
    outq_set_live(q, TRUE);
    outq_push_stanza(q, g_bytes_new(big->str, big->len), NULL, NULL);
    outq_push_frame(q, "</stream>");
    g_assert_cmpint(outq_write(q, sv[0]), ==, 0);
    g_assert_cmpuint(outq_bytes(q), >, 0);
    g_assert_cmpuint(outq_bytes(q), <, big->len + 9);
    /* the link drops: what is left goes again, whole, without framing */
    outq_set_live(q, FALSE);
    g_assert_cmpuint(outq_reset(q), ==, 1);
    g_assert_cmpuint(outq_length(q), ==, 1);
    g_assert_cmpuint(outq_bytes(q), ==, big->len);
    close(sv[0]);
    close(sv[1]);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    outq_set_live(q, TRUE);
    while (outq_bytes(q)) {
        g_assert_cmpint(outq_write(q, sv[0]), ==, 0);
        g_free(drain(sv[1]));
    }
    g_assert_cmpuint(outq_length(q), ==, 0);
    outq_free(q);
    close(sv[0]);
    close(sv[1]);
    g_string_free(big, TRUE);
}

static void a_failed_turn_withdraws_what_it_queued(void)
{
    outq *q = outq_new(10);
    guint before;

    outq_set_live(q, TRUE);
    outq_push_stanza(q, bytes("<keep/>"), NULL, NULL);
    before = outq_length(q);
    outq_push_stanza(q, bytes("<x/>"), NULL, NULL);
    outq_push_stanza(q, bytes("<y/>"), NULL, NULL);
    g_assert_cmpuint(outq_withdraw_after(q, before), ==, 2);
    g_assert_cmpuint(outq_stanzas(q), ==, 1);
    g_assert_cmpuint(outq_bytes(q), ==, strlen("<keep/>"));
    outq_free(q);
}

static void a_closed_peer_is_an_error(void)
{
    outq *q = outq_new(10);
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    close(sv[1]);
    outq_set_live(q, TRUE);
    outq_push_stanza(q, bytes("<a/>"), NULL, NULL);
    g_assert_cmpint(outq_write(q, sv[0]), ==, -1);
    close(sv[0]);
    outq_free(q);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    log_set_level(LOG_ERROR);
    g_test_add_func("/outq/framing_goes_before_the_stanzas_that_waited",
                    framing_goes_before_the_stanzas_that_waited);
    g_test_add_func(
        "/outq/past_queue_max_the_oldest_stanza_goes_not_the_framing",
        past_queue_max_the_oldest_stanza_goes_not_the_framing);
    g_test_add_func(
        "/outq/a_reset_drops_framing_and_resends_a_cut_stanza_whole",
        a_reset_drops_framing_and_resends_a_cut_stanza_whole);
    g_test_add_func("/outq/a_failed_turn_withdraws_what_it_queued",
                    a_failed_turn_withdraws_what_it_queued);
    g_test_add_func("/outq/a_closed_peer_is_an_error",
                    a_closed_peer_is_an_error);
    return g_test_run();
}
