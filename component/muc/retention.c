/* retention: the archive sweeper, one batch per main-loop turn. */
#include "retention.h"

#include "archive.h"
#include "clock.h"
#include "groups.h"
#include "log.h"

#define SWEEP_EVERY_S 3600
#define FIRST_SWEEP_S 10

typedef struct sweep {
    char *group; /* NULL: every group */
    gint64 cutoff_us;
} sweep;

struct retention {
    store *st;
    guint keep_days;
    guint timer_id;
    guint idle_id;
    GQueue todo; /* sweep * */
    archive_job *job;
    guint removed;
};

static void sweep_free(gpointer data)
{
    sweep *w = data;

    g_free(w->group);
    g_free(w);
}

static gboolean step_cb(gpointer data)
{
    retention *rt = data;
    gboolean done = FALSE;
    GError *err = NULL;

    if (!rt->job) {
        sweep *w = g_queue_pop_head(&rt->todo);
        if (!w) {
            rt->idle_id = 0;
            return G_SOURCE_REMOVE;
        }
        rt->job = archive_job_sweep(w->group, w->cutoff_us, 0);
        sweep_free(w);
    }
    /* One short write transaction per turn: a long sweep never holds the
     * writer lock against live messages. */
    if (archive_job_step(rt->job, rt->st, &done, &err) < 0) {
        log_error(LOG_STORE, "archive retention: %s; trying again later",
                  err ? err->message : "?");
        g_clear_error(&err);
        done = TRUE;
    }
    if (!done)
        return G_SOURCE_CONTINUE;
    rt->removed += archive_job_removed(rt->job);
    if (archive_job_removed(rt->job))
        log_info(LOG_STORE, "archive retention removed %u messages",
                 archive_job_removed(rt->job));
    archive_job_free(rt->job);
    rt->job = NULL;
    return G_SOURCE_CONTINUE;
}

static void push(retention *rt, const char *group, gint64 cutoff_us)
{
    sweep *w = g_new0(sweep, 1);

    w->group = g_strdup(group);
    w->cutoff_us = cutoff_us;
    g_queue_push_tail(&rt->todo, w);
    if (!rt->idle_id)
        rt->idle_id = g_idle_add_full(G_PRIORITY_LOW, step_cb, rt, NULL);
}

void retention_sweep_now(retention *rt, gint64 cutoff_us)
{
    push(rt, NULL, cutoff_us);
}

void retention_sweep_due(retention *rt, gint64 now_us)
{
    MDB_txn *txn = NULL;
    GPtrArray *groups = NULL;
    GError *err = NULL;

    if (rt->job || rt->todo.length)
        return; /* the last round is still going; the next tick catches up */
    if (store_read_begin(rt->st, &txn, &err) < 0) {
        log_error(LOG_STORE, "archive retention: %s", err->message);
        g_error_free(err);
        return;
    }
    if (groups_list_all(txn, rt->st, &groups) != 0)
        groups = NULL;
    store_read_end(txn);
    /* Each group keeps its messages for its own keep_days, or the
     * service's ([archive] keep_days); 0 keeps them forever. */
    for (guint i = 0; groups && i < groups->len; i++) {
        const group_cfg *g = g_ptr_array_index(groups, i);
        gint64 days =
            g->keep_days >= 0 ? (gint64)g->keep_days : (gint64)rt->keep_days;
        if (days > 0)
            push(rt, g->localpart, now_us - days * 86400 * G_USEC_PER_SEC);
    }
    if (groups)
        g_ptr_array_unref(groups);
}

static gboolean timer_cb(gpointer data)
{
    retention *rt = data;

    retention_sweep_due(rt, clock_real());
    return G_SOURCE_CONTINUE;
}

static gboolean first_cb(gpointer data)
{
    retention *rt = data;

    timer_cb(rt);
    /* this one-shot source ends; the hourly one replaces it */
    rt->timer_id = g_timeout_add_seconds(SWEEP_EVERY_S, timer_cb, rt);
    return G_SOURCE_REMOVE;
}

retention *retention_start(store *st, guint keep_days)
{
    retention *rt = g_new0(retention, 1);

    rt->st = st;
    rt->keep_days = keep_days;
    g_queue_init(&rt->todo);
    rt->timer_id = g_timeout_add_seconds(FIRST_SWEEP_S, first_cb, rt);
    return rt;
}

gboolean retention_busy(const retention *rt)
{
    return rt->job != NULL || rt->todo.length > 0;
}

guint retention_removed(const retention *rt)
{
    return rt->removed;
}

void retention_stop(retention *rt)
{
    if (!rt)
        return;
    if (rt->timer_id)
        g_source_remove(rt->timer_id);
    if (rt->idle_id)
        g_source_remove(rt->idle_id);
    archive_job_free(rt->job);
    g_queue_clear_full(&rt->todo, sweep_free);
    g_free(rt);
}
