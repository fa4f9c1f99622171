/* plain: delivered at the next idle (plain.h). */
#include "plain.h"

#include "bot.h"

typedef struct plain {
    bot *b;
    GArray *ids; /* guint64, handed over since the last idle */
    guint idle_id;
} plain;

static void *plain_start(bot *b, PurplePlugin *prpl)
{
    plain *p = g_new0(plain, 1);

    (void)prpl;
    p->b = b;
    p->ids = g_array_new(FALSE, FALSE, sizeof(guint64));
    return p;
}

static gboolean report_delivered(gpointer data)
{
    plain *p = data;

    p->idle_id = 0;
    for (guint i = 0; i < p->ids->len; i++)
        delivery_settled(p->b, g_array_index(p->ids, guint64, i));
    g_array_set_size(p->ids, 0);
    return G_SOURCE_REMOVE;
}

static int plain_track(void *st, PurpleConnection *gc, guint64 id,
                       const char *target, gboolean im)
{
    plain *p = st;

    g_array_append_val(p->ids, id);
    if (!p->idle_id)
        p->idle_id = g_idle_add_full(G_PRIORITY_LOW, report_delivered, p, NULL);
    return 0;
}

/* Nothing waits for the network: the reports go out at the next idle. */
static guint plain_pending(void *st)
{
    return 0;
}

static void plain_stop(void *st)
{
    plain *p = st;

    if (p->idle_id)
        g_source_remove(p->idle_id);
    g_array_unref(p->ids);
    g_free(p);
}

const delivery_confirmer plain_confirmer = {
    .name = "plain",
    .start = plain_start,
    .track = plain_track,
    .pending = plain_pending,
    .stop = plain_stop,
};
