/* Tests for transports/msn/msnp.c: the MSNP parser and its helpers. */
#include <string.h>

#include <glib.h>

#include "msnp.h"

/* Feeds text whole and returns the commands it gives, in order. */
static GPtrArray *parse_all(const char *data, gsize len, int *last)
{
    msnp_parser *p = msnp_parser_new();
    GPtrArray *cmds =
        g_ptr_array_new_with_free_func((GDestroyNotify)msnp_cmd_free);
    msnp_cmd *cmd;
    int r;

    msnp_parser_feed(p, data, len);
    while ((r = msnp_parser_next(p, &cmd)) == MSNP_COMMAND)
        g_ptr_array_add(cmds, cmd);
    if (last)
        *last = r;
    msnp_parser_free(p);
    return cmds;
}

/* Every command shape of shared/protocols/msnp.md: the line, its name, its
 * argument count and one argument to check. */
static const struct {
    const char *line;
    const char *name;
    guint argc;
    guint arg;
    const char *value;
} shapes[] = {
    {"VER 1 MSNP12\r\n", "VER", 2, 1, "MSNP12"},
    {"CVR 2 7.5.0324 7.5.0324 7.5.0324 https://x https://x\r\n", "CVR", 6, 4,
     "https://x"},
    {"USR 3 TWN S ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1\r\n", "USR", 4, 3,
     "ct=1,rver=1,wp=FS_40SEC_0_COMPACT,lc=1,id=1"},
    {"USR 4 OK alice@example.com 1 0\r\n", "USR", 5, 2, "alice@example.com"},
    {"SBS 0 null\r\n", "SBS", 2, 1, "null"},
    {"SYN 5 2000-01-01T00:00:00.0-00:00 2000-01-01T00:00:00.0-00:00 1 0\r\n",
     "SYN", 5, 3, "1"},
    {"GTC A\r\n", "GTC", 1, 0, "A"},
    {"BLP AL\r\n", "BLP", 1, 0, "AL"},
    {"PRP MFN Alice\r\n", "PRP", 2, 1, "Alice"},
    {"LSG Friends 0b1d9c7e-0a8f-4a0c-9e7c-3c3b7f1c9a11\r\n", "LSG", 2, 0,
     "Friends"},
    /* the empty trailing field of a contact in no group */
    {"LST N=bob@example.com F=Bob C=cd9c1ec3-c03e-4070-82db-d6ebcd679c71 11 1 "
     "\r\n",
     "LST", 6, 5, ""},
    {"CHG 6 NLN 0\r\n", "CHG", 3, 1, "NLN"},
    {"ILN 6 NLN bob@example.com Bob 0 %3Cmsnobj%2F%3E\r\n", "ILN", 6, 5,
     "%3Cmsnobj%2F%3E"},
    {"NLN AWY bob@example.com Bob 0 %3Cmsnobj%2F%3E\r\n", "NLN", 5, 0, "AWY"},
    {"FLN bob@example.com\r\n", "FLN", 1, 0, "bob@example.com"},
    {"ADC 0 RL N=carol@example.com F=Carol\r\n", "ADC", 4, 2,
     "N=carol@example.com"},
    {"ADC 9 FL N=bob@example.com F=bob@example.com C=abc\r\n", "ADC", 5, 4,
     "C=abc"},
    {"REM 10 FL cd9c1ec3-c03e-4070-82db-d6ebcd679c71\r\n", "REM", 3, 1, "FL"},
    {"XFR 7 SB 127.0.0.1:1864 CKI 9b68cce906613330937e\r\n", "XFR", 5, 2,
     "127.0.0.1:1864"},
    {"XFR 3 NS 10.0.0.1:1863 0 127.0.0.1:1863\r\n", "XFR", 5, 1, "NS"},
    {"RNG 8e48307d354e65e22409aa7b083c63c 127.0.0.1:1864 CKI "
     "b7c1f7f62750ace13191 alice@example.com Alice\r\n",
     "RNG", 6, 4, "alice@example.com"},
    {"IRO 1 1 1 alice@example.com Alice 0\r\n", "IRO", 6, 3,
     "alice@example.com"},
    {"ANS 1 OK\r\n", "ANS", 2, 1, "OK"},
    {"CAL 2 RINGING 8e48307d354e65e22409aa7b083c63c\r\n", "CAL", 3, 1,
     "RINGING"},
    {"JOI bob@example.com Bob 0\r\n", "JOI", 3, 0, "bob@example.com"},
    {"ACK 4\r\n", "ACK", 1, 0, "4"},
    {"NAK 4\r\n", "NAK", 1, 0, "4"},
    {"BYE bob@example.com\r\n", "BYE", 1, 0, "bob@example.com"},
    {"QNG 60\r\n", "QNG", 1, 0, "60"},
    {"CHL 0 22210219642164014968\r\n", "CHL", 2, 1, "22210219642164014968"},
    {"QRY 8\r\n", "QRY", 1, 0, "8"},
    {"OUT OTH\r\n", "OUT", 1, 0, "OTH"},
    {"OUT\r\n", "OUT", 0, 0, NULL},
    {"911 4\r\n", "911", 1, 0, "4"},
    {"913 7\r\n", "913", 1, 0, "7"},
    {"217 2\r\n", "217", 1, 0, "2"},
    {"ADL 8 OK\r\n", "ADL", 2, 1, "OK"},
    {"UUX 8 0\r\n", "UUX", 2, 1, "0"},
    /* a bare LF ends a line too */
    {"QNG 50\n", "QNG", 1, 0, "50"},
};

static void every_command_shape_parses(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(shapes); i++) {
        int last;
        GPtrArray *cmds =
            parse_all(shapes[i].line, strlen(shapes[i].line), &last);
        msnp_cmd *cmd;

        g_test_message("%s", shapes[i].line);
        g_assert_cmpuint(cmds->len, ==, 1);
        g_assert_cmpint(last, ==, MSNP_NEED_MORE);
        cmd = g_ptr_array_index(cmds, 0);
        g_assert_cmpstr(cmd->name, ==, shapes[i].name);
        g_assert_cmpuint(cmd->argc, ==, shapes[i].argc);
        if (shapes[i].value)
            g_assert_cmpstr(cmd->argv[shapes[i].arg], ==, shapes[i].value);
        g_assert_null(cmd->argv[cmd->argc]);
        g_ptr_array_unref(cmds);
    }
}

static void error_lines_carry_their_code_and_trid(void)
{
    GPtrArray *cmds = parse_all("911 4\r\n", 7, NULL);
    msnp_cmd *cmd = g_ptr_array_index(cmds, 0);

    g_assert_cmpint(cmd->error, ==, 911);
    g_assert_cmpint(msnp_cmd_trid(cmd), ==, 4);
    g_ptr_array_unref(cmds);
    cmds = parse_all("NLN NLN bob@example.com Bob 0\r\n", 31, NULL);
    cmd = g_ptr_array_index(cmds, 0);
    g_assert_cmpint(cmd->error, ==, 0);
    g_assert_cmpint(msnp_cmd_trid(cmd), ==, -1);
    g_ptr_array_unref(cmds);
}

static const char transcript_msg[] =
    "MSG alice@example.com Alice 129\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "X-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n"
    "\r\n"
    "hello from alice"
    "JOI bob@example.com Bob 0\r\n";

static void payload_commands_carry_their_bytes(void)
{
    GPtrArray *cmds = parse_all(transcript_msg, strlen(transcript_msg), NULL);
    msnp_cmd *msg, *joi;

    g_assert_cmpuint(cmds->len, ==, 2);
    msg = g_ptr_array_index(cmds, 0);
    joi = g_ptr_array_index(cmds, 1);
    g_assert_cmpstr(msg->name, ==, "MSG");
    g_assert_cmpuint(msg->payload_len, ==, 129);
    g_assert_cmpuint(strlen(msg->payload), ==, 129);
    g_assert_true(g_str_has_suffix(msg->payload, "hello from alice"));
    g_assert_cmpstr(joi->name, ==, "JOI");
    g_ptr_array_unref(cmds);
}

/* The same bytes, fed in every split into two reads, then byte by byte. */
static void payloads_split_across_reads_come_out_whole(void)
{
    gsize len = strlen(transcript_msg);

    for (gsize cut = 0; cut <= len; cut++) {
        msnp_parser *p = msnp_parser_new();
        msnp_cmd *cmd;
        guint n = 0;
        int r;

        msnp_parser_feed(p, transcript_msg, cut);
        while ((r = msnp_parser_next(p, &cmd)) == MSNP_COMMAND) {
            n++;
            msnp_cmd_free(cmd);
        }
        g_assert_cmpint(r, ==, MSNP_NEED_MORE);
        msnp_parser_feed(p, transcript_msg + cut, len - cut);
        while ((r = msnp_parser_next(p, &cmd)) == MSNP_COMMAND) {
            if (strcmp(cmd->name, "MSG") == 0)
                g_assert_cmpuint(cmd->payload_len, ==, 129);
            n++;
            msnp_cmd_free(cmd);
        }
        g_assert_cmpuint(n, ==, 2);
        g_assert_cmpuint(msnp_parser_pending(p), ==, 0);
        msnp_parser_free(p);
    }
    {
        msnp_parser *p = msnp_parser_new();
        msnp_cmd *cmd;
        guint n = 0;

        for (gsize i = 0; i < len; i++) {
            msnp_parser_feed(p, transcript_msg + i, 1);
            while (msnp_parser_next(p, &cmd) == MSNP_COMMAND) {
                n++;
                msnp_cmd_free(cmd);
            }
        }
        g_assert_cmpuint(n, ==, 2);
        msnp_parser_free(p);
    }
}

static void truncated_input_waits_for_more(void)
{
    static const char *const partial[] = {
        "VER 1 MSNP1",
        "MSG Hotmail Hotmail 10\r\nabc",
        "UBX bob@x 53\r\n",
        "LST N=bob",
        "\r",
        "",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(partial); i++) {
        int last;
        GPtrArray *cmds = parse_all(partial[i], strlen(partial[i]), &last);

        g_assert_cmpuint(cmds->len, ==, 0);
        g_assert_cmpint(last, ==, MSNP_NEED_MORE);
        g_ptr_array_unref(cmds);
    }
}

static void absurd_lengths_are_refused(void)
{
    static const char *const bad[] = {
        "MSG a b 999999999999\r\n",
        "MSG a b 4294967296\r\n",
        "MSG a b 262145\r\n",
        "MSG a b -1\r\n",
        "MSG a b 12x\r\n",
        "UBX bob@example.com\r\n",
        "MSG\r\n",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        msnp_parser *p = msnp_parser_new();
        msnp_cmd *cmd;

        msnp_parser_feed(p, bad[i], strlen(bad[i]));
        g_assert_cmpint(msnp_parser_next(p, &cmd), ==, MSNP_E_LENGTH);
        g_assert_null(cmd);
        /* and it stays failed */
        msnp_parser_feed(p, "QNG 1\r\n", 7);
        g_assert_cmpint(msnp_parser_next(p, &cmd), ==, MSNP_E_LENGTH);
        msnp_parser_free(p);
    }
}

static void overlong_lines_are_refused(void)
{
    msnp_parser *p = msnp_parser_new();
    char *line = g_strnfill(MSNP_LINE_MAX + 1, 'A');
    msnp_cmd *cmd;

    msnp_parser_feed(p, line, strlen(line));
    g_assert_cmpint(msnp_parser_next(p, &cmd), ==, MSNP_E_LINE);
    msnp_parser_free(p);
    g_free(line);
}

static void unknown_and_malformed_lines_are_skipped(void)
{
    static const char input[] = "ZZZ 1 whatever\r\n"
                                "\r\n"
                                "ver 1 lower\r\n"
                                "VE\r\n"
                                "VERX 1\r\n"
                                "VER 1 a\001b\r\n"
                                "9A9 1\r\n"
                                "QNG 60\r\n";
    msnp_parser *p = msnp_parser_new();
    msnp_cmd *cmd;

    msnp_parser_feed(p, input, sizeof input - 1);
    g_assert_cmpint(msnp_parser_next(p, &cmd), ==, MSNP_COMMAND);
    g_assert_cmpstr(cmd->name, ==, "QNG");
    msnp_cmd_free(cmd);
    g_assert_cmpuint(msnp_parser_skipped(p), ==, 7 - 1);
    msnp_parser_free(p);
}

static void invalid_utf8_is_kept_raw_and_decoded_valid(void)
{
    static const char input[] = "NLN NLN bob@example.com B\xff\xfe%C3%28 0\r\n"
                                "MSG bob@example.com Bob 4\r\n\xc3\x28\xff!";
    GPtrArray *cmds = parse_all(input, sizeof input - 1, NULL);
    msnp_cmd *nln, *msg;
    char *name;

    g_assert_cmpuint(cmds->len, ==, 2);
    nln = g_ptr_array_index(cmds, 0);
    msg = g_ptr_array_index(cmds, 1);
    name = msnp_url_decode(nln->argv[2]);
    g_assert_true(g_utf8_validate(name, -1, NULL));
    g_free(name);
    g_assert_cmpuint(msg->payload_len, ==, 4);
    g_assert_cmpint(memcmp(msg->payload, "\xc3\x28\xff!", 4), ==, 0);
    g_ptr_array_unref(cmds);
}

static void url_coding_round_trips(void)
{
    char *enc = msnp_url_encode("Ali ce%é@x", FALSE);
    char *dec;

    g_assert_cmpstr(enc, ==, "Ali%20ce%25%C3%A9%40x");
    dec = msnp_url_decode(enc);
    g_assert_cmpstr(dec, ==, "Ali ce%é@x");
    g_free(enc);
    g_free(dec);
    enc = msnp_url_encode("a@b.c", TRUE);
    g_assert_cmpstr(enc, ==, "a@b.c");
    g_free(enc);
    /* %00 is never decoded into a NUL; a lone % stays */
    dec = msnp_url_decode("a%00b%");
    g_assert_cmpstr(dec, ==, "a%00b%");
    g_free(dec);
}

static void mime_headers_and_body_are_found(void)
{
    static const char payload[] = "MIME-Version: 1.0\r\n"
                                  "Content-Type: Text/X-MSMSGSCONTROL\r\n"
                                  "TypingUser: alice@example.com\r\n"
                                  "\r\n"
                                  "\r\n";
    msnp_mime m;
    char type[32];

    g_assert_cmpint(msnp_mime_parse(payload, sizeof payload - 1, &m), ==, 0);
    g_assert_cmpstr(msnp_mime_header(&m, "typinguser"), ==,
                    "alice@example.com");
    msnp_mime_type(&m, type, sizeof type);
    g_assert_cmpstr(type, ==, "text/x-msmsgscontrol");
    g_assert_cmpuint(m.body_len, ==, 2);
    msnp_mime_free(&m);
    g_assert_cmpint(msnp_mime_parse("no separator", 12, &m), ==, -1);
}

static void splits_never_cut_a_character(void)
{
    /* "é" is 2 bytes, "€" 3, "𝄞" 4 */
    const char *text = "aé€𝄞bé€𝄞";

    for (gsize max = 1; max <= 12; max++) {
        char **pieces = msnp_split_utf8(text, max);
        GString *joined = g_string_new(NULL);

        for (char **p = pieces; *p; p++) {
            g_assert_true(g_utf8_validate(*p, -1, NULL));
            if (max >= 4)
                g_assert_cmpuint(strlen(*p), <=, max);
            g_string_append(joined, *p);
        }
        g_assert_cmpstr(joined->str, ==, text);
        g_string_free(joined, TRUE);
        g_strfreev(pieces);
    }
}

static void passport_headers_are_read(void)
{
    static const char nexus[] =
        "HTTP/1.1 200 OK\r\n"
        "PassportURLs: DARealm=Passport.Net,DALogin=login.example/login2.srf,"
        "DAReg=x\r\n"
        "Content-Length: 0\r\n\r\n";
    static const char login[] =
        "HTTP/1.1 200 OK\r\n"
        "Authentication-Info: Passport1.4 da-status=success,"
        "from-PP='t=23ecad032b909c9a416d',ru=x\r\n\r\nbody";
    char *v = msnp_http_header(nexus, sizeof nexus - 1, "passporturls");
    char *d = msnp_passport_dalogin(v);
    char *info, *ticket;

    g_assert_cmpstr(d, ==, "login.example/login2.srf");
    g_assert_cmpint(msnp_http_status(nexus, sizeof nexus - 1), ==, 200);
    g_free(v);
    g_free(d);
    info = msnp_http_header(login, sizeof login - 1, "Authentication-Info");
    ticket = msnp_passport_ticket(info);
    g_assert_cmpstr(ticket, ==, "23ecad032b909c9a416d");
    g_free(ticket);
    g_free(info);
    g_assert_null(msnp_passport_ticket("Passport1.4 da-status=failed"));
    g_assert_cmpint(msnp_http_status("HTTP/1.1 401 Unauthorized\r\n", 27), ==,
                    401);
}

static void error_codes_have_texts_and_kinds(void)
{
    g_assert_cmpstr(msnp_error_text(911), ==, "authentication failed");
    g_assert_cmpstr(msnp_error_text(913), ==,
                    "not allowed while offline or invisible");
    g_assert_cmpstr(msnp_error_text(217), ==, "user not online");
    g_assert_cmpstr(msnp_error_text(208), ==, "invalid user name");
    g_assert_cmpstr(msnp_error_text(502), ==, "command disabled");
    g_assert_cmpstr(msnp_error_text(999), ==, "unknown server error");
    g_assert_cmpint(msnp_error_kind(911), ==, MSNP_ERROR_AUTH);
    g_assert_cmpint(msnp_error_kind(600), ==, MSNP_ERROR_NETWORK);
    g_assert_cmpint(msnp_error_kind(201), ==, MSNP_ERROR_OTHER);
}

/* MSNP11's challenge hash with MSN Messenger 7.5's product id and key:
 * the example every description of it gives (the first), and the vectors
 * of Eclipse ECF's MSN library (ChallengeTest.java). */
static const struct {
    const char *challenge, *answer;
} msnp11_vectors[] = {
    {"22210219642164014968", "85ecb0db8f32113df79ce0892b9a102c"},
    {"36819795137093047918", "e7ad3cb09d3e9e4e7c720175984809e9"},
    {"21948129323261853323", "59bcf63ed21f44906c3d3e121ddbed65"},
    {"41525959199453244913", "dcb8ff529e4dd12cc43389851128d2db"},
    {"31744216663023315951", "d15553d0ea89c9f63bbb98a208fa4235"},
    {"14494180082586329971", "4e11d4cd56a65bdf04f60aa133db7ebc"},
};

static void qry_answers_match_the_published_examples(void)
{
    char out[33];

    for (gsize i = 0; i < G_N_ELEMENTS(msnp11_vectors); i++) {
        msnp_qry_answer(11, msnp11_vectors[i].challenge, out);
        g_assert_cmpstr(out, ==, msnp11_vectors[i].answer);
        msnp_qry_answer(12, msnp11_vectors[i].challenge, out);
        g_assert_cmpstr(out, ==, msnp11_vectors[i].answer);
    }
    msnp_qry_answer(8, "15570131571988941333", out);
    g_assert_cmpstr(out, ==, "8f2f5a91b72102cd28355e9fc9000d6e");
    g_assert_cmpstr(msnp_qry_product(12), ==, "PROD0090YUAUV{2B");
    g_assert_cmpstr(msnp_qry_product(9), ==, "msmsgs@msnmsgr.com");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/msnp/every_command_shape_parses",
                    every_command_shape_parses);
    g_test_add_func("/msnp/error_lines_carry_their_code_and_trid",
                    error_lines_carry_their_code_and_trid);
    g_test_add_func("/msnp/payload_commands_carry_their_bytes",
                    payload_commands_carry_their_bytes);
    g_test_add_func("/msnp/payloads_split_across_reads_come_out_whole",
                    payloads_split_across_reads_come_out_whole);
    g_test_add_func("/msnp/truncated_input_waits_for_more",
                    truncated_input_waits_for_more);
    g_test_add_func("/msnp/absurd_lengths_are_refused",
                    absurd_lengths_are_refused);
    g_test_add_func("/msnp/overlong_lines_are_refused",
                    overlong_lines_are_refused);
    g_test_add_func("/msnp/unknown_and_malformed_lines_are_skipped",
                    unknown_and_malformed_lines_are_skipped);
    g_test_add_func("/msnp/invalid_utf8_is_kept_raw_and_decoded_valid",
                    invalid_utf8_is_kept_raw_and_decoded_valid);
    g_test_add_func("/msnp/url_coding_round_trips", url_coding_round_trips);
    g_test_add_func("/msnp/mime_headers_and_body_are_found",
                    mime_headers_and_body_are_found);
    g_test_add_func("/msnp/splits_never_cut_a_character",
                    splits_never_cut_a_character);
    g_test_add_func("/msnp/passport_headers_are_read",
                    passport_headers_are_read);
    g_test_add_func("/msnp/error_codes_have_texts_and_kinds",
                    error_codes_have_texts_and_kinds);
    g_test_add_func("/msnp/qry_answers_match_the_published_examples",
                    qry_answers_match_the_published_examples);
    return g_test_run();
}
