/* stanza: builders over libstrophe's stanza API. */
#include "stanza.h"

#include <string.h>

#include <glib.h>

#include "bounds.h"
#include "xmltext.h"

xmpp_stanza_t *stanza_elem(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *e = xmpp_stanza_new(ctx);

    xmpp_stanza_set_name(e, name);
    if (ns)
        xmpp_stanza_set_ns(e, ns);
    return e;
}

void stanza_add(xmpp_stanza_t *parent, xmpp_stanza_t *child)
{
    xmpp_stanza_add_child(parent, child);
    xmpp_stanza_release(child);
}

void stanza_add_text(xmpp_ctx_t *ctx, xmpp_stanza_t *parent, const char *name,
                     const char *text)
{
    xmpp_stanza_t *e = stanza_elem(ctx, name, NULL);
    xmpp_stanza_t *t = xmpp_stanza_new(ctx);

    xmpp_stanza_set_text(t, text ? text : "");
    stanza_add(e, t);
    stanza_add(parent, e);
}

void stanza_send(uplink *up, xmpp_stanza_t *st)
{
    uplink_send(up, st);
    xmpp_stanza_release(st);
}

int stanza_is(xmpp_stanza_t *c, const char *name, const char *ns)
{
    const char *cn = xmpp_stanza_get_name(c);
    const char *cns = xmpp_stanza_get_ns(c);

    return xmpp_stanza_is_tag(c) && cn && cns && strcmp(cn, name) == 0 &&
           strcmp(cns, ns) == 0;
}

char *stanza_child_text(xmpp_stanza_t *st, const char *name)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(st, name);

    return c ? xmpp_stanza_get_text(c) : NULL;
}

/* XEP-0359 §3: "Stanza ID generating entities, which encounter a
 * <stanza-id/> element where the 'by' attribute matches the 'by' attribute
 * they would otherwise set, MUST delete that element even if they are not
 * adding their own stanza ID." A room stamps its own JID; any room of this
 * service counts, so one room cannot vouch for another. XEP-0421 §4: a
 * service "MUST remove any <occupant-id/> elements" a client sent. A
 * <delay/> and a muc#user <x/> would claim the room's history or the
 * room's word on someone's role and real JID. */
static const struct {
    const char *name, *ns;
} forged[] = {
    {"delay", "urn:xmpp:delay"},
    {"occupant-id", "urn:xmpp:occupant-id:0"},
    {"x", "http://jabber.org/protocol/muc#user"},
};

int stanza_forged(xmpp_stanza_t *c, const char *domain)
{
    const char *by, *at;

    if (!xmpp_stanza_is_tag(c))
        return 1;
    for (size_t i = 0; i < G_N_ELEMENTS(forged); i++)
        if (stanza_is(c, forged[i].name, forged[i].ns))
            return 1;
    if (!stanza_is(c, "stanza-id", "urn:xmpp:sid:0"))
        return 0;
    by = xmpp_stanza_get_attribute(c, "by");
    if (!by)
        return 1; /* not a valid stanza-id: nobody's to keep */
    at = strchr(by, '@');
    at = at ? at + 1 : by;
    return g_ascii_strncasecmp(at, domain, strlen(domain)) == 0 &&
           (at[strlen(domain)] == '\0' || at[strlen(domain)] == '/');
}

void stanza_copy_relayable(xmpp_stanza_t *dst, xmpp_stanza_t *src,
                           const char *domain)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(src); c;
         c = xmpp_stanza_get_next(c))
        if (!stanza_forged(c, domain))
            stanza_add(dst, xmpp_stanza_copy(c));
}

gsize stanza_escaped_len(const char *s)
{
    return s ? xmltext_escaped_len(s, strlen(s)) : 0;
}

char *stanza_reason(xmpp_ctx_t *ctx, xmpp_stanza_t *el)
{
    char *t = stanza_child_text(el, "reason");
    char *out = t && *t ? stanza_utf8_cut(t, BOUND_REASON_BYTES) : NULL;

    if (t)
        xmpp_free(ctx, t);
    return out;
}

char *stanza_utf8_cut(const char *s, gsize max)
{
    const char *end = s;

    while (*end && (gsize)(g_utf8_next_char(end) - s) <= max)
        end = g_utf8_next_char(end);
    return g_strndup(s, end - s);
}
