/* render: an archive record as the words a legacy member reads (render.h).
 * The payload (the message's other children, as XML text) is read once
 * with expat for what a line shows: a reaction (XEP-0444), a reply
 * (XEP-0461) and its fallback range (XEP-0428), a file's URL (XEP-0066,
 * XEP-0447); everything else in it is not shown. */
#include "render.h"

#include <expat.h>
#include <stdlib.h>
#include <string.h>

/* Expat joins a namespace and a local name with this byte (a control
 * character: it cannot occur in a name). */
#define SEP "\x1e"

#define NS_REACTIONS "urn:xmpp:reactions:0"
#define NS_REPLY     "urn:xmpp:reply:0"
#define NS_FALLBACK  "urn:xmpp:fallback:0"
/* XEP-0461's own example and slixmpp still use this one. */
#define NS_FALLBACK_OLD "urn:xmpp:feature-fallback:0"
#define NS_OOB          "jabber:x:oob"
#define NS_SFS          "urn:xmpp:sfs:0"
#define NS_URL_DATA     "http://jabber.org/protocol/url-data"

/* What a payload says that a line shows. */
typedef struct parts {
    gboolean reacts;      /* a <reactions/> was there */
    char *react_to;       /* the stanza-id it names */
    GPtrArray *reactions; /* char *, at most RENDER_REACTIONS_MAX */
    char *reply_to;       /* a reply's stanza-id */
    gboolean cut;         /* a reply's fallback range in the body: */
    guint64 cut_start;    /* in characters (XEP-0426: code points) */
    guint64 cut_end;
    char *url; /* a file's */
} parts;

/* The payload's child being read (the wrapper is depth 1, the children 2). */
typedef enum within {
    IN_OTHER,
    IN_REACTIONS,
    IN_FALLBACK,
    IN_OOB,
    IN_SFS
} within;

/* Text being collected: a <reaction/> or an OOB <url/>. */
typedef enum collect { C_NONE, C_REACTION, C_URL } collect;

typedef struct reader {
    XML_Parser xp;
    parts *p;
    guint depth;
    within in;
    collect what;
    guint what_depth;
    gboolean overflow; /* the text collected went past its bound */
    GString *text;
    gboolean broken;
} reader;

static const char *attr(const char **attrs, const char *name)
{
    for (; attrs[0]; attrs += 2)
        if (!strcmp(attrs[0], name))
            return attrs[1];
    return NULL;
}

/* Bounded copies of what the payload names (ids are bounded where they
 * entered; these bound again what a line may carry). */
static char *bounded_dup(const char *s, gsize max)
{
    return s && *s && strlen(s) <= max ? g_strdup(s) : NULL;
}

/* ---- the payload's children, by element: two tables ---- */

static within top_reactions(reader *r, const char **attrs)
{
    /* XEP-0444 §4: "Messages MUST NOT contain more then one <reactions>
     * element": the first is read. */
    if (r->p->reacts)
        return IN_OTHER;
    r->p->reacts = TRUE;
    r->p->react_to = bounded_dup(attr(attrs, "id"), RENDER_URL_BYTES);
    return IN_REACTIONS;
}

static within top_reply(reader *r, const char **attrs)
{
    /* XEP-0461 §4.1: "in group chat situations, the ID assigned to the
     * stanza by the group chat itself must be used". 'to' is a JID and is
     * never read. */
    if (!r->p->reply_to)
        r->p->reply_to = bounded_dup(attr(attrs, "id"), RENDER_URL_BYTES);
    return IN_OTHER;
}

static within top_fallback(reader *r, const char **attrs)
{
    return g_strcmp0(attr(attrs, "for"), NS_REPLY) ? IN_OTHER : IN_FALLBACK;
}

static within top_oob(reader *r, const char **attrs)
{
    return IN_OOB;
}

static within top_sfs(reader *r, const char **attrs)
{
    return IN_SFS;
}

static const struct {
    const char *name;
    within (*start)(reader *r, const char **attrs);
} tops[] = {
    {NS_REACTIONS SEP "reactions", top_reactions},
    {NS_REPLY SEP "reply", top_reply},
    {NS_FALLBACK SEP "fallback", top_fallback},
    {NS_FALLBACK_OLD SEP "fallback", top_fallback},
    {NS_OOB SEP "x", top_oob},
    {NS_SFS SEP "file-sharing", top_sfs},
};

static void child_reaction(reader *r, const char **attrs)
{
    r->what = C_REACTION;
}

static void child_url(reader *r, const char **attrs)
{
    r->what = C_URL;
}

static gboolean parse_offset(const char *s, guint64 *out)
{
    return s && g_ascii_string_to_unsigned(s, 10, 0, G_MAXINT32, out, NULL);
}

static void child_fallback_body(reader *r, const char **attrs)
{
    parts *p = r->p;
    guint64 start, end;

    /* XEP-0428 §2.2: start and end point to the fallback characters; the
     * first well-formed range is the reply's quote. */
    if (p->cut || !parse_offset(attr(attrs, "start"), &start) ||
        !parse_offset(attr(attrs, "end"), &end) || start > end)
        return;
    p->cut = TRUE;
    p->cut_start = start;
    p->cut_end = end;
}

static void child_url_data(reader *r, const char **attrs)
{
    if (!r->p->url)
        r->p->url = bounded_dup(attr(attrs, "target"), RENDER_URL_BYTES);
}

static const struct {
    within in;
    const char *name;
    gboolean deep; /* anywhere below the child, not only right under it */
    void (*start)(reader *r, const char **attrs);
} children[] = {
    {IN_REACTIONS, NS_REACTIONS SEP "reaction", FALSE, child_reaction},
    {IN_FALLBACK, NS_FALLBACK SEP "body", FALSE, child_fallback_body},
    {IN_FALLBACK, NS_FALLBACK_OLD SEP "body", FALSE, child_fallback_body},
    {IN_OOB, NS_OOB SEP "url", FALSE, child_url},
    {IN_SFS, NS_URL_DATA SEP "url-data", TRUE, child_url_data},
};

static void on_start(void *data, const char *name, const char **attrs)
{
    reader *r = data;

    if (++r->depth > RENDER_DEPTH_MAX) {
        r->broken = TRUE;
        XML_StopParser(r->xp, XML_FALSE);
        return;
    }
    if (r->what != C_NONE)
        return; /* markup inside a reaction or a URL: its text still counts */
    if (r->depth == 2) {
        r->in = IN_OTHER;
        for (gsize i = 0; i < G_N_ELEMENTS(tops); i++)
            if (!strcmp(tops[i].name, name)) {
                r->in = tops[i].start(r, attrs);
                break;
            }
        return;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(children); i++)
        if (children[i].in == r->in && (children[i].deep || r->depth == 3) &&
            !strcmp(children[i].name, name)) {
            children[i].start(r, attrs);
            break;
        }
    if (r->what != C_NONE) {
        r->what_depth = r->depth;
        r->overflow = FALSE;
        g_string_truncate(r->text, 0);
    }
}

/* Replaces what would break a line or reorder it (controls, line and
 * paragraph separators, bidi overrides) with a space; appends to out. */
static void append_clean(GString *out, const char *s, gssize len)
{
    const char *end = len < 0 ? s + strlen(s) : s + len;

    for (const char *c = s; c < end; c = g_utf8_next_char(c)) {
        gunichar u = g_utf8_get_char(c);
        GUnicodeType t = g_unichar_type(u);
        if (t == G_UNICODE_CONTROL || t == G_UNICODE_LINE_SEPARATOR ||
            t == G_UNICODE_PARAGRAPH_SEPARATOR ||
            (u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069))
            g_string_append_c(out, ' ');
        else
            g_string_append_len(out, c, g_utf8_next_char(c) - c);
    }
}

static char *clean_trimmed(const char *s)
{
    GString *out = g_string_new(NULL);

    append_clean(out, s, -1);
    return g_strstrip(g_string_free(out, FALSE));
}

static void collected(reader *r)
{
    parts *p = r->p;
    char *t;

    if (r->overflow || !g_utf8_validate(r->text->str, r->text->len, NULL))
        return;
    t = clean_trimmed(r->text->str);
    if (!*t) {
        g_free(t);
        return;
    }
    /* XEP-0444 §4: "A receiving entity SHOULD ignore duplicate reactions
     * inside a <reactions> element." */
    if (r->what == C_REACTION && p->reactions->len < RENDER_REACTIONS_MAX &&
        !g_ptr_array_find_with_equal_func(p->reactions, t, g_str_equal, NULL))
        g_ptr_array_add(p->reactions, t);
    else if (r->what == C_URL && !p->url)
        p->url = t;
    else
        g_free(t);
}

static void on_end(void *data, const char *name)
{
    reader *r = data;

    if (r->what != C_NONE && r->depth == r->what_depth) {
        collected(r);
        r->what = C_NONE;
    }
    if (r->depth == 2)
        r->in = IN_OTHER;
    r->depth--;
}

static void on_text(void *data, const char *s, int len)
{
    reader *r = data;
    gsize max =
        r->what == C_REACTION ? RENDER_REACTION_BYTES : RENDER_URL_BYTES;

    if (r->what == C_NONE || r->overflow)
        return;
    if (r->text->len + (gsize)len > max) {
        r->overflow = TRUE;
        return;
    }
    g_string_append_len(r->text, s, len);
}

static void on_doctype(void *data, const char *name, const char *sysid,
                       const char *pubid, int internal)
{
    reader *r = data;

    r->broken = TRUE;
    XML_StopParser(r->xp, XML_FALSE);
}

static void parts_clear(parts *p)
{
    g_free(p->react_to);
    if (p->reactions)
        g_ptr_array_unref(p->reactions);
    g_free(p->reply_to);
    g_free(p->url);
    memset(p, 0, sizeof *p);
}

/* Reads payload (may be NULL) into p. A payload that does not parse (it
 * was serialised by the room, so it should) shows nothing of itself. */
static void parts_read(const char *payload, parts *p)
{
    static const char open[] = "<p xmlns='jabber:client'>", close[] = "</p>";
    reader r = {0};
    gboolean ok;

    memset(p, 0, sizeof *p);
    p->reactions = g_ptr_array_new_with_free_func(g_free);
    if (!payload || !*payload)
        return;
    r.p = p;
    r.text = g_string_new(NULL);
    r.xp = XML_ParserCreateNS("UTF-8", SEP[0]);
    XML_SetUserData(r.xp, &r);
    XML_SetElementHandler(r.xp, on_start, on_end);
    XML_SetCharacterDataHandler(r.xp, on_text);
    XML_SetStartDoctypeDeclHandler(r.xp, on_doctype);
    XML_SetParamEntityParsing(r.xp, XML_PARAM_ENTITY_PARSING_NEVER);
    ok = XML_Parse(r.xp, open, sizeof open - 1, XML_FALSE) == XML_STATUS_OK &&
         XML_Parse(r.xp, payload, (int)MIN(strlen(payload), G_MAXINT),
                   XML_FALSE) == XML_STATUS_OK &&
         XML_Parse(r.xp, close, sizeof close - 1, XML_TRUE) == XML_STATUS_OK;
    XML_ParserFree(r.xp);
    g_string_free(r.text, TRUE);
    if (!ok || r.broken) {
        parts_clear(p);
        p->reactions = g_ptr_array_new_with_free_func(g_free);
    }
}

/* ---- words ---- */

/* body less the reply's fallback range (characters start..end), trimmed;
 * unchanged when there is none or it does not fit the body. */
static char *body_less_fallback(const char *body, const parts *p)
{
    glong n;
    const char *s, *e;
    char *out;

    if (!p->cut)
        return g_strdup(body);
    n = g_utf8_strlen(body, -1);
    if (p->cut_end > (guint64)n)
        return g_strdup(body);
    s = g_utf8_offset_to_pointer(body, (glong)p->cut_start);
    e = g_utf8_offset_to_pointer(body, (glong)p->cut_end);
    out = g_malloc(strlen(body) - (gsize)(e - s) + 1);
    memcpy(out, body, (gsize)(s - body));
    strcpy(out + (s - body), e);
    return g_strstrip(out);
}

/* What m says in words: its body less a reply's fallback; for a file, the
 * URL, after the body when the body is not just that URL. NULL: nothing. */
static char *words_of(const archive_msg *m, const parts *p)
{
    char *body = m->body ? body_less_fallback(m->body, p) : NULL;
    char *t;

    if (p->url) {
        t = body ? g_strstrip(g_strdup(body)) : NULL;
        if (!t || !*t || !strcmp(t, p->url)) {
            g_free(body);
            body = g_strdup(p->url);
        } else if (!strstr(body, p->url)) {
            char *both = g_strconcat(body, " ", p->url, NULL);
            g_free(body);
            body = both;
        }
        g_free(t);
    }
    if (body && !*body)
        g_clear_pointer(&body, g_free);
    return body;
}

/* The first words of text: at most RENDER_QUOTE_CHARS characters on one
 * line, cut after a whole word when there is one, "…" when cut. */
static char *first_words(const char *text)
{
    GString *out = g_string_new(NULL);
    gsize last_gap = 0; /* out's length before its last space */
    guint chars = 0;
    gboolean gap = FALSE, cut = FALSE;

    for (const char *c = text; *c; c = g_utf8_next_char(c)) {
        gunichar u = g_utf8_get_char(c);
        if (g_unichar_isspace(u) || g_unichar_iscntrl(u)) {
            gap = out->len > 0;
            continue;
        }
        if (chars + (gap ? 1 : 0) >= RENDER_QUOTE_CHARS) {
            cut = TRUE;
            break;
        }
        if (gap) {
            last_gap = out->len;
            g_string_append_c(out, ' ');
            chars++;
            gap = FALSE;
        }
        append_clean(out, c, g_utf8_next_char(c) - c);
        chars++;
    }
    if (cut) {
        if (!gap && last_gap)
            g_string_truncate(out, last_gap); /* a word cut in two */
        g_string_append(out, "…");
    }
    return g_string_free(out, FALSE);
}

/* The archive's message with stanza-id id, or NULL when it is gone,
 * withdrawn, unknown or txn is NULL. Returns 0 or an LMDB error. */
static int lookup(MDB_txn *txn, const store *st, const char *group,
                  const char *id, archive_msg **out)
{
    int rc;

    *out = NULL;
    if (!txn || !id)
        return 0;
    rc = archive_get_id(txn, st, group, id, out);
    if (rc == ARCHIVE_ITEM_NOT_FOUND || rc == MDB_NOTFOUND ||
        rc == MDB_CORRUPTED || rc == -EINVAL || rc == STORE_KEY_TOO_LONG)
        rc = 0;
    if (*out && (*out)->retracted)
        g_clear_pointer(out, archive_msg_free);
    return rc;
}

/* The first words of message t, NULL when it has none. */
static char *quote_of(const archive_msg *t)
{
    parts tp;
    char *w, *q = NULL;

    parts_read(t->payload, &tp);
    w = words_of(t, &tp);
    if (w)
        q = first_words(w);
    if (q && !*q)
        g_clear_pointer(&q, g_free);
    g_free(w);
    parts_clear(&tp);
    return q;
}

/* "<nick> tags text", "* nick tags action", or "tags text" from the room
 * itself. */
static char *line(const char *nick, const char *tags, const char *text)
{
    if (!*nick)
        return g_strconcat(tags, text, NULL);
    if (g_str_has_prefix(text, "/me "))
        return g_strconcat("* ", nick, " ", tags, text + 4, NULL);
    return g_strconcat("<", nick, "> ", tags, text, NULL);
}

char *render_line(const char *nick, const char *body)
{
    return line(nick, "", body);
}

char *render_deleted(const char *nick, const char *by)
{
    if (by && *by && strcmp(by, nick) != 0)
        return g_strdup_printf("* %s deleted a message by %s", by, nick);
    return g_strdup_printf("* %s deleted a message", nick);
}

gboolean render_wants(const archive_msg *m)
{
    return !m->retracted && !m->retract_of && (m->body || m->payload);
}

static int render_reaction(MDB_txn *txn, const store *st, const char *group,
                           const archive_msg *m, const parts *p, char **out)
{
    archive_msg *t = NULL;
    char *q = NULL;
    GString *s;
    int rc;

    /* XEP-0444 §3.2: "In order to remove all reactions from a message, an
     * empty <reactions> element is sent." A legacy member is not told: the
     * line it read stays true of the moment it was said. */
    if (p->reactions->len == 0)
        return 0;
    rc = lookup(txn, st, group, p->react_to, &t);
    if (rc != 0)
        return rc;
    if (t)
        q = quote_of(t);
    s = g_string_new(NULL);
    g_string_printf(s, "* %s reacted", m->nick);
    for (guint i = 0; i < p->reactions->len; i++)
        g_string_append_printf(s, " %s",
                               (char *)g_ptr_array_index(p->reactions, i));
    if (q)
        g_string_append_printf(s, " to \"%s\"", q);
    *out = g_string_free(s, FALSE);
    g_free(q);
    archive_msg_free(t);
    return 0;
}

int render_msg(MDB_txn *txn, const store *st, const char *group,
               const archive_msg *m, char **out)
{
    parts p;
    archive_msg *t = NULL;
    GString *tags = NULL;
    char *text = NULL, *q = NULL;
    int rc = 0;

    *out = NULL;
    if (!render_wants(m))
        return 0;
    parts_read(m->payload, &p);
    if (p.reacts) {
        rc = render_reaction(txn, st, group, m, &p, out);
        goto leave;
    }
    text = words_of(m, &p);
    if (!text)
        goto leave;
    tags = g_string_new(NULL);
    /* XEP-0308: the body is the whole corrected text. */
    if (m->replace_id)
        g_string_append(tags, "(correction) ");
    rc = lookup(txn, st, group, p.reply_to, &t);
    if (rc != 0)
        goto leave;
    if (t && (q = quote_of(t))) {
        if (*t->nick)
            g_string_append_printf(tags, "(replying to %s: \"%s\") ", t->nick,
                                   q);
        else
            g_string_append_printf(tags, "(replying to \"%s\") ", q);
    }
    *out = line(m->nick ? m->nick : "", tags->str, text);
leave:
    if (tags)
        g_string_free(tags, TRUE);
    g_free(q);
    g_free(text);
    archive_msg_free(t);
    parts_clear(&p);
    return rc;
}
