/* test_protocol: framing of the core–worker messages, table-driven. */
#include <string.h>

#include <glib.h>

#include "protocol.h"

/* One sample body per message type. */
static GVariant *sample(enum proto_type t)
{
    GVariantBuilder opts;

    switch (t) {
    case PROTO_HELLO:
        return g_variant_new("(q)", (guint16)PROTO_VERSION);
    case PROTO_ACCOUNT_ADD:
        g_variant_builder_init(&opts, G_VARIANT_TYPE("a{ss}"));
        g_variant_builder_add(&opts, "{ss}", "port", "6667");
        return g_variant_new("(ssssa{ss})", "lobby-irc", "prpl-irc",
                             "bot@127.0.0.1", "", &opts);
    case PROTO_ACCOUNT_REMOVE:
    case PROTO_ACCOUNT_UP:
        return g_variant_new("(s)", "lobby-irc");
    case PROTO_ACCOUNT_DOWN:
        return g_variant_new("(ss)", "lobby-irc", "connection refused");
    case PROTO_IM_RECEIVED:
        return g_variant_new("(ssss)", "a", "nick!user", "Nick",
                             "h\xc3\xa9llo");
    case PROTO_CHAT_RECEIVED:
        return g_variant_new("(sssss)", "a", "#lobby", "x", "X", "hi");
    case PROTO_BUDDY_PRESENCE:
        return g_variant_new("(ssss)", "a", "x", "X", "away");
    case PROTO_CHAT_JOIN:
    case PROTO_CHAT_JOINED:
        return g_variant_new("(ss)", "a", "#lobby");
    case PROTO_CHAT_LEFT:
        return g_variant_new("(sss)", "a", "#lobby", "kicked");
    case PROTO_SEND_IM:
    case PROTO_SEND_CHAT:
        return g_variant_new("(tsss)", (guint64)G_MAXUINT64, "a", "x", "body");
    case PROTO_DELIVERED:
        return g_variant_new("(t)", (guint64)42);
    case PROTO_FAILED:
        return g_variant_new("(ts)", (guint64)42, "no such user");
    case PROTO_BUDDY_ADD:
    case PROTO_BUDDY_REMOVE:
        return g_variant_new("(ss)", "a", "alice");
    case PROTO_AUTH_REQUEST:
        return g_variant_new("(sss)", "a", "alice", "let me in");
    case PROTO_AUTH_ANSWER:
        return g_variant_new("(ssb)", "a", "alice", TRUE);
    case PROTO_CHAT_USER_JOINED:
        return g_variant_new("(sssb)", "a", "#lobby", "alice", FALSE);
    case PROTO_CHAT_USER_LEFT:
        return g_variant_new("(ssss)", "a", "#lobby", "alice", "Quit: bye");
    case PROTO_CHAT_USER_RENAMED:
        return g_variant_new("(ssss)", "a", "#lobby", "alice", "alice2");
    case PROTO_CHAT_TOPIC:
        return g_variant_new("(ssss)", "a", "#lobby", "alice", "today: cake");
    case PROTO_LOG_LEVEL:
        return g_variant_new("(u)", 1u);
    case PROTO_TYPING:
        return g_variant_new("(sss)", "a", "alice", "composing");
    case PROTO_ATTENTION:
        return g_variant_new("(ss)", "a", "alice");
    case PROTO_SEND_TYPING: {
        const char *const to[] = {"alice", "bob"};
        return g_variant_new(
            "(s@ass)", "a", g_variant_new_strv(to, G_N_ELEMENTS(to)), "paused");
    }
    case PROTO_BUDDY_ICON:
        return g_variant_new(
            "(sss@ay)", "a", "alice",
            "0123456789abcdef0123456789abcdef01234567",
            g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, "\x89PNG", 4, 1));
    case PROTO_SET_ICON:
        return g_variant_new(
            "(s@ay)", "a",
            g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, "GIF8", 4, 1));
    case PROTO_CHAT_TYPING:
        return g_variant_new("(ssss)", "a", "#lobby", "alice", "composing");
    case PROTO_CHAT_ATTENTION:
        return g_variant_new("(sss)", "a", "#lobby", "alice");
    case PROTO_CHAT_USER_ICON:
        return g_variant_new(
            "(ssss@ay)", "a", "#lobby", "alice",
            "0123456789abcdef0123456789abcdef01234567",
            g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, "\x89PNG", 4, 1));
    default:
        g_assert_not_reached();
    }
}

static void every_message_round_trips_even_fed_byte_by_byte(void)
{
    for (int t = 0; t < PROTO_TYPE_COUNT; t++) {
        GVariant *want = g_variant_ref_sink(sample((enum proto_type)t));
        GBytes *frame =
            proto_encode((enum proto_type)t, sample((enum proto_type)t), NULL);
        proto_reader *r = proto_reader_new();
        gsize n;
        const guint8 *p = g_bytes_get_data(frame, &n);
        enum proto_type got_t = PROTO_TYPE_COUNT;
        GVariant *got = NULL;

        g_test_message("%s", proto_name((enum proto_type)t));
        for (gsize i = 0; i < n; i++) {
            g_assert_cmpint(proto_reader_next(r, &got_t, &got, NULL), ==, 0);
            proto_reader_feed(r, p + i, 1);
        }
        g_assert_cmpint(proto_reader_next(r, &got_t, &got, NULL), ==, 1);
        g_assert_cmpint(got_t, ==, t);
        g_assert_true(g_variant_equal(got, want));
        g_variant_unref(got);
        g_assert_cmpint(proto_reader_next(r, &got_t, &got, NULL), ==, 0);
        g_variant_unref(want);
        g_bytes_unref(frame);
        proto_reader_free(r);
    }
}

static void several_frames_in_one_read_come_out_in_order(void)
{
    proto_reader *r = proto_reader_new();
    enum proto_type t;
    GVariant *body;

    for (guint64 id = 1; id <= 3; id++) {
        GBytes *f =
            proto_encode(PROTO_DELIVERED, g_variant_new("(t)", id), NULL);
        gsize n;
        const void *p = g_bytes_get_data(f, &n);
        proto_reader_feed(r, p, n);
        g_bytes_unref(f);
    }
    for (guint64 id = 1; id <= 3; id++) {
        guint64 got;
        g_assert_cmpint(proto_reader_next(r, &t, &body, NULL), ==, 1);
        g_assert_cmpint(t, ==, PROTO_DELIVERED);
        g_variant_get(body, "(t)", &got);
        g_assert_cmpuint(got, ==, id);
        g_variant_unref(body);
    }
    proto_reader_free(r);
}

static void a_body_of_the_wrong_type_is_not_encoded(void)
{
    GError *err = NULL;

    g_assert_null(
        proto_encode(PROTO_DELIVERED, g_variant_new("(s)", "x"), &err));
    g_assert_error(err, PROTO_ERROR, 0);
    g_error_free(err);
}

/* Broken streams: each must be refused, never crash or hang. */
static void broken_frames_are_refused(void)
{
    static const guint8 oversized[] = {0x7f, 0xff, 0xff, 0xff};
    GVariant *wrong = g_variant_ref_sink(g_variant_new(
        "(uv)", (guint32)PROTO_DELIVERED, g_variant_new("(s)", "x")));
    GVariant *unknown = g_variant_ref_sink(
        g_variant_new("(uv)", (guint32)999, g_variant_new("(t)", (guint64)1)));
    GVariant *cases[] = {wrong, unknown};
    proto_reader *r;
    enum proto_type t;
    GVariant *body;
    GError *err = NULL;

    r = proto_reader_new();
    proto_reader_feed(r, oversized, sizeof(oversized));
    g_assert_cmpint(proto_reader_next(r, &t, &body, &err), ==, -1);
    g_clear_error(&err);
    proto_reader_free(r);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize size = g_variant_get_size(cases[i]);
        guint32 be = GUINT32_TO_BE((guint32)size);
        guint8 *data = g_malloc(size);
        g_variant_store(cases[i], data);
        r = proto_reader_new();
        proto_reader_feed(r, &be, 4);
        proto_reader_feed(r, data, size);
        g_assert_cmpint(proto_reader_next(r, &t, &body, &err), ==, -1);
        g_assert_null(body);
        g_clear_error(&err);
        proto_reader_free(r);
        g_free(data);
        g_variant_unref(cases[i]);
    }

    /* Garbage that is not a "(uv)" in normal form. */
    {
        guint8 junk[12] = {0,    0,    0,    8,    0xff, 0xfe,
                           0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8};
        r = proto_reader_new();
        proto_reader_feed(r, junk, sizeof(junk));
        g_assert_cmpint(proto_reader_next(r, &t, &body, &err), ==, -1);
        g_clear_error(&err);
        proto_reader_free(r);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/protocol/every_message_round_trips_even_fed_byte_by_"
                    "byte",
                    every_message_round_trips_even_fed_byte_by_byte);
    g_test_add_func("/protocol/several_frames_in_one_read_come_out_in_order",
                    several_frames_in_one_read_come_out_in_order);
    g_test_add_func("/protocol/a_body_of_the_wrong_type_is_not_encoded",
                    a_body_of_the_wrong_type_is_not_encoded);
    g_test_add_func("/protocol/broken_frames_are_refused",
                    broken_frames_are_refused);
    return g_test_run();
}
