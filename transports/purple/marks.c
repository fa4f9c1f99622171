/* marks: the project's plugins confirm deliveries themselves (marks.h). */
#include "marks.h"

#include <gmodule.h>

#include "bot.h"
#include "imgroups_prpl.h"

/* A mark that never settles would hold the member's queue for good: after
 * MARK_TIMEOUT_S it is reported failed, and the core sends the message
 * again later (a repeat, rather than a loss). */
#define MARK_TIMEOUT_S 120

typedef struct marks {
    bot *b;
    imgroups_prpl_mark_fn mark;
    GHashTable *pending; /* &struct mark.id -> struct mark *, owned */
} marks;

struct mark {
    guint64 id;
    guint timer;
    marks *m;
};

static void mark_free(gpointer data)
{
    struct mark *k = data;

    if (k->timer)
        g_source_remove(k->timer);
    g_free(k);
}

static void on_delivery(PurpleConnection *gc, const imgroups_delivery *d,
                        gpointer data)
{
    marks *m = data;
    struct mark *k;

    if (!m->b->acct || purple_connection_get_account(gc) != m->b->acct || !d)
        return;
    k = g_hash_table_lookup(m->pending, &d->id);
    if (!k)
        return; /* settled already (timed out) */
    g_hash_table_remove(m->pending, &d->id);
    if (d->ok)
        delivery_settled(m->b, d->id);
    else
        delivery_failed(m->b, d->id,
                        d->why && *d->why ? d->why : "not delivered");
}

static gboolean on_timeout(gpointer data)
{
    struct mark *k = data;
    marks *m = k->m;
    guint64 id = k->id;

    k->timer = 0;
    g_hash_table_remove(m->pending, &id);
    g_warning("delivery %" G_GUINT64_FORMAT " unconfirmed after %d s", id,
              MARK_TIMEOUT_S);
    delivery_failed(m->b, id, "no confirmation from the network");
    return G_SOURCE_REMOVE;
}

/* Finds the plugin's mark function and listens for its confirmations. */
static void *marks_start(bot *b, PurplePlugin *prpl)
{
    gpointer fn = NULL;
    marks *m;

    if (!prpl->handle ||
        !g_module_symbol(prpl->handle, IMGROUPS_PRPL_MARK_SYMBOL, &fn) || !fn)
        return NULL;
    m = g_new0(marks, 1);
    m->b = b;
    m->mark = (imgroups_prpl_mark_fn)fn;
    m->pending =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, mark_free);
    purple_signal_connect(prpl, IMGROUPS_PRPL_DELIVERY_SIGNAL, b,
                          PURPLE_CALLBACK(on_delivery), m);
    return m;
}

/* IMs and chat lines alike: target is the handle or the chat's
 * conversation name (imgroups_prpl.h). */
static int marks_track(void *st, PurpleConnection *gc, guint64 id,
                       const char *target, gboolean im)
{
    marks *m = st;
    struct mark *k;

    k = g_new0(struct mark, 1);
    k->id = id;
    k->m = m;
    k->timer = g_timeout_add_seconds(MARK_TIMEOUT_S, on_timeout, k);
    g_hash_table_replace(m->pending, &k->id, k);
    if (m->mark(gc, target, id))
        return 0;
    g_hash_table_remove(m->pending, &id);
    return -1;
}

static guint marks_pending(void *st)
{
    marks *m = st;

    return g_hash_table_size(m->pending);
}

static void marks_stop(void *st)
{
    marks *m = st;

    g_hash_table_destroy(m->pending);
    g_free(m);
}

const delivery_confirmer marks_confirmer = {
    .name = "marks",
    .start = marks_start,
    .track = marks_track,
    .pending = marks_pending,
    .stop = marks_stop,
};
