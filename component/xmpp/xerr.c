/* xerr: the stanza error table and error replies. */
#include "xerr.h"

#include <string.h>

#include "stanza.h"

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

xmpp_stanza_t *xerr_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *st, enum xerr e,
                          const char *text)
{
    const char *type = xmpp_stanza_get_type(st);
    const char *from = xmpp_stanza_get_from(st);
    const char *to = xmpp_stanza_get_to(st);
    const char *id = xmpp_stanza_get_id(st);
    xmpp_stanza_t *reply, *error, *cond;

    if ((type && strcmp(type, "error") == 0) || !from)
        return NULL;
    reply = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(reply, xmpp_stanza_get_name(st));
    xmpp_stanza_set_type(reply, "error");
    if (id)
        xmpp_stanza_set_id(reply, id);
    xmpp_stanza_set_to(reply, from);
    if (to)
        xmpp_stanza_set_from(reply, to);

    error = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(error, "error");
    xmpp_stanza_set_type(error, xerr_type(e));
    cond = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(cond, xerr_condition(e));
    xmpp_stanza_set_ns(cond, XERR_NS);
    stanza_add(error, cond);
    if (text) {
        xmpp_stanza_t *t = xmpp_stanza_new(ctx);
        xmpp_stanza_t *body = xmpp_stanza_new(ctx);
        xmpp_stanza_set_name(t, "text");
        xmpp_stanza_set_ns(t, XERR_NS);
        xmpp_stanza_set_attribute(t, "xml:lang", "en");
        xmpp_stanza_set_text(body, text);
        stanza_add(t, body);
        stanza_add(error, t);
    }
    stanza_add(reply, error);
    return reply;
}
