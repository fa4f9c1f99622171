/* router: checks each incoming stanza and dispatches it by kind and 'to'. */
#include "router.h"

#include <stddef.h>
#include <string.h>

#include "adhoc.h"
#include "iq.h"
#include "jid.h"
#include "log.h"
#include "muc.h"
#include "probe.h"
#include "service.h"
#include "shard.h"
#include "store.h"
#include "xerr.h"

struct router {
    const config *cfg;
    store *st;
    muc *muc;
    adhoc *adhoc; /* NULL until router_set_registry */
    probe *probe; /* NULL until router_set_probe: always serving */
    service_env service;
    uplink *up; /* the main link (router_set_bus), or NULL */
};

muc *router_muc(router *r)
{
    return r->muc;
}

int router_new(const config *cfg, store *st, router **out, GError **err)
{
    router *r = g_new0(router, 1);

    *out = NULL;
    r->cfg = cfg;
    r->st = st;
    r->service = (service_env){cfg, st, NULL};
    if (muc_new(cfg, st, &r->muc, err) < 0) {
        g_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void router_free(router *r)
{
    if (!r)
        return;
    muc_free(r->muc);
    adhoc_free(r->adhoc);
    g_free(r);
}

void router_set_registry(router *r, registry *reg)
{
    adhoc_free(r->adhoc);
    r->adhoc = reg ? adhoc_new(r->cfg, r->st, reg, r->muc) : NULL;
    if (r->adhoc && r->service.bus)
        adhoc_set_bus(r->adhoc, r->service.bus, r->up);
}

void router_set_probe(router *r, probe *p)
{
    r->probe = p;
}

probe *router_probe(router *r)
{
    return r->probe;
}

void router_shutdown(router *r, uplink *up)
{
    muc_shutdown(r->muc, up);
}

/* Where a stanza is addressed, once its 'to' is parsed. */
enum target {
    TARGET_SERVICE,  /* groups.example.org */
    TARGET_ROOM,     /* room@groups.example.org */
    TARGET_OCCUPANT, /* room@groups.example.org/nick */
};

/* One incoming stanza in flight; everything borrowed for the call. */
typedef struct inbound {
    router *r;
    uplink *up;
    xmpp_stanza_t *st;
    const char *kind; /* iq | message | presence */
    const char *type; /* as sent, may be NULL */
    jid to;
    enum target target;
    /* Set when 'to' names a room whose localpart, or 'from' is a sender
     * whose bare JID, is longer than the store can key: the text of the
     * refusal. */
    char too_long[80];
} inbound;

static void reply_error(inbound *in, enum xerr e, const char *text)
{
    xmpp_stanza_t *err = xerr_reply(uplink_ctx(in->up), in->st, e, text);

    /* A malformed stanza is worth an admin's notice; an ordinary refusal
     * (unknown namespace, no such group) is not. */
    log_msg(LOG_ROUTER,
            e == XERR_BAD_REQUEST || e == XERR_JID_MALFORMED ? LOG_INFO
                                                             : LOG_DEBUG,
            "malformed or refused <%s>: answering %s%s%s", in->kind,
            xerr_condition(e), text ? ": " : "", text ? text : "");
    if (err) {
        uplink_send(in->up, err);
        xmpp_stanza_release(err);
    }
}

/* Whether the stanza may go on to a room. A room or a sender the store
 * cannot key is refused here, before any transaction, with a text naming
 * the bound (schema/store.h), when answer says the stanza may be answered
 * at all; otherwise dropped. */
static gboolean room_keyable(inbound *in, gboolean answer)
{
    if (!in->too_long[0])
        return TRUE;
    if (answer)
        reply_error(in, XERR_NOT_ACCEPTABLE, in->too_long);
    return FALSE;
}

static int count_elements(xmpp_stanza_t *st, xmpp_stanza_t **first)
{
    int n = 0;

    *first = NULL;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c))
            continue;
        if (!n++)
            *first = c;
    }
    return n;
}

/* ---- iq ---- */

static void *service_of(router *r)
{
    return &r->service;
}

int router_set_bus(router *r, bus *b, uplink *up)
{
    r->service.bus = b;
    r->up = up;
    if (r->adhoc && adhoc_set_bus(r->adhoc, b, up) < 0)
        return -1;
    return service_serve_bus(&r->service);
}

static void *adhoc_of(router *r)
{
    return r->adhoc;
}

static void *muc_of(router *r)
{
    return r->muc;
}

#define TO(t) (1u << (t))

/* Who answers an iq get/set: the first row whose targets include the
 * stanza's, whose owner exists (adhoc: once the registry is set) and whose
 * claim, if any, accepts it. Each fn is an iq_fn (iq.h) called with .data
 * the owner's context; it may dispatch further through its own table. */
static const struct {
    unsigned targets;
    void *(*owner)(router *r);
    gboolean (*claims)(const iq_req *q);
    iq_fn fn;
} iq_owners[] = {
    /* XEP-0050 commands and their disco nodes, on the component and on
     * rooms (adhoc.c). */
    {TO(TARGET_SERVICE) | TO(TARGET_ROOM), adhoc_of, adhoc_claims, adhoc_iq},
    {TO(TARGET_SERVICE), service_of, NULL, service_iq},
    /* Rooms and occupants: the MUC engine's own tables (muc.c). */
    {TO(TARGET_ROOM) | TO(TARGET_OCCUPANT), muc_of, NULL, muc_iq},
};

static void on_iq(inbound *in)
{
    enum xerr e = XERR_SERVICE_UNAVAILABLE;
    xmpp_stanza_t *child;
    iq_res res = {0};
    iq_req q;
    int n;

    /* RFC 6120 §8.2.3: id is REQUIRED. */
    if (!xmpp_stanza_get_id(in->st)) {
        reply_error(in, XERR_BAD_REQUEST, "iq without an id");
        return;
    }
    /* RFC 6120 §8.2.3: an IQ get or set "MUST contain exactly one child
     * element". */
    n = count_elements(in->st, &child);
    if (n != 1) {
        reply_error(in, XERR_BAD_REQUEST,
                    n ? "iq get/set with more than one child element"
                      : "iq get/set without a child element");
        return;
    }
    if (in->target != TARGET_SERVICE && !room_keyable(in, TRUE))
        return;
    q = (iq_req){
        .ctx = uplink_ctx(in->up),
        .up = in->up,
        .st = in->st,
        .child = child,
        .type = in->type,
        .from = xmpp_stanza_get_from(in->st),
        .to = &in->to,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(iq_owners); i++) {
        if (!(iq_owners[i].targets & TO(in->target)) ||
            !(q.data = iq_owners[i].owner(in->r)) ||
            (iq_owners[i].claims && !iq_owners[i].claims(&q)))
            continue;
        e = iq_owners[i].fn(&q, &res);
        break;
    }
    /* RFC 6120 §8.2.3: "An entity that receives an IQ request of type
     * "get" or "set" MUST reply with an IQ response of type "result" or
     * "error"": exactly one, here, whatever the handler did. */
    if (e != XERR_NONE)
        log_debug(LOG_ROUTER, "iq <%s/> refused: %s",
                  xmpp_stanza_get_name(child), xerr_condition(e));
    iq_answer(&q, e, &res);
}

/* ---- message and presence ---- */

static void to_muc_message(inbound *in)
{
    if (room_keyable(in, TRUE))
        muc_message(in->r->muc, in->up, in->st, &in->to);
}

static void to_muc_presence(inbound *in)
{
    if (room_keyable(in, TRUE))
        muc_presence(in->r->muc, in->up, in->st, &in->to);
}

/* Leaving is never answered, not even with a refusal. */
static void to_muc_leave(inbound *in)
{
    if (room_keyable(in, FALSE))
        muc_presence(in->r->muc, in->up, in->st, &in->to);
}

static void answer_probe(inbound *in)
{
    /* The service is always there: answer a probe with available presence
     * (RFC 6121 §4.3.2). */
    xmpp_stanza_t *p = xmpp_presence_new(uplink_ctx(in->up));

    xmpp_stanza_set_to(p, xmpp_stanza_get_from(in->st));
    xmpp_stanza_set_from(p, in->r->cfg->jid);
    uplink_send(in->up, p);
    xmpp_stanza_release(p);
}

static void refuse(inbound *in)
{
    reply_error(in, XERR_SERVICE_UNAVAILABLE, NULL);
}

static void drop(inbound *in)
{
}

/* RFC 6120 §8.2.3: "An entity that receives a stanza of type result or
 * error MUST NOT respond" with a further result or error; nothing here
 * sends requests yet, so these are dropped. */
static void drop_answer(inbound *in)
{
    log_debug(LOG_ROUTER, "dropping an iq %s nobody asked for", in->type);
}

/* What becomes of a stanza, by kind and type (NULL: absent; "*": any other,
 * absent included where no row names NULL), addressed to the service JID
 * or to a room or occupant. why: the bad-request text when fn is NULL. */
static const struct {
    const char *kind, *type;
    void (*service)(inbound *in), (*room)(inbound *in);
    const char *why;
} routes[] = {
    /* RFC 6120 §8.2.3: an iq's type is REQUIRED and one of these. */
    {"iq", "get", on_iq, on_iq, NULL},
    {"iq", "set", on_iq, on_iq, NULL},
    {"iq", "result", drop_answer, drop_answer, NULL},
    {"iq", "error", drop_answer, drop_answer, NULL},
    {"iq", "*", NULL, NULL, "iq type must be get, set, result or error"},
    /* RFC 6121 §5.2.2: type absent means normal. groupchat, headline and
     * error messages are never answered with an error. */
    {"message", NULL, refuse, to_muc_message, NULL},
    {"message", "normal", refuse, to_muc_message, NULL},
    {"message", "chat", refuse, to_muc_message, NULL},
    {"message", "groupchat", refuse, to_muc_message, NULL},
    {"message", "headline", drop, drop, NULL},
    {"message", "error", drop, drop, NULL},
    {"message", "*", NULL, NULL, "unknown message type"},
    /* The service JID has no presence of its own to manage. */
    {"presence", NULL, drop, to_muc_presence, NULL},
    {"presence", "unavailable", drop, to_muc_leave, NULL},
    {"presence", "probe", answer_probe, to_muc_presence, NULL},
    {"presence", "subscribe", drop, to_muc_presence, NULL},
    {"presence", "subscribed", drop, drop, NULL},
    {"presence", "unsubscribe", drop, drop, NULL},
    {"presence", "unsubscribed", drop, drop, NULL},
    {"presence", "error", drop, drop, NULL},
    {"presence", "*", drop, NULL, "unknown presence type"},
};

/* The row for kind and type, or -1 when the kind is not a stanza. */
static int route_of(const char *kind, const char *type)
{
    for (size_t i = 0; kind && i < G_N_ELEMENTS(routes); i++)
        if (!strcmp(routes[i].kind, kind) &&
            (!g_strcmp0(routes[i].type, type) ||
             !g_strcmp0(routes[i].type, "*")))
            return (int)i;
    return -1;
}

/* ---- entry ---- */

/* The length of j's bare JID in the form it is stored in (localpart folded
 * and domain lower-cased as jid_bare_folded gives it). */
static size_t bare_folded_len(const jid *j)
{
    char *folded = jid_bare_folded(j);
    size_t n =
        folded ? strlen(folded) : strlen(j->domain) + 1 + strlen(j->node);

    g_free(folded);
    return n;
}

void router_on_stanza(uplink *up, xmpp_stanza_t *st, void *userdata)
{
    inbound in = {.r = userdata, .up = up, .st = st};
    const char *name = xmpp_stanza_get_name(st);
    const char *from = xmpp_stanza_get_from(st);
    const char *to = xmpp_stanza_get_to(st);
    void (*fn)(inbound * in);
    jid fromj;
    size_t from_len;
    int route = route_of(name, xmpp_stanza_get_type(st));

    if (route < 0) {
        log_info(LOG_ROUTER, "ignoring a <%s> element from the server",
                 name ? name : "?");
        return;
    }
    /* The slot probe (docs/cluster.md) is the cluster's, not a room's:
     * it may name another shard's probe JID, and no room code sees it. */
    if (in.r->probe && probe_take(in.r->probe, up, st))
        return;
    in.kind = name;
    in.type = xmpp_stanza_get_type(st);
    /* XEP-0114 servers stamp every stanza with its sender; one without a
     * usable from has nobody to answer, so it is dropped and logged. */
    if (!from || jid_parse(from, &fromj) < 0) {
        log_warning(LOG_ROUTER, "dropping a <%s> with %s 'from'", name,
                    from ? "a malformed" : "no");
        return;
    }
    from_len = bare_folded_len(&fromj);
    jid_clear(&fromj);
    if (!to || jid_parse(to, &in.to) < 0) {
        reply_error(&in, XERR_JID_MALFORMED,
                    "the 'to' address is not a "
                    "valid JID");
        return;
    }
    if (strcmp(in.to.domain, in.r->cfg->jid) != 0) {
        reply_error(&in, XERR_ITEM_NOT_FOUND, "not served by this component");
        goto leave;
    }
    if (!in.to.node)
        in.target = TARGET_SERVICE;
    else {
        char *folded = jid_node_fold(in.to.node);
        /* Groups are keyed folded: "Lobby@…" is "lobby@…". */
        g_free(in.to.node);
        in.to.node = folded;
        in.target = in.to.resource ? TARGET_OCCUPANT : TARGET_ROOM;
        /* ejabberd routes each group to one instance (docs/cluster.md):
         * one of another shard reaching this one (slots swapped, instances
         * disagreeing on [cluster] shards) is refused, never served, and so
         * is every one before this instance has proven its slot. */
        if (shard_of_parts(in.to.node, in.r->cfg->jid, in.r->cfg->shards) !=
                in.r->cfg->shard ||
            (in.r->probe && !probe_proven(in.r->probe))) {
            reply_error(&in, XERR_SERVICE_UNAVAILABLE,
                        "this group is served by another instance of the "
                        "service");
            goto leave;
        }
        /* Groups key the store (schema/store.h), and so do their users'
         * bare JIDs (affiliations): a longer one could never be stored,
         * so it is refused up front rather than by a failing
         * transaction. */
        if (strlen(in.to.node) > STORE_GROUP_MAX)
            g_snprintf(in.too_long, sizeof(in.too_long),
                       "the group name is longer than %d bytes",
                       STORE_GROUP_MAX);
        else if (from_len > STORE_JID_MAX)
            g_snprintf(in.too_long, sizeof(in.too_long),
                       "your address is longer than %d bytes", STORE_JID_MAX);
    }
    fn = in.target == TARGET_SERVICE ? routes[route].service
                                     : routes[route].room;
    if (fn)
        fn(&in);
    else
        reply_error(&in, XERR_BAD_REQUEST, routes[route].why);
leave:
    jid_clear(&in.to);
}
