/* iq: dispatch tables for iq handlers and the one reply per request. */
#include "iq.h"

#include <string.h>

#include "stanza.h"

static const iq_route *route_of(const iq_route *routes, size_t n,
                                const iq_req *q)
{
    const char *name = xmpp_stanza_get_name(q->child);
    const char *ns = xmpp_stanza_get_ns(q->child);

    for (size_t i = 0; ns && name && i < n; i++)
        if (!strcmp(routes[i].type, q->type) && !strcmp(routes[i].ns, ns) &&
            (!routes[i].name || !strcmp(routes[i].name, name)))
            return &routes[i];
    return NULL;
}

enum xerr iq_dispatch(const iq_route *routes, size_t n, const iq_req *q,
                      iq_res *res)
{
    const iq_route *r = route_of(routes, n, q);

    return r ? r->fn(q, res) : XERR_SERVICE_UNAVAILABLE;
}

gboolean iq_routed(const iq_route *routes, size_t n, const iq_req *q)
{
    return route_of(routes, n, q) != NULL;
}

enum xerr iq_fail(iq_res *res, enum xerr e, const char *text)
{
    g_free(res->text);
    res->text = g_strdup(text);
    return e;
}

void iq_res_clear(iq_res *res)
{
    if (res->payload)
        xmpp_stanza_release(res->payload);
    if (res->app)
        xmpp_stanza_release(res->app);
    g_free(res->text);
    *res = (iq_res){0};
}

void iq_answer(const iq_req *q, enum xerr e, iq_res *res)
{
    void (*after)(void *data) = res->after;
    void *after_data = res->after_data;
    xmpp_stanza_t *reply;

    if (res->later) {
        /* the handler kept the request (iq_defer) and answers it itself */
        iq_res_clear(res);
        return;
    }
    reply = iq_reply(q, e, res);

    if (reply) {
        uplink_send(q->up, reply);
        xmpp_stanza_release(reply);
    }
    if (after)
        after(after_data);
}

xmpp_stanza_t *iq_reply(const iq_req *q, enum xerr e, iq_res *res)
{
    xmpp_stanza_t *reply, *error;

    if (e != XERR_NONE) {
        reply = xerr_reply(q->ctx, q->st, e, res->text);
        error = reply ? xmpp_stanza_get_child_by_name(reply, "error") : NULL;
        if (error && res->type)
            xmpp_stanza_set_type(error, res->type);
        if (error && res->app) {
            stanza_add(error, res->app);
            res->app = NULL;
        }
    } else {
        reply = xmpp_iq_new(q->ctx, "result", xmpp_stanza_get_id(q->st));
        xmpp_stanza_set_to(reply, xmpp_stanza_get_from(q->st));
        xmpp_stanza_set_from(reply, xmpp_stanza_get_to(q->st));
        if (res->payload) {
            stanza_add(reply, res->payload);
            res->payload = NULL;
        }
    }
    iq_res_clear(res);
    return reply;
}

struct iq_later {
    iq_req q;
    jid to;
    char *from;
};

iq_later *iq_defer(const iq_req *q, iq_res *res)
{
    iq_later *l = g_new0(iq_later, 1);
    xmpp_stanza_t *c;

    l->q = *q;
    l->q.st = xmpp_stanza_copy(q->st);
    l->q.child = NULL;
    for (c = xmpp_stanza_get_children(l->q.st); c && !l->q.child;
         c = xmpp_stanza_get_next(c))
        if (xmpp_stanza_is_tag(c))
            l->q.child = c;
    l->q.type = xmpp_stanza_get_type(l->q.st);
    l->from = g_strdup(q->from);
    l->q.from = l->from;
    l->to = (jid){g_strdup(q->to->node), g_strdup(q->to->domain),
                  g_strdup(q->to->resource)};
    l->q.to = &l->to;
    res->later = TRUE;
    return l;
}

const iq_req *iq_later_req(const iq_later *l)
{
    return &l->q;
}

void iq_later_answer(iq_later *l, enum xerr e, iq_res *res)
{
    iq_answer(&l->q, e, res);
    xmpp_stanza_release(l->q.st);
    jid_clear(&l->to);
    g_free(l->from);
    g_free(l);
}
