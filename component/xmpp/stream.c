/* stream: the server's XML stream parsed with expat into bounded stanzas. */
#include "stream.h"
#include "xmltext.h"

#include <expat.h>
#include <string.h>

/* Expat joins a namespace and a local name with this byte; it cannot occur
 * in XML text (a control character), so it splits them back unambiguously. */
#define NS_SEP '\x1e'
#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_XML "http://www.w3.org/XML/1998/namespace"
/* Bytes handed to expat at a time: the raw-size checks run between pieces. */
#define PIECE 16384

struct stream_parser {
    xmpp_ctx_t *ctx;
    stream_limits lim;
    stream_cbs cbs;
    void *userdata;
    XML_Parser xp;
    /* One token (a tag, a run of text) or one stanza being built may not
     * take more raw bytes than this: past it the stream is broken. */
    gint64 raw_max;

    guint depth;       /* open elements; the stream root is 1 */
    GPtrArray *open;   /* elements being built, the stanza at 0 (borrowed) */
    xmpp_stanza_t *top;  /* the stanza being built, NULL while skipping */
    xmpp_stanza_t *stub; /* name, from, to, id, type of the current stanza */
    GString *text;       /* text of the innermost open element, pending */
    gsize size;          /* re-escaped bytes of the stanza so far */
    guint elements;
    const char *refusing; /* why the current stanza is skipped, or NULL */

    GByteArray *held; /* bytes not yet handed to expat */
    guint held_off;
    gint64 fed;          /* bytes handed to expat */
    gint64 mark;         /* byte index of the last parse event */
    gint64 stanza_start; /* byte index of the current stanza's start */
    gboolean suspended;
    const char *cond;   /* stream error condition once broken */
    char *reason;       /* what broke it, for the log */
};

static void broken(stream_parser *p, const char *cond, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Marks the stream broken and stops expat for good. */
static void broken(stream_parser *p, const char *cond, const char *fmt, ...)
{
    va_list ap;

    if (p->cond)
        return;
    p->cond = cond;
    va_start(ap, fmt);
    p->reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    XML_StopParser(p->xp, XML_FALSE);
}

/* Splits expat's "ns<SEP>local" in place: *ns NULL when there is none. */
static const char *split_name(const char *full, char *buf, gsize bufsize,
                              const char **ns)
{
    const char *sep = strchr(full, NS_SEP);
    gsize n;

    *ns = NULL;
    if (!sep)
        return full;
    n = (gsize)(sep - full);
    if (n >= bufsize)
        n = bufsize - 1;
    memcpy(buf, full, n);
    buf[n] = '\0';
    *ns = buf;
    return sep + 1;
}

static void refuse(stream_parser *p, const char *why)
{
    if (p->refusing)
        return;
    p->refusing = why;
    if (p->top)
        xmpp_stanza_release(p->top);
    p->top = NULL;
    g_ptr_array_set_size(p->open, 0);
    g_string_truncate(p->text, 0);
}

static void flush_text(stream_parser *p)
{
    xmpp_stanza_t *t;

    if (!p->text->len)
        return;
    if (p->top && p->open->len) {
        t = xmpp_stanza_new(p->ctx);
        xmpp_stanza_set_text_with_size(t, p->text->str, p->text->len);
        xmpp_stanza_add_child_ex(g_ptr_array_index(p->open, p->open->len - 1),
                                 t, 0);
    }
    g_string_truncate(p->text, 0);
}

/* The stub answers a refused stanza: only its routing attributes, each
 * within the attribute bound. */
static xmpp_stanza_t *make_stub(stream_parser *p, const char *name,
                                const char *ns, const XML_Char **attrs)
{
    static const char *const keep[] = {"from", "to", "id", "type"};
    xmpp_stanza_t *s = xmpp_stanza_new(p->ctx);

    xmpp_stanza_set_name(s, name);
    /* A namespace over the bound is why the stanza is refused; the stub
     * goes without it rather than carry it on. */
    if (ns && xmltext_escaped_len(ns, strlen(ns)) <= p->lim.attribute_size)
        xmpp_stanza_set_ns(s, ns);
    for (guint i = 0; attrs[i] && attrs[i + 1]; i += 2) {
        for (gsize k = 0; k < G_N_ELEMENTS(keep); k++) {
            gsize len = strlen(attrs[i + 1]);
            if (strcmp(attrs[i], keep[k]) == 0 &&
                xmltext_escaped_len(attrs[i + 1], len) <=
                    p->lim.attribute_size)
                xmpp_stanza_set_attribute(s, keep[k], attrs[i + 1]);
        }
    }
    return s;
}

/* Checks one element of a stanza against the limits and adds its cost;
 * returns why it is refused, or NULL. */
static const char *element_cost(stream_parser *p, const char *name,
                                const char *ns, const XML_Char **attrs)
{
    guint n = 0;
    gsize nsv;

    if (++p->elements > p->lim.elements)
        return "too many elements";
    if (p->depth - 1 > p->lim.depth)
        return "elements nested too deep";
    /* A namespace is kept with its element like an attribute value, and
     * bounded like one. <name xmlns="ns"> ... </name> */
    nsv = ns ? xmltext_escaped_len(ns, strlen(ns)) : 0;
    if (nsv > p->lim.attribute_size)
        return "a namespace is too long";
    p->size += 2 * strlen(name) + 5 + (ns ? nsv + 9 : 0);
    for (guint i = 0; attrs[i] && attrs[i + 1]; i += 2, n++) {
        gsize v = xmltext_escaped_len(attrs[i + 1], strlen(attrs[i + 1]));
        if (n >= p->lim.attributes)
            return "too many attributes";
        if (v > p->lim.attribute_size)
            return "an attribute value is too long";
        p->size += strlen(attrs[i]) + 4 + v;
    }
    if (p->size > p->lim.stanza_size)
        return "too large";
    return NULL;
}

static void set_attributes(stream_parser *p, xmpp_stanza_t *el,
                           const XML_Char **attrs)
{
    char nsbuf[64];

    for (guint i = 0; attrs[i] && attrs[i + 1]; i += 2) {
        const char *ns;
        const char *local = split_name(attrs[i], nsbuf, sizeof(nsbuf), &ns);

        if (ns && strcmp(ns, NS_XML) == 0) {
            char *qname = g_strconcat("xml:", local, NULL);
            xmpp_stanza_set_attribute(el, qname, attrs[i + 1]);
            g_free(qname);
        } else {
            xmpp_stanza_set_attribute(el, local, attrs[i + 1]);
        }
    }
}

static void on_start(void *data, const XML_Char *full, const XML_Char **attrs)
{
    stream_parser *p = data;
    const char *ns, *name, *why;
    char *nsbuf = NULL;
    xmpp_stanza_t *el;

    p->mark = XML_GetCurrentByteIndex(p->xp);
    p->depth++;
    {
        const char *sep = strchr(full, NS_SEP);
        nsbuf = sep ? g_strndup(full, (gsize)(sep - full)) : NULL;
        ns = nsbuf;
        name = sep ? sep + 1 : full;
    }
    if (p->depth == 1) {
        const char *id = NULL;
        if (!ns || strcmp(ns, NS_STREAMS) != 0 || strcmp(name, "stream") != 0) {
            broken(p, "invalid-namespace", "the stream root is not "
                                           "<stream:stream>");
            goto leave;
        }
        for (guint i = 0; attrs[i] && attrs[i + 1]; i += 2)
            if (strcmp(attrs[i], "id") == 0)
                id = attrs[i + 1];
        if (p->cbs.open)
            p->cbs.open(p->userdata, id);
        goto leave;
    }
    if (p->depth == 2) {
        p->stanza_start = p->mark;
        p->size = 0;
        p->elements = 0;
        p->refusing = NULL;
        g_ptr_array_set_size(p->open, 0);
        g_string_truncate(p->text, 0);
        p->stub = make_stub(p, name, ns, attrs);
        p->top = NULL;
    }
    if (p->refusing)
        goto leave;
    why = element_cost(p, name, ns, attrs);
    if (why) {
        refuse(p, why);
        goto leave;
    }
    flush_text(p);
    el = xmpp_stanza_new(p->ctx);
    xmpp_stanza_set_name(el, name);
    if (ns)
        xmpp_stanza_set_ns(el, ns);
    set_attributes(p, el, attrs);
    if (p->depth == 2)
        p->top = el;
    else
        xmpp_stanza_add_child_ex(g_ptr_array_index(p->open, p->open->len - 1),
                                 el, 0);
    g_ptr_array_add(p->open, el);
leave:
    g_free(nsbuf);
}

static void on_end(void *data, const XML_Char *full)
{
    stream_parser *p = data;

    p->mark = XML_GetCurrentByteIndex(p->xp);
    if (p->depth == 1) {
        p->depth = 0;
        if (p->cbs.close)
            p->cbs.close(p->userdata);
        return;
    }
    if (!p->refusing) {
        flush_text(p);
        if (p->open->len)
            g_ptr_array_set_size(p->open, p->open->len - 1);
    }
    if (p->depth == 2) {
        xmpp_stanza_t *top = p->top, *stub = p->stub;

        p->top = NULL;
        p->stub = NULL;
        if (top && !p->refusing && p->cbs.stanza)
            p->cbs.stanza(p->userdata, top);
        else if (p->refusing && p->cbs.refused)
            p->cbs.refused(p->userdata, stub, p->refusing);
        if (top)
            xmpp_stanza_release(top);
        if (stub)
            xmpp_stanza_release(stub);
        p->refusing = NULL;
    }
    p->depth--;
}

static void on_text(void *data, const XML_Char *s, int len)
{
    stream_parser *p = data;

    p->mark = XML_GetCurrentByteIndex(p->xp);
    /* Text between stanzas is whitespace keep-alive: nothing to keep. */
    if (p->depth < 2 || p->refusing)
        return;
    p->size += xmltext_escaped_len(s, (gsize)len);
    if (p->size > p->lim.stanza_size) {
        refuse(p, "too large");
        return;
    }
    g_string_append_len(p->text, s, len);
}

/* RFC 6120 §11.1: "The XML data exchanged over an XML stream MUST NOT
 * contain any of the following: comments, processing instructions,
 * internal or external DTD subsets, internal or external entity references
 * (with the exception of the predefined entities)". */
static void on_comment(void *data, const XML_Char *s)
{
    broken(data, "restricted-xml", "the server sent an XML comment");
}

static void on_pi(void *data, const XML_Char *target, const XML_Char *s)
{
    broken(data, "restricted-xml",
           "the server sent an XML processing instruction");
}

static void on_doctype(void *data, const XML_Char *name, const XML_Char *sys,
                       const XML_Char *pub, int internal)
{
    broken(data, "restricted-xml", "the server sent a DTD");
}

static void on_entity(void *data, const XML_Char *name, int param,
                      const XML_Char *value, int len, const XML_Char *base,
                      const XML_Char *sys, const XML_Char *pub,
                      const XML_Char *notation)
{
    broken(data, "restricted-xml", "the server declared an entity");
}

stream_parser *stream_parser_new(xmpp_ctx_t *ctx, const stream_limits *limits,
                                 const stream_cbs *cbs, void *userdata)
{
    stream_parser *p = g_new0(stream_parser, 1);

    p->ctx = ctx;
    p->lim = *limits;
    p->cbs = *cbs;
    p->userdata = userdata;
    p->raw_max = 8 * (gint64)MAX(limits->stanza_size, limits->attribute_size);
    p->open = g_ptr_array_new();
    p->text = g_string_new(NULL);
    p->held = g_byte_array_new();
    p->xp = XML_ParserCreateNS(NULL, NS_SEP);
    XML_SetUserData(p->xp, p);
    XML_SetElementHandler(p->xp, on_start, on_end);
    XML_SetCharacterDataHandler(p->xp, on_text);
    XML_SetCommentHandler(p->xp, on_comment);
    XML_SetProcessingInstructionHandler(p->xp, on_pi);
    XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
    XML_SetEntityDeclHandler(p->xp, on_entity);
    XML_SetParamEntityParsing(p->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    return p;
}

void stream_parser_free(stream_parser *p)
{
    if (!p)
        return;
    if (p->top)
        xmpp_stanza_release(p->top);
    if (p->stub)
        xmpp_stanza_release(p->stub);
    XML_ParserFree(p->xp);
    g_ptr_array_free(p->open, TRUE);
    g_string_free(p->text, TRUE);
    g_byte_array_free(p->held, TRUE);
    g_free(p->reason);
    g_free(p);
}

static int status(stream_parser *p, enum XML_Status st)
{
    if (p->cond)
        return -1;
    if (st == XML_STATUS_SUSPENDED) {
        p->suspended = TRUE;
        return 0;
    }
    if (st == XML_STATUS_ERROR) {
        enum XML_Error e = XML_GetErrorCode(p->xp);
        broken(p, "not-well-formed", "%s at line %lu, column %lu",
               XML_ErrorString(e), (unsigned long)XML_GetCurrentLineNumber(p->xp),
               (unsigned long)XML_GetCurrentColumnNumber(p->xp));
        return -1;
    }
    p->suspended = FALSE;
    return 0;
}

/* Hands held bytes to expat, a piece at a time, until all are parsed or
 * the parser is suspended or broken. */
static int drain(stream_parser *p)
{
    while (!p->cond && !p->suspended && p->held_off < p->held->len) {
        guint n = MIN(PIECE, p->held->len - p->held_off);
        /* Skipping a refused stanza costs no memory; only one token (which
         * expat must hold whole) or a stanza being built is bounded here. */
        gint64 base = p->depth >= 2 && !p->refusing ? p->stanza_start : p->mark;

        if (p->fed - base > p->raw_max) {
            broken(p, "policy-violation",
                   "one stanza or token is over %" G_GINT64_FORMAT " bytes",
                   p->raw_max);
            break;
        }
        p->fed += n;
        if (status(p, XML_Parse(p->xp, (const char *)p->held->data +
                                            p->held_off,
                                (int)n, XML_FALSE)) < 0)
            break;
        p->held_off += n;
    }
    if (p->held_off == p->held->len) {
        g_byte_array_set_size(p->held, 0);
        p->held_off = 0;
    }
    return p->cond ? -1 : 0;
}

int stream_parser_feed(stream_parser *p, const char *buf, gsize len)
{
    if (p->cond)
        return -1;
    g_byte_array_append(p->held, (const guint8 *)buf, (guint)len);
    if (p->suspended)
        return 0;
    return drain(p);
}

void stream_parser_suspend(stream_parser *p)
{
    if (!p->cond && !p->suspended)
        XML_StopParser(p->xp, XML_TRUE);
}

gboolean stream_parser_suspended(const stream_parser *p)
{
    return p->suspended;
}

int stream_parser_resume(stream_parser *p)
{
    if (p->cond)
        return -1;
    if (!p->suspended)
        return drain(p);
    p->suspended = FALSE; /* a callback may suspend it again */
    if (status(p, XML_ResumeParser(p->xp)) < 0)
        return -1;
    if (p->suspended)
        return 0;
    return drain(p);
}

const char *stream_parser_condition(const stream_parser *p)
{
    return p->cond;
}

const char *stream_parser_reason(const stream_parser *p)
{
    return p->reason;
}
