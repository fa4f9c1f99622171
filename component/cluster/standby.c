/* standby: standby connections for dead shards' slots (standby.h): the
 * beat that finds who is dead, and the bare links that answer for them. */
#include "standby.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "stanza.h"
#include "xerr.h"

typedef struct standby_link {
    standby *owner;
    uplink *up;
    gboolean closing;
} standby_link;

struct standby {
    uplink_params params;
    const config *cfg;
    bus *b;
    const probe *p;
    xmpp_ctx_t *ctx;  /* the main link's, for the beat's payload */
    GPtrArray *links; /* standby_link*, at most shards - 1 */
    gint64 *grace;    /* per shard: counts as live until (clock_now ms) */
    guint beat;
    gboolean asking;
};

static gboolean free_link_cb(gpointer data)
{
    standby_link *l = data;

    uplink_free(l->up);
    g_free(l);
    return G_SOURCE_REMOVE;
}

static void stopped_cb(void *data)
{
    g_idle_add(free_link_cb, data);
}

/* For a link that is already down: called from its own state callback,
 * the stop waits for the loop. */
static gboolean stop_later_cb(gpointer data)
{
    standby_link *l = data;

    uplink_stop(l->up, stopped_cb, l);
    return G_SOURCE_REMOVE;
}

/* Closes l now (freeing its slot) and forgets it; freed from the loop.
 * now: l's link is up (the stream is closed at once); else it is stopped
 * from the loop. */
static void close_link(standby_link *l, const char *why, gboolean now)
{
    if (l->closing)
        return;
    l->closing = TRUE;
    if (l->owner) {
        g_ptr_array_remove(l->owner->links, l);
        l->owner = NULL;
    }
    log_info(LOG_CLUSTER, "standby connection closed: %s", why);
    if (now)
        uplink_stop(l->up, stopped_cb, l);
    else
        g_idle_add(stop_later_cb, l);
}

/* A probe (cluster/probe.h) from the service's own domain: its shard is
 * back and wants its slot. Returns the shard, or -1 when st is none. */
static int probe_shard(const standby *s, xmpp_stanza_t *st)
{
    const char *name = xmpp_stanza_get_name(st);
    const char *from = xmpp_stanza_get_from(st);
    xmpp_stanza_t *el;
    const char *shard;
    char *end = NULL;
    unsigned long k;

    if (!name || strcmp(name, "message") != 0)
        return -1;
    el = xmpp_stanza_get_child_by_ns(st, PROBE_NS);
    if (!el || !from || g_ascii_strcasecmp(from, s->cfg->jid) != 0)
        return -1;
    shard = xmpp_stanza_get_attribute(el, "shard");
    if (!shard)
        return (int)s->cfg->shards; /* a probe all the same: let go */
    k = strtoul(shard, &end, 10);
    if (!*shard || *end || k >= s->cfg->shards)
        return (int)s->cfg->shards;
    return (int)k;
}

static void on_stanza(uplink *up, xmpp_stanza_t *st, void *userdata)
{
    standby_link *l = userdata;
    xmpp_stanza_t *reply;
    int k;

    if (l->closing || !l->owner)
        return;
    k = probe_shard(l->owner, st);
    if (k >= 0) {
        if ((guint)k < l->owner->cfg->shards)
            l->owner->grace[k] = clock_now() + (gint64)STANDBY_GRACE_MS * 1000;
        close_link(l, "a shard's slot probe reached it", TRUE);
        return;
    }
    /* RFC 6120 §8.3.1: "An entity that receives an error stanza MUST NOT
     * respond to the stanza with a further error stanza" (xerr_reply
     * returns NULL for one). */
    reply =
        xerr_reply(uplink_ctx(up), st, XERR_SERVICE_UNAVAILABLE, STANDBY_TEXT);
    if (reply) {
        uplink_send(up, reply);
        xmpp_stanza_release(reply);
    }
}

static void on_state(uplink *up, gboolean connected, void *userdata)
{
    standby_link *l = userdata;

    (void)up;
    if (connected)
        log_info(LOG_CLUSTER, "standby connection up");
    else if (!l->closing)
        close_link(l, "its link dropped", FALSE); /* the beat opens another */
}

static void open_link(standby *s)
{
    standby_link *l = g_new0(standby_link, 1);

    l->owner = s;
    if (uplink_new(&s->params, on_stanza, on_state, l, &l->up) < 0) {
        g_free(l);
        return;
    }
    g_ptr_array_add(s->links, l);
    log_info(LOG_CLUSTER, "standby connection opened for a dead shard's slot");
}

/* Holds exactly want standby connections. */
static void hold(standby *s, guint want)
{
    while (s->links->len > want)
        close_link(g_ptr_array_index(s->links, s->links->len - 1),
                   "no longer needed", TRUE);
    while (s->links->len < want)
        open_link(s);
}

guint standby_wanted(guint shard, guint shards, const bus_result *res,
                     const gint64 *grace, gint64 now)
{
    guint dead = 0;

    /* Lowest live: every shard below this one is down (and none of them
     * back within its grace). */
    for (guint i = 0; i < res->n_answers; i++)
        if (res->answers[i].shard < shard)
            return 0;
    for (guint k = 0; k < shard && k < shards; k++)
        if (grace[k] > now)
            return 0;
    for (guint i = 0; i < res->n_down; i++) {
        guint k = res->down[i];

        if (k < shards && k != shard && grace[k] <= now)
            dead++;
    }
    return dead;
}

static void beat_cb(const bus_result *res, void *userdata)
{
    standby *s = userdata;

    s->asking = FALSE;
    if (!probe_proven(s->p) || !bus_connected(s->b)) {
        hold(s, 0);
        return;
    }
    hold(s, standby_wanted(s->cfg->shard, s->cfg->shards, res, s->grace,
                           clock_now()));
}

static gboolean tick_cb(gpointer data)
{
    standby *s = data;
    xmpp_stanza_t *el;

    if (s->asking)
        return G_SOURCE_CONTINUE;
    if (!probe_proven(s->p) || !bus_connected(s->b)) {
        hold(s, 0);
        return G_SOURCE_CONTINUE;
    }
    el = stanza_elem(s->ctx, "beat", STANDBY_NS);
    s->asking = TRUE; /* beat_cb may run before bus_ask_all returns */
    if (bus_ask_all(s->b, "get", el, 0, beat_cb, s) < 0)
        s->asking = FALSE;
    xmpp_stanza_release(el);
    return G_SOURCE_CONTINUE;
}

/* Another shard's beat: this instance is live. */
static enum xerr on_beat(const iq_req *q, iq_res *res)
{
    (void)q;
    (void)res;
    return XERR_NONE;
}

int standby_new(const uplink_params *params, xmpp_ctx_t *ctx, const config *cfg,
                bus *b, const probe *p, standby **out)
{
    standby *s;

    *out = NULL;
    if (!params || !cfg || !p)
        return -EINVAL;
    s = g_new0(standby, 1);
    s->params = *params;
    /* A bare link: nothing held while down, no turns (no store). */
    s->params.queue_max = 0;
    s->params.on_turn = NULL;
    s->params.turn_data = NULL;
    s->ctx = ctx;
    s->cfg = cfg;
    s->b = b;
    s->p = p;
    s->links = g_ptr_array_new();
    s->grace = g_new0(gint64, cfg->shards ? cfg->shards : 1);
    if (b && cfg->shards > 1) {
        if (bus_serve(b, STANDBY_NS, on_beat, s) < 0) {
            standby_free(s);
            return -EINVAL;
        }
        s->beat = g_timeout_add(STANDBY_BEAT_MS, tick_cb, s);
    }
    *out = s;
    return 0;
}

void standby_free(standby *s)
{
    if (!s)
        return;
    if (s->beat)
        g_source_remove(s->beat);
    hold(s, 0);
    g_ptr_array_free(s->links, TRUE);
    g_free(s->grace);
    g_free(s);
}

guint standby_count(const standby *s)
{
    return s ? s->links->len : 0;
}
