/* test_uplink: the component link against an in-process XEP-0114 server
 * (a thread with a blocking socket playing the XMPP server's side). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "log.h"
#include "uplink.h"

typedef struct server {
    int lfd; /* bound; listen() only once 'open' is set */
    guint16 port;
    gboolean listen_now;
    GThread *thread;
    GString *got; /* everything received after the handshake */
    GMutex lock;
    GCond cond;
    const char *push; /* a stanza to send after the handshake, or NULL */
    const char *want; /* stop reading once 'got' contains this */
    gboolean done;
} server;

static gboolean read_until(int fd, GString *buf, const char *needle)
{
    char chunk[4096];

    while (!strstr(buf->str, needle)) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            return FALSE;
        g_string_append_len(buf, chunk, n);
    }
    return TRUE;
}

static gpointer server_main(gpointer data)
{
    server *s = data;
    GString *in = g_string_new(NULL);
    const char *header =
        "<?xml version='1.0'?><stream:stream "
        "xmlns='jabber:component:accept' "
        "xmlns:stream='http://etherx.jabber.org/streams' id='t1' "
        "from='groups.localhost'>";
    int fd;

    g_assert_cmpint(listen(s->lfd, 4), ==, 0);
    fd = accept(s->lfd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(read_until(fd, in, "jabber:component:accept"));
    g_assert_true(read_until(fd, in, ">"));
    g_assert_cmpint(write(fd, header, strlen(header)), ==, strlen(header));
    g_assert_true(read_until(fd, in, "</handshake>"));
    g_assert_cmpint(write(fd, "<handshake/>", 12), ==, 12);
    if (s->push)
        g_assert_cmpint(write(fd, s->push, strlen(s->push)), ==,
                        strlen(s->push));
    g_string_truncate(in, 0);
    read_until(fd, in, s->want);
    g_mutex_lock(&s->lock);
    g_string_assign(s->got, in->str);
    s->done = TRUE;
    g_cond_signal(&s->cond);
    g_mutex_unlock(&s->lock);
    close(fd);
    g_string_free(in, TRUE);
    return NULL;
}

static void server_init(server *s, const char *push, const char *want)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);

    memset(s, 0, sizeof(*s));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    g_assert_cmpint(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(getsockname(s->lfd, (struct sockaddr *)&sa, &len), ==, 0);
    s->port = ntohs(sa.sin_port);
    s->got = g_string_new(NULL);
    s->push = push;
    s->want = want;
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
}

static void server_start(server *s)
{
    s->thread = g_thread_new("server", server_main, s);
}

static void server_clear(server *s)
{
    if (s->thread)
        g_thread_join(s->thread);
    close(s->lfd);
    g_string_free(s->got, TRUE);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
}

/* Runs the main loop until the server thread has what it waited for. */
static void run_until_done(server *s, int max_seconds)
{
    gint64 end = g_get_monotonic_time() + max_seconds * G_USEC_PER_SEC;
    gboolean done = FALSE;

    while (!done && g_get_monotonic_time() < end) {
        g_main_context_iteration(NULL, FALSE);
        g_mutex_lock(&s->lock);
        done = s->done;
        g_mutex_unlock(&s->lock);
        if (!done)
            g_usleep(1000);
    }
    g_assert_true(done);
}

static xmpp_stanza_t *message(uplink *up, const char *id)
{
    xmpp_stanza_t *st = xmpp_stanza_new(uplink_ctx(up));

    xmpp_stanza_set_name(st, "message");
    xmpp_stanza_set_id(st, id);
    xmpp_stanza_set_to(st, "someone@localhost");
    xmpp_stanza_set_from(st, "room@groups.localhost");
    return st;
}

static void send_message(uplink *up, const char *id)
{
    xmpp_stanza_t *st = message(up, id);

    uplink_send(up, st);
    xmpp_stanza_release(st);
}

/* Answers every iq get with a result: enough to see stanzas flow both
 * ways over the component link. */
static void echo_result(uplink *up, xmpp_stanza_t *st, void *userdata)
{
    xmpp_stanza_t *res = xmpp_stanza_reply(st);

    xmpp_stanza_set_type(res, "result");
    uplink_send(up, res);
    xmpp_stanza_release(res);
    (*(int *)userdata)++;
}

static void link_answers_a_stanza_after_the_handshake(void)
{
    server s;
    uplink *up = NULL;
    int seen = 0;
    uplink_params p = {.jid = "groups.localhost",
                      .host = "127.0.0.1",
                      .secret = "secret",
                      .queue_max = 100};

    /* The link parses and answers on its own socket (libstrophe 0.12's
     * component connection crashed on this first stanza). */
    server_init(&s,
                "<iq type='get' id='ping1' from='a@localhost/r' "
                "to='groups.localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
                "ping1");
    p.port = s.port;
    server_start(&s);
    g_assert_cmpint(uplink_new(&p, echo_result, NULL, &seen, &up), ==, 0);
    run_until_done(&s, 10);
    g_assert_cmpint(seen, ==, 1);
    g_assert_nonnull(strstr(s.got->str, "type=\"result\""));
    g_assert_nonnull(strstr(s.got->str, "ping1"));
    uplink_free(up);
    server_clear(&s);
}

static void stanzas_sent_while_down_arrive_in_order_after_connect(void)
{
    server s;
    uplink *up = NULL;
    uplink_params p = {.jid = "groups.localhost",
                      .host = "127.0.0.1",
                      .secret = "secret",
                      .queue_max = 100};
    const char *a, *b, *c;

    /* Nothing listens yet: the first attempt is refused, the link waits
     * for its backoff, and what is sent meanwhile must not be lost. */
    server_init(&s, NULL, "m3");
    p.port = s.port;
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &up), ==, 0);
    for (int i = 0; i < 20 && !uplink_connected(up); i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_false(uplink_connected(up));
    send_message(up, "m1");
    send_message(up, "m2");
    send_message(up, "m3");
    g_assert_cmpuint(uplink_queued(up), ==, 3);
    server_start(&s);
    run_until_done(&s, 15);
    a = strstr(s.got->str, "m1");
    b = strstr(s.got->str, "m2");
    c = strstr(s.got->str, "m3");
    g_assert_true(a && b && c && a < b && b < c);
    g_assert_cmpuint(uplink_queued(up), ==, 0);
    uplink_free(up);
    server_clear(&s);
}

static void a_full_queue_drops_the_oldest_first(void)
{
    server s;
    uplink *up = NULL;
    uplink_params p = {.jid = "groups.localhost",
                      .host = "127.0.0.1",
                      .secret = "secret",
                      .queue_max = 2};

    server_init(&s, NULL, "m3");
    p.port = s.port;
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &up), ==, 0);
    send_message(up, "m1");
    send_message(up, "m2");
    send_message(up, "m3");
    g_assert_cmpuint(uplink_queued(up), ==, 2);
    server_start(&s);
    run_until_done(&s, 15);
    g_assert_null(strstr(s.got->str, "m1"));
    g_assert_nonnull(strstr(s.got->str, "m2"));
    uplink_free(up);
    server_clear(&s);
}

static void a_stanza_over_the_limit_is_not_sent_and_the_next_one_is(void)
{
    server s;
    uplink *up = NULL;
    uplink_params p = {.jid = "groups.localhost",
                      .host = "127.0.0.1",
                      .secret = "secret",
                      .queue_max = 100};
    xmpp_stanza_t *st, *body, *text;
    GString *big = g_string_new(NULL);

    p.stanza_limit = 16384;
    server_init(&s, NULL, "after");
    p.port = s.port;
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &up), ==, 0);
    /* 3000 quotes are 18000 bytes once escaped */
    for (int i = 0; i < 3000; i++)
        g_string_append_c(big, '"');
    st = message(up, "big");
    body = xmpp_stanza_new(uplink_ctx(up));
    xmpp_stanza_set_name(body, "body");
    text = xmpp_stanza_new(uplink_ctx(up));
    xmpp_stanza_set_text(text, big->str);
    xmpp_stanza_add_child_ex(body, text, 0);
    xmpp_stanza_add_child_ex(st, body, 0);
    g_assert_cmpint(uplink_send(up, st), ==, -EMSGSIZE);
    xmpp_stanza_release(st);
    send_message(up, "after");
    g_assert_cmpuint(uplink_queued(up), ==, 1);
    server_start(&s);
    run_until_done(&s, 15);
    g_assert_null(strstr(s.got->str, "big"));
    g_assert_nonnull(strstr(s.got->str, "after"));
    uplink_free(up);
    server_clear(&s);
    g_string_free(big, TRUE);
}

static void a_fanout_sends_one_text_with_only_to_changed(void)
{
    server s;
    uplink *up = NULL;
    uplink_params p = {.jid = "groups.localhost",
                      .host = "127.0.0.1",
                      .secret = "secret",
                      .queue_max = 100};
    xmpp_stanza_t *st;
    uplink_fanout *f;
    const char *a, *b;

    server_init(&s, NULL, "b&amp;c@localhost");
    p.port = s.port;
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &up), ==, 0);
    st = message(up, "fan");
    f = uplink_fanout_new(up, st);
    g_assert_nonnull(f);
    /* the stanza itself is left as it was */
    g_assert_cmpstr(xmpp_stanza_get_to(st), ==, "someone@localhost");
    xmpp_stanza_release(st);
    g_assert_cmpint(uplink_fanout_send(f, "a@localhost/1"), ==, 0);
    g_assert_cmpint(uplink_fanout_send(f, "o'b&c@localhost"), ==, 0);
    uplink_fanout_free(f);
    server_start(&s);
    run_until_done(&s, 15);
    a = strstr(s.got->str, "to=\"a@localhost/1\"");
    b = strstr(s.got->str, "to=\"o&apos;b&amp;c@localhost\"");
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_true(a < b);
    g_assert_null(strstr(s.got->str, "someone@localhost"));
    g_assert_nonnull(strstr(strstr(s.got->str, "id=\"fan\"") + 1,
                            "id=\"fan\""));
    uplink_free(up);
    server_clear(&s);
}

static void a_fanout_of_text_fills_each_recipient_in_its_place(void)
{
    static const char text[] = "<message to=\"\" id=\"txt\"><body>hi</body>"
                               "</message>";
    server s;
    uplink *up = NULL;
    uplink_params p = {.jid = "groups.localhost",
                      .host = "127.0.0.1",
                      .secret = "secret",
                      .queue_max = 100,
                      .stanza_limit = 70};
    uplink_fanout *f;

    server_init(&s, NULL, "to=\"z@localhost\" id=\"txt\">");
    p.port = s.port;
    g_assert_cmpint(uplink_new(&p, NULL, NULL, NULL, &up), ==, 0);
    f = uplink_fanout_text(up, "message", text, strlen(text), 13);
    g_assert_cmpint(uplink_fanout_send(f, "y&z@localhost"), ==, 0);
    /* the limit counts the recipient, escaped */
    g_assert_cmpint(uplink_fanout_send(f, "a-much-longer-name@localhost/r"),
                    ==, -EMSGSIZE);
    g_assert_cmpint(uplink_fanout_send(f, "z@localhost"), ==, 0);
    uplink_fanout_free(f);
    server_start(&s);
    run_until_done(&s, 15);
    g_assert_nonnull(strstr(s.got->str,
                            "<message to=\"y&amp;z@localhost\" id=\"txt\">"
                            "<body>hi</body></message><message "
                            "to=\"z@localhost\" id=\"txt\">"));
    g_assert_null(strstr(s.got->str, "much-longer"));
    uplink_free(up);
    server_clear(&s);
}

static void an_oversized_stanza_received_is_refused_and_the_link_stays(void)
{
    server s;
    uplink *up = NULL;
    int seen = 0;
    uplink_params p = {.jid = "groups.localhost",
                      .host = "127.0.0.1",
                      .secret = "secret",
                      .queue_max = 100};
    GString *push = g_string_new(
        "<message from='a@localhost/r' to='r@groups.localhost' id='huge'>"
        "<body>");

    for (int i = 0; i < 20000; i++)
        g_string_append(push, "&quot;");
    g_string_append(push, "</body></message><iq type='get' id='ping1' "
                          "from='a@localhost/r' to='groups.localhost'>"
                          "<ping xmlns='urn:xmpp:ping'/></iq>");
    p.limits = (stream_limits){.stanza_size = 65536,
                               .elements = 64,
                               .depth = 8,
                               .attributes = 16,
                               .attribute_size = 1024};
    server_init(&s, push->str, "ping1");
    p.port = s.port;
    server_start(&s);
    g_assert_cmpint(uplink_new(&p, echo_result, NULL, &seen, &up), ==, 0);
    run_until_done(&s, 10);
    /* only the ping reached the handler; the message was answered */
    g_assert_cmpint(seen, ==, 1);
    g_assert_nonnull(strstr(s.got->str, "policy-violation"));
    g_assert_nonnull(strstr(s.got->str, "id=\"huge\""));
    uplink_free(up);
    server_clear(&s);
    g_string_free(push, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    log_set_level(g_test_verbose() ? LOG_DEBUG : LOG_ERROR);
    g_test_add_func("/uplink/link_answers_a_stanza_after_the_handshake",
                    link_answers_a_stanza_after_the_handshake);
    g_test_add_func(
        "/uplink/stanzas_sent_while_down_arrive_in_order_after_connect",
        stanzas_sent_while_down_arrive_in_order_after_connect);
    g_test_add_func("/uplink/a_full_queue_drops_the_oldest_first",
                    a_full_queue_drops_the_oldest_first);
    g_test_add_func(
        "/uplink/a_stanza_over_the_limit_is_not_sent_and_the_next_one_is",
        a_stanza_over_the_limit_is_not_sent_and_the_next_one_is);
    g_test_add_func("/uplink/a_fanout_sends_one_text_with_only_to_changed",
                    a_fanout_sends_one_text_with_only_to_changed);
    g_test_add_func(
        "/uplink/a_fanout_of_text_fills_each_recipient_in_its_place",
        a_fanout_of_text_fills_each_recipient_in_its_place);
    g_test_add_func(
        "/uplink/an_oversized_stanza_received_is_refused_and_the_link_stays",
        an_oversized_stanza_received_is_refused_and_the_link_stays);
    return g_test_run();
}
