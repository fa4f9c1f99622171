/* probe: the slot probe (probe.h): the probe message, its nonce and
 * timeout, the proof, and the bus iq that tells a prover where its probe
 * landed. */
#include "probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "shard.h"
#include "stanza.h"

#define PROBE_NONCE_BYTES 16
/* The let-go schedule: short, since a freed slot waits for its owner. */
#define PROBE_RETRY_FIRST_MS 250
#define PROBE_RETRY_MAX_MS   30000
/* What the holder of another's slot waits on top, so that the owner, told
 * over the bus a moment later, reconnects first and takes the slot freed
 * first: its own (ejabberd hands out the slot freed earliest). */
#define PROBE_YIELD_MS 2000

struct probe {
    const config *cfg;
    bus *b;
    uplink *up; /* the main link, once it has come up */
    char node[64];
    char nonce[2 * PROBE_NONCE_BYTES + 1]; /* "" while none is out */
    gboolean proven;
    guint timer;
    backoff retry; /* between let-goes; reset once proven */
};

static void fresh_nonce(probe *p)
{
    for (int i = 0; i < PROBE_NONCE_BYTES; i++)
        g_snprintf(p->nonce + 2 * i, 3, "%02x",
                   (unsigned)g_random_int_range(0, 256));
}

static void stop_timer(probe *p)
{
    if (p->timer) {
        g_source_remove(p->timer);
        p->timer = 0;
    }
}

/* This connection holds a slot that is not K + 1: free it for its owner
 * and come back with the backoff. */
static void let_go(probe *p, const char *why, guint yield_ms)
{
    guint ms = backoff_next(&p->retry, clock_now(), FALSE) + yield_ms;

    stop_timer(p);
    p->nonce[0] = '\0';
    p->proven = FALSE;
    log_info(LOG_CLUSTER, "shard %u of %u: %s; reconnecting", p->cfg->shard + 1,
             p->cfg->shards, why);
    if (p->up)
        uplink_reconnect(p->up, why, ms);
}

static gboolean timeout_cb(gpointer data)
{
    probe *p = data;

    p->timer = 0;
    if (!p->proven)
        let_go(p, "the slot probe did not come back", 0);
    return G_SOURCE_REMOVE;
}

static void send_probe(probe *p)
{
    xmpp_ctx_t *ctx = uplink_ctx(p->up);
    xmpp_stanza_t *msg = xmpp_message_new(ctx, "normal", NULL, NULL);
    xmpp_stanza_t *el = stanza_elem(ctx, "probe", PROBE_NS);
    char shard[16], to[sizeof(p->node) + 1024];

    fresh_nonce(p);
    g_snprintf(shard, sizeof(shard), "%u", p->cfg->shard);
    g_snprintf(to, sizeof(to), "%s@%s", p->node, p->cfg->jid);
    xmpp_stanza_set_from(msg, p->cfg->jid);
    xmpp_stanza_set_to(msg, to);
    xmpp_stanza_set_id(msg, p->nonce);
    xmpp_stanza_set_attribute(el, "shard", shard);
    xmpp_stanza_set_attribute(el, "nonce", p->nonce);
    stanza_add(msg, el);
    uplink_send(p->up, msg);
    xmpp_stanza_release(msg);
    stop_timer(p);
    p->timer = g_timeout_add(PROBE_TIMEOUT_MS, timeout_cb, p);
    log_info(LOG_CLUSTER, "shard %u of %u: probing the slot (%s)",
             p->cfg->shard + 1, p->cfg->shards, to);
}

void probe_link_state(probe *p, uplink *up, gboolean connected)
{
    if (p->cfg->shards <= 1)
        return;
    p->up = up;
    p->proven = FALSE;
    p->nonce[0] = '\0';
    stop_timer(p);
    if (connected)
        send_probe(p);
}

gboolean probe_proven(const probe *p)
{
    return p->cfg->shards <= 1 || p->proven;
}

static void told_cb(const bus_result *res, void *userdata)
{
    (void)res;
    (void)userdata; /* telling is a courtesy: the prover times out anyway */
}

/* Tells shard k over the bus that its probe (nonce) landed here. */
static void tell(probe *p, guint k, const char *nonce)
{
    xmpp_stanza_t *el;

    if (!p->b || k >= p->cfg->shards || k == p->cfg->shard)
        return;
    el = stanza_elem(uplink_ctx(p->up), "landed", PROBE_NS);
    xmpp_stanza_set_attribute(el, "nonce", nonce);
    bus_ask(p->b, k, "set", el, 0, told_cb, NULL);
    xmpp_stanza_release(el);
}

gboolean probe_take(probe *p, uplink *up, xmpp_stanza_t *st)
{
    const char *name = xmpp_stanza_get_name(st);
    xmpp_stanza_t *el;
    const char *from, *shard, *nonce;
    char *end = NULL;
    unsigned long k;
    char why[96];

    if (!name || strcmp(name, "message") != 0)
        return FALSE;
    el = xmpp_stanza_get_child_by_ns(st, PROBE_NS);
    if (!el)
        return FALSE;
    from = xmpp_stanza_get_from(st);
    shard = xmpp_stanza_get_attribute(el, "shard");
    nonce = xmpp_stanza_get_attribute(el, "nonce");
    /* Only an instance of this service sends from its bare domain. */
    if (p->cfg->shards <= 1 || !from || g_ascii_strcasecmp(from, p->cfg->jid) ||
        !shard || !nonce || strlen(nonce) != 2 * PROBE_NONCE_BYTES)
        return TRUE;
    k = strtoul(shard, &end, 10);
    if (!*shard || *end || k >= p->cfg->shards)
        return TRUE;
    if (k == p->cfg->shard) {
        /* An older probe of ours (a link before this one) proves nothing. */
        if (up == p->up && p->nonce[0] && strcmp(nonce, p->nonce) == 0 &&
            !p->proven) {
            p->proven = TRUE;
            stop_timer(p);
            backoff_reset(&p->retry);
            log_info(LOG_CLUSTER, "shard %u of %u: slot proven",
                     p->cfg->shard + 1, p->cfg->shards);
        }
        return TRUE;
    }
    /* Shard k's probe reached this connection: it holds slot k + 1. */
    if (up == p->up)
        tell(p, (guint)k, nonce);
    g_snprintf(why, sizeof(why), "this link holds slot %lu, shard %lu's", k + 1,
               k + 1);
    let_go(p, g_intern_string(why), PROBE_YIELD_MS);
    return TRUE;
}

/* Over the bus, from the instance holding our slot: our probe with this
 * nonce landed there, so this link holds another slot. */
static enum xerr on_landed(const iq_req *q, iq_res *res)
{
    probe *p = q->data;
    const char *nonce = xmpp_stanza_get_attribute(q->child, "nonce");

    (void)res;
    if (strcmp(q->type, "set") != 0 ||
        strcmp(xmpp_stanza_get_name(q->child), "landed") != 0)
        return XERR_BAD_REQUEST;
    if (nonce && p->nonce[0] && strcmp(nonce, p->nonce) == 0 && !p->proven)
        let_go(p, "the slot probe reached another instance", 0);
    return XERR_NONE;
}

int probe_new(const config *cfg, bus *b, probe **out)
{
    probe *p = g_new0(probe, 1);

    *out = NULL;
    p->cfg = cfg;
    p->b = b;
    backoff_init(&p->retry, PROBE_RETRY_FIRST_MS, PROBE_RETRY_MAX_MS, 0);
    if (cfg->shards > 1 && shard_probe_node(cfg->shard, cfg->shards, cfg->jid,
                                            p->node, sizeof(p->node)) < 0) {
        g_free(p);
        return -EINVAL;
    }
    if (b && cfg->shards > 1 && bus_serve(b, PROBE_NS, on_landed, p) < 0) {
        g_free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

void probe_free(probe *p)
{
    if (!p)
        return;
    stop_timer(p);
    g_free(p);
}
