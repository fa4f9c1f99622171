/* payload: an occupant's groupchat message taken apart (payload.h). */
#include "payload.h"

#include <string.h>

#include "muc_int.h"
#include "stanza.h"
#include "xmltext.h"

/* What becomes of a child of the message. */
typedef enum part {
    PART_BODY,      /* the first: archive_msg.body */
    PART_SUBJECT,   /* the first: archive_msg.subject */
    PART_ORIGIN_ID, /* the first: archive_msg.origin_id */
    PART_REPLACE,   /* kept, and its id is the message corrected */
    PART_NO_STORE,  /* a hint that the message is not archived */
    PART_LIVE,      /* relayed only */
    PART_KEPT,      /* relayed and archived */
} part;

/* ns "" is the message's own namespace (jabber:client on a client
 * stream, jabber:component:accept here); name NULL is any element of ns. */
static const struct {
    const char *name, *ns;
    part p;
} parts[] = {
    {"body", "", PART_BODY},
    {"subject", "", PART_SUBJECT},
    {"origin-id", NS_SID, PART_ORIGIN_ID},
    {"replace", NS_CORRECT, PART_REPLACE},
    /* XEP-0334 §4: "no-permanent-store" and "no-store" ask that the message
     * is not archived; like every hint (store, no-copy) they are about this
     * delivery, so they are relayed and never stored (issue 11, item 3). */
    {"no-store", NS_HINTS, PART_NO_STORE},
    {"no-permanent-store", NS_HINTS, PART_NO_STORE},
    {NULL, NS_HINTS, PART_LIVE},
    /* XEP-0085 §5.5: chat states in a room are sent to the occupants; they
     * are about now, not part of what was said, so never archived. */
    {NULL, NS_CHATSTATES, PART_LIVE},
};

static part part_of(xmpp_stanza_t *c, const char *msg_ns)
{
    const char *name = xmpp_stanza_get_name(c);
    const char *ns = xmpp_stanza_get_ns(c);

    for (gsize i = 0; i < G_N_ELEMENTS(parts); i++) {
        const char *want = *parts[i].ns ? parts[i].ns : msg_ns;
        if (g_strcmp0(ns, want) != 0)
            continue;
        if (!parts[i].name || g_strcmp0(name, parts[i].name) == 0)
            return parts[i].p;
    }
    return PART_KEPT;
}

void payload_split(xmpp_stanza_t *st, const char *domain, payload *out)
{
    const char *msg_ns = xmpp_stanza_get_ns(st);
    gboolean seen[PART_KEPT + 1] = {FALSE};

    memset(out, 0, sizeof(*out));
    out->kept = g_string_new(NULL);
    out->live = g_string_new(NULL);
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        part p;

        /* Text between children, and what only the room may say. */
        if (!xmpp_stanza_is_tag(c) || stanza_forged(c, domain))
            continue;
        p = part_of(c, msg_ns);
        switch (p) {
        case PART_BODY:
        case PART_SUBJECT:
            /* the first is read by name (stanza_child_text); a second,
             * another language, is relayed as sent */
            if (!seen[p]) {
                seen[p] = TRUE;
                continue;
            }
            p = PART_KEPT;
            break;
        case PART_ORIGIN_ID:
            if (!seen[p]) {
                seen[p] = TRUE;
                out->origin_id = xmpp_stanza_get_attribute(c, "id");
                continue;
            }
            break; /* a second origin-id says nothing: dropped */
        case PART_REPLACE:
            if (!out->replace_id)
                out->replace_id = xmpp_stanza_get_attribute(c, "id");
            p = PART_KEPT;
            break;
        case PART_NO_STORE:
            out->no_store = TRUE;
            p = PART_LIVE;
            break;
        default:
            break;
        }
        if (p == PART_KEPT)
            payload_write(out->kept, c, msg_ns);
        else if (p == PART_LIVE)
            payload_write(out->live, c, msg_ns);
    }
}

void payload_clear(payload *p)
{
    if (p->kept)
        g_string_free(p->kept, TRUE);
    if (p->live)
        g_string_free(p->live, TRUE);
    memset(p, 0, sizeof(*p));
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void payload_write(GString *b, xmpp_stanza_t *el, const char *parent_ns)
{
    const char *name = xmpp_stanza_get_name(el);
    const char *ns = xmpp_stanza_get_ns(el);
    int n = xmpp_stanza_get_attribute_count(el);
    const char **attrs = g_new0(const char *, 2 * (gsize)n + 2);
    const char **names = g_new0(const char *, (gsize)n + 1);
    int got = xmpp_stanza_get_attributes(el, attrs, 2 * n), k = 0;
    xmpp_stanza_t *c = xmpp_stanza_get_children(el);

    xmltext_open(b, name, g_strcmp0(ns, parent_ns) != 0 ? ns : NULL);
    /* Sorted, so the same element is always the same text. libstrophe
     * keeps the namespace as an attribute: written above. */
    for (int i = 0; i + 1 < got; i += 2)
        if (strcmp(attrs[i], "xmlns") != 0)
            names[k++] = attrs[i];
    qsort(names, (gsize)k, sizeof(*names), by_name);
    for (int i = 0; i < k; i++)
        xmltext_attr(b, names[i], xmpp_stanza_get_attribute(el, names[i]));
    g_free(names);
    g_free(attrs);
    if (!c) {
        xmltext_end_empty(b);
        return;
    }
    xmltext_end(b);
    for (; c; c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_text(c)) {
            const char *t = xmpp_stanza_get_text_ptr(c);
            if (t)
                xmltext_escape(b, t);
        } else if (xmpp_stanza_is_tag(c)) {
            payload_write(b, c, ns);
        }
    }
    xmltext_close(b, name);
}
