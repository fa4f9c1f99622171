/* svc_stats: one result form of the service's figures, read in one
 * transaction (entry counts from LMDB's own statistics, not walks). */
#include "svc_stats.h"

#include <string.h>

#include "clock.h"
#include "form.h"
#include "log.h"
#include "svc_groups.h"

typedef struct online_args {
    guint online, total;
} online_args;

static void count_online(registry_account *ra, void *ud)
{
    online_args *o = ud;

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

enum xerr svc_stats_show(request *rq, response *rp)
{
    adhoc *ad = rq->ad;
    xmpp_ctx_t *ctx = rq->ctx;
    MDB_txn *txn = NULL;
    GError *err = NULL;
    online_args on = {0, 0};
    guint legacy_in = 0, occupants = muc_occupants_total(ad->muc, &legacy_in);
    gint64 up_s = (clock_now() - ad->started_us) / G_USEC_PER_SEC;
    size_t groups, members, notices;
    guint64 bytes, lag;
    char *text;
    xmpp_stanza_t *x;

    if (store_read_begin(ad->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "%s", err->message);
        g_error_free(err);
        return XERR_INTERNAL_SERVER_ERROR;
    }
    groups = entries(txn, ad->st, STORE_DB_GROUPS);
    members = entries(txn, ad->st, STORE_DB_MEMBERS);
    notices = entries(txn, ad->st, STORE_DB_OUTBOX);
    lag = svc_groups_lag(ad, txn, NULL);
    bytes = store_bytes(txn);
    store_read_end(txn);
    registry_foreach(ad->reg, count_online, &on);

    x = form_new(ctx, "result", "Service statistics", NULL);
#define FIELD(var, label, ...)                                                 \
    do {                                                                       \
        text = g_strdup_printf(__VA_ARGS__);                                   \
        stat_field(ctx, x, var, label, text);                                  \
        g_free(text);                                                          \
    } while (0)
    FIELD("groups", "Groups", "%zu", groups);
    FIELD("occupants", "Occupants now", "%u (%u legacy)", occupants, legacy_in);
    FIELD("legacy_members", "Legacy members", "%zu", members);
    FIELD("accounts_online", "Bot accounts online", "%u of %u", on.online,
          on.total);
    FIELD("deliveries_per_minute", "Deliveries in the last minute", "%u",
          registry_delivered(ad->reg));
    FIELD("outbox", "Waiting for legacy members",
          "%" G_GUINT64_FORMAT " (%zu notices, %" G_GUINT64_FORMAT
          " room messages)",
          (guint64)notices + lag, notices, lag);
    FIELD("uptime", "Uptime", "%" G_GINT64_FORMAT "d %02d:%02d:%02d",
          up_s / 86400, (int)(up_s / 3600 % 24), (int)(up_s / 60 % 60),
          (int)(up_s % 60));
    FIELD("store_size", "Store size", "%" G_GUINT64_FORMAT " KiB of %zu KiB",
          bytes / 1024, store_map_size(ad->st) / 1024);
#undef FIELD
    rp->x = x;
    adhoc_finish(rp, "info", g_strdup("The service now."));
    return XERR_NONE;
}
