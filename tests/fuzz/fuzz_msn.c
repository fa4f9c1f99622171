/* fuzz_msn: libFuzzer target for the MSN plugin's wire format
 * (transports/msn/msnp.c): the first byte picks the read size, the rest is
 * fed in reads of that size as a server's byte stream; every command that
 * comes out has its arguments decoded and its payload read as MIME. The
 * same bytes also go through the HTTP/Passport header readers. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "msnp.h"

static void use_command(const msnp_cmd *cmd)
{
    msnp_mime m;
    char type[64];

    for (guint i = 0; i < cmd->argc; i++) {
        char *d = msnp_url_decode(cmd->argv[i]);
        char *e = msnp_url_encode(d, TRUE);

        g_free(e);
        g_free(d);
        (void)msnp_arg_value(cmd->argv[i], 'N');
    }
    (void)msnp_cmd_trid(cmd);
    if (cmd->error)
        (void)msnp_error_text(cmd->error);
    if (cmd->payload &&
        msnp_mime_parse(cmd->payload, cmd->payload_len, &m) == 0) {
        msnp_mime_type(&m, type, sizeof type);
        (void)msnp_mime_header(&m, "TypingUser");
        if (m.body_len < 4096) {
            char *body = g_utf8_make_valid(m.body, (gssize)m.body_len);
            char **pieces = msnp_split_utf8(body, 1 + (m.body_len % 200));

            g_strfreev(pieces);
            g_free(body);
        }
        msnp_mime_free(&m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msnp_parser *p;
    msnp_cmd *cmd;
    gsize chunk, off;
    char *text, *v, *t;

    if (size == 0)
        return 0;
    chunk = 1 + data[0] % 64;
    data++;
    size--;
    p = msnp_parser_new();
    for (off = 0; off < size; off += chunk) {
        int r;

        msnp_parser_feed(p, data + off, MIN(chunk, size - off));
        while ((r = msnp_parser_next(p, &cmd)) == MSNP_COMMAND) {
            use_command(cmd);
            msnp_cmd_free(cmd);
        }
        if (r < 0)
            break;
    }
    msnp_parser_free(p);

    text = g_strndup((const char *)data, size);
    (void)msnp_http_status(text, strlen(text));
    v = msnp_http_header(text, strlen(text), "Authentication-Info");
    t = msnp_passport_ticket(v ? v : text);
    g_free(t);
    g_free(v);
    v = msnp_passport_dalogin(text);
    g_free(v);
    g_free(text);
    return 0;
}
