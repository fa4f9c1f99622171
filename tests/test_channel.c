/* Unit tests for transports/channel.c: one end of a socketpair driven by the
 * main loop, the test playing the peer on the other end. Waits are for
 * events (with a watchdog), never for time. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "channel.h"

typedef struct fixture {
    int peer;        /* the test's end */
    channel *ch;     /* the other end */
    GPtrArray *seen; /* "type:first string" of each message, in order */
    guint turns;
    guint closed; /* how many closed callbacks */
    int status;
    char *why;
    guint drained;
    gboolean close_on_message; /* channel_close() from the first message */
} fixture;

static void on_message(channel *ch, enum proto_type t, GVariant *body,
                       void *data)
{
    fixture *f = data;
    const char *s = "";

    if (g_variant_n_children(body) > 0) {
        GVariant *c = g_variant_get_child_value(body, 0);

        if (g_variant_is_of_type(c, G_VARIANT_TYPE_STRING))
            s = g_intern_string(g_variant_get_string(c, NULL));
        g_variant_unref(c);
    }
    g_ptr_array_add(f->seen, g_strdup_printf("%s:%s", proto_name(t), s));
    if (f->close_on_message)
        channel_close(ch);
}

static void on_turn(void (*fn)(void *), void *arg, void *data)
{
    fixture *f = data;

    f->turns++;
    fn(arg);
}

static void on_closed(channel *ch, int status, const char *why, void *data)
{
    fixture *f = data;

    f->closed++;
    f->status = status;
    g_free(f->why);
    f->why = g_strdup(why);
}

static void on_drained(channel *ch, void *data)
{
    fixture *f = data;

    f->drained++;
}

static const channel_events events = {
    .message = on_message,
    .turn = on_turn,
    .closed = on_closed,
    .drained = on_drained,
};

static void setup(fixture *f, gconstpointer unused)
{
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==,
                    0);
    memset(f, 0, sizeof *f);
    f->peer = sv[0];
    f->seen = g_ptr_array_new_with_free_func(g_free);
    f->ch = channel_new(sv[1], &events, f);
}

static void teardown(fixture *f, gconstpointer unused)
{
    channel_free(f->ch);
    if (f->peer >= 0)
        close(f->peer);
    g_ptr_array_unref(f->seen);
    g_free(f->why);
}

static gboolean watchdog(gpointer data)
{
    g_error("waited 10 s for %s", (const char *)data);
    return G_SOURCE_REMOVE;
}

/* Runs the main loop until *counter reaches n. */
static void wait_for(guint *counter, guint n, const char *what)
{
    guint dog = g_timeout_add_seconds(10, watchdog, (gpointer)what);

    while (*counter < n)
        g_main_context_iteration(NULL, TRUE);
    g_source_remove(dog);
}

/* Runs whatever is ready now, without blocking. */
static void run_pending(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static GBytes *frame(enum proto_type t, GVariant *body)
{
    GBytes *b = proto_encode(t, body, NULL);

    g_assert_nonnull(b);
    return b;
}

static void peer_write(fixture *f, const void *p, gsize n)
{
    g_assert_cmpint(write(f->peer, p, n), ==, (gssize)n);
}

static void peer_write_frame(fixture *f, GBytes *b)
{
    gsize n;
    const void *p = g_bytes_get_data(b, &n);

    peer_write(f, p, n);
    g_bytes_unref(b);
}

static GVariant *down(const char *account)
{
    return g_variant_new("(ss)", account, "why");
}

static void a_frame_cut_into_single_bytes_arrives_whole(fixture *f,
                                                        gconstpointer u)
{
    GBytes *b = frame(PROTO_ACCOUNT_DOWN, down("irc"));
    gsize n;
    const guint8 *p = g_bytes_get_data(b, &n);

    for (gsize i = 0; i + 1 < n; i++) {
        peer_write(f, p + i, 1);
        run_pending();
    }
    g_assert_cmpuint(f->seen->len, ==, 0);
    peer_write(f, p + n - 1, 1);
    wait_for(&f->seen->len, 1, "the message");
    g_assert_cmpstr(g_ptr_array_index(f->seen, 0), ==, "account_down:irc");
    g_bytes_unref(b);
}

static void many_frames_in_one_read_arrive_in_order_in_one_turn(fixture *f,
                                                                gconstpointer u)
{
    GByteArray *all = g_byte_array_new();
    const char *names[] = {"a", "b", "c", "d"};

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        GBytes *b = frame(PROTO_ACCOUNT_DOWN, down(names[i]));
        gsize n;
        const guint8 *p = g_bytes_get_data(b, &n);

        g_byte_array_append(all, p, (guint)n);
        g_bytes_unref(b);
    }
    peer_write(f, all->data, all->len);
    wait_for(&f->seen->len, 4, "four messages");
    g_assert_cmpuint(f->turns, ==, 1);
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        char *want = g_strdup_printf("account_down:%s", names[i]);

        g_assert_cmpstr(g_ptr_array_index(f->seen, i), ==, want);
        g_free(want);
    }
    g_byte_array_unref(all);
}

static void
an_oversized_frame_closes_the_channel_with_a_clear_error(fixture *f,
                                                         gconstpointer u)
{
    guint32 be = GUINT32_TO_BE((guint32)PROTO_FRAME_MAX + 1);

    peer_write(f, &be, 4);
    wait_for(&f->closed, 1, "the close");
    g_assert_cmpint(f->status, ==, -EPROTO);
    g_assert_nonnull(strstr(f->why, "over"));
    g_assert_false(channel_is_open(f->ch));
    g_assert_cmpint(
        channel_send(f->ch, PROTO_ACCOUNT_UP, g_variant_new("(s)", "irc")), ==,
        -EPIPE);
}

static void a_frame_of_an_unknown_type_closes_the_channel(fixture *f,
                                                          gconstpointer u)
{
    GVariant *v = g_variant_ref_sink(
        g_variant_new("(uv)", 9999u, g_variant_new("(s)", "x")));
    guint32 be = GUINT32_TO_BE((guint32)g_variant_get_size(v));

    peer_write(f, &be, 4);
    peer_write(f, g_variant_get_data(v), g_variant_get_size(v));
    g_variant_unref(v);
    wait_for(&f->closed, 1, "the close");
    g_assert_cmpint(f->status, ==, -EPROTO);
    g_assert_nonnull(strstr(f->why, "unknown message type"));
}

static void
messages_before_a_peer_close_arrive_then_the_close_once(fixture *f,
                                                        gconstpointer u)
{
    peer_write_frame(f, frame(PROTO_ACCOUNT_DOWN, down("last")));
    close(f->peer);
    f->peer = -1;
    wait_for(&f->closed, 1, "the close");
    g_assert_cmpuint(f->seen->len, ==, 1);
    g_assert_cmpint(f->status, ==, 0);
    run_pending();
    g_assert_cmpuint(f->closed, ==, 1);
}

static void
a_close_from_a_message_callback_stops_delivery_silently(fixture *f,
                                                        gconstpointer u)
{
    GBytes *a = frame(PROTO_ACCOUNT_DOWN, down("a"));
    GBytes *b = frame(PROTO_ACCOUNT_DOWN, down("b"));
    GByteArray *all = g_byte_array_new();
    gsize n;
    const guint8 *p;

    p = g_bytes_get_data(a, &n);
    g_byte_array_append(all, p, (guint)n);
    p = g_bytes_get_data(b, &n);
    g_byte_array_append(all, p, (guint)n);
    f->close_on_message = TRUE;
    peer_write(f, all->data, all->len);
    wait_for(&f->seen->len, 1, "the first message");
    run_pending();
    g_assert_cmpuint(f->seen->len, ==, 1);
    g_assert_cmpuint(f->closed, ==, 0);
    g_assert_false(channel_is_open(f->ch));
    g_bytes_unref(a);
    g_bytes_unref(b);
    g_byte_array_unref(all);
}

static void
a_body_of_the_wrong_type_is_refused_and_nothing_queued(fixture *f,
                                                       gconstpointer u)
{
    g_assert_cmpint(
        channel_send(f->ch, PROTO_ACCOUNT_UP, g_variant_new("(u)", 1u)), ==,
        -EINVAL);
    g_assert_cmpuint(channel_queued(f->ch), ==, 0);
    g_assert_true(channel_is_open(f->ch));
}

typedef struct reader {
    int fd;
    GByteArray *got;
} reader;

static gboolean peer_readable(int fd, GIOCondition cond, gpointer data)
{
    reader *r = data;
    guint8 buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);

    if (n > 0)
        g_byte_array_append(r->got, buf, (guint)n);
    return n > 0 || errno == EAGAIN ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
the_write_queue_holds_what_the_socket_refuses_and_drains(fixture *f,
                                                         gconstpointer u)
{
    char *big = g_strnfill(60000, 'x');
    int small = 4096;
    guint sent = 0;
    reader r = {f->peer, g_byte_array_new()};
    proto_reader *pr = proto_reader_new();
    guint id, decoded = 0;
    enum proto_type t;
    GVariant *body;

    setsockopt(f->peer, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    /* Until the socket is full, and a little more. */
    while (channel_queued(f->ch) < 200000) {
        g_assert_cmpint(channel_send(f->ch, PROTO_ACCOUNT_DOWN,
                                     g_variant_new("(ss)", "irc", big)),
                        ==, 0);
        sent++;
    }
    g_assert_cmpuint(f->drained, ==, 0);
    g_unix_set_fd_nonblocking(f->peer, TRUE, NULL);
    id = g_unix_fd_add(f->peer, G_IO_IN, peer_readable, &r);
    wait_for(&f->drained, 1, "the queue to drain");
    g_assert_cmpuint(channel_queued(f->ch), ==, 0);
    /* Whatever the socket still holds, then every frame, whole, in order. */
    while (decoded < sent) {
        int rc;

        g_main_context_iteration(NULL, FALSE);
        proto_reader_feed(pr, r.got->data, r.got->len);
        g_byte_array_set_size(r.got, 0);
        while ((rc = proto_reader_next(pr, &t, &body, NULL)) == 1) {
            g_assert_cmpint(t, ==, PROTO_ACCOUNT_DOWN);
            g_variant_unref(body);
            decoded++;
        }
        g_assert_cmpint(rc, ==, 0);
    }
    g_assert_cmpuint(decoded, ==, sent);
    g_source_remove(id);
    proto_reader_free(pr);
    g_byte_array_unref(r.got);
    g_free(big);
}

static void
a_write_to_a_gone_peer_is_reported_from_a_later_turn(fixture *f,
                                                     gconstpointer u)
{
    close(f->peer);
    f->peer = -1;
    g_assert_cmpint(
        channel_send(f->ch, PROTO_ACCOUNT_UP, g_variant_new("(s)", "irc")), ==,
        0);
    g_assert_cmpuint(f->closed, ==, 0);
    wait_for(&f->closed, 1, "the close");
    g_assert_cmpint(f->status, ==, 0);
    g_assert_false(channel_is_open(f->ch));
}

static void a_flush_writes_everything_queued(fixture *f, gconstpointer u)
{
    guint8 buf[256];
    proto_reader *pr = proto_reader_new();
    enum proto_type t;
    GVariant *body;
    ssize_t n;

    g_assert_cmpint(
        channel_send(f->ch, PROTO_ACCOUNT_UP, g_variant_new("(s)", "irc")), ==,
        0);
    g_assert_cmpint(channel_flush(f->ch, 1000), ==, 0);
    n = read(f->peer, buf, sizeof buf);
    g_assert_cmpint(n, >, 0);
    proto_reader_feed(pr, buf, (gsize)n);
    g_assert_cmpint(proto_reader_next(pr, &t, &body, NULL), ==, 1);
    g_assert_cmpint(t, ==, PROTO_ACCOUNT_UP);
    g_variant_unref(body);
    proto_reader_free(pr);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(fixture *, gconstpointer);
    } cases[] = {
        {"/channel/a_frame_cut_into_single_bytes_arrives_whole",
         a_frame_cut_into_single_bytes_arrives_whole},
        {"/channel/many_frames_in_one_read_arrive_in_order_in_one_turn",
         many_frames_in_one_read_arrive_in_order_in_one_turn},
        {"/channel/an_oversized_frame_closes_the_channel_with_a_clear_error",
         an_oversized_frame_closes_the_channel_with_a_clear_error},
        {"/channel/a_frame_of_an_unknown_type_closes_the_channel",
         a_frame_of_an_unknown_type_closes_the_channel},
        {"/channel/messages_before_a_peer_close_arrive_then_the_close_once",
         messages_before_a_peer_close_arrive_then_the_close_once},
        {"/channel/a_close_from_a_message_callback_stops_delivery_silently",
         a_close_from_a_message_callback_stops_delivery_silently},
        {"/channel/a_body_of_the_wrong_type_is_refused_and_nothing_queued",
         a_body_of_the_wrong_type_is_refused_and_nothing_queued},
        {"/channel/the_write_queue_holds_what_the_socket_refuses_and_drains",
         the_write_queue_holds_what_the_socket_refuses_and_drains},
        {"/channel/a_write_to_a_gone_peer_is_reported_from_a_later_turn",
         a_write_to_a_gone_peer_is_reported_from_a_later_turn},
        {"/channel/a_flush_writes_everything_queued",
         a_flush_writes_everything_queued},
    };

    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_test_add(cases[i].name, fixture, NULL, setup, cases[i].fn, teardown);
    return g_test_run();
}
