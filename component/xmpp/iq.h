/* iq: the one convention for iq handlers. Every iq get/set the component
 * answers is an entry in a static const table (type × child element ×
 * namespace → handler); the handler returns an xerr plus an optional
 * payload, and the caller of iq_dispatch (the router) sends exactly one
 * reply (iq_answer). RFC 6120 §8.2.3: "An entity that receives an
 * IQ request of type "get" or "set" MUST reply with an IQ response of type
 * "result" or "error"."
 *
 * A sub-dispatcher (the MUC engine per room, the ad-hoc commands) is itself
 * an iq_fn in the router's table: it finds its own context (the room, the
 * session), copies the request with .data pointing at that context, and
 * returns iq_dispatch() over its own table:
 *
 *     enum xerr muc_iq(const iq_req *q, iq_res *res)
 *     {
 *         muc_call c = {q->data, room_of(q)};
 *         iq_req sub = *q;
 *         if (!c.room)
 *             return iq_fail(res, XERR_ITEM_NOT_FOUND, "no such group");
 *         sub.data = &c;
 *         return iq_dispatch(room_routes, G_N_ELEMENTS(room_routes), &sub,
 *                            res);
 *     }
 *
 * Side effects a handler sends itself (MAM results) go out before the
 * reply; what must follow it (XEP-0045 §8.2: the others are told of a kick
 * after the requester's result) is left in res->after, which iq_answer
 * runs once the reply is sent. Nothing a handler sends is the reply. */
#ifndef IMGROUPS_IQ_H
#define IMGROUPS_IQ_H

#include <strophe.h>

#include "jid.h"
#include "uplink.h"
#include "xerr.h"

/* One iq get/set in flight, checked by the router (type get or set, an id,
 * exactly one child element, a parseable from and to); everything borrowed
 * for the call. */
typedef struct iq_req {
    xmpp_ctx_t *ctx;
    uplink *up;           /* for what the handler sends besides the reply */
    xmpp_stanza_t *st;    /* the iq */
    xmpp_stanza_t *child; /* its one payload element */
    const char *type;     /* "get" or "set" */
    const char *from;     /* the full JID the server stamped */
    const jid *to;        /* parsed; node folded; no node: the component */
    void *data;           /* the table owner's context (service, adhoc, muc) */
} iq_req;

/* What a handler answers besides its xerr. All owned by the res until
 * iq_reply (or iq_res_clear) takes them. */
typedef struct iq_res {
    xmpp_stanza_t *payload; /* XERR_NONE: the result's child, or NULL */
    /* on an error: */
    char *text;         /* <text/> (g_free), or NULL */
    const char *type;   /* overrides the condition's default type */
    xmpp_stanza_t *app; /* an application-specific condition, or NULL */
    /* Run right after the reply, whatever it was (may be NULL). */
    void (*after)(void *data);
    void *after_data;
    /* Set by iq_defer: the handler answers later; nothing is sent now. */
    gboolean later;
} iq_res;

typedef enum xerr (*iq_fn)(const iq_req *q, iq_res *res);

/* One table row: a request of this type whose child is <name xmlns=ns/>
 * (name NULL: any element of ns) goes to fn. */
typedef struct iq_route {
    const char *type;
    const char *name;
    const char *ns;
    iq_fn fn;
} iq_route;

/* Runs the first route of routes[0..n) that matches q, and returns its
 * xerr; none matches: XERR_SERVICE_UNAVAILABLE (RFC 6120 §8.4: "no
 * handler for the namespace"). */
enum xerr iq_dispatch(const iq_route *routes, size_t n, const iq_req *q,
                      iq_res *res);

/* Whether a row of routes matches q (disco can list only what answers). */
gboolean iq_routed(const iq_route *routes, size_t n, const iq_req *q);

/* Shorthand for a handler's failure: sets res->text to a copy of text (may
 * be NULL) and returns e. */
enum xerr iq_fail(iq_res *res, enum xerr e, const char *text);

/* The one reply to q: an iq result carrying res->payload when e is
 * XERR_NONE, else the error (xerr_reply) with res's text, type and
 * application condition. Takes what res owns (res is cleared). Returns a
 * new stanza owned by the caller, or NULL when q has nobody to answer. */
xmpp_stanza_t *iq_reply(const iq_req *q, enum xerr e, iq_res *res);

/* Sends the one reply to q on q->up (iq_reply), then runs res->after. The
 * router's and a self-contained dispatcher's last step. */
void iq_answer(const iq_req *q, enum xerr e, iq_res *res);

/* A request whose one reply is sent later (a service handler waiting for
 * the other shards, issue 14): a copy of what the reply needs. */
typedef struct iq_later iq_later;

/* Instead of answering now: sets res->later, so that iq_answer sends
 * nothing, and returns a copy of q that the handler owns until it calls
 * iq_later_answer, exactly once. q->up must outlive it. */
iq_later *iq_defer(const iq_req *q, iq_res *res);

/* The kept request (its st and child a copy; data as the handler's q
 * had it); borrowed until iq_later_answer. */
const iq_req *iq_later_req(const iq_later *l);

/* The one reply, as iq_answer sends it; frees l. */
void iq_later_answer(iq_later *l, enum xerr e, iq_res *res);

/* Frees what res owns and zeroes it (after is not run). */
void iq_res_clear(iq_res *res);

#endif
