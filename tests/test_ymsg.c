/* test_ymsg: the YMSG packet codec, the stream reader, message text and
 * the pre-YMSG16 login response (transports/yahoo/ymsg.c, yauth.c). */
#include <string.h>

#include <glib.h>

#include "yauth.h"
#include "ymsg.h"

/* ---- the login response ------------------------------------------------ */

struct auth_case {
    const char *name, *id, *password, *challenge, *r6, *r96;
};

/* From shared/protocols/transcripts/ymsg10.log: answers a real revival
 * server accepted. */
static const struct auth_case auth_cases[] = {
    {"alice_from_the_captured_session", "alice", "alicepw1",
     "OE08AAA6Qqyv3KucDIKOrg--", "K4r0Jl2KpyjpW0vRObZOnA--",
     "gSsLJE5ocZv_OyusJ9DMnw--"},
    {"bob_from_the_captured_session", "bob", "bobpw1",
     "kCtWh4oPSqKAr5CdiOUmMw--", "Kt5kxaJrV.BIUoBIbYLP.Q--",
     "w4DnlKYdYM8yhhakbyP8fA--"},
};

static void run_auth(gconstpointer data)
{
    const struct auth_case *c = data;
    char r6[YAUTH_RESPONSE_SIZE], r96[YAUTH_RESPONSE_SIZE];

    g_assert_cmpint(yauth_response(c->id, c->password, c->challenge, r6, r96),
                    ==, 0);
    g_assert_cmpstr(r6, ==, c->r6);
    g_assert_cmpstr(r96, ==, c->r96);
}

static void auth_refuses_a_short_challenge(void)
{
    char r6[YAUTH_RESPONSE_SIZE] = "x", r96[YAUTH_RESPONSE_SIZE] = "y";

    g_assert_cmpint(yauth_response("alice", "pw", "short", r6, r96), <, 0);
    g_assert_cmpstr(r6, ==, "x");
    g_assert_cmpstr(r96, ==, "y");
}

struct crypt_case {
    const char *password, *salt, *want;
};

/* Checked against glibc/libxcrypt crypt(3). */
static const struct crypt_case crypt_cases[] = {
    {"alicepw1", "$1$_2S43d5f", "$1$_2S43d5f$9qtYL5bNO0z9q358gL7wG1"},
    {"bobpw1", "$1$_2S43d5f$", "$1$_2S43d5f$YQpi/XbzICkvoEE1GF2.//"},
    {"", "_2S43d5f", "$1$_2S43d5f$iPqEy9jfn2CpKVOs9WGE70"},
};

static void md5crypt_matches_crypt3(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(crypt_cases); i++) {
        char *got =
            yauth_md5crypt(crypt_cases[i].password, crypt_cases[i].salt);

        g_assert_cmpstr(got, ==, crypt_cases[i].want);
        g_free(got);
    }
}

struct y64_case {
    const char *in;
    gsize len;
    const char *want;
};

static const struct y64_case y64_cases[] = {
    {"", 0, ""},
    {"f", 1, "Zg--"},
    {"fo", 2, "Zm8-"},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg--"},
    {"\xfb\xff", 2, "._8-"},
    {"\xfb\xef\xbe", 3, "...."},
};

static void y64_is_base64_with_its_own_characters(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(y64_cases); i++) {
        char out[16];

        yauth_y64_encode((const guint8 *)y64_cases[i].in, y64_cases[i].len,
                         out);
        g_assert_cmpstr(out, ==, y64_cases[i].want);
    }
}

/* ---- packets ----------------------------------------------------------- */

/* alice's PINGCONF from the transcript, as the server sent it. */
static const guint8 pingconf_bytes[] = {
    'Y',  'M',  'S',  'G',  0x00, 0x00, 0x00, 0x00, 0x00, 0x12,
    0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    '1',  '4',  '3',  0xC0, 0x80, '6',  '0',  0xC0, 0x80, '1',
    '4',  '4',  0xC0, 0x80, '1',  '3',  0xC0, 0x80};

static GByteArray *encode(const ymsg_pkt *pkt)
{
    GByteArray *out = g_byte_array_new();

    g_assert_cmpint(ymsg_encode(pkt, out), ==, 0);
    return out;
}

static void assert_same(const ymsg_pkt *a, const ymsg_pkt *b)
{
    g_assert_cmpuint(a->service, ==, b->service);
    g_assert_cmpuint(a->status, ==, b->status);
    g_assert_cmpuint(a->session, ==, b->session);
    g_assert_cmpuint(a->version, ==, b->version);
    g_assert_cmpuint(a->pairs->len, ==, b->pairs->len);
    for (guint i = 0; i < a->pairs->len; i++) {
        g_assert_cmpint(ymsg_pkt_pair(a, i)->key, ==, ymsg_pkt_pair(b, i)->key);
        g_assert_cmpuint(ymsg_pkt_pair(a, i)->len, ==,
                         ymsg_pkt_pair(b, i)->len);
        g_assert_cmpmem(ymsg_pkt_pair(a, i)->value, ymsg_pkt_pair(a, i)->len,
                        ymsg_pkt_pair(b, i)->value, ymsg_pkt_pair(b, i)->len);
    }
}

static ymsg_pkt *sample_message(void)
{
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_MESSAGE, YMSG_ST_MESSAGE, 0x1234abcd);

    ymsg_pkt_add(pkt, 1, "alice");
    ymsg_pkt_add(pkt, 5, "bob");
    ymsg_pkt_add(pkt, 14, "h\xc3\xa9llo \xe2\x82\xac");
    ymsg_pkt_add_int(pkt, 97, 1);
    ymsg_pkt_add(pkt, 63, ";0");
    ymsg_pkt_add(pkt, 64, "");
    return pkt;
}

static void a_packet_survives_encode_and_decode(void)
{
    ymsg_pkt *pkt = sample_message(), *back = NULL;
    GByteArray *bytes = encode(pkt);
    gsize used = 0;

    g_assert_cmpint(ymsg_decode(bytes->data, bytes->len, &used, &back), ==, 1);
    g_assert_cmpuint(used, ==, bytes->len);
    assert_same(pkt, back);
    g_assert_cmpstr(ymsg_pkt_get(back, 5), ==, "bob");
    g_assert_cmpint(ymsg_pkt_get_int(back, 97, 0), ==, 1);
    g_assert_cmpint(ymsg_pkt_get_int(back, 99, -7), ==, -7);
    g_assert_null(ymsg_pkt_get(back, 99));
    ymsg_pkt_free(back);
    ymsg_pkt_free(pkt);
    g_byte_array_unref(bytes);
}

static void a_transcript_packet_decodes(void)
{
    ymsg_pkt *pkt = NULL;
    gsize used = 0;
    GByteArray *again;

    g_assert_cmpint(
        ymsg_decode(pingconf_bytes, sizeof pingconf_bytes, &used, &pkt), ==, 1);
    g_assert_cmpuint(used, ==, sizeof pingconf_bytes);
    g_assert_cmpuint(pkt->service, ==, YMSG_PINGCONF);
    g_assert_cmpuint(pkt->status, ==, 0);
    g_assert_cmpuint(pkt->version, ==, 0);
    g_assert_cmpuint(pkt->pairs->len, ==, 2);
    g_assert_cmpint(ymsg_pkt_get_int(pkt, 143, 0), ==, 60);
    g_assert_cmpint(ymsg_pkt_get_int(pkt, 144, 0), ==, 13);
    again = encode(pkt);
    g_assert_cmpmem(again->data, again->len, pingconf_bytes,
                    sizeof pingconf_bytes);
    g_byte_array_unref(again);
    ymsg_pkt_free(pkt);
}

static void an_empty_payload_has_no_pairs(void)
{
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_VERIFY, 0, 0), *back = NULL;
    GByteArray *bytes = encode(pkt);
    gsize used = 0;

    g_assert_cmpuint(bytes->len, ==, YMSG_HEADER_SIZE);
    g_assert_cmpint(ymsg_decode(bytes->data, bytes->len, &used, &back), ==, 1);
    g_assert_cmpuint(back->pairs->len, ==, 0);
    ymsg_pkt_free(back);
    ymsg_pkt_free(pkt);
    g_byte_array_unref(bytes);
}

static void a_missing_trailing_separator_is_tolerated(void)
{
    /* "1" C0 80 "x" C0 80 "7" : a last key without its value. */
    static const guint8 bytes[] = {
        'Y', 'M', 'S', 'G', 0, 10, 0,   0,    0,    7,   0,    0x02, 0,  0,
        0,   1,   0,   0,   0, 0,  '1', 0xC0, 0x80, 'x', 0xC0, 0x80, '7'};
    ymsg_pkt *pkt = NULL;
    gsize used = 0;

    g_assert_cmpint(ymsg_decode(bytes, sizeof bytes, &used, &pkt), ==, 1);
    g_assert_cmpuint(pkt->pairs->len, ==, 2);
    g_assert_cmpstr(ymsg_pkt_get(pkt, 1), ==, "x");
    g_assert_cmpstr(ymsg_pkt_get(pkt, 7), ==, "");
    ymsg_pkt_free(pkt);
}

/* Every prefix of a packet is "more bytes needed", and nothing is
 * consumed. */
static void truncated_packets_wait_for_more(void)
{
    ymsg_pkt *pkt = sample_message();
    GByteArray *bytes = encode(pkt);

    for (gsize n = 0; n < bytes->len; n++) {
        ymsg_pkt *got = NULL;
        gsize used = 99;

        g_assert_cmpint(ymsg_decode(bytes->data, n, &used, &got), ==,
                        YMSG_AGAIN);
        g_assert_null(got);
        g_assert_cmpuint(used, ==, 0);
    }
    ymsg_pkt_free(pkt);
    g_byte_array_unref(bytes);
}

/* Two packets fed one byte at a time come out whole, in order; then the
 * same bytes in one piece. */
static void chunked_reads_give_whole_packets(void)
{
    ymsg_pkt *a = sample_message(), *b = ymsg_pkt_new(YMSG_PING, 1, 7), *got;
    GByteArray *bytes = encode(a);
    ymsg_reader *r = ymsg_reader_new();
    guint seen = 0, len_a = bytes->len;

    g_assert_cmpint(ymsg_encode(b, bytes), ==, 0);
    for (guint i = 0; i < bytes->len; i++) {
        ymsg_reader_feed(r, bytes->data + i, 1);
        while (ymsg_reader_next(r, &got) == 1) {
            assert_same(seen == 0 ? a : b, got);
            ymsg_pkt_free(got);
            seen++;
        }
        g_assert_cmpuint(seen, ==, (i + 1 >= len_a) + (i + 1 >= bytes->len));
    }
    ymsg_reader_feed(r, bytes->data, bytes->len);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, 1);
    assert_same(a, got);
    ymsg_pkt_free(got);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, 1);
    assert_same(b, got);
    ymsg_pkt_free(got);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, YMSG_AGAIN);
    ymsg_reader_free(r);
    ymsg_pkt_free(a);
    ymsg_pkt_free(b);
    g_byte_array_unref(bytes);
}

/* A header claiming the largest payload, with a few bytes behind it: the
 * decoder waits, allocating nothing for what has not arrived. */
static void an_absurd_length_allocates_nothing(void)
{
    guint8 bytes[YMSG_HEADER_SIZE + 8] = {'Y', 'M', 'S',  'G',  0, 10,
                                          0,   0,   0xFF, 0xFF, 0, 6};
    ymsg_pkt *pkt = NULL;
    gsize used = 0;

    memset(bytes + YMSG_HEADER_SIZE, '1', 8);
    g_assert_cmpint(ymsg_decode(bytes, sizeof bytes, &used, &pkt), ==,
                    YMSG_AGAIN);
    g_assert_null(pkt);
}

/* What could not be sent in one packet is refused, not cut. */
static void an_oversized_payload_is_refused(void)
{
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_MESSAGE, 0, 0);
    char *big = g_strnfill(YMSG_MAX_PAYLOAD, 'x');
    GByteArray *out = g_byte_array_new();

    ymsg_pkt_add(pkt, 14, big);
    g_assert_cmpint(ymsg_encode(pkt, out), ==, YMSG_ETOOLONG);
    g_assert_cmpuint(out->len, ==, 0);
    g_free(big);
    ymsg_pkt_free(pkt);
    g_byte_array_unref(out);
}

static void a_value_holding_the_separator_is_refused(void)
{
    ymsg_pkt *pkt = ymsg_pkt_new(YMSG_MESSAGE, 0, 0);
    GByteArray *out = g_byte_array_new();

    ymsg_pkt_add(pkt, 14, "a\xc0\x80z");
    g_assert_cmpint(ymsg_encode(pkt, out), ==, YMSG_ESEPARATOR);
    g_assert_cmpuint(out->len, ==, 0);
    ymsg_pkt_free(pkt);
    g_byte_array_unref(out);
}

struct bad_payload_case {
    const char *name;
    const char *payload;
};

static const struct bad_payload_case bad_payloads[] = {
    {"a_key_that_is_not_a_number", "ab\xc0\x80x\xc0\x80"},
    {"a_key_of_ten_digits", "1234567890\xc0\x80x\xc0\x80"},
    {"an_empty_key", "\xc0\x80x\xc0\x80"},
    {"a_negative_key", "-1\xc0\x80x\xc0\x80"},
};

/* A malformed payload skips its packet; the stream goes on. */
static void run_bad_payload(gconstpointer data)
{
    const struct bad_payload_case *c = data;
    ymsg_pkt *good = ymsg_pkt_new(YMSG_PING, 1, 0), *got = NULL;
    GByteArray *bytes = g_byte_array_new();
    guint8 head[YMSG_HEADER_SIZE] = {'Y', 'M', 'S', 'G', 0, 10, 0, 0};
    gsize len = strlen(c->payload);
    ymsg_reader *r = ymsg_reader_new();

    head[8] = (guint8)(len >> 8);
    head[9] = (guint8)len;
    head[11] = YMSG_MESSAGE;
    g_byte_array_append(bytes, head, sizeof head);
    g_byte_array_append(bytes, (const guint8 *)c->payload, (guint)len);
    g_assert_cmpint(ymsg_encode(good, bytes), ==, 0);
    ymsg_reader_feed(r, bytes->data, bytes->len);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, YMSG_EPAYLOAD);
    g_assert_null(got);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, 1);
    g_assert_cmpuint(got->service, ==, YMSG_PING);
    ymsg_pkt_free(got);
    ymsg_reader_free(r);
    ymsg_pkt_free(good);
    g_byte_array_unref(bytes);
}

static void a_stream_that_is_not_ymsg_is_lost(void)
{
    static const guint8 junk[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
    ymsg_pkt *ping = ymsg_pkt_new(YMSG_PING, 1, 0), *got = NULL;
    GByteArray *bytes = encode(ping);
    ymsg_reader *r = ymsg_reader_new();

    ymsg_reader_feed(r, junk, 2);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, YMSG_EMAGIC);
    /* A good packet after it does not revive the stream. */
    ymsg_reader_feed(r, bytes->data, bytes->len);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, YMSG_EMAGIC);
    g_assert_null(got);
    ymsg_reader_free(r);
    ymsg_pkt_free(ping);
    g_byte_array_unref(bytes);
}

/* A service this module does not know decodes like any other (the plugin
 * skips it), and the packet after it comes out. */
static void an_unknown_service_is_skipped_not_fatal(void)
{
    ymsg_pkt *odd = ymsg_pkt_new(0x1234, 1, 0),
             *ping = ymsg_pkt_new(0x8A, 1, 0);
    ymsg_pkt *got = NULL;
    GByteArray *bytes;
    ymsg_reader *r = ymsg_reader_new();

    ymsg_pkt_add(odd, 1000, "whatever");
    bytes = encode(odd);
    g_assert_cmpint(ymsg_encode(ping, bytes), ==, 0);
    ymsg_reader_feed(r, bytes->data, bytes->len);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, 1);
    g_assert_cmpuint(got->service, ==, 0x1234);
    g_assert_null(ymsg_service_name(got->service));
    ymsg_pkt_free(got);
    g_assert_cmpint(ymsg_reader_next(r, &got), ==, 1);
    g_assert_cmpstr(ymsg_service_name(got->service), ==, "PING");
    ymsg_pkt_free(got);
    ymsg_reader_free(r);
    ymsg_pkt_free(odd);
    ymsg_pkt_free(ping);
    g_byte_array_unref(bytes);
}

/* ---- message text ------------------------------------------------------ */

struct text_case {
    const char *name, *in, *want;
};

static const struct text_case utf8_cases[] = {
    {"ascii_passes", "hello", "hello"},
    {"utf8_passes", "h\xc3\xa9llo \xe2\x82\xac", "h\xc3\xa9llo \xe2\x82\xac"},
    {"windows_1252_is_converted", "caf\xe9 \x80", "caf\xc3\xa9 \xe2\x82\xac"},
    {"invalid_utf8_becomes_valid", "a\x81\xc3", "a\xef\xbf\xbd\xef\xbf\xbd"},
};

static void run_utf8(gconstpointer data)
{
    const struct text_case *c = data;
    char *got = ymsg_text_to_utf8(c->in);

    g_assert_true(g_utf8_validate(got, -1, NULL));
    g_assert_cmpstr(got, ==, c->want);
    g_free(got);
}

static const struct text_case strip_cases[] = {
    {"plain_passes", "a < b > c", "a < b > c"},
    {"escape_codes_go", "\x1b[1mbold\x1b[x1m \x1b[#ff0000mred", "bold red"},
    {"font_tags_go", "<font face=\"Arial\" size=\"10\">hi</font>", "hi"},
    {"style_tags_go", "<b>b</b><I>i</I><u>u</u><s>s</s>", "bius"},
    {"fade_and_alt_go", "<fade #ff0000,#0000ff>x</fade><alt #1,#2>y</alt>",
     "xy"},
    {"other_tags_stay", "<alice> hi <bold>", "<alice> hi <bold>"},
    {"an_unclosed_tag_stays", "<font face=x", "<font face=x"},
    {"a_lone_escape_stays", "a\x1b[b", "a\x1b[b"},
};

static void run_strip(gconstpointer data)
{
    const struct text_case *c = data;
    char *got = ymsg_text_strip(c->in);

    g_assert_cmpstr(got, ==, c->want);
    g_free(got);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(auth_cases); i++) {
        char *path = g_strdup_printf("/ymsg/auth/response_matches_%s",
                                     auth_cases[i].name);

        g_test_add_data_func(path, &auth_cases[i], run_auth);
        g_free(path);
    }
    g_test_add_func("/ymsg/auth/a_short_challenge_is_refused",
                    auth_refuses_a_short_challenge);
    g_test_add_func("/ymsg/auth/md5crypt_matches_crypt3",
                    md5crypt_matches_crypt3);
    g_test_add_func("/ymsg/auth/y64_is_base64_with_its_own_characters",
                    y64_is_base64_with_its_own_characters);
    g_test_add_func("/ymsg/packet/survives_encode_and_decode",
                    a_packet_survives_encode_and_decode);
    g_test_add_func("/ymsg/packet/a_transcript_packet_decodes",
                    a_transcript_packet_decodes);
    g_test_add_func("/ymsg/packet/an_empty_payload_has_no_pairs",
                    an_empty_payload_has_no_pairs);
    g_test_add_func("/ymsg/packet/a_missing_trailing_separator_is_tolerated",
                    a_missing_trailing_separator_is_tolerated);
    g_test_add_func("/ymsg/packet/truncated_packets_wait_for_more",
                    truncated_packets_wait_for_more);
    g_test_add_func("/ymsg/packet/chunked_reads_give_whole_packets",
                    chunked_reads_give_whole_packets);
    g_test_add_func("/ymsg/packet/an_absurd_length_allocates_nothing",
                    an_absurd_length_allocates_nothing);
    g_test_add_func("/ymsg/packet/an_oversized_payload_is_refused",
                    an_oversized_payload_is_refused);
    g_test_add_func("/ymsg/packet/a_value_holding_the_separator_is_refused",
                    a_value_holding_the_separator_is_refused);
    for (gsize i = 0; i < G_N_ELEMENTS(bad_payloads); i++) {
        char *path = g_strdup_printf("/ymsg/packet/skipped_for_%s",
                                     bad_payloads[i].name);

        g_test_add_data_func(path, &bad_payloads[i], run_bad_payload);
        g_free(path);
    }
    g_test_add_func("/ymsg/packet/a_stream_that_is_not_ymsg_is_lost",
                    a_stream_that_is_not_ymsg_is_lost);
    g_test_add_func("/ymsg/packet/an_unknown_service_is_skipped_not_fatal",
                    an_unknown_service_is_skipped_not_fatal);
    for (gsize i = 0; i < G_N_ELEMENTS(utf8_cases); i++) {
        char *path = g_strdup_printf("/ymsg/text/utf8/%s", utf8_cases[i].name);

        g_test_add_data_func(path, &utf8_cases[i], run_utf8);
        g_free(path);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(strip_cases); i++) {
        char *path =
            g_strdup_printf("/ymsg/text/strip/%s", strip_cases[i].name);

        g_test_add_data_func(path, &strip_cases[i], run_strip);
        g_free(path);
    }
    return g_test_run();
}
