/* delivery: sending in pieces, the confirmers, the journal (delivery.h). */
#include "delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "bot.h"
#include "marks.h"
#include "pingpong.h"
#include "plain.h"
#include "text.h"

/* ---- the journal -------------------------------------------------------
 * A delivery the network confirmed is reported to the core, and also
 * appended to <user dir>/delivered. If the core dies before it has stored
 * a report, its next run would send that message again; so a worker, when
 * its account is added, reports every id in the journal once more (the
 * core drops the entries it still has) and starts a new journal. What
 * matters is only what was confirmed in the moment before a core died, a
 * few ids: the file keeps the last JOURNAL_KEEP, rewritten when it grows
 * past JOURNAL_MAX lines, so a restart replays at most that many. */
#define JOURNAL_KEEP 128
#define JOURNAL_MAX  1024

static char *journal_path(void)
{
    return g_build_filename(purple_user_dir(), "delivered", NULL);
}

static void journal_open(delivery_state *d, gboolean truncate)
{
    char *path = journal_path();

    if (d->journal_fd >= 0)
        close(d->journal_fd);
    d->journal_fd = open(path,
                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                             (truncate ? O_TRUNC : 0),
                         0600);
    if (d->journal_fd < 0)
        g_warning("%s: %s", path, g_strerror(errno));
    d->journal_lines = 0;
    g_free(path);
}

static void journal_write(delivery_state *d, guint64 id)
{
    char line[32];
    int n = g_snprintf(line, sizeof line, "%" G_GUINT64_FORMAT "\n", id);

    if (d->journal_fd < 0 || write(d->journal_fd, line, (size_t)n) != n)
        g_warning("delivery journal: %s",
                  d->journal_fd < 0 ? "not open" : g_strerror(errno));
    d->journal_lines++;
}

static void journal_add(delivery_state *d, guint64 id)
{
    g_queue_push_tail(&d->journal_recent, g_memdup2(&id, sizeof id));
    while (d->journal_recent.length > JOURNAL_KEEP)
        g_free(g_queue_pop_head(&d->journal_recent));
    if (d->journal_lines >= JOURNAL_MAX) {
        journal_open(d, TRUE);
        for (GList *l = d->journal_recent.head; l; l = l->next)
            journal_write(d, *(guint64 *)l->data);
        return;
    }
    journal_write(d, id);
}

void delivery_replay(bot *b)
{
    delivery_state *d = &b->delivery;
    char *path = journal_path(), *text = NULL;
    guint n = 0;

    if (g_file_get_contents(path, &text, NULL, NULL)) {
        char **lines = g_strsplit(text, "\n", -1);

        for (char **l = lines; *l; l++) {
            guint64 id;

            if (g_ascii_string_to_unsigned(*l, 10, 1, G_MAXUINT64, &id, NULL)) {
                bot_send(b, PROTO_DELIVERED, g_variant_new("(t)", id));
                n++;
            }
        }
        g_strfreev(lines);
        g_free(text);
    }
    if (n)
        g_info("reported %u deliveries of an earlier run again", n);
    g_free(path);
    g_queue_clear_full(&d->journal_recent, g_free);
    journal_open(d, TRUE);
}

void delivery_settled(bot *b, guint64 id)
{
    journal_add(&b->delivery, id);
    bot_send(b, PROTO_DELIVERED, g_variant_new("(t)", id));
}

void delivery_failed(bot *b, guint64 id, const char *why)
{
    g_info("delivery %" G_GUINT64_FORMAT " failed: %s", id, why);
    bot_send(b, PROTO_FAILED, g_variant_new("(ts)", id, why));
}

/* ---- the confirmers ---------------------------------------------------- */

static const delivery_confirmer *const ways[DELIVERY_WAYS] = {
    &pingpong_confirmer,
    &marks_confirmer,
    &plain_confirmer,
};

void delivery_init(bot *b)
{
    b->delivery.journal_fd = -1;
    g_queue_init(&b->delivery.journal_recent);
}

void delivery_start(bot *b, PurplePlugin *prpl)
{
    for (gsize i = 0; i < DELIVERY_WAYS; i++)
        if (!b->delivery.way[i])
            b->delivery.way[i] = ways[i]->start(b, prpl);
}

/* The first started way that follows the message owns it. */
static void track(bot *b, PurpleConnection *gc, guint64 id, const char *target,
                  gboolean im)
{
    for (gsize i = 0; i < DELIVERY_WAYS; i++) {
        void *st = b->delivery.way[i];

        if (st && ways[i]->track(st, gc, id, target, im) == 0)
            return;
    }
    /* No way started (the plugin was never found): none sends, either. */
    delivery_failed(b, id, "not connected");
}

void delivery_send(bot *b, PurpleConnection *gc, guint64 id, const char *what,
                   const char *name, const char *text,
                   delivery_piece_fn send_piece, const void *target,
                   const char *confirm_to, gboolean im)
{
    char *plain = text_sanitize(text);
    char **pieces = text_split(plain, b->limit);
    guint count = 0;
    int r = 0;

    for (char **p = pieces; *p && r >= 0; p++) {
        char *legacy = text_to_legacy(*p);

        r = send_piece(gc, target, legacy);
        g_free(legacy);
        if (r >= 0)
            count++;
    }
    g_strfreev(pieces);
    g_free(plain);
    if (r < 0) {
        char *why = g_strdup_printf("sending failed: %s", g_strerror(-r));

        delivery_failed(b, id, why);
        g_free(why);
        return;
    }
    g_info("%s %" G_GUINT64_FORMAT " to %s sent in %u pieces", what, id, name,
           count);
    track(b, gc, id, confirm_to, im);
}

void delivery_on_down(bot *b)
{
    for (gsize i = 0; i < DELIVERY_WAYS; i++)
        if (b->delivery.way[i] && ways[i]->on_down)
            ways[i]->on_down(b->delivery.way[i]);
}

gboolean delivery_unsettled(bot *b)
{
    for (gsize i = 0; i < DELIVERY_WAYS; i++)
        if (b->delivery.way[i] && ways[i]->pending(b->delivery.way[i]) > 0)
            return TRUE;
    return FALSE;
}

void delivery_free(bot *b)
{
    delivery_state *d = &b->delivery;

    /* Reports still waiting are dropped: those messages go again, which
     * may repeat one but never loses it. */
    for (gsize i = 0; i < DELIVERY_WAYS; i++) {
        if (d->way[i])
            ways[i]->stop(d->way[i]);
        d->way[i] = NULL;
    }
    if (d->journal_fd >= 0)
        close(d->journal_fd);
    d->journal_fd = -1;
    g_queue_clear_full(&d->journal_recent, g_free);
}
