/* xerr: the stanza error table and error replies. */
#include "xerr.h"

#include <string.h>

#include <glib.h>

static const struct {
    const char *condition;
    const char *type;
} table[XERR_COUNT] = {[XERR_NONE] = {"", ""},
#define XERR_ROW(e, cond, type) [e] = {cond, type},
                       XERR_MAP(XERR_ROW)
#undef XERR_ROW
};

const char *xerr_condition(enum xerr e)
{
    return e > XERR_NONE && e < XERR_COUNT ? table[e].condition
                                           : "undefined-condition";
}

const char *xerr_type(enum xerr e)
{
    return e > XERR_NONE && e < XERR_COUNT ? table[e].type : "cancel";
}

/* The attributes an error reply keeps of the request's: xmpp_stanza_reply
 * copies them all, and a client's own (any name, up to the stream's
 * bounds) are not echoed back. */
static const char *const kept[] = {"id", "to", "from", "type", "xmlns"};

static gboolean is_kept(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
        if (!strcmp(kept[i], name))
            return TRUE;
    return FALSE;
}

xmpp_stanza_t *xerr_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *st, enum xerr e,
                          const char *text)
{
    const char *type = xmpp_stanza_get_type(st);
    xmpp_stanza_t *reply, *t;
    int n;

    if ((type && strcmp(type, "error") == 0) || !xmpp_stanza_get_from(st))
        return NULL;
    reply = xmpp_stanza_reply_error(st, xerr_type(e), xerr_condition(e), text);
    if (!reply)
        return NULL;
    n = xmpp_stanza_get_attribute_count(reply);
    if (n > 0) {
        const char **attrs = g_new(const char *, 2 * n);
        char **drop = g_new0(char *, n + 1);
        int got = xmpp_stanza_get_attributes(reply, attrs, 2 * n), d = 0;

        for (int i = 0; i + 1 < got; i += 2)
            if (!is_kept(attrs[i]))
                drop[d++] = g_strdup(attrs[i]);
        for (int i = 0; i < d; i++)
            xmpp_stanza_del_attribute(reply, drop[i]);
        g_strfreev(drop);
        g_free(attrs);
    }
    /* The language of <text/> (RFC 6120 §8.3.2), as these replies always
     * said. */
    t = xmpp_stanza_get_child_by_name(
        xmpp_stanza_get_child_by_name(reply, "error"), "text");
    if (t)
        xmpp_stanza_set_attribute(t, "xml:lang", "en");
    return reply;
}
