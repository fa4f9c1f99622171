/* Tests for outq: the component link's output queue. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "outq.h"
#include "xmltext.h"

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
    outq_push_stanza(q, bytes("<a/>"));
    outq_push_frame(q, "<stream>");
    outq_push_frame(q, "<handshake/>");
    /* not live: only the framing may go */
    g_assert_cmpint(outq_write(q, sv[0]), ==, 0);
    got = drain(sv[1]);
    g_assert_cmpstr(got, ==, "<stream><handshake/>");
    g_free(got);
    g_assert_cmpuint(outq_stanzas(q), ==, 1);
    outq_set_live(q, TRUE);
    {
        outq_text *t = outq_text_new("<b to=\"\"/>", 10, 7);
        outq_push_copy(q, t, "x@y");
        outq_text_unref(t);
    }
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
    outq_push_stanza(q, bytes("<m1/>"));
    outq_push_stanza(q, bytes("<m2/>"));
    outq_push_stanza(q, bytes("<m3/>"));
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
    outq_push_stanza(q, g_bytes_new(big->str, big->len));
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
    outq_push_stanza(q, bytes("<keep/>"));
    before = outq_length(q);
    outq_push_stanza(q, bytes("<x/>"));
    outq_push_stanza(q, bytes("<y/>"));
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
    outq_push_stanza(q, bytes("<a/>"));
    g_assert_cmpint(outq_write(q, sv[0]), ==, -1);
    close(sv[0]);
    outq_free(q);
}

static void a_copy_escapes_its_recipient_as_an_attribute_value(void)
{
    static const struct {
        const char *to, *want;
    } cases[] = {
        {"x@y/r", "<m to=\"x@y/r\"/>"},
        {"x@y/a&b", "<m to=\"x@y/a&amp;b\"/>"},
        {"x@y/\"q\"", "<m to=\"x@y/&quot;q&quot;\"/>"},
        {"x@y/<'>", "<m to=\"x@y/&lt;&apos;&gt;\"/>"},
        {"", "<m to=\"\"/>"},
    };
    outq_text *t = outq_text_new("<m to=\"\"/>", 10, 7);
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        outq *q = outq_new(10);
        char *got;
        outq_set_live(q, TRUE);
        outq_push_copy(q, t, cases[i].to);
        g_assert_cmpuint(outq_bytes(q), ==,
                         outq_text_len(t) + xmltext_escaped_len(cases[i].to, strlen(cases[i].to)));
        g_assert_cmpuint(outq_bytes(q), ==, strlen(cases[i].want));
        g_assert_cmpint(outq_write(q, sv[0]), ==, 0);
        got = drain(sv[1]);
        g_assert_cmpstr(got, ==, cases[i].want);
        g_free(got);
        outq_free(q);
    }
    outq_text_unref(t);
    close(sv[0]);
    close(sv[1]);
}

/* More copies than one sendmsg() takes pieces: all leave, in order. */
static void many_copies_of_one_text_arrive_whole_and_in_order(void)
{
    outq *q = outq_new(10);
    outq_text *t = outq_text_new("<m to=\"\"><body>hi</body></m>", 28, 7);
    GString *want = g_string_new(NULL);
    GString *got = g_string_new(NULL);
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    outq_set_live(q, TRUE);
    for (int i = 0; i < 2000; i++) {
        char to[32];
        g_snprintf(to, sizeof to, "u%d@x/r", i);
        outq_push_copy(q, t, to);
        g_string_append_printf(want, "<m to=\"%s\"><body>hi</body></m>", to);
    }
    /* the queue holds the references now */
    outq_text_unref(t);
    g_assert_cmpuint(outq_stanzas(q), ==, 2000);
    g_assert_cmpuint(outq_bytes(q), ==, want->len);
    while (outq_bytes(q)) {
        char *part;
        g_assert_cmpint(outq_write(q, sv[0]), ==, 0);
        part = drain(sv[1]);
        g_string_append(got, part);
        g_free(part);
    }
    g_assert_cmpstr(got->str, ==, want->str);
    g_assert_cmpuint(outq_length(q), ==, 0);
    outq_free(q);
    close(sv[0]);
    close(sv[1]);
    g_string_free(want, TRUE);
    g_string_free(got, TRUE);
}

static void withdrawn_copies_leave_the_earlier_stanzas(void)
{
    outq *q = outq_new(10);
    outq_text *t = outq_text_new("<m to=\"\"/>", 10, 7);
    guint before;

    outq_set_live(q, TRUE);
    outq_push_stanza(q, bytes("<keep/>"));
    before = outq_length(q);
    outq_push_copy(q, t, "a@x");
    outq_push_copy(q, t, "b@x");
    outq_text_unref(t);
    g_assert_cmpuint(outq_withdraw_after(q, before), ==, 2);
    g_assert_cmpuint(outq_bytes(q), ==, strlen("<keep/>"));
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
    g_test_add_func(
        "/outq/a_copy_escapes_its_recipient_as_an_attribute_value",
        a_copy_escapes_its_recipient_as_an_attribute_value);
    g_test_add_func("/outq/many_copies_of_one_text_arrive_whole_and_in_order",
                    many_copies_of_one_text_arrive_whole_and_in_order);
    g_test_add_func("/outq/withdrawn_copies_leave_the_earlier_stanzas",
                    withdrawn_copies_leave_the_earlier_stanzas);
    return g_test_run();
}
