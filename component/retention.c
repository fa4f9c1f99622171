/* retention: the archive sweeper, one batch per main-loop turn. */
#include "retention.h"

#include "archive.h"
#include "log.h"

#define SWEEP_EVERY_S 3600
#define FIRST_SWEEP_S 10

struct retention {
    store *st;
    guint keep_days;
    guint timer_id;
    guint idle_id;
    archive_job *job;
    guint removed;
};

static gboolean step_cb(gpointer data)
{
    retention *rt = data;
    gboolean done = FALSE;
    GError *err = NULL;

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
    rt->idle_id = 0;
    return G_SOURCE_REMOVE;
}

void retention_sweep_now(retention *rt, gint64 cutoff_us)
{
    if (rt->job)
        return; /* one at a time; the next timer tick catches up */
    rt->job = archive_job_sweep(NULL, cutoff_us, 0);
    rt->idle_id = g_idle_add_full(G_PRIORITY_LOW, step_cb, rt, NULL);
}

static gboolean timer_cb(gpointer data)
{
    retention *rt = data;
    gint64 keep_us = (gint64)rt->keep_days * 86400 * G_USEC_PER_SEC;

    retention_sweep_now(rt, g_get_real_time() - keep_us);
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
    retention *rt;

    if (keep_days == 0)
        return NULL;
    rt = g_new0(retention, 1);
    rt->st = st;
    rt->keep_days = keep_days;
    rt->timer_id = g_timeout_add_seconds(FIRST_SWEEP_S, first_cb, rt);
    return rt;
}

gboolean retention_busy(const retention *rt)
{
    return rt->job != NULL;
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
    g_free(rt);
}
