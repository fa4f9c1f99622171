/* p2p: MSNP2P messages and MSNSLP (p2p.h). */
#include "p2p.h"

#include <string.h>

static guint32 get32(const guchar *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 |
           (guint32)p[3] << 24;
}

static guint64 get64(const guchar *p)
{
    return (guint64)get32(p) | (guint64)get32(p + 4) << 32;
}

static void put32(GByteArray *out, guint32 v)
{
    guchar b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};

    g_byte_array_append(out, b, 4);
}

static void put64(GByteArray *out, guint64 v)
{
    put32(out, (guint32)v);
    put32(out, (guint32)(v >> 32));
}

int p2p_parse(const guchar *buf, gsize len, p2p_header *h, const guchar **data,
              guint32 *footer)
{
    const guchar *f;

    if (len < P2P_HEADER_LEN + P2P_FOOTER_LEN)
        return -1;
    h->session = get32(buf);
    h->id = get32(buf + 4);
    h->offset = get64(buf + 8);
    h->total = get64(buf + 16);
    h->length = get32(buf + 24);
    h->flags = get32(buf + 28);
    h->ack_session = get32(buf + 32);
    h->ack_id = get32(buf + 36);
    h->ack_size = get64(buf + 40);
    if ((gsize)h->length != len - P2P_HEADER_LEN - P2P_FOOTER_LEN ||
        h->offset > h->total || h->length > h->total - h->offset)
        return -1;
    *data = buf + P2P_HEADER_LEN;
    f = *data + h->length;
    *footer = (guint32)f[0] << 24 | (guint32)f[1] << 16 | (guint32)f[2] << 8 |
              (guint32)f[3];
    return 0;
}

void p2p_build(GByteArray *out, const p2p_header *h, const guchar *data,
               guint32 footer)
{
    guchar f[4] = {footer >> 24, (footer >> 16) & 0xff, (footer >> 8) & 0xff,
                   footer & 0xff};

    put32(out, h->session);
    put32(out, h->id);
    put64(out, h->offset);
    put64(out, h->total);
    put32(out, h->length);
    put32(out, h->flags);
    put32(out, h->ack_session);
    put32(out, h->ack_id);
    put64(out, h->ack_size);
    if (h->length)
        g_byte_array_append(out, data, h->length);
    g_byte_array_append(out, f, 4);
}

void p2p_ack_of(const p2p_header *got, guint32 mine, p2p_header *ack)
{
    memset(ack, 0, sizeof *ack);
    ack->session = got->session;
    ack->id = mine;
    ack->total = got->total;
    ack->flags = P2P_FLAG_ACK;
    ack->ack_session = got->id;
    ack->ack_id = got->ack_session;
    ack->ack_size = got->total;
}

/* Header lines "Name: value" from p to end into table (names lower-cased);
 * returns where the blank line ends, or end. */
static const char *lines_into(const char *p, const char *end, GHashTable *t)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *le = nl ? nl : end, *colon, *v;

        if (le > p && le[-1] == '\r')
            le--;
        if (le == p)
            return nl ? nl + 1 : end;
        colon = memchr(p, ':', (gsize)(le - p));
        if (colon) {
            v = colon + 1;
            while (v < le && *v == ' ')
                v++;
            g_hash_table_replace(t, g_ascii_strdown(p, colon - p),
                                 g_strstrip(g_strndup(v, (gsize)(le - v))));
        }
        p = nl ? nl + 1 : end;
    }
    return end;
}

int p2p_slp_parse(const char *text, gsize len, p2p_slp *out)
{
    const char *end, *nl, *p;

    memset(out, 0, sizeof *out);
    if (len > P2P_SLP_MAX)
        return -1;
    end = memchr(text, '\0', len);
    if (!end)
        end = text + len;
    nl = memchr(text, '\n', (gsize)(end - text));
    if (!nl || nl == text)
        return -1;
    out->start = g_strstrip(g_strndup(text, (gsize)(nl - text)));
    out->heads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    out->body = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    p = lines_into(nl + 1, end, out->heads);
    lines_into(p, end, out->body);
    return 0;
}

void p2p_slp_free(p2p_slp *slp)
{
    g_free(slp->start);
    if (slp->heads)
        g_hash_table_destroy(slp->heads);
    if (slp->body)
        g_hash_table_destroy(slp->body);
    memset(slp, 0, sizeof *slp);
}

void p2p_slp_kind(const p2p_slp *slp, char *buf, gsize size)
{
    const char *s = slp->start ? slp->start : "";
    const char *sp;

    if (g_str_has_prefix(s, "MSNSLP/1.0 ")) {
        s += strlen("MSNSLP/1.0 ");
        sp = strchr(s, ' ');
    } else {
        sp = strchr(s, ' ');
    }
    g_strlcpy(buf, s, size);
    if (sp && (gsize)(sp - s) < size)
        buf[sp - s] = '\0';
}

char *p2p_slp_build(const char *start, const char *to, const char *from,
                    const char *branch, int cseq, const char *call_id,
                    const char *content_type, const char *body, gsize *len)
{
    /* Content-Length counts the body and its NUL. */
    char *text = g_strdup_printf("%s\r\n"
                                 "To: <msnmsgr:%s>\r\n"
                                 "From: <msnmsgr:%s>\r\n"
                                 "Via: MSNSLP/1.0/TLP ;branch=%s\r\n"
                                 "CSeq: %d \r\n"
                                 "Call-ID: %s\r\n"
                                 "Max-Forwards: 0\r\n"
                                 "Content-Type: %s\r\n"
                                 "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                 "\r\n"
                                 "%s",
                                 start, to, from, branch, cseq, call_id,
                                 content_type, strlen(body) + 1, body);

    *len = strlen(text) + 1;
    return text;
}

char *p2p_guid(GRand *rand)
{
    guint32 a = g_rand_int(rand), b = g_rand_int(rand), c = g_rand_int(rand),
            d = g_rand_int(rand);

    return g_strdup_printf("{%08X-%04X-%04X-%04X-%04X%08X}", a, b >> 16,
                           b & 0xffff, c >> 16, c & 0xffff, d);
}
