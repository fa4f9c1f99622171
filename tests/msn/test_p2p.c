/* Tests for transports/msn/p2p.c: P2P messages and MSNSLP. */
#include <string.h>

#include <glib.h>

#include "p2p.h"

static GByteArray *built(const p2p_header *h, const char *data, guint32 footer)
{
    GByteArray *out = g_byte_array_new();

    p2p_build(out, h, (const guchar *)data, footer);
    return out;
}

static void p2p_message_reads_back_as_built(void)
{
    p2p_header h = {.session = 7,
                    .id = 1000,
                    .offset = 2,
                    .total = 9,
                    .length = 5,
                    .flags = P2P_FLAG_DATA,
                    .ack_session = 3,
                    .ack_id = 4,
                    .ack_size = 0x100000001ull},
               got;
    GByteArray *m = built(&h, "hello", P2P_APP_PICTURE);
    const guchar *data;
    guint32 footer;

    g_assert_cmpuint(m->len, ==, P2P_HEADER_LEN + 5 + P2P_FOOTER_LEN);
    /* little-endian header, big-endian footer */
    g_assert_cmpuint(m->data[0], ==, 7);
    g_assert_cmpuint(m->data[4], ==, 1000 & 0xff);
    g_assert_cmpuint(m->data[m->len - 1], ==, 1);
    g_assert_cmpint(p2p_parse(m->data, m->len, &got, &data, &footer), ==, 0);
    g_assert_cmpmem(&got, sizeof got, &h, sizeof h);
    g_assert_cmpmem(data, 5, "hello", 5);
    g_assert_cmpuint(footer, ==, P2P_APP_PICTURE);
    g_byte_array_free(m, TRUE);
}

/* Headers whose fields do not hold together. */
static const struct {
    const char *why;
    p2p_header h;
    gsize cut; /* bytes taken off the end */
} broken[] = {
    {"a length past the total", {.total = 3, .length = 5}, 0},
    {"an offset past the total", {.offset = 9, .total = 8, .length = 0}, 0},
    {"offset and length past the total",
     {.offset = 6, .total = 8, .length = 5},
     0},
    {"fewer bytes than the length says", {.total = 5, .length = 5}, 2},
};

static void p2p_refuses_lengths_that_do_not_hold_together(void)
{
    const guchar *data;
    guint32 footer;
    p2p_header got;

    for (gsize i = 0; i < G_N_ELEMENTS(broken); i++) {
        GByteArray *m = built(&broken[i].h, "hello", 0);

        g_test_message("%s", broken[i].why);
        g_assert_cmpint(
            p2p_parse(m->data, m->len - broken[i].cut, &got, &data, &footer),
            ==, -1);
        g_byte_array_free(m, TRUE);
    }
    g_assert_cmpint(p2p_parse((const guchar *)"short", 5, &got, &data, &footer),
                    ==, -1);
}

static void p2p_ack_names_the_message_it_answers(void)
{
    p2p_header got = {.session = 5, .id = 70, .total = 300, .ack_session = 9},
               ack;

    p2p_ack_of(&got, 42, &ack);
    g_assert_cmpuint(ack.session, ==, 5);
    g_assert_cmpuint(ack.id, ==, 42);
    g_assert_cmpuint(ack.flags, ==, P2P_FLAG_ACK);
    g_assert_cmpuint(ack.ack_session, ==, 70);
    g_assert_cmpuint(ack.ack_id, ==, 9);
    g_assert_cmpuint(ack.ack_size, ==, 300);
    g_assert_cmpuint(ack.total, ==, 300);
    g_assert_cmpuint(ack.length, ==, 0);
}

static void slp_invite_reads_back_with_its_headers_and_body(void)
{
    gsize len;
    char *text = p2p_slp_build("INVITE MSNMSGR:bob@example.com MSNSLP/1.0",
                               "bob@example.com", "bot@example.com", "{B}", 0,
                               "{C}", "application/x-msnmsgr-sessionreqbody",
                               "EUF-GUID: " P2P_EUF_PICTURE
                               "\r\nSessionID: 77\r\nAppID: 1\r\n"
                               "Context: PG1zbm9iai8+AA==\r\n\r\n",
                               &len);
    p2p_slp slp;
    char kind[16];

    g_assert_cmpuint(text[len - 1], ==, '\0');
    g_assert_cmpint(p2p_slp_parse(text, len, &slp), ==, 0);
    p2p_slp_kind(&slp, kind, sizeof kind);
    g_assert_cmpstr(kind, ==, "INVITE");
    g_assert_cmpstr(g_hash_table_lookup(slp.heads, "call-id"), ==, "{C}");
    g_assert_cmpstr(g_hash_table_lookup(slp.heads, "via"), ==,
                    "MSNSLP/1.0/TLP ;branch={B}");
    g_assert_cmpstr(g_hash_table_lookup(slp.body, "euf-guid"), ==,
                    P2P_EUF_PICTURE);
    g_assert_cmpstr(g_hash_table_lookup(slp.body, "sessionid"), ==, "77");
    p2p_slp_free(&slp);
    g_free(text);
}

static void slp_status_lines_give_their_codes(void)
{
    static const char *lines[][2] = {
        {"MSNSLP/1.0 200 OK\r\nCall-ID: {C}\r\n\r\n", "200"},
        {"MSNSLP/1.0 603 Decline\r\n\r\n", "603"},
        {"BYE MSNMSGR:a@b MSNSLP/1.0\r\n\r\n", "BYE"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        p2p_slp slp;
        char kind[16];

        g_assert_cmpint(p2p_slp_parse(lines[i][0], strlen(lines[i][0]), &slp),
                        ==, 0);
        p2p_slp_kind(&slp, kind, sizeof kind);
        g_assert_cmpstr(kind, ==, lines[i][1]);
        p2p_slp_free(&slp);
    }
}

static void slp_refuses_messages_over_the_limit(void)
{
    char *big = g_malloc0(P2P_SLP_MAX + 1);
    p2p_slp slp;

    memcpy(big, "INVITE x\r\n", 10);
    g_assert_cmpint(p2p_slp_parse(big, P2P_SLP_MAX + 1, &slp), ==, -1);
    g_assert_cmpint(p2p_slp_parse("", 0, &slp), ==, -1);
    g_free(big);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/p2p/message_reads_back_as_built",
                    p2p_message_reads_back_as_built);
    g_test_add_func("/p2p/refuses_lengths_that_do_not_hold_together",
                    p2p_refuses_lengths_that_do_not_hold_together);
    g_test_add_func("/p2p/ack_names_the_message_it_answers",
                    p2p_ack_names_the_message_it_answers);
    g_test_add_func("/p2p/slp_invite_reads_back_with_its_headers_and_body",
                    slp_invite_reads_back_with_its_headers_and_body);
    g_test_add_func("/p2p/slp_status_lines_give_their_codes",
                    slp_status_lines_give_their_codes);
    g_test_add_func("/p2p/slp_refuses_messages_over_the_limit",
                    slp_refuses_messages_over_the_limit);
    return g_test_run();
}
