/* stanza: builders over libstrophe's stanza API. */
#include "stanza.h"

#include <string.h>

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

char *stanza_form_value(xmpp_stanza_t *form, const char *var)
{
    for (xmpp_stanza_t *f = form ? xmpp_stanza_get_children(form) : NULL; f;
         f = xmpp_stanza_get_next(f)) {
        xmpp_stanza_t *value;
        if (!xmpp_stanza_is_tag(f) ||
            g_strcmp0(xmpp_stanza_get_name(f), "field") != 0 ||
            g_strcmp0(xmpp_stanza_get_attribute(f, "var"), var) != 0)
            continue;
        value = xmpp_stanza_get_child_by_name(f, "value");
        return value ? xmpp_stanza_get_text(value) : NULL;
    }
    return NULL;
}
