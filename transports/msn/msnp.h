/* msnp: the MSNP wire format without libpurple: the command/payload parser,
 * argument and MIME helpers, message splitting, Passport 1.4 header parsing,
 * the error table and CHL answers. Pure: bytes in, values out. */
#ifndef MSNP_H
#define MSNP_H

#include <glib.h>

/* The largest payload a switchboard MSG may carry (server closes the SB
 * past it: shared/protocols/msnp.md). */
#define MSNP_SB_PAYLOAD_MAX 1664

/* Parser limits: a longer line or payload is a protocol error, refused
 * before anything is allocated for it. */
#define MSNP_LINE_MAX    (16 * 1024)
#define MSNP_PAYLOAD_MAX (256 * 1024)
#define MSNP_ARGS_MAX    64

/* One command from the server. Owned by the caller of msnp_parser_next();
 * freed with msnp_cmd_free(). */
typedef struct msnp_cmd {
    char name[4];  /* "MSG", "USR", or an error code "911"; NUL-ended */
    int error;     /* the code for a numeric error line, else 0 */
    guint argc;    /* arguments after the name, still URL-encoded */
    char **argv;   /* argc strings, then NULL */
    char *payload; /* payload commands: the payload, NUL-ended; else NULL */
    gsize payload_len;
} msnp_cmd;

void msnp_cmd_free(msnp_cmd *cmd);

/* The transaction id: argv[0] as a number, or -1 when there is none. */
gint64 msnp_cmd_trid(const msnp_cmd *cmd);

typedef struct msnp_parser msnp_parser;

msnp_parser *msnp_parser_new(void);
void msnp_parser_free(msnp_parser *p);

/* Appends len bytes read from the connection (copied). */
void msnp_parser_feed(msnp_parser *p, const void *data, gsize len);

/* Result codes of msnp_parser_next(). */
enum {
    MSNP_NEED_MORE = 0, /* no complete command buffered yet */
    MSNP_COMMAND = 1,   /* *out holds one command */
    MSNP_E_LINE = -1,   /* a line longer than MSNP_LINE_MAX */
    MSNP_E_LENGTH = -2, /* a payload length that is not a number, or absurd */
};

/* Takes the next complete command out of the buffer. Lines that are not
 * commands (empty, control bytes, an unknown command name) are skipped and
 * counted. After an error the parser stays failed: the stream cannot be
 * resynchronised, the connection must be dropped. */
int msnp_parser_next(msnp_parser *p, msnp_cmd **out);

/* Lines skipped so far (unknown or malformed). */
guint msnp_parser_skipped(const msnp_parser *p);

/* Bytes buffered and not yet returned. */
gsize msnp_parser_pending(const msnp_parser *p);

/* Whether name carries a payload whose byte length is its last argument. */
gboolean msnp_is_payload_command(const char *name);

/* %XX-decoding of one argument; invalid UTF-8 in the result is replaced
 * (U+FFFD). Caller g_free()s. */
char *msnp_url_decode(const char *arg);

/* %XX-encoding of everything but unreserved ASCII (letters, digits,
 * "-_.~"), and '@' when keep_at. Caller g_free()s. */
char *msnp_url_encode(const char *text, gboolean keep_at);

/* Splits a "N=value" argument: the value for the given one-letter key, or
 * NULL when arg has another key. Borrowed from arg. */
const char *msnp_arg_value(const char *arg, char key);

/* A parsed MIME message: header names and values as sent (one line
 * each), body borrowed from the payload. Free with msnp_mime_free(). */
typedef struct msnp_mime {
    GPtrArray *names, *values;
    const char *body; /* borrowed from the payload given to msnp_mime_parse */
    gsize body_len;
} msnp_mime;

/* 0, or -1 when the payload has no header/body separator. */
int msnp_mime_parse(const char *payload, gsize len, msnp_mime *out);
void msnp_mime_free(msnp_mime *m);

/* A header's value (case-insensitive name), borrowed from m, or NULL. */
const char *msnp_mime_header(const msnp_mime *m, const char *name);

/* The content type without parameters, lower-cased into buf. */
void msnp_mime_type(const msnp_mime *m, char *buf, gsize size);

/* Cuts text (UTF-8) into pieces of at most max_bytes bytes each, never
 * inside a character. A non-empty text gives at least one piece. Caller
 * g_strfreev()s. */
char **msnp_split_utf8(const char *text, gsize max_bytes);

/* The value of DALogin= in a PassportURLs header value ("DALogin=host/path,
 * ..."); caller g_free()s; NULL when absent. */
char *msnp_passport_dalogin(const char *header_value);

/* The ticket in an Authentication-Info header value
 * ("Passport1.4 da-status=success,from-PP='t=TOKEN'"), with a "t=" prefix
 * stripped; caller g_free()s; NULL when the status is not success or there
 * is no ticket. */
char *msnp_passport_ticket(const char *header_value);

/* A header's value in a raw HTTP response (status line, headers, CRLF
 * CRLF), borrowed copy: caller g_free()s; NULL when absent. */
char *msnp_http_header(const char *response, gsize len, const char *name);

/* The HTTP status code of a raw response, or -1. */
int msnp_http_status(const char *response, gsize len);

/* What a server error code means, for people; "unknown server error" for
 * codes not in the table. */
const char *msnp_error_text(int code);

/* How an error code during login ends the connection. */
enum msnp_error_kind {
    MSNP_ERROR_OTHER,   /* a protocol error */
    MSNP_ERROR_AUTH,    /* the credentials or the account */
    MSNP_ERROR_NETWORK, /* the server is busy or down: try again */
};

enum msnp_error_kind msnp_error_kind(int code);

/* The product id used in QRY for a protocol version, and the answer to a
 * CHL challenge into out (32 lower-case hex digits and a NUL). MSNP8–10:
 * MD5(challenge + key) with msmsgs@msnmsgr.com / Q1P7W2E4J9R8U3S5;
 * MSNP11+: the MSNP11 challenge hash with PROD0090YUAUV{2B /
 * YMM8C_H7KCQ2S_KL (MSN Messenger 7.5's pair, as servers expect for the
 * CVR this plugin sends). */
const char *msnp_qry_product(int version);
void msnp_qry_answer(int version, const char *challenge, char out[33]);

#endif
