/* msnp: the MSNP wire format without libpurple (see msnp.h). */
#include "msnp.h"

#include <stdlib.h>
#include <string.h>

/* ---- commands ---------------------------------------------------------- */

/* Every command name a server sends to an MSNP8–12 client (notification
 * and switchboard), and whether its last argument is a payload length.
 * MAYBE: a payload only when the last argument is a number ("ADL 8 OK"
 * has none). */
enum { NO_PAYLOAD, PAYLOAD, MAYBE };

static const struct {
    const char name[4];
    int payload;
} commands[] = {
    {"ACK", NO_PAYLOAD}, {"ADC", NO_PAYLOAD}, {"ADD", NO_PAYLOAD},
    {"ADG", NO_PAYLOAD}, {"ADL", MAYBE},      {"ANS", NO_PAYLOAD},
    {"BLP", NO_PAYLOAD}, {"BPR", NO_PAYLOAD}, {"BYE", NO_PAYLOAD},
    {"CAL", NO_PAYLOAD}, {"CHG", NO_PAYLOAD}, {"CHL", NO_PAYLOAD},
    {"CVR", NO_PAYLOAD}, {"FLN", NO_PAYLOAD}, {"FQY", MAYBE},
    {"GCF", PAYLOAD},    {"GTC", NO_PAYLOAD}, {"ILN", NO_PAYLOAD},
    {"IPG", PAYLOAD},    {"IRO", NO_PAYLOAD}, {"JOI", NO_PAYLOAD},
    {"LSG", NO_PAYLOAD}, {"LST", NO_PAYLOAD}, {"MSG", PAYLOAD},
    {"NAK", NO_PAYLOAD}, {"NLN", NO_PAYLOAD}, {"NOT", PAYLOAD},
    {"OUT", NO_PAYLOAD}, {"PRP", NO_PAYLOAD}, {"QNG", NO_PAYLOAD},
    {"QRY", NO_PAYLOAD}, {"REA", NO_PAYLOAD}, {"REG", NO_PAYLOAD},
    {"REM", NO_PAYLOAD}, {"RML", MAYBE},      {"RMG", NO_PAYLOAD},
    {"RNG", NO_PAYLOAD}, {"SBP", NO_PAYLOAD}, {"SBS", NO_PAYLOAD},
    {"SYN", NO_PAYLOAD}, {"UBM", PAYLOAD},    {"UBN", PAYLOAD},
    {"UBX", PAYLOAD},    {"URL", NO_PAYLOAD}, {"USR", NO_PAYLOAD},
    {"UUM", PAYLOAD},    {"UUN", PAYLOAD},    {"UUX", MAYBE},
    {"VER", NO_PAYLOAD}, {"XFR", NO_PAYLOAD},
};

static int payload_kind(const char *name, gboolean *known)
{
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            *known = TRUE;
            return commands[i].payload;
        }
    }
    *known = FALSE;
    return NO_PAYLOAD;
}

gboolean msnp_is_payload_command(const char *name)
{
    gboolean known;

    return payload_kind(name, &known) != NO_PAYLOAD;
}

void msnp_cmd_free(msnp_cmd *cmd)
{
    if (!cmd)
        return;
    g_strfreev(cmd->argv);
    g_free(cmd->payload);
    g_free(cmd);
}

gint64 msnp_cmd_trid(const msnp_cmd *cmd)
{
    guint64 n;

    if (cmd->argc < 1 ||
        !g_ascii_string_to_unsigned(cmd->argv[0], 10, 0, G_MAXUINT32, &n, NULL))
        return -1;
    return (gint64)n;
}

/* ---- the parser -------------------------------------------------------- */

struct msnp_parser {
    GByteArray *buf;
    gsize pos;          /* bytes of buf already consumed */
    gsize scanned;      /* bytes after pos known to hold no line end */
    msnp_cmd *waiting;  /* a parsed line whose payload is still coming */
    gsize waiting_used; /* its line's length with the line end */
    guint skipped;
    int failed; /* the error returned once, returned again */
};

msnp_parser *msnp_parser_new(void)
{
    msnp_parser *p = g_new0(msnp_parser, 1);

    p->buf = g_byte_array_new();
    return p;
}

void msnp_parser_free(msnp_parser *p)
{
    if (!p)
        return;
    msnp_cmd_free(p->waiting);
    g_byte_array_unref(p->buf);
    g_free(p);
}

void msnp_parser_feed(msnp_parser *p, const void *data, gsize len)
{
    if (p->failed || len == 0)
        return;
    /* Drop what was consumed before the buffer grows. */
    if (p->pos > 0 && p->pos >= p->buf->len / 2) {
        g_byte_array_remove_range(p->buf, 0, (guint)p->pos);
        p->pos = 0;
    }
    g_byte_array_append(p->buf, data, (guint)len);
}

guint msnp_parser_skipped(const msnp_parser *p)
{
    return p->skipped;
}

gsize msnp_parser_pending(const msnp_parser *p)
{
    return p->buf->len - p->pos;
}

static gboolean valid_name(const char *line, gsize len)
{
    if (len < 3 || (len > 3 && line[3] != ' '))
        return FALSE;
    for (int i = 0; i < 3; i++)
        if (!g_ascii_isupper(line[i]) && !g_ascii_isdigit(line[i]))
            return FALSE;
    return TRUE;
}

/* A line may hold any byte but NUL and ASCII controls (tabs aside). */
static gboolean clean_line(const char *line, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return FALSE;
    }
    return TRUE;
}

/* The index of the last non-empty argument, or -1. */
static int last_filled(char **argv, guint argc)
{
    for (int i = (int)argc - 1; i >= 0; i--)
        if (*argv[i])
            return i;
    return -1;
}

static gboolean is_number(const char *s, guint64 *n)
{
    if (!*s || strlen(s) > 10)
        return FALSE;
    for (const char *c = s; *c; c++)
        if (!g_ascii_isdigit(*c))
            return FALSE;
    *n = g_ascii_strtoull(s, NULL, 10);
    return TRUE;
}

/* Builds a command from one line (without its line end). Returns
 * MSNP_COMMAND with *out set and *payload_len the bytes that must follow,
 * 0 for a line to skip, or MSNP_E_LENGTH. */
static int parse_line(const char *line, gsize len, msnp_cmd **out,
                      gsize *payload_len)
{
    msnp_cmd *cmd;
    char *text, **argv;
    guint argc;
    gboolean known;
    int kind, last;
    guint64 n;

    *payload_len = 0;
    if (!valid_name(line, len) || !clean_line(line, len))
        return 0;
    cmd = g_new0(msnp_cmd, 1);
    memcpy(cmd->name, line, 3);
    cmd->name[3] = '\0';
    if (g_ascii_isdigit(cmd->name[0])) {
        if (!g_ascii_isdigit(cmd->name[1]) || !g_ascii_isdigit(cmd->name[2]))
            goto skip;
        cmd->error = atoi(cmd->name);
        kind = NO_PAYLOAD;
    } else {
        kind = payload_kind(cmd->name, &known);
        if (!known)
            goto skip;
    }
    text = g_strndup(len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
    argv = len > 3 ? g_strsplit(text, " ", MSNP_ARGS_MAX) : g_new0(char *, 1);
    g_free(text);
    argc = g_strv_length(argv);
    cmd->argv = argv;
    cmd->argc = argc;
    if (kind != NO_PAYLOAD) {
        last = last_filled(argv, argc);
        if (last < 0 || !is_number(argv[last], &n)) {
            if (kind == MAYBE)
                goto done;
            msnp_cmd_free(cmd);
            return MSNP_E_LENGTH;
        }
        if (n > MSNP_PAYLOAD_MAX) {
            msnp_cmd_free(cmd);
            return MSNP_E_LENGTH;
        }
        *payload_len = (gsize)n;
        cmd->payload_len = (gsize)n;
    }
done:
    *out = cmd;
    return MSNP_COMMAND;
skip:
    msnp_cmd_free(cmd);
    return 0;
}

int msnp_parser_next(msnp_parser *p, msnp_cmd **out)
{
    *out = NULL;
    if (p->failed)
        return p->failed;
    for (;;) {
        const char *start = (const char *)p->buf->data + p->pos;
        gsize avail = p->buf->len - p->pos;
        const char *nl;
        gsize line_len, used, payload_len;
        msnp_cmd *cmd = NULL;
        int r;

        if (p->waiting) {
            /* A line already parsed: only its payload was missing. */
            cmd = p->waiting;
            used = p->waiting_used;
            payload_len = cmd->payload_len;
            p->waiting = NULL;
        } else {
            nl = avail > p->scanned
                     ? memchr(start + p->scanned, '\n', avail - p->scanned)
                     : NULL;
            if (!nl) {
                p->scanned = avail;
                if (avail > MSNP_LINE_MAX)
                    return p->failed = MSNP_E_LINE;
                return MSNP_NEED_MORE;
            }
            p->scanned = 0;
            line_len = (gsize)(nl - start);
            if (line_len > MSNP_LINE_MAX)
                return p->failed = MSNP_E_LINE;
            used = line_len + 1;
            if (line_len > 0 && start[line_len - 1] == '\r')
                line_len--;
            r = parse_line(start, line_len, &cmd, &payload_len);
            if (r < 0)
                return p->failed = r;
            if (r == 0) {
                if (line_len > 0)
                    p->skipped++;
                p->pos += used;
                continue;
            }
        }
        if (avail - used < payload_len) {
            p->waiting = cmd;
            p->waiting_used = used;
            return MSNP_NEED_MORE;
        }
        if (cmd->payload_len || msnp_is_payload_command(cmd->name)) {
            cmd->payload = g_malloc(payload_len + 1);
            memcpy(cmd->payload, start + used, payload_len);
            cmd->payload[payload_len] = '\0';
        }
        p->pos += used + payload_len;
        if (p->pos == p->buf->len) {
            g_byte_array_set_size(p->buf, 0);
            p->pos = 0;
        }
        *out = cmd;
        return MSNP_COMMAND;
    }
}

/* ---- arguments --------------------------------------------------------- */

static int hex_value(char c)
{
    if (g_ascii_isdigit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *msnp_url_decode(const char *arg)
{
    GString *out = g_string_sized_new(strlen(arg));
    char *valid;

    for (const char *s = arg; *s; s++) {
        int hi, lo;

        if (s[0] == '%' && s[1] && s[2] && (hi = hex_value(s[1])) >= 0 &&
            (lo = hex_value(s[2])) >= 0 && (hi || lo)) {
            g_string_append_c(out, (char)(hi * 16 + lo));
            s += 2;
        } else {
            g_string_append_c(out, *s);
        }
    }
    valid = g_utf8_make_valid(out->str, (gssize)out->len);
    g_string_free(out, TRUE);
    return valid;
}

char *msnp_url_encode(const char *text, gboolean keep_at)
{
    /* RFC 3986's unreserved characters stay, the rest as %XX (upper case),
     * as MSNP expects. */
    return g_uri_escape_string(text, keep_at ? "@" : NULL, FALSE);
}

const char *msnp_arg_value(const char *arg, char key)
{
    if (arg[0] == key && arg[1] == '=')
        return arg + 2;
    return NULL;
}

/* ---- MIME -------------------------------------------------------------- */

int msnp_mime_parse(const char *payload, gsize len, msnp_mime *out)
{
    const char *p = payload, *end = payload + len;

    memset(out, 0, sizeof *out);
    out->names = g_ptr_array_new_with_free_func(g_free);
    out->values = g_ptr_array_new_with_free_func(g_free);
    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *le, *colon, *v;

        if (!nl)
            break;
        le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == p) {
            out->body = nl + 1;
            out->body_len = (gsize)(end - out->body);
            return 0;
        }
        colon = memchr(p, ':', (gsize)(le - p));
        if (colon) {
            v = colon + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            g_ptr_array_add(out->names, g_strndup(p, (gsize)(colon - p)));
            g_ptr_array_add(out->values, g_strndup(v, (gsize)(le - v)));
        }
        p = nl + 1;
    }
    msnp_mime_free(out);
    return -1;
}

void msnp_mime_free(msnp_mime *m)
{
    if (m->names)
        g_ptr_array_unref(m->names);
    if (m->values)
        g_ptr_array_unref(m->values);
    memset(m, 0, sizeof *m);
}

const char *msnp_mime_header(const msnp_mime *m, const char *name)
{
    for (guint i = 0; m->names && i < m->names->len; i++)
        if (g_ascii_strcasecmp(g_ptr_array_index(m->names, i), name) == 0)
            return g_ptr_array_index(m->values, i);
    return NULL;
}

void msnp_mime_type(const msnp_mime *m, char *buf, gsize size)
{
    const char *ct = msnp_mime_header(m, "Content-Type");
    gsize n = 0;

    if (size == 0)
        return;
    for (const char *c = ct ? ct : ""; *c && *c != ';' && n + 1 < size; c++)
        if (*c != ' ' && *c != '\t')
            buf[n++] = g_ascii_tolower(*c);
    buf[n] = '\0';
}

/* ---- splitting --------------------------------------------------------- */

char **msnp_split_utf8(const char *text, gsize max_bytes)
{
    GPtrArray *pieces = g_ptr_array_new();
    const char *p = text, *end = text + strlen(text);

    while (p < end) {
        gsize left = (gsize)(end - p);
        gsize cut = MIN(left, MAX(max_bytes, 1));

        /* Back off to the start of a character: never before p. */
        if (cut < left) {
            gsize c = cut;

            while (c > 0 && ((unsigned char)p[c] & 0xC0) == 0x80)
                c--;
            if (c == 0) {
                /* One character wider than the limit: take it whole. */
                c = 1;
                while (c < left && ((unsigned char)p[c] & 0xC0) == 0x80)
                    c++;
            }
            cut = c;
        }
        g_ptr_array_add(pieces, g_strndup(p, cut));
        p += cut;
    }
    g_ptr_array_add(pieces, NULL);
    return (char **)g_ptr_array_free(pieces, FALSE);
}

/* ---- Passport 1.4 ------------------------------------------------------ */

char *msnp_passport_dalogin(const char *header_value)
{
    const char *v = header_value ? strstr(header_value, "DALogin=") : NULL;
    gsize n;

    if (!v)
        return NULL;
    v += strlen("DALogin=");
    n = strcspn(v, ", \t\r\n");
    return n ? g_strndup(v, n) : NULL;
}

char *msnp_passport_ticket(const char *header_value)
{
    const char *v, *end;

    if (!header_value || !strstr(header_value, "da-status=success"))
        return NULL;
    v = strstr(header_value, "from-PP='");
    if (!v)
        return NULL;
    v += strlen("from-PP='");
    end = strchr(v, '\'');
    if (!end)
        return NULL;
    if (g_str_has_prefix(v, "t="))
        v += 2;
    return end > v ? g_strndup(v, (gsize)(end - v)) : NULL;
}

/* The end of the header block (the offset of its blank line), or len. */
static gsize header_end(const char *response, gsize len)
{
    for (gsize i = 0; i + 1 < len; i++) {
        if (response[i] == '\n' && (response[i + 1] == '\n' ||
                                    (response[i + 1] == '\r' && i + 2 < len &&
                                     response[i + 2] == '\n')))
            return i;
    }
    return len;
}

char *msnp_http_header(const char *response, gsize len, const char *name)
{
    gsize end = header_end(response, len), nlen = strlen(name);
    const char *p = response;

    while (p < response + end) {
        const char *nl = memchr(p, '\n', (gsize)(response + end - p));
        const char *le = nl ? nl : response + end;
        const char *v;

        if ((gsize)(le - p) > nlen && p[nlen] == ':' &&
            g_ascii_strncasecmp(p, name, nlen) == 0) {
            v = p + nlen + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            while (le > v && (le[-1] == '\r' || le[-1] == ' '))
                le--;
            return g_strndup(v, (gsize)(le - v));
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

int msnp_http_status(const char *response, gsize len)
{
    const char *sp;
    char code[4];

    if (len < 12 || strncmp(response, "HTTP/", 5) != 0)
        return -1;
    sp = memchr(response, ' ', MIN(len, 16));
    if (!sp || (gsize)(sp - response) + 4 > len)
        return -1;
    memcpy(code, sp + 1, 3);
    code[3] = '\0';
    if (!g_ascii_isdigit(code[0]) || !g_ascii_isdigit(code[1]) ||
        !g_ascii_isdigit(code[2]))
        return -1;
    return atoi(code);
}

/* ---- errors ------------------------------------------------------------ */

/* code, kind at login, text */
#define MSNP_ERRORS(X)                                                         \
    X(200, OTHER, "syntax error")                                              \
    X(201, OTHER, "invalid parameter")                                         \
    X(205, OTHER, "invalid user")                                              \
    X(206, OTHER, "domain name missing")                                       \
    X(207, OTHER, "already logged in")                                         \
    X(208, OTHER, "invalid user name")                                         \
    X(209, OTHER, "invalid friendly name")                                     \
    X(210, OTHER, "contact list full")                                         \
    X(215, OTHER, "already on that list")                                      \
    X(216, OTHER, "not on that list")                                          \
    X(217, OTHER, "user not online")                                           \
    X(218, OTHER, "already in that mode")                                      \
    X(219, OTHER, "user is on the opposite list")                              \
    X(223, OTHER, "too many groups")                                           \
    X(224, OTHER, "invalid group")                                             \
    X(225, OTHER, "user not in that group")                                    \
    X(229, OTHER, "group name too long")                                       \
    X(230, OTHER, "cannot remove group zero")                                  \
    X(231, OTHER, "invalid group")                                             \
    X(280, NETWORK, "switchboard failed")                                      \
    X(281, NETWORK, "transfer to switchboard failed")                          \
    X(300, OTHER, "required field missing")                                    \
    X(302, OTHER, "not logged in")                                             \
    X(500, NETWORK, "internal server error")                                   \
    X(501, NETWORK, "database server error")                                   \
    X(502, OTHER, "command disabled")                                          \
    X(510, NETWORK, "file operation failed on the server")                     \
    X(520, NETWORK, "server out of memory")                                    \
    X(540, OTHER, "challenge response refused")                                \
    X(600, NETWORK, "server is busy")                                          \
    X(601, NETWORK, "server is unavailable")                                   \
    X(602, NETWORK, "peer notification server is down")                        \
    X(603, NETWORK, "server database connection failed")                       \
    X(604, NETWORK, "server is going down")                                    \
    X(605, NETWORK, "server unavailable")                                      \
    X(707, NETWORK, "could not create a connection")                           \
    X(710, OTHER, "client version refused (bad CVR)")                          \
    X(711, NETWORK, "write is blocking")                                       \
    X(712, NETWORK, "session is overloaded")                                   \
    X(713, OTHER, "calling too rapidly")                                       \
    X(714, NETWORK, "too many sessions")                                       \
    X(715, OTHER, "not expected")                                              \
    X(717, OTHER, "bad friend file")                                           \
    X(731, OTHER, "not expected (bad CVR)")                                    \
    X(800, OTHER, "changing too rapidly")                                      \
    X(910, NETWORK, "server too busy")                                         \
    X(911, AUTH, "authentication failed")                                      \
    X(912, NETWORK, "server too busy")                                         \
    X(913, OTHER, "not allowed while offline or invisible")                    \
    X(914, NETWORK, "server unavailable")                                      \
    X(915, NETWORK, "server unavailable")                                      \
    X(916, NETWORK, "server unavailable")                                      \
    X(917, AUTH, "authentication failed")                                      \
    X(918, NETWORK, "server too busy")                                         \
    X(919, NETWORK, "server too busy")                                         \
    X(920, NETWORK, "not accepting new users")                                 \
    X(921, NETWORK, "server too busy")                                         \
    X(922, NETWORK, "server too busy")                                         \
    X(923, AUTH, "a Kids Passport without parental consent")                   \
    X(924, AUTH, "Passport account not yet verified")                          \
    X(928, AUTH, "bad ticket")                                                 \
    X(931, AUTH, "account not on this server")

static const struct {
    int code;
    enum msnp_error_kind kind;
    const char *text;
} errors[] = {
#define MSNP_ERROR_ROW(code, kind, text) {code, MSNP_ERROR_##kind, text},
    MSNP_ERRORS(MSNP_ERROR_ROW)
#undef MSNP_ERROR_ROW
};

const char *msnp_error_text(int code)
{
    for (gsize i = 0; i < G_N_ELEMENTS(errors); i++)
        if (errors[i].code == code)
            return errors[i].text;
    return "unknown server error";
}

enum msnp_error_kind msnp_error_kind(int code)
{
    for (gsize i = 0; i < G_N_ELEMENTS(errors); i++)
        if (errors[i].code == code)
            return errors[i].kind;
    return MSNP_ERROR_OTHER;
}

/* ---- CHL / QRY --------------------------------------------------------- */

#define QRY_OLD_ID  "msmsgs@msnmsgr.com"
#define QRY_OLD_KEY "Q1P7W2E4J9R8U3S5"
#define QRY_ID      "PROD0090YUAUV{2B"
#define QRY_KEY     "YMM8C_H7KCQ2S_KL"

const char *msnp_qry_product(int version)
{
    return version >= 11 ? QRY_ID : QRY_OLD_ID;
}

static guint32 le32(const guint8 *b)
{
    return (guint32)b[0] | (guint32)b[1] << 8 | (guint32)b[2] << 16 |
           (guint32)b[3] << 24;
}

static void md5_of(const char *a, const char *b, guint8 digest[16])
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_MD5);
    gsize n = 16;

    g_checksum_update(sum, (const guchar *)a, (gssize)strlen(a));
    g_checksum_update(sum, (const guchar *)b, (gssize)strlen(b));
    g_checksum_get_digest(sum, digest, &n);
    g_checksum_free(sum);
}

/* The MSNP11 challenge hash, from its public description. */
static void qry_msnp11(const char *challenge, char out[33])
{
    const guint64 mod = 0x7FFFFFFF;
    guint8 digest[16];
    guint32 md5i[4], parts[4];
    GString *s = g_string_new(challenge);
    guint64 high = 0, low = 0;
    guint n;

    md5_of(challenge, QRY_KEY, digest);
    for (int i = 0; i < 4; i++) {
        parts[i] = le32(digest + 4 * i);
        md5i[i] = parts[i] & 0x7FFFFFFF;
    }
    g_string_append(s, QRY_ID);
    while (s->len % 8)
        g_string_append_c(s, '0');
    n = (guint)(s->len / 4);
    for (guint i = 0; i + 1 < n; i += 2) {
        guint64 temp, c0 = le32((guint8 *)s->str + 4 * i),
                      c1 = le32((guint8 *)s->str + 4 * (i + 1));

        temp = (c0 * 0x0E79A9C1) % mod;
        temp += high;
        temp = ((guint64)md5i[0] * temp + md5i[1]) % mod;
        high = (c1 + temp) % mod;
        high = ((guint64)md5i[2] * high + md5i[3]) % mod;
        low += high + temp;
    }
    high = (high + md5i[1]) % mod;
    low = (low + md5i[3]) % mod;
    parts[0] ^= (guint32)high;
    parts[1] ^= (guint32)low;
    parts[2] ^= (guint32)high;
    parts[3] ^= (guint32)low;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            g_snprintf(out + 8 * i + 2 * j, 3, "%02x",
                       (parts[i] >> (8 * j)) & 0xFF);
    g_string_free(s, TRUE);
}

void msnp_qry_answer(int version, const char *challenge, char out[33])
{
    guint8 digest[16];

    if (version >= 11) {
        qry_msnp11(challenge, out);
        return;
    }
    md5_of(challenge, QRY_OLD_KEY, digest);
    for (int i = 0; i < 16; i++)
        g_snprintf(out + 2 * i, 3, "%02x", digest[i]);
}
