/* stream: the XML stream the XMPP server sends on the component link, parsed
 * with expat into libstrophe stanzas, with every size, count and depth
 * bounded where it enters.
 *
 * Why not libstrophe's own parser: it renders each received stanza
 * recursively for a debug line (a deep stanza overflows the stack), keeps
 * attributes in a fixed 8-bucket hash (n attributes cost O(n^2)), appends
 * text with strncat (quadratic) and has no limit on size or depth. This
 * parser bounds all of these before a stanza tree is built, so every tree
 * handed on is small, shallow and linear to build.
 *
 * A stanza over a limit is not built: the rest of it is skipped (linear, no
 * memory kept) and the refused callback gets a stub holding only its name
 * and its from/to/id/type, so the sender can be told (policy-violation)
 * without the link going down for everyone. Only what a conforming server
 * never sends closes the stream: XML that is not well-formed, restricted XML
 * (RFC 6120 §11.1: comments, processing instructions, DTDs, entity
 * declarations), one token or stanza far over the limits. */
#ifndef IMGROUPS_STREAM_H
#define IMGROUPS_STREAM_H

#include <glib.h>
#include <strophe.h>

typedef struct stream_limits {
    gsize stanza_size;    /* bytes of one stanza, counted as re-escaped */
    guint elements;       /* elements in one stanza, itself included */
    guint depth;          /* levels of elements, the stanza itself is 1 */
    guint attributes;     /* attributes of one element */
    gsize attribute_size; /* bytes of one attribute value, re-escaped */
} stream_limits;

typedef struct stream_cbs {
    /* The server's stream header; id may be NULL (the link then fails). */
    void (*open)(void *userdata, const char *id);
    /* A whole stanza, borrowed for the call. */
    void (*stanza)(void *userdata, xmpp_stanza_t *st);
    /* A stanza over a limit, skipped: stub has the stanza's name and its
     * from, to, id and type (borrowed for the call); why says which limit. */
    void (*refused)(void *userdata, xmpp_stanza_t *stub, const char *why);
    /* The server's </stream:stream>. */
    void (*close)(void *userdata);
} stream_cbs;

typedef struct stream_parser stream_parser;

/* limits and cbs are copied. Free with stream_parser_free. */
stream_parser *stream_parser_new(xmpp_ctx_t *ctx, const stream_limits *limits,
                                 const stream_cbs *cbs, void *userdata);
void stream_parser_free(stream_parser *p);

/* Parses len more bytes of the stream; callbacks run from inside. Returns
 * 0 when all was consumed or is kept for stream_parser_resume (after a
 * stream_parser_suspend from a callback), or -1 when the stream is broken:
 * stream_parser_condition() then names the stream error (RFC 6120 §4.9.3)
 * and stream_parser_reason() says what was wrong, for the log. After -1
 * every call returns -1. */
int stream_parser_feed(stream_parser *p, const char *buf, gsize len);

/* From inside a stanza callback: stop after this stanza; the bytes not yet
 * parsed are kept (the caller's output is over its bound). */
void stream_parser_suspend(stream_parser *p);
gboolean stream_parser_suspended(const stream_parser *p);
/* Parses what was kept at the suspension; same return as feed. */
int stream_parser_resume(stream_parser *p);

/* The stream error condition of a broken stream, e.g. "not-well-formed",
 * "restricted-xml", "policy-violation"; NULL while the stream is fine. */
const char *stream_parser_condition(const stream_parser *p);
/* What was wrong, for a log line (never carries stream content). */
const char *stream_parser_reason(const stream_parser *p);


#endif
