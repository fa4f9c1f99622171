/* svc_stats: one result form of the service's figures, read in one
 * transaction (entry counts from LMDB's own statistics, not walks). */
#include "svc_stats.h"

#include <errno.h>
#include <string.h>

#include "clock.h"
#include "form.h"
#include "log.h"
#include "stanza.h"
#include "svc_groups.h"
#include "svc_merge.h"

typedef struct online_args {
    guint online, total;
} online_args;

static void count_online(registry_account *ra, void *ud)
{
    online_args *o = ud;

    /* another shard's account: that shard counts it (summed over the bus) */
    if (ra->state == REGISTRY_ELSEWHERE)
        return;
    o->total++;
    o->online += ra->state == REGISTRY_ONLINE;
}

static size_t entries(MDB_txn *txn, const store *st, enum store_db db)
{
    MDB_stat ms;

    return mdb_stat(txn, store_dbi(st, db), &ms) == 0 ? ms.ms_entries : 0;
}

/* Bytes of the store in use: its pages up to the last one written. */
static guint64 store_bytes(MDB_txn *txn)
{
    MDB_env *env = mdb_txn_env(txn);
    MDB_envinfo info;
    MDB_stat ms;

    if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &ms) != 0)
        return 0;
    return (guint64)(info.me_last_pgno + 1) * ms.ms_psize;
}

static void stat_field(xmpp_ctx_t *ctx, xmpp_stanza_t *x, const char *var,
                       const char *label, const char *value)
{
    form_field(ctx, x, var, "text-single", label, value, FALSE);
}

/* This shard's figures, the store's read in one transaction. Returns 0 or
 * negative. */
static int local_figures(adhoc *ad, svc_merge_figures *f)
{
    MDB_txn *txn = NULL;
    GError *err = NULL;
    online_args on = {0, 0};
    guint legacy_in = 0;

    *f = (svc_merge_figures){0};
    f->occupants = muc_occupants_total(ad->muc, &legacy_in);
    f->legacy_in = legacy_in;
    if (store_read_begin(ad->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        return -EIO;
    }
    f->groups = entries(txn, ad->st, STORE_DB_GROUPS);
    f->members = entries(txn, ad->st, STORE_DB_MEMBERS);
    f->notices = entries(txn, ad->st, STORE_DB_OUTBOX);
    f->lag = svc_groups_lag(ad, txn, NULL);
    f->bytes = store_bytes(txn);
    f->map_bytes = store_map_size(ad->st);
    store_read_end(txn);
    registry_foreach(ad->reg, count_online, &on);
    f->online = on.online;
    f->accounts = on.total;
    f->deliveries = registry_delivered(ad->reg);
    return 0;
}

/* The result form of figures f; the uptime is this instance's. */
static xmpp_stanza_t *stats_form(adhoc *ad, xmpp_ctx_t *ctx,
                                 const svc_merge_figures *f)
{
    gint64 up_s = (clock_now() - ad->started_us) / G_USEC_PER_SEC;
    xmpp_stanza_t *x = form_new(ctx, "result", "Service statistics", NULL);
    char *text;

#define FIELD(var, label, ...)                                                 \
    do {                                                                       \
        text = g_strdup_printf(__VA_ARGS__);                                   \
        stat_field(ctx, x, var, label, text);                                  \
        g_free(text);                                                          \
    } while (0)
#define U G_GUINT64_FORMAT
    FIELD("groups", "Groups", "%" U, f->groups);
    FIELD("occupants", "Occupants now", "%" U " (%" U " legacy)", f->occupants,
          f->legacy_in);
    FIELD("legacy_members", "Legacy members", "%" U, f->members);
    FIELD("accounts_online", "Bot accounts online", "%" U " of %" U, f->online,
          f->accounts);
    FIELD("deliveries_per_minute", "Deliveries in the last minute", "%" U,
          f->deliveries);
    FIELD("outbox", "Waiting for legacy members",
          "%" U " (%" U " notices, %" U " room messages)", f->notices + f->lag,
          f->notices, f->lag);
    FIELD("uptime", "Uptime", "%" G_GINT64_FORMAT "d %02d:%02d:%02d",
          up_s / 86400, (int)(up_s / 3600 % 24), (int)(up_s / 60 % 60),
          (int)(up_s % 60));
    FIELD("store_size", "Store size", "%" U " KiB of %" U " KiB",
          f->bytes / 1024, f->map_bytes / 1024);
#undef U
#undef FIELD
    return x;
}

/* A stats command waiting for the other shards' figures. */
typedef struct stats_wait {
    adhoc *ad;
    adhoc_later *later;
    svc_merge_figures sum;
} stats_wait;

/* The figures of every shard that answered, summed, and the command's
 * result; a shard that did not answer in time is named in the note
 * ("shard 2 did not answer: figures are for shards 0, 1."). */
static void stats_merged(const bus_result *br, void *userdata)
{
    stats_wait *w = userdata;
    GArray *down = g_array_new(FALSE, FALSE, sizeof(guint));
    response rp = {0};
    char *note;

    g_array_append_vals(down, br->down, br->n_down);
    for (guint i = 0; i < br->n_answers; i++) {
        const bus_answer *a = &br->answers[i];
        svc_merge_figures f;
        if (a->err == XERR_NONE && a->payload &&
            svc_merge_figures_read(a->payload, &f) == 0)
            svc_merge_figures_add(&w->sum, &f);
        else
            g_array_append_val(down, a->shard);
    }
    note = svc_merge_note((guint *)down->data, down->len,
                          bus_shards(w->ad->bus), "figures");
    rp.x = stats_form(w->ad, adhoc_later_ctx(w->later), &w->sum);
    adhoc_finish(&rp, note ? "warn" : "info",
                 note ? note
                      : g_strdup_printf("The service now, all %u shards.",
                                        bus_shards(w->ad->bus)));
    adhoc_resume(w->later, &rp);
    g_array_unref(down);
    g_free(w);
}

enum xerr svc_stats_show(request *rq, response *rp)
{
    adhoc *ad = rq->ad;
    svc_merge_figures f;
    xmpp_stanza_t *ask;
    stats_wait *w;

    if (local_figures(ad, &f) < 0)
        return XERR_INTERNAL_SERVER_ERROR;
    if (!ad->bus || bus_shards(ad->bus) < 2) {
        rp->x = stats_form(ad, rq->ctx, &f);
        adhoc_finish(rp, "info", g_strdup("The service now."));
        return XERR_NONE;
    }
    w = g_new0(stats_wait, 1);
    *w = (stats_wait){ad, adhoc_defer(rq), f};
    ask = stanza_elem(rq->ctx, "figures", SVC_MERGE_NS_ADMIN);
    if (bus_ask_all(ad->bus, "get", ask, 0, stats_merged, w) < 0) {
        bus_result none = {NULL, 0, NULL, 0};
        log_warning(LOG_SERVICE, "stats: the bus refused the ask");
        stats_merged(&none, w);
    }
    xmpp_stanza_release(ask);
    return XERR_NONE;
}

enum xerr svc_stats_serve(const iq_req *q, iq_res *res)
{
    svc_merge_figures f;

    if (local_figures(q->data, &f) < 0)
        return XERR_INTERNAL_SERVER_ERROR;
    res->payload = svc_merge_figures_elem(q->ctx, &f);
    return XERR_NONE;
}
