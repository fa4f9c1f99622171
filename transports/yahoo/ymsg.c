/* ymsg: YMSG packets to and from bytes, the stream reader, and the text
 * conventions of message bodies. */
#include "ymsg.h"

#include <string.h>

/* Pairs are separated (and the payload ended) by these two bytes. */
static const guint8 sep[2] = {0xC0, 0x80};

/* Keys are decimal; nine digits keep them in an int. */
#define KEY_DIGITS_MAX 9

static const struct {
    guint16 service;
    const char *name;
} services[] = {
    {YMSG_LOGON, "LOGON"},
    {YMSG_LOGOFF, "LOGOFF"},
    {YMSG_ISAWAY, "ISAWAY"},
    {YMSG_ISBACK, "ISBACK"},
    {YMSG_MESSAGE, "MESSAGE"},
    {YMSG_NEWCONTACT, "NEWCONTACT"},
    {YMSG_PINGCONF, "PINGCONF"},
    {YMSG_CONFINVITE, "CONFINVITE"},
    {YMSG_CONFLOGON, "CONFLOGON"},
    {YMSG_CONFDECLINE, "CONFDECLINE"},
    {YMSG_CONFLOGOFF, "CONFLOGOFF"},
    {YMSG_CONFADDINVITE, "CONFADDINVITE"},
    {YMSG_CONFMSG, "CONFMSG"},
    {YMSG_NOTIFY, "NOTIFY"},
    {YMSG_VERIFY, "VERIFY"},
    {YMSG_AUTHRESP, "AUTHRESP"},
    {YMSG_LIST, "LIST"},
    {YMSG_AUTH, "AUTH"},
    {YMSG_FRIENDADD, "FRIENDADD"},
    {YMSG_FRIENDREMOVE, "FRIENDREMOVE"},
    {YMSG_REJECTCONTACT, "REJECTCONTACT"},
    {YMSG_PING, "PING"},
    {YMSG_PICTURE_CHECKSUM, "PICTURE_CHECKSUM"},
    {YMSG_PICTURE, "PICTURE"},
    {YMSG_PICTURE_UPDATE, "PICTURE_UPDATE"},
    {YMSG_PICTURE_UPLOAD, "PICTURE_UPLOAD"},
};

const char *ymsg_service_name(guint16 service)
{
    for (gsize i = 0; i < G_N_ELEMENTS(services); i++)
        if (services[i].service == service)
            return services[i].name;
    return NULL;
}

/* ---- packets ----------------------------------------------------------- */

static void pair_clear(gpointer data)
{
    ymsg_pair *p = data;

    g_free(p->value);
}

ymsg_pkt *ymsg_pkt_new(guint16 service, guint32 status, guint32 session)
{
    ymsg_pkt *pkt = g_new0(ymsg_pkt, 1);

    pkt->version = YMSG_VERSION;
    pkt->service = service;
    pkt->status = status;
    pkt->session = session;
    pkt->pairs = g_array_new(FALSE, FALSE, sizeof(ymsg_pair));
    g_array_set_clear_func(pkt->pairs, pair_clear);
    return pkt;
}

void ymsg_pkt_free(ymsg_pkt *pkt)
{
    if (!pkt)
        return;
    g_array_unref(pkt->pairs);
    g_free(pkt);
}

static void add_len(ymsg_pkt *pkt, int key, const char *value, gsize len)
{
    ymsg_pair p = {key, g_strndup(value, len), len};

    g_array_append_val(pkt->pairs, p);
}

void ymsg_pkt_add(ymsg_pkt *pkt, int key, const char *value)
{
    value = value ? value : "";
    add_len(pkt, key, value, strlen(value));
}

void ymsg_pkt_add_int(ymsg_pkt *pkt, int key, gint64 value)
{
    char buf[24];

    g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, value);
    ymsg_pkt_add(pkt, key, buf);
}

const char *ymsg_pkt_get(const ymsg_pkt *pkt, int key)
{
    for (guint i = 0; i < pkt->pairs->len; i++)
        if (ymsg_pkt_pair(pkt, i)->key == key)
            return ymsg_pkt_pair(pkt, i)->value;
    return NULL;
}

gint64 ymsg_pkt_get_int(const ymsg_pkt *pkt, int key, gint64 def)
{
    const char *v = ymsg_pkt_get(pkt, key);
    gint64 n;

    if (!v ||
        !g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64, &n, NULL))
        return def;
    return n;
}

/* ---- encoding ---------------------------------------------------------- */

static void put16(guint8 *p, guint16 v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static void put32(guint8 *p, guint32 v)
{
    put16(p, (guint16)(v >> 16));
    put16(p + 2, (guint16)v);
}

static guint16 get16(const guint8 *p)
{
    return (guint16)((p[0] << 8) | p[1]);
}

static guint32 get32(const guint8 *p)
{
    return ((guint32)get16(p) << 16) | get16(p + 2);
}

static gboolean holds_sep(const char *s, gsize len)
{
    return len >= 2 && memmem(s, len, sep, sizeof sep) != NULL;
}

int ymsg_encode(const ymsg_pkt *pkt, GByteArray *out)
{
    gsize payload = 0, start = out->len;
    guint8 head[YMSG_HEADER_SIZE];

    for (guint i = 0; i < pkt->pairs->len; i++) {
        const ymsg_pair *p = ymsg_pkt_pair(pkt, i);
        char key[16];

        if (holds_sep(p->value, p->len))
            return YMSG_ESEPARATOR;
        payload += (gsize)g_snprintf(key, sizeof key, "%d", p->key) + p->len +
                   2 * sizeof sep;
        if (payload > YMSG_MAX_PAYLOAD)
            return YMSG_ETOOLONG;
    }
    memcpy(head, "YMSG", 4);
    put16(head + 4, pkt->version);
    put16(head + 6, pkt->vendor);
    put16(head + 8, (guint16)payload);
    put16(head + 10, pkt->service);
    put32(head + 12, pkt->status);
    put32(head + 16, pkt->session);
    g_byte_array_append(out, head, sizeof head);
    for (guint i = 0; i < pkt->pairs->len; i++) {
        const ymsg_pair *p = ymsg_pkt_pair(pkt, i);
        char key[16];
        int n = g_snprintf(key, sizeof key, "%d", p->key);

        g_byte_array_append(out, (const guint8 *)key, (guint)n);
        g_byte_array_append(out, sep, sizeof sep);
        g_byte_array_append(out, (const guint8 *)p->value, (guint)p->len);
        g_byte_array_append(out, sep, sizeof sep);
    }
    g_assert(out->len - start == YMSG_HEADER_SIZE + payload);
    return 0;
}

/* ---- decoding ---------------------------------------------------------- */

static int parse_key(const guint8 *s, gsize len, int *key)
{
    int k = 0;

    if (len == 0 || len > KEY_DIGITS_MAX)
        return -1;
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isdigit(s[i]))
            return -1;
        k = k * 10 + (s[i] - '0');
    }
    *key = k;
    return 0;
}

/* The payload's pairs into pkt. A trailing separator is optional; a last
 * key without a value gets "". */
static int parse_payload(ymsg_pkt *pkt, const guint8 *p, gsize len)
{
    const guint8 *end = p + len;
    int key = 0;
    gboolean want_key = TRUE;

    while (p < end) {
        const guint8 *s = memmem(p, (gsize)(end - p), sep, sizeof sep);
        const guint8 *tok_end = s ? s : end;

        if (want_key) {
            if (parse_key(p, (gsize)(tok_end - p), &key) < 0)
                return -1;
        } else {
            add_len(pkt, key, (const char *)p, (gsize)(tok_end - p));
        }
        want_key = !want_key;
        p = s ? s + sizeof sep : end;
    }
    if (!want_key)
        ymsg_pkt_add(pkt, key, "");
    return 0;
}

int ymsg_decode(const guint8 *buf, gsize len, gsize *used, ymsg_pkt **pkt)
{
    gsize payload;
    ymsg_pkt *out;

    *pkt = NULL;
    *used = 0;
    if (memcmp(buf, "YMSG", MIN(len, 4)) != 0)
        return YMSG_EMAGIC;
    if (len < YMSG_HEADER_SIZE)
        return YMSG_AGAIN;
    payload = get16(buf + 8);
    if (len < YMSG_HEADER_SIZE + payload)
        return YMSG_AGAIN;
    out = ymsg_pkt_new(get16(buf + 10), get32(buf + 12), get32(buf + 16));
    out->version = get16(buf + 4);
    out->vendor = get16(buf + 6);
    *used = YMSG_HEADER_SIZE + payload;
    if (parse_payload(out, buf + YMSG_HEADER_SIZE, payload) < 0) {
        ymsg_pkt_free(out);
        return YMSG_EPAYLOAD;
    }
    *pkt = out;
    return 1;
}

/* ---- the stream reader ------------------------------------------------- */

struct ymsg_reader {
    GByteArray *buf;
    gsize start; /* bytes before it are consumed */
    gboolean failed;
};

ymsg_reader *ymsg_reader_new(void)
{
    ymsg_reader *r = g_new0(ymsg_reader, 1);

    r->buf = g_byte_array_new();
    return r;
}

void ymsg_reader_free(ymsg_reader *r)
{
    if (!r)
        return;
    g_byte_array_unref(r->buf);
    g_free(r);
}

void ymsg_reader_feed(ymsg_reader *r, const guint8 *data, gsize len)
{
    /* Drop what was consumed before growing, so the buffer stays about
     * one packet long. */
    if (r->start) {
        g_byte_array_remove_range(r->buf, 0, (guint)r->start);
        r->start = 0;
    }
    g_byte_array_append(r->buf, data, (guint)len);
}

int ymsg_reader_next(ymsg_reader *r, ymsg_pkt **pkt)
{
    gsize used = 0;
    int rc;

    *pkt = NULL;
    if (r->failed)
        return YMSG_EMAGIC;
    if (r->start >= r->buf->len)
        return YMSG_AGAIN;
    rc = ymsg_decode(r->buf->data + r->start, r->buf->len - r->start, &used,
                     pkt);
    if (rc == YMSG_EMAGIC)
        r->failed = TRUE;
    r->start += used;
    return rc;
}

/* ---- message text ------------------------------------------------------ */

char *ymsg_text_to_utf8(const char *value)
{
    char *out;

    value = value ? value : "";
    /* Valid UTF-8 is taken as such, flagged (key 97) or not: clients
     * that forget the flag exist, and a Windows-1252 text with bytes
     * over 0x7F is almost never valid UTF-8. */
    if (g_utf8_validate(value, -1, NULL))
        return g_strdup(value);
    out = g_convert(value, -1, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
    if (out && g_utf8_validate(out, -1, NULL))
        return out;
    g_free(out);
    return g_utf8_make_valid(value, -1);
}

/* Yahoo's own tags; matched without case, each may carry attributes. */
static const char *const tags[] = {"font", "fade", "alt", "b", "i", "u", "s"};

/* Length of the Yahoo tag at p ("<font face=x>", "</b>"), or 0. */
static gsize tag_len(const char *p)
{
    const char *q = p + 1, *close;

    if (*q == '/')
        q++;
    for (gsize i = 0; i < G_N_ELEMENTS(tags); i++) {
        gsize n = strlen(tags[i]);

        if (g_ascii_strncasecmp(q, tags[i], n) != 0)
            continue;
        if (q[n] != '>' && q[n] != ' ')
            continue;
        close = strchr(q + n, '>');
        return close ? (gsize)(close - p) + 1 : 0;
    }
    return 0;
}

/* Length of the ESC '[' … 'm' code at p, or 0. Codes are short ("[1m",
 * "[#ff0000m", "[x1m"); a longer run is not one. */
static gsize esc_len(const char *p)
{
    if (p[0] != '\x1b' || p[1] != '[')
        return 0;
    for (gsize i = 2; i < 16 && p[i]; i++)
        if (p[i] == 'm')
            return i + 1;
    return 0;
}

char *ymsg_text_strip(const char *text)
{
    GString *out = g_string_sized_new(strlen(text ? text : ""));

    for (const char *p = text ? text : ""; *p;) {
        gsize n = *p == '<' ? tag_len(p) : esc_len(p);

        if (n) {
            p += n;
            continue;
        }
        g_string_append_c(out, *p);
        p++;
    }
    return g_string_free(out, FALSE);
}
