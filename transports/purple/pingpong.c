/* pingpong: IRC deliveries confirmed by the PONG behind them
 * (pingpong.h). */
#include "pingpong.h"

#include <string.h>

#include <gmodule.h>

#include "bot.h"
#include "irc_reply.h"

/* A message is reported delivered only once the network has it; a report
 * sent earlier loses the message if the worker dies, or the recipient is
 * gone, in between.
 *
 * IRC has no receipts, and libpurple's IRC plugin (2.14) does not even
 * write at once: it queues every line (irc_send()) and writes the queue
 * from a timer of its own, once a second (g_timeout_add_seconds(1), not
 * through the UI's timeouts). Behind a burst of messages the worker
 * queues one "PING :imgroups-N", N the burst's number. A server answers
 * in order, so when its PONG comes back (seen through
 * "irc-receiving-text") the server has taken every line before it, and
 * has already answered any of them it refused: 401 (no such nick), 403
 * (no such channel) or 404 (cannot send to channel), naming the target.
 * One round trip settles a whole burst, not one per message.
 *
 * A burst is what the plugin writes in one go: the PING is queued when
 * the plugin starts writing ("irc-sending-text" for its first line), at
 * the tail of its queue, so it leaves in the same write behind every
 * message queued since the last one, whatever the turns they came in
 * (the core paces a bot, so a busy group's lines come one per turn). A
 * plugin that writes nothing within PING_LATE_MS of a burst's first
 * message (one that writes at once, as it is handed the lines) gets the
 * PING then.
 *
 * Which message a refusal is about: everything of the bursts before has
 * been settled by their PONGs, so a refusal is about a line of the oldest
 * burst still waiting; there it fails the oldest message to that target
 * not failed yet (one refusal per refused line: a message of several
 * lines to a gone nick may have its refusals fail the next messages to
 * that nick in the same burst, refused as well; never one to another
 * target, nor one of a later burst). Such a message is reported failed,
 * and the core keeps it for when the member is back; the refused nick is
 * marked offline in libpurple, so that the next ISON that finds it
 * reports it available again. The plugin ignores a PONG whose text has no
 * space, as ours. A queue lost with its connection takes its PINGs along:
 * the core sends those messages again when the account is back. */
#define IRC_TOKEN    "imgroups-"
#define PING_LATE_MS 1500

typedef int (*irc_send_fn)(void *irc_conn, const char *line);

typedef struct pingpong {
    bot *b;
    irc_send_fn send_line; /* the IRC plugin's irc_send() */
    GQueue waits;          /* struct wait, oldest first */
    guint64 burst;         /* the number of the next PING */
    guint open;            /* messages of the burst without their PING */
    PurpleConnection *gc;  /* where the open burst's lines went */
    guint late_id;         /* the PING of a plugin that wrote nothing */
} pingpong;

struct wait {
    guint64 id;
    guint64 burst; /* the PING behind it */
    char *target;  /* a nick or channel, as given */
    char *refused; /* the server's reason, or NULL */
    gboolean im;
};

static void wait_free(gpointer data)
{
    struct wait *w = data;

    g_free(w->target);
    g_free(w->refused);
    g_free(w);
}

/* The server refused a line to target: the oldest message to it of the
 * oldest burst still waiting (see above). */
static void refused(pingpong *pp, const char *target, const char *why)
{
    struct wait *head = g_queue_peek_head(&pp->waits);

    if (!head)
        return;
    for (GList *l = pp->waits.head; l; l = l->next) {
        struct wait *w = l->data;

        if (w->burst != head->burst)
            return;
        if (!w->refused && bot_same_who(pp->b, w->target, target)) {
            w->refused = g_strdup(why && *why ? why : "refused");
            return;
        }
    }
}

/* The server says nick is gone while the plugin still has it online
 * (its ISON poll has not run). The plugin keeps that flag of its own and
 * reports only changes: so the buddy is marked offline here, then taken
 * off the plugin's list and put back, which resets the flag and asks ISON
 * at once. When the nick is back, ISON finds it and it is reported
 * available, and the core sends what waited. */
static void recheck(bot *b, const char *nick)
{
    PurpleBuddy *buddy = b->acct ? purple_find_buddy(b->acct, nick) : NULL;

    if (!buddy)
        return;
    purple_prpl_got_user_status(
        b->acct, purple_buddy_get_name(buddy),
        purple_primitive_get_id_from_type(PURPLE_STATUS_OFFLINE), NULL);
    purple_account_remove_buddy(b->acct, buddy, purple_buddy_get_group(buddy));
    purple_account_add_buddy(b->acct, buddy);
}

/* The PONG behind burst n: every message up to it is settled. */
static void settled(pingpong *pp, guint64 n)
{
    struct wait *w;

    while ((w = g_queue_peek_head(&pp->waits)) && w->burst <= n) {
        g_queue_pop_head(&pp->waits);
        if (!w->refused) {
            delivery_settled(pp->b, w->id);
        } else {
            delivery_failed(pp->b, w->id, w->refused);
            if (w->im)
                recheck(pp->b, w->target);
        }
        wait_free(w);
    }
}

/* One line from the server. */
static void on_receiving(PurpleConnection *gc, char **text, gpointer data)
{
    pingpong *pp = data;
    irc_reply r;

    if (!*text || purple_connection_get_account(gc) != pp->b->acct)
        return;
    switch (irc_reply_parse(*text, IRC_TOKEN, &r)) {
    case IRC_REPLY_PONG:
        settled(pp, r.id);
        break;
    case IRC_REPLY_REFUSED:
        refused(pp, r.target, r.why);
        break;
    case IRC_REPLY_OTHER:
        break;
    }
    irc_reply_clear(&r);
}

/* Queues the open burst's PING behind everything queued so far. */
static void ping(pingpong *pp)
{
    char *line;

    if (pp->late_id)
        g_source_remove(pp->late_id);
    pp->late_id = 0;
    if (!pp->open || !pp->gc || bot_live_gc(pp->b) != pp->gc)
        return; /* a connection gone took those lines along (on_down) */
    line = g_strdup_printf("PING :" IRC_TOKEN "%" G_GUINT64_FORMAT "\r\n",
                           pp->burst);
    pp->open = 0;
    pp->burst++;
    pp->send_line(purple_connection_get_protocol_data(pp->gc), line);
    g_free(line);
}

/* The plugin writes a line: the open burst's PING joins this write. */
static void on_sending(PurpleConnection *gc, char **text, gpointer data)
{
    pingpong *pp = data;

    if (pp->open && gc == pp->gc && *text &&
        !g_str_has_prefix(*text, "PING :" IRC_TOKEN))
        ping(pp);
}

static gboolean ping_late(gpointer data)
{
    pingpong *pp = data;

    pp->late_id = 0;
    ping(pp);
    return G_SOURCE_REMOVE;
}

/* Joins the open burst (see above). */
static int pingpong_track(void *st, PurpleConnection *gc, guint64 id,
                          const char *target, gboolean im)
{
    pingpong *pp = st;
    struct wait *w = g_new0(struct wait, 1);

    w->id = id;
    w->burst = pp->burst;
    w->target = g_strdup(target);
    w->im = im;
    g_queue_push_tail(&pp->waits, w);
    pp->open++;
    pp->gc = gc;
    if (!pp->late_id)
        pp->late_id = g_timeout_add(PING_LATE_MS, ping_late, pp);
    return 0;
}

/* Hooks the IRC plugin's send queue (see above); without irc_send() in
 * the plugin, the next confirmer (plain) takes its deliveries. */
static void *pingpong_start(bot *b, PurplePlugin *prpl)
{
    gpointer fn = NULL;
    pingpong *pp;

    if (strcmp(purple_plugin_get_id(prpl), "prpl-irc") != 0)
        return NULL;
    if (!prpl->handle || !g_module_symbol(prpl->handle, "irc_send", &fn) ||
        !fn) {
        g_warning("prpl-irc has no irc_send(): deliveries are reported when "
                  "queued, not when the server has them");
        return NULL;
    }
    pp = g_new0(pingpong, 1);
    pp->b = b;
    pp->send_line = (irc_send_fn)fn;
    pp->burst = 1;
    g_queue_init(&pp->waits);
    purple_signal_connect(prpl, "irc-receiving-text", b,
                          PURPLE_CALLBACK(on_receiving), pp);
    purple_signal_connect(prpl, "irc-sending-text", b,
                          PURPLE_CALLBACK(on_sending), pp);
    return pp;
}

/* What waited for a PONG went with the connection; the core sends it
 * again. */
static void pingpong_on_down(void *st)
{
    pingpong *pp = st;

    g_queue_clear_full(&pp->waits, wait_free);
    if (pp->late_id)
        g_source_remove(pp->late_id);
    pp->late_id = 0;
    pp->open = 0;
    pp->gc = NULL;
    pp->burst++;
}

static guint pingpong_pending(void *st)
{
    pingpong *pp = st;

    return pp->waits.length;
}

static void pingpong_stop(void *st)
{
    pingpong *pp = st;

    if (pp->late_id)
        g_source_remove(pp->late_id);
    g_queue_clear_full(&pp->waits, wait_free);
    g_free(pp);
}

const delivery_confirmer pingpong_confirmer = {
    .name = "pingpong",
    .start = pingpong_start,
    .track = pingpong_track,
    .on_down = pingpong_on_down,
    .pending = pingpong_pending,
    .stop = pingpong_stop,
};
