/* bot: one libpurple account bridged to the core: account setup and
 * options, connection and backoff, IMs, presence, buddies, authorization
 * requests and chats. */
#include "bot.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gmodule.h>
#include <purple.h>

#include "imgroups_prpl.h"
#include "text.h"
#include "ui.h"

/* The buddy list group the core's buddies live in. */
#define BOT_GROUP "imgroups"

/* Reconnect backoff: 1 s doubling to 5 min, ±25 % jitter, reset once the
 * account has stayed up for a minute; fatal errors start at 5 min. */
#define BACKOFF_MIN_MS (1000u)
#define BACKOFF_MAX_MS (5u * 60u * 1000u)
#define STABLE_SECONDS 60

/* A chat the core asked the bot to sit in; re-joined after reconnects. */
struct chat {
    char *name;      /* as the core named it */
    char *conv_name; /* libpurple's conversation name for it, once asked */
    gboolean joined; /* chat_joined sent and not left since */
};

/* An authorization request waiting for the core's auth_answer. */
struct auth {
    char *handle;
    PurpleAccountRequestAuthorizationCb accept, deny;
    void *user_data;
};

static struct {
    link_conn *link;
    bot_exit_fn on_exit;
    char *name; /* the core's name for the account; set by account_add */
    char *protocol;
    char *password; /* in memory only: libpurple forgets it on disconnect */
    PurpleAccount *acct; /* NULL until the account exists */
    gsize limit;
    GHashTable *presence; /* normalised handle → last status sent */
    GPtrArray *chats;     /* struct chat */
    GList *auths;         /* struct auth */
    guint reconnect_id, stable_id;
    guint backoff_ms;
    gboolean up;       /* connected: account_up sent */
    gboolean reported; /* a disconnect reason came for this connection */
    gboolean quitting;
} bot;

/* ---- helpers ----------------------------------------------------------- */

static void send_msg(enum proto_type t, GVariant *body)
{
    link_send(bot.link, t, body);
}

static char *norm(const char *who)
{
    return g_strdup(purple_normalize(bot.acct, who));
}

static gboolean same_who(const char *a, const char *b)
{
    char *na;
    gboolean same;

    if (!a || !b)
        return FALSE;
    na = norm(a);
    same = g_strcmp0(na, purple_normalize(bot.acct, b)) == 0;
    g_free(na);
    return same;
}

/* The bot's own name on the network, as a chat or IM peer would see it. */
static gboolean is_self(const char *who)
{
    PurpleConnection *gc = purple_account_get_connection(bot.acct);

    return same_who(who, purple_account_get_username(bot.acct)) ||
           (gc && same_who(who, purple_connection_get_display_name(gc)));
}

static PurpleConnection *live_gc(void)
{
    PurpleConnection *gc =
        bot.acct ? purple_account_get_connection(bot.acct) : NULL;

    return gc && bot.up ? gc : NULL;
}

static void send_failed(guint64 id, const char *why)
{
    g_info("delivery %" G_GUINT64_FORMAT " failed: %s", id, why);
    send_msg(PROTO_FAILED, g_variant_new("(ts)", id, why));
}

/* ---- the delivery journal ----------------------------------------------
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

static int journal_fd = -1;
static guint journal_lines;
static GQueue journal_recent = G_QUEUE_INIT; /* guint64 * */

static char *journal_path(void)
{
    return g_build_filename(purple_user_dir(), "delivered", NULL);
}

static void journal_open(gboolean truncate)
{
    char *path = journal_path();

    if (journal_fd >= 0)
        close(journal_fd);
    journal_fd = open(path,
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
                          (truncate ? O_TRUNC : 0),
                      0600);
    if (journal_fd < 0)
        g_warning("%s: %s", path, g_strerror(errno));
    journal_lines = 0;
    g_free(path);
}

static void journal_write(guint64 id)
{
    char line[32];
    int n = g_snprintf(line, sizeof line, "%" G_GUINT64_FORMAT "\n", id);

    if (journal_fd < 0 || write(journal_fd, line, (size_t)n) != n)
        g_warning("delivery journal: %s",
                  journal_fd < 0 ? "not open" : g_strerror(errno));
    journal_lines++;
}

static void journal_add(guint64 id)
{
    g_queue_push_tail(&journal_recent, g_memdup2(&id, sizeof id));
    while (journal_recent.length > JOURNAL_KEEP)
        g_free(g_queue_pop_head(&journal_recent));
    if (journal_lines >= JOURNAL_MAX) {
        journal_open(TRUE);
        for (GList *l = journal_recent.head; l; l = l->next)
            journal_write(*(guint64 *)l->data);
        return;
    }
    journal_write(id);
}

/* What an earlier worker's network took: reported again, then forgotten. */
static void journal_replay(void)
{
    char *path = journal_path(), *text = NULL;
    guint n = 0;

    if (g_file_get_contents(path, &text, NULL, NULL)) {
        char **lines = g_strsplit(text, "\n", -1);

        for (char **l = lines; *l; l++) {
            guint64 id;

            if (g_ascii_string_to_unsigned(*l, 10, 1, G_MAXUINT64, &id, NULL)) {
                send_msg(PROTO_DELIVERED, g_variant_new("(t)", id));
                n++;
            }
        }
        g_strfreev(lines);
        g_free(text);
    }
    if (n)
        g_info("reported %u deliveries of an earlier run again", n);
    g_free(path);
    g_queue_clear_full(&journal_recent, g_free);
    journal_open(TRUE);
}

static void settle_delivered(guint64 id)
{
    journal_add(id);
    send_msg(PROTO_DELIVERED, g_variant_new("(t)", id));
}

static void send_down(const char *why)
{
    send_msg(PROTO_ACCOUNT_DOWN, g_variant_new("(ss)", bot.name, why));
}

/* ---- presence ---------------------------------------------------------- */

static const struct {
    PurpleStatusPrimitive prim;
    const char *status;
} status_map[] = {
    {PURPLE_STATUS_AVAILABLE, "available"},
    {PURPLE_STATUS_MOBILE, "available"},
    {PURPLE_STATUS_TUNE, "available"},
    {PURPLE_STATUS_MOOD, "available"},
    {PURPLE_STATUS_AWAY, "away"},
    {PURPLE_STATUS_EXTENDED_AWAY, "away"},
    {PURPLE_STATUS_UNAVAILABLE, "dnd"},
    {PURPLE_STATUS_INVISIBLE, "offline"},
    {PURPLE_STATUS_OFFLINE, "offline"},
};

static const char *status_of(PurpleBuddy *b)
{
    PurplePresence *pres = purple_buddy_get_presence(b);
    PurpleStatusPrimitive prim;

    if (!pres || !purple_presence_is_online(pres))
        return "offline";
    prim = purple_status_type_get_primitive(
        purple_status_get_type(purple_presence_get_active_status(pres)));
    for (gsize i = 0; i < G_N_ELEMENTS(status_map); i++)
        if (status_map[i].prim == prim)
            return status_map[i].status;
    return "available";
}

static void send_presence(const char *handle, const char *alias,
                          const char *status)
{
    g_info("presence of %s: %s", handle, status);
    send_msg(PROTO_BUDDY_PRESENCE,
             g_variant_new("(ssss)", bot.name, handle, alias, status));
}

/* Reports b's status unless it is the one last reported (a buddy never
 * reported counts as offline). */
static void report_presence(PurpleBuddy *b)
{
    const char *status, *prev, *alias;
    char *handle;

    if (!bot.acct || bot.quitting || purple_buddy_get_account(b) != bot.acct)
        return;
    handle = norm(purple_buddy_get_name(b));
    status = status_of(b);
    prev = g_hash_table_lookup(bot.presence, handle);
    if (strcmp(prev ? prev : "offline", status) == 0) {
        g_free(handle);
        return;
    }
    alias = purple_buddy_get_alias_only(b);
    send_presence(handle, alias ? alias : "", status);
    g_hash_table_replace(bot.presence, handle, (gpointer)status);
}

static void on_buddy_signed(PurpleBuddy *b, gpointer data)
{
    report_presence(b);
}

static void on_buddy_status(PurpleBuddy *b, PurpleStatus *old,
                            PurpleStatus *now, gpointer data)
{
    report_presence(b);
}

/* ---- connection -------------------------------------------------------- */

static void chat_join_now(struct chat *c);
static void irc_waits_clear(void);

static gboolean on_stable(gpointer data)
{
    bot.stable_id = 0;
    bot.backoff_ms = BACKOFF_MIN_MS;
    return G_SOURCE_REMOVE;
}

static void connect_now(void)
{
    if (!bot.acct || bot.quitting || !purple_account_is_disconnected(bot.acct))
        return;
    /* libpurple drops an unremembered password at every disconnect. */
    purple_account_set_password(bot.acct, bot.password);
    g_message("connecting");
    purple_account_connect(bot.acct);
}

static gboolean on_reconnect(gpointer data)
{
    bot.reconnect_id = 0;
    connect_now();
    return G_SOURCE_REMOVE;
}

static void schedule_reconnect(gboolean fatal)
{
    guint base = fatal ? MAX(bot.backoff_ms, BACKOFF_MAX_MS) : bot.backoff_ms;
    guint delay = (guint)(base * (0.75 + 0.5 * g_random_double()));

    bot.backoff_ms = MIN(MAX(base, BACKOFF_MIN_MS) * 2, BACKOFF_MAX_MS);
    if (bot.reconnect_id)
        g_source_remove(bot.reconnect_id);
    bot.reconnect_id = g_timeout_add(delay, on_reconnect, NULL);
    g_message("reconnecting in %.1f s", delay / 1000.0);
}

/* The connection is gone: tell the core, forget what it implied (chats,
 * buddies online) and try again later. */
static void went_down(const char *why, gboolean fatal)
{
    GHashTableIter it;
    gpointer handle, status;

    if (bot.stable_id)
        g_source_remove(bot.stable_id);
    bot.stable_id = 0;
    bot.up = FALSE;
    g_message("down: %s", why);
    send_down(why);
    for (guint i = 0; i < bot.chats->len; i++) {
        struct chat *c = g_ptr_array_index(bot.chats, i);

        if (c->joined)
            send_msg(PROTO_CHAT_LEFT,
                     g_variant_new("(sss)", bot.name, c->name, "disconnected"));
        c->joined = FALSE;
    }
    g_hash_table_iter_init(&it, bot.presence);
    while (g_hash_table_iter_next(&it, &handle, &status)) {
        PurpleBuddy *b = purple_find_buddy(bot.acct, handle);
        const char *alias = b ? purple_buddy_get_alias_only(b) : NULL;

        if (strcmp(status, "offline") != 0)
            send_presence(handle, alias ? alias : "", "offline");
    }
    g_hash_table_remove_all(bot.presence);
    /* What waited for a PONG went with the connection; the core sends it
     * again. */
    irc_waits_clear();
    schedule_reconnect(fatal);
}

static void on_connected(PurpleConnection *gc)
{
    if (purple_connection_get_account(gc) != bot.acct || bot.quitting)
        return;
    bot.up = TRUE;
    bot.reported = FALSE;
    g_message("up");
    send_msg(PROTO_ACCOUNT_UP, g_variant_new("(s)", bot.name));
    if (bot.stable_id)
        g_source_remove(bot.stable_id);
    bot.stable_id = g_timeout_add_seconds(STABLE_SECONDS, on_stable, NULL);
    for (guint i = 0; i < bot.chats->len; i++)
        chat_join_now(g_ptr_array_index(bot.chats, i));
}

static void on_report_disconnect(PurpleConnection *gc,
                                 PurpleConnectionError reason, const char *text)
{
    char *why;

    if (purple_connection_get_account(gc) != bot.acct || bot.quitting)
        return;
    why = text_sanitize(text);
    bot.reported = TRUE;
    /* One line: libpurple's texts quote the server's lines. */
    g_strdelimit(why, "\n\t", ' ');
    went_down(*why ? why : "disconnected",
              purple_connection_error_is_fatal(reason));
    g_free(why);
}

/* A connection that ended without a reason (none we know of does). */
static void on_disconnected(PurpleConnection *gc)
{
    if (purple_connection_get_account(gc) != bot.acct || bot.quitting)
        return;
    if (!bot.reported)
        went_down("disconnected", FALSE);
    bot.reported = FALSE;
}

static void on_connect_progress(PurpleConnection *gc, const char *text,
                                size_t step, size_t step_count)
{
    g_debug("connecting: %s (%zu/%zu)", text ? text : "", step, step_count);
}

static PurpleConnectionUiOps connection_ops = {
    .connect_progress = on_connect_progress,
    .connected = on_connected,
    .disconnected = on_disconnected,
    .report_disconnect_reason = on_report_disconnect,
};

/* ---- authorization requests -------------------------------------------- */

static void auth_free(struct auth *a)
{
    g_free(a->handle);
    g_free(a);
}

/* Kept until the core answers; the message is the requester's text, passed
 * on, never logged. */
static void *on_request_authorize(PurpleAccount *acct, const char *remote_user,
                                  const char *id, const char *alias,
                                  const char *message, gboolean on_list,
                                  PurpleAccountRequestAuthorizationCb accept,
                                  PurpleAccountRequestAuthorizationCb deny,
                                  void *user_data)
{
    struct auth *a;

    if (acct != bot.acct || !remote_user)
        return NULL;
    a = g_new0(struct auth, 1);
    a->handle = norm(remote_user);
    a->accept = accept;
    a->deny = deny;
    a->user_data = user_data;
    bot.auths = g_list_append(bot.auths, a);
    g_info("authorization request from %s", a->handle);
    send_msg(PROTO_AUTH_REQUEST, g_variant_new("(sss)", bot.name, a->handle,
                                               message ? message : ""));
    return a;
}

/* libpurple dropped the request (disconnect): its callbacks are dead. */
static void on_close_account_request(void *handle)
{
    GList *l = g_list_find(bot.auths, handle);

    if (!l)
        return;
    bot.auths = g_list_delete_link(bot.auths, l);
    auth_free(handle);
}

static void on_request_add(PurpleAccount *acct, const char *remote_user,
                           const char *id, const char *alias,
                           const char *message)
{
    g_info("%s added the bot", remote_user ? remote_user : "someone");
}

static PurpleAccountUiOps account_ops = {
    .request_add = on_request_add,
    .request_authorize = on_request_authorize,
    .close_account_request = on_close_account_request,
};

/* ---- IMs --------------------------------------------------------------- */

/* Messages no person typed: on IRC, NOTICEs (which libpurple's IRC plugin
 * hands over as IMs beginning "(notice) ", from services, from other bots
 * or from the server itself, whose name has a dot no nick may hold).
 * RFC 2812 3.3.2: automatic replies must never be sent in response to a
 * NOTICE; making their sender a member would do just that. */
static gboolean automatic_im(const char *sender, const char *message)
{
    if (g_strcmp0(bot.protocol, "prpl-irc") != 0)
        return FALSE;
    return strchr(sender, '.') != NULL ||
           g_str_has_prefix(message, "(notice) ");
}

static void on_received_im(PurpleAccount *acct, char *sender, char *message,
                           PurpleConversation *conv, PurpleMessageFlags flags,
                           gpointer data)
{
    PurpleBuddy *b;
    const char *alias = NULL;
    char *body, *handle;

    if (acct != bot.acct || bot.quitting || !sender ||
        (flags & PURPLE_MESSAGE_SEND) || is_self(sender))
        return;
    if (automatic_im(sender, message)) {
        g_debug("a notice from %s, not a person's message: ignored", sender);
        return;
    }
    body = text_from_legacy(message);
    if (!*body) {
        g_free(body);
        return;
    }
    handle = norm(sender);
    b = purple_find_buddy(acct, sender);
    if (b)
        alias = purple_buddy_get_alias_only(b);
    g_info("IM from %s (%zu bytes)", handle, strlen(body));
    send_msg(PROTO_IM_RECEIVED, g_variant_new("(ssss)", bot.name, handle,
                                              alias ? alias : "", body));
    g_free(handle);
    g_free(body);
}

/* Sends body in pieces through send(gc, target, piece); returns 0, or the
 * first negative result. */
typedef int (*send_piece_fn)(PurpleConnection *gc, const void *target,
                             const char *legacy);

static int send_split(PurpleConnection *gc, const void *target,
                      const char *body, send_piece_fn send, guint *count)
{
    char *plain = text_sanitize(body);
    char **pieces = text_split(plain, bot.limit);
    int r = 0;

    *count = 0;
    for (char **p = pieces; *p && r >= 0; p++) {
        char *legacy = text_to_legacy(*p);

        r = send(gc, target, legacy);
        g_free(legacy);
        if (r >= 0)
            (*count)++;
    }
    g_strfreev(pieces);
    g_free(plain);
    return r < 0 ? r : 0;
}

static int send_im_piece(PurpleConnection *gc, const void *who,
                         const char *legacy)
{
    return serv_send_im(gc, who, legacy, 0);
}

static int send_chat_piece(PurpleConnection *gc, const void *id,
                           const char *legacy)
{
    return serv_chat_send(gc, *(const int *)id, legacy, 0);
}

/* A message is reported delivered only once the network has it; a report
 * sent earlier loses the message if the worker dies, or the recipient is
 * gone, in between.
 *
 * IRC has no receipts, and libpurple's IRC plugin (2.14) does not even
 * write at once: it queues every line and flushes the queue from a timer.
 * Behind a message's lines the worker queues "PING :imgroups-ID" through
 * the plugin's irc_send(). A server answers in order, so when its PONG
 * comes back (seen through "irc-receiving-text") the server has taken
 * every line before it, and has already answered any of them it refused:
 * 401 (no such nick), 403 (no such channel) or 404 (cannot send to
 * channel), naming the target. Such a message is reported failed, and the
 * core keeps it for when the member is back; the refused nick is marked
 * offline in libpurple, so that the next ISON that finds it reports it
 * available again. The plugin ignores a PONG whose text has no space, as
 * ours. A queue lost with its connection takes its PINGs along: the core
 * sends those messages again when the account is back.
 *
 * Other prpls write during the send call, or leave it to the kernel's
 * socket buffer: their report waits only in a low-priority idle, which
 * runs after every ready source of default priority. */
#define IRC_TOKEN "imgroups-"

typedef int (*irc_send_fn)(void *irc_conn, const char *line);

struct irc_wait {
    guint64 id;
    char *target;  /* a nick or channel, as given */
    char *refused; /* the server's reason, or NULL */
    gboolean im;
};

static irc_send_fn irc_send_line; /* non-NULL: the IRC plugin is hooked */
static GQueue irc_waits = G_QUEUE_INIT;
static GArray *delivered_ids;
static guint delivered_idle;

static void irc_wait_free(gpointer data)
{
    struct irc_wait *w = data;

    g_free(w->target);
    g_free(w->refused);
    g_free(w);
}

static void irc_waits_clear(void)
{
    g_queue_clear_full(&irc_waits, irc_wait_free);
}

static gboolean report_delivered_cb(gpointer data)
{
    (void)data;
    delivered_idle = 0;
    for (guint i = 0; i < delivered_ids->len; i++)
        settle_delivered(g_array_index(delivered_ids, guint64, i));
    g_array_set_size(delivered_ids, 0);
    return G_SOURCE_REMOVE;
}

/* The project's own plugins (MSN, Yahoo) confirm deliveries themselves
 * (transports/imgroups_prpl.h): a mark behind each message, settled by a
 * signal. A mark that never settles would hold the member's queue for good:
 * after MARK_TIMEOUT_S it is reported failed, and the core sends the
 * message again later (a repeat, rather than a loss). */
#define MARK_TIMEOUT_S 120

static imgroups_prpl_mark_fn prpl_mark;
static GHashTable *marks; /* guint64 * id -> timeout source id */

static void mark_settled(guint64 id, gboolean ok, const char *why)
{
    gpointer timer;

    if (!marks || !g_hash_table_lookup_extended(marks, &id, NULL, &timer))
        return; /* settled already (timed out) */
    g_source_remove(GPOINTER_TO_UINT(timer));
    g_hash_table_remove(marks, &id);
    if (ok)
        settle_delivered(id);
    else
        send_failed(id, why && *why ? why : "not delivered");
}

static gboolean mark_timeout(gpointer data)
{
    guint64 id = *(guint64 *)data;

    g_hash_table_remove(marks, &id);
    g_warning("delivery %" G_GUINT64_FORMAT " unconfirmed after %d s", id,
              MARK_TIMEOUT_S);
    send_failed(id, "no confirmation from the network");
    return G_SOURCE_REMOVE;
}

static void on_prpl_delivery(PurpleConnection *gc, const imgroups_delivery *d,
                             gpointer data)
{
    (void)data;
    if (!bot.acct || purple_connection_get_account(gc) != bot.acct || !d)
        return;
    mark_settled(d->id, d->ok, d->why);
}

static gboolean mark_message(PurpleConnection *gc, const char *who, guint64 id)
{
    guint64 *key;
    guint timer;

    if (!prpl_mark)
        return FALSE;
    if (!marks)
        marks =
            g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    key = g_memdup2(&id, sizeof id);
    timer = g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, MARK_TIMEOUT_S,
                                       mark_timeout, key, NULL);
    g_hash_table_replace(marks, key, GUINT_TO_POINTER(timer));
    if (prpl_mark(gc, who, id))
        return TRUE;
    g_source_remove(timer);
    g_hash_table_remove(marks, &id);
    return FALSE;
}

/* Finds a plugin's mark function and listens for its confirmations. */
static void hook_marks(PurplePlugin *prpl)
{
    gpointer fn = NULL;

    if (prpl_mark || !prpl->handle ||
        !g_module_symbol(prpl->handle, IMGROUPS_PRPL_MARK_SYMBOL, &fn) || !fn)
        return;
    purple_signal_connect(prpl, IMGROUPS_PRPL_DELIVERY_SIGNAL, &bot,
                          PURPLE_CALLBACK(on_prpl_delivery), NULL);
    prpl_mark = (imgroups_prpl_mark_fn)fn;
}

static void report_sent(PurpleConnection *gc, guint64 id, const char *target,
                        gboolean im)
{
    if (irc_send_line) {
        struct irc_wait *w = g_new0(struct irc_wait, 1);
        char *line =
            g_strdup_printf("PING :" IRC_TOKEN "%" G_GUINT64_FORMAT "\r\n", id);

        w->id = id;
        w->target = g_strdup(target);
        w->im = im;
        g_queue_push_tail(&irc_waits, w);
        irc_send_line(purple_connection_get_protocol_data(gc), line);
        g_free(line);
        return;
    }
    if (im && mark_message(gc, target, id))
        return;
    if (!delivered_ids)
        delivered_ids = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_array_append_val(delivered_ids, id);
    if (!delivered_idle)
        delivered_idle =
            g_idle_add_full(G_PRIORITY_LOW, report_delivered_cb, NULL, NULL);
}

/* The server refused a line to target: the oldest message to it still
 * waiting for its PONG is the one. */
static void irc_refused(const char *target, const char *why)
{
    for (GList *l = irc_waits.head; l; l = l->next) {
        struct irc_wait *w = l->data;

        if (!w->refused && same_who(w->target, target)) {
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
static void irc_recheck(const char *nick)
{
    PurpleBuddy *b = bot.acct ? purple_find_buddy(bot.acct, nick) : NULL;

    if (!b)
        return;
    purple_prpl_got_user_status(
        bot.acct, purple_buddy_get_name(b),
        purple_primitive_get_id_from_type(PURPLE_STATUS_OFFLINE), NULL);
    purple_account_remove_buddy(bot.acct, b, purple_buddy_get_group(b));
    purple_account_add_buddy(bot.acct, b);
}

/* The PONG for id: every message up to it is settled. */
static void irc_settled(guint64 id)
{
    struct irc_wait *w;

    while ((w = g_queue_peek_head(&irc_waits))) {
        gboolean last = w->id == id;

        g_queue_pop_head(&irc_waits);
        if (!w->refused) {
            settle_delivered(w->id);
        } else {
            send_failed(w->id, w->refused);
            if (w->im)
                irc_recheck(w->target);
        }
        irc_wait_free(w);
        if (last)
            break;
    }
}

/* One line from the server: ":prefix COMMAND params... :trailing". */
static void on_irc_receiving(PurpleConnection *gc, char **text, gpointer data)
{
    const char *line = *text;
    char **words, *trailing = NULL, *head;
    const char *colon;
    guint n;

    (void)data;
    if (!line || purple_connection_get_account(gc) != bot.acct)
        return;
    if (*line == ':') {
        line = strchr(line, ' ');
        if (!line)
            return;
        line++;
    }
    colon = strstr(line, " :");
    head = colon ? g_strndup(line, (gsize)(colon - line)) : g_strdup(line);
    if (colon)
        trailing = g_strstrip(g_strdup(colon + 2));
    words = g_strsplit(g_strstrip(head), " ", -1);
    g_free(head);
    n = g_strv_length(words);
    if (n >= 1 && strcmp(words[0], "PONG") == 0) {
        const char *tok = trailing ? trailing : n >= 3 ? words[2] : "";

        if (g_str_has_prefix(tok, IRC_TOKEN))
            irc_settled(g_ascii_strtoull(tok + strlen(IRC_TOKEN), NULL, 10));
    } else if (n >= 3 &&
               (strcmp(words[0], "401") == 0 || strcmp(words[0], "403") == 0 ||
                strcmp(words[0], "404") == 0)) {
        irc_refused(words[2], trailing);
    }
    g_strfreev(words);
    g_free(trailing);
}

/* Hooks the IRC plugin's send queue (see above); without irc_send() in
 * the plugin, reports fall back to the idle. */
static void hook_irc(PurplePlugin *prpl)
{
    gpointer fn = NULL;

    if (irc_send_line || strcmp(purple_plugin_get_id(prpl), "prpl-irc") != 0)
        return;
    if (!prpl->handle || !g_module_symbol(prpl->handle, "irc_send", &fn) ||
        !fn) {
        g_warning("prpl-irc has no irc_send(): deliveries are reported when "
                  "queued, not when the server has them");
        return;
    }
    purple_signal_connect(prpl, "irc-receiving-text", &bot,
                          PURPLE_CALLBACK(on_irc_receiving), NULL);
    irc_send_line = (irc_send_fn)fn;
}

static void handle_send_im(GVariant *body)
{
    guint64 id;
    const char *account, *handle, *text;
    PurpleConnection *gc;
    guint count;
    int r;

    g_variant_get(body, "(t&s&s&s)", &id, &account, &handle, &text);
    if (!bot.acct || g_strcmp0(account, bot.name) != 0) {
        send_failed(id, "no such account");
        return;
    }
    gc = live_gc();
    if (!gc) {
        send_failed(id, "not connected");
        return;
    }
    r = send_split(gc, handle, text, send_im_piece, &count);
    if (r < 0) {
        char *why = g_strdup_printf("sending failed: %s", g_strerror(-r));

        send_failed(id, why);
        g_free(why);
        return;
    }
    g_info("IM %" G_GUINT64_FORMAT " to %s sent in %u pieces", id, handle,
           count);
    report_sent(gc, id, handle, TRUE);
}

/* ---- buddies ----------------------------------------------------------- */

static gboolean check_account(const char *account)
{
    if (bot.acct && g_strcmp0(account, bot.name) == 0)
        return TRUE;
    g_warning("message for account %s, which is not up here: ignored", account);
    return FALSE;
}

static void handle_buddy_add(GVariant *body)
{
    const char *account, *handle;
    PurpleBuddy *b;

    g_variant_get(body, "(&s&s)", &account, &handle);
    if (!check_account(account) || !*handle)
        return;
    b = purple_find_buddy(bot.acct, handle);
    if (!b) {
        PurpleGroup *g = purple_find_group(BOT_GROUP);

        if (!g) {
            g = purple_group_new(BOT_GROUP);
            purple_blist_add_group(g, NULL);
        }
        b = purple_buddy_new(bot.acct, handle, NULL);
        purple_blist_add_buddy(b, NULL, g, NULL);
        purple_account_add_buddy(bot.acct, b);
        g_info("buddy %s added", handle);
    } else if (g_strcmp0(bot.protocol, "prpl-jabber") == 0) {
        /* Accepting their subscription request put them on the roster
         * already, but that does not subscribe the bot to their presence:
         * the XMPP plugin's add asks for it when it is missing, and does
         * nothing more when it is there. */
        purple_account_add_buddy(bot.acct, b);
    }
    /* Already known online: say so now, the network will not repeat it. */
    report_presence(b);
}

static void handle_buddy_remove(GVariant *body)
{
    const char *account, *handle;
    PurpleBuddy *b;
    char *key;

    g_variant_get(body, "(&s&s)", &account, &handle);
    if (!check_account(account))
        return;
    b = purple_find_buddy(bot.acct, handle);
    if (!b)
        return;
    key = norm(purple_buddy_get_name(b));
    g_hash_table_remove(bot.presence, key);
    g_free(key);
    purple_account_remove_buddy(bot.acct, b, purple_buddy_get_group(b));
    purple_blist_remove_buddy(b);
    g_info("buddy %s removed", handle);
}

static void handle_auth_answer(GVariant *body)
{
    const char *account, *handle;
    gboolean accept;
    char *who;

    g_variant_get(body, "(&s&sb)", &account, &handle, &accept);
    if (!check_account(account))
        return;
    who = norm(handle);
    /* Answer every pending request from who; a callback may close others,
     * so look again from the start each time. */
    for (;;) {
        GList *l = bot.auths;
        struct auth *a;

        while (l && strcmp(((struct auth *)l->data)->handle, who) != 0)
            l = l->next;
        if (!l)
            break;
        a = l->data;
        bot.auths = g_list_delete_link(bot.auths, l);
        g_info("authorization of %s: %s", who, accept ? "granted" : "denied");
        if (accept ? a->accept != NULL : a->deny != NULL)
            (accept ? a->accept : a->deny)(a->user_data);
        auth_free(a);
    }
    g_free(who);
}

/* ---- chats ------------------------------------------------------------- */

static void chat_free(gpointer data)
{
    struct chat *c = data;

    g_free(c->name);
    g_free(c->conv_name);
    g_free(c);
}

static struct chat *chat_find(const char *name)
{
    for (guint i = 0; i < bot.chats->len; i++) {
        struct chat *c = g_ptr_array_index(bot.chats, i);

        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static gboolean names_equal(const char *a, const char *b)
{
    char *fa = g_utf8_casefold(a, -1), *fb = g_utf8_casefold(b, -1);
    gboolean eq = strcmp(fa, fb) == 0;

    g_free(fa);
    g_free(fb);
    return eq;
}

static struct chat *chat_by_conv_name(const char *conv_name)
{
    for (guint i = 0; i < bot.chats->len; i++) {
        struct chat *c = g_ptr_array_index(bot.chats, i);

        if (c->conv_name && names_equal(c->conv_name, conv_name))
            return c;
    }
    return NULL;
}

static struct chat *chat_of(PurpleConversation *conv)
{
    if (!bot.acct || bot.quitting ||
        purple_conversation_get_account(conv) != bot.acct ||
        purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_CHAT)
        return NULL;
    return chat_by_conv_name(purple_conversation_get_name(conv));
}

/* The joined conversation of c, or NULL. */
static PurpleConversation *chat_conv(struct chat *c)
{
    PurpleConversation *conv;

    if (!c->joined || !c->conv_name)
        return NULL;
    conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_CHAT,
                                                 c->conv_name, bot.acct);
    if (!conv || purple_conv_chat_has_left(PURPLE_CONV_CHAT(conv)))
        return NULL;
    return conv;
}

static void chat_forget(struct chat *c)
{
    g_ptr_array_remove(bot.chats, c);
}

static void chat_left(struct chat *c, const char *why)
{
    g_message("left %s: %s", c->name, why);
    send_msg(PROTO_CHAT_LEFT, g_variant_new("(sss)", bot.name, c->name, why));
    chat_forget(c);
}

static gboolean is_chat_self(PurpleConversation *conv, const char *who)
{
    return same_who(who, purple_conv_chat_get_nick(PURPLE_CONV_CHAT(conv))) ||
           is_self(who);
}

static void chat_join_now(struct chat *c)
{
    PurpleConnection *gc = live_gc();
    PurplePluginProtocolInfo *info;
    GHashTable *comps;

    if (!gc)
        return; /* joined once connected */
    info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
    if (!info->chat_info_defaults || !info->join_chat) {
        chat_left(c, "this protocol has no group chats");
        return;
    }
    comps = info->chat_info_defaults(gc, c->name);
    if (!comps) {
        chat_left(c, "not a chat name for this protocol");
        return;
    }
    g_free(c->conv_name);
    c->conv_name = info->get_chat_name ? info->get_chat_name(comps) : NULL;
    if (!c->conv_name)
        c->conv_name = g_strdup(c->name);
    g_message("joining %s", c->name);
    serv_join_chat(gc, comps);
    g_hash_table_destroy(comps);
}

/* chat_joined, then everyone already there as initial. */
static void report_joined(struct chat *c, PurpleConversation *conv)
{
    send_msg(PROTO_CHAT_JOINED, g_variant_new("(ss)", bot.name, c->name));
    for (GList *u = purple_conv_chat_get_users(PURPLE_CONV_CHAT(conv)); u;
         u = u->next) {
        const char *nick = purple_conv_chat_cb_get_name(u->data);

        if (!is_chat_self(conv, nick))
            send_msg(PROTO_CHAT_USER_JOINED,
                     g_variant_new("(sssb)", bot.name, c->name, nick, TRUE));
    }
}

static void handle_chat_join(GVariant *body)
{
    const char *account, *name;
    struct chat *c;
    PurpleConversation *conv;

    g_variant_get(body, "(&s&s)", &account, &name);
    if (!check_account(account) || !*name)
        return;
    c = chat_find(name);
    if (c && (conv = chat_conv(c))) {
        report_joined(c, conv); /* asked again: the same answer */
        return;
    }
    if (!c) {
        c = g_new0(struct chat, 1);
        c->name = g_strdup(name);
        g_ptr_array_add(bot.chats, c);
    }
    chat_join_now(c);
}

static void on_chat_joined(PurpleConversation *conv, gpointer data)
{
    struct chat *c = chat_of(conv);

    if (!c) {
        if (bot.acct && purple_conversation_get_account(conv) == bot.acct)
            g_info("in %s, which the core did not ask for",
                   purple_conversation_get_name(conv));
        return;
    }
    c->joined = TRUE;
    g_message("joined %s", c->name);
    report_joined(c, conv);
}

static void on_chat_left(PurpleConversation *conv, gpointer data)
{
    struct chat *c = chat_of(conv);

    if (c && c->joined)
        chat_left(c, "left the chat");
}

static void on_chat_join_failed(PurpleConnection *gc, GHashTable *comps,
                                gpointer data)
{
    PurplePluginProtocolInfo *info;
    struct chat *c = NULL;
    char *name;

    if (bot.quitting || purple_connection_get_account(gc) != bot.acct)
        return;
    info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
    name = info->get_chat_name ? info->get_chat_name(comps) : NULL;
    if (name)
        c = chat_by_conv_name(name);
    g_free(name);
    if (c)
        chat_left(c, "could not join");
}

static void on_chat_buddy_joined(PurpleConversation *conv, const char *nick,
                                 PurpleConvChatBuddyFlags flags,
                                 gboolean new_arrival, gpointer data)
{
    struct chat *c = chat_of(conv);

    if (!c || !c->joined || is_chat_self(conv, nick))
        return;
    send_msg(PROTO_CHAT_USER_JOINED,
             g_variant_new("(sssb)", bot.name, c->name, nick, !new_arrival));
}

static void on_chat_buddy_left(PurpleConversation *conv, const char *nick,
                               const char *reason, gpointer data)
{
    struct chat *c = chat_of(conv);

    if (!c || !c->joined || is_chat_self(conv, nick))
        return;
    send_msg(PROTO_CHAT_USER_LEFT, g_variant_new("(ssss)", bot.name, c->name,
                                                 nick, reason ? reason : ""));
}

/* libpurple 2 has no signal for renames, only this conversation UI op. */
static void on_chat_rename_user(PurpleConversation *conv, const char *old,
                                const char *new_name, const char *new_alias)
{
    struct chat *c = chat_of(conv);

    if (!c || !c->joined || is_chat_self(conv, old) ||
        is_chat_self(conv, new_name))
        return;
    send_msg(PROTO_CHAT_USER_RENAMED,
             g_variant_new("(ssss)", bot.name, c->name, old, new_name));
}

static PurpleConversationUiOps conversation_ops = {
    .chat_rename_user = on_chat_rename_user,
};

/* Topics are plain text in libpurple 2 (prpls keep them unescaped). The
 * bot's own changes are not echoed back. */
static void on_chat_topic(PurpleConversation *conv, const char *who,
                          const char *topic, gpointer data)
{
    struct chat *c = chat_of(conv);
    char *text;

    if (!c || !c->joined || (who && is_chat_self(conv, who)))
        return;
    text = text_sanitize(topic);
    send_msg(PROTO_CHAT_TOPIC,
             g_variant_new("(ssss)", bot.name, c->name, who ? who : "", text));
    g_free(text);
}

static void on_received_chat(PurpleAccount *acct, char *sender, char *message,
                             PurpleConversation *conv, PurpleMessageFlags flags,
                             gpointer data)
{
    struct chat *c = chat_of(conv);
    PurpleConnection *gc;
    PurplePluginProtocolInfo *info;
    char *body, *real = NULL, *handle;

    if (!c || !c->joined || !sender || (flags & PURPLE_MESSAGE_SEND) ||
        is_chat_self(conv, sender))
        return;
    body = text_from_legacy(message);
    if (!*body) {
        g_free(body);
        return;
    }
    gc = purple_conversation_get_gc(conv);
    info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
    /* The network's own name for the speaker where it has one (XMPP: the
     * real or occupant JID), else the nick. */
    if (info->get_cb_real_name)
        real = info->get_cb_real_name(
            gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)), sender);
    handle = real ? norm(real) : g_strdup(sender);
    g_info("message in %s from %s (%zu bytes)", c->name, sender, strlen(body));
    send_msg(PROTO_CHAT_RECEIVED,
             g_variant_new("(sssss)", bot.name, c->name, handle, sender, body));
    g_free(handle);
    g_free(real);
    g_free(body);
}

static void handle_send_chat(GVariant *body)
{
    guint64 id;
    const char *account, *name, *text;
    struct chat *c;
    PurpleConversation *conv;
    PurpleConnection *gc;
    guint count;
    int chat_id, r;

    g_variant_get(body, "(t&s&s&s)", &id, &account, &name, &text);
    if (!bot.acct || g_strcmp0(account, bot.name) != 0) {
        send_failed(id, "no such account");
        return;
    }
    gc = live_gc();
    c = chat_find(name);
    conv = c ? chat_conv(c) : NULL;
    if (!gc || !conv) {
        send_failed(id, gc ? "not in that chat" : "not connected");
        return;
    }
    chat_id = purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv));
    r = send_split(gc, &chat_id, text, send_chat_piece, &count);
    if (r < 0) {
        char *why = g_strdup_printf("sending failed: %s", g_strerror(-r));

        send_failed(id, why);
        g_free(why);
        return;
    }
    g_info("message %" G_GUINT64_FORMAT " to %s sent in %u pieces", id, name,
           count);
    report_sent(gc, id, purple_conversation_get_name(conv), FALSE);
}

static void handle_chat_topic(GVariant *body)
{
    const char *account, *name, *nick, *topic;
    PurpleConversation *conv;
    PurplePluginProtocolInfo *info;
    struct chat *c;
    char *text;

    g_variant_get(body, "(&s&s&s&s)", &account, &name, &nick, &topic);
    if (!check_account(account))
        return;
    c = chat_find(name);
    conv = c ? chat_conv(c) : NULL;
    if (!conv || !live_gc()) {
        g_info("topic for %s, which the bot is not in: ignored", name);
        return;
    }
    info = PURPLE_PLUGIN_PROTOCOL_INFO(
        purple_connection_get_prpl(purple_conversation_get_gc(conv)));
    if (!info->set_chat_topic) {
        g_debug("%s cannot set chat topics: ignored", bot.protocol);
        return;
    }
    /* One line: topics are single-line on most networks. */
    text = text_sanitize(topic);
    g_strdelimit(text, "\n\t", ' ');
    info->set_chat_topic(purple_conversation_get_gc(conv),
                         purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)), text);
    g_free(text);
}

/* ---- the account ------------------------------------------------------- */

static PurpleAccountOption *find_option(PurplePluginProtocolInfo *info,
                                        const char *key)
{
    for (GList *o = info->protocol_options; o; o = o->next)
        if (strcmp(purple_account_option_get_setting(o->data), key) == 0)
            return o->data;
    return NULL;
}

/* Accepted spellings of booleans, case-insensitive. */
static const struct {
    const char *word;
    gboolean value;
} bool_words[] = {
    {"true", TRUE},   {"yes", TRUE}, {"1", TRUE},
    {"false", FALSE}, {"no", FALSE}, {"0", FALSE},
};

static int parse_bool(const char *s, gboolean *out)
{
    for (gsize i = 0; i < G_N_ELEMENTS(bool_words); i++) {
        if (g_ascii_strcasecmp(s, bool_words[i].word) == 0) {
            *out = bool_words[i].value;
            return 0;
        }
    }
    return -1;
}

static int parse_int(const char *s, int *out)
{
    gint64 n;

    if (!g_ascii_string_to_signed(s, 10, G_MININT, G_MAXINT, &n, NULL))
        return -1;
    *out = (int)n;
    return 0;
}

/* Checks every option against the prpl's declared ones and their types.
 * Returns 0, or -1 with *why set (caller g_free()s). Values are never
 * quoted: an option may be a secret. */
static int check_options(PurplePluginProtocolInfo *info, GVariant *opts,
                         char **why)
{
    GVariantIter it;
    const char *key, *value;

    g_variant_iter_init(&it, opts);
    while (g_variant_iter_next(&it, "{&s&s}", &key, &value)) {
        PurpleAccountOption *o = find_option(info, key);
        gboolean b;
        int n;

        if (!o) {
            GString *known = g_string_new(NULL);

            for (GList *l = info->protocol_options; l; l = l->next)
                g_string_append_printf(
                    known, "%s%s", known->len ? ", " : "",
                    purple_account_option_get_setting(l->data));
            *why =
                g_strdup_printf("unknown option '%s' for %s (known: %s)", key,
                                bot.protocol, known->len ? known->str : "none");
            g_string_free(known, TRUE);
            return -1;
        }
        switch (purple_account_option_get_type(o)) {
        case PURPLE_PREF_INT:
            if (parse_int(value, &n) < 0) {
                *why = g_strdup_printf("option '%s' for %s must be an integer",
                                       key, bot.protocol);
                return -1;
            }
            break;
        case PURPLE_PREF_BOOLEAN:
            if (parse_bool(value, &b) < 0) {
                *why = g_strdup_printf("option '%s' for %s must be true or "
                                       "false",
                                       key, bot.protocol);
                return -1;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

/* Options whose prpl default would hold messages back inside libpurple:
 * the IRC plugin (2.14) queues what it sends and writes one line every
 * ratelimit-interval seconds after a burst. A message waiting in that
 * queue has been reported delivered, and is lost if the worker dies; the
 * core already paces each account (pace_burst, pace_rate), so the plugin
 * writes at once. An admin's option.* still wins. */
static const struct {
    const char *key, *value;
} unqueued[] = {
    {"ratelimit-interval", "0"},
    {"ratelimit-burst", "1000000"},
};

static const char *unqueued_default(const char *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(unqueued); i++)
        if (strcmp(unqueued[i].key, key) == 0)
            return unqueued[i].value;
    return NULL;
}

/* Sets the given options, and resets the others to the prpl's defaults
 * (a setting left from an earlier run is not what the core asked for). */
static void apply_options(PurplePluginProtocolInfo *info, GVariant *opts)
{
    for (GList *l = info->protocol_options; l; l = l->next) {
        PurpleAccountOption *o = l->data;
        const char *key = purple_account_option_get_setting(o);
        const char *value = NULL;
        gboolean b = FALSE;
        int n = 0;

        if (!g_variant_lookup(opts, key, "&s", &value))
            value = unqueued_default(key);
        if (!value) {
            purple_account_remove_setting(bot.acct, key);
            continue;
        }
        switch (purple_account_option_get_type(o)) {
        case PURPLE_PREF_INT:
            parse_int(value, &n);
            purple_account_set_int(bot.acct, key, n);
            break;
        case PURPLE_PREF_BOOLEAN:
            parse_bool(value, &b);
            purple_account_set_bool(bot.acct, key, b);
            break;
        default:
            purple_account_set_string(bot.acct, key, value);
            break;
        }
    }
}

static void handle_account_add(GVariant *body)
{
    const char *name, *protocol, *username, *password;
    GVariant *opts = NULL;
    PurplePlugin *prpl;
    PurplePluginProtocolInfo *info;
    PurpleStatusType *avail;
    PurpleAccount *acct;
    char *why = NULL;

    g_variant_get(body, "(&s&s&s&s@a{ss})", &name, &protocol, &username,
                  &password, &opts);
    if (bot.name) {
        g_warning("a second account_add (%s): one account per worker, "
                  "ignored",
                  name);
        goto leave;
    }
    bot.name = g_strdup(name);
    bot.protocol = g_strdup(protocol);
    bot.password = *password ? g_strdup(password) : NULL;
    ui_log_set_account(name);
    journal_replay();
    g_message("account %s on %s", username, protocol);
    prpl = purple_find_prpl(protocol);
    if (!prpl) {
        why = g_strdup_printf("no such protocol plugin: %s", protocol);
        goto down;
    }
    info = PURPLE_PLUGIN_PROTOCOL_INFO(prpl);
    if (check_options(info, opts, &why) < 0)
        goto down;
    if (!bot.password && !(info->options & (OPT_PROTO_NO_PASSWORD |
                                            OPT_PROTO_PASSWORD_OPTIONAL))) {
        why = g_strdup_printf("%s needs a password", protocol);
        goto down;
    }
    acct = purple_accounts_find(username, protocol);
    if (!acct) {
        acct = purple_account_new(username, protocol);
        purple_accounts_add(acct);
    }
    /* One account per worker: any other one left in accounts.xml stays off. */
    for (GList *l = purple_accounts_get_all(); l; l = l->next)
        if (l->data != acct)
            purple_account_set_enabled(l->data, UI_ID, FALSE);
    bot.acct = acct;
    bot.limit = text_limit(protocol);
    purple_account_set_remember_password(acct, FALSE);
    purple_account_set_password(acct, bot.password);
    apply_options(info, opts);
    hook_irc(prpl);
    hook_marks(prpl);
    /* Enabling an account whose status is online connects it: status
     * first, while disabled, then enable. */
    purple_account_set_enabled(acct, UI_ID, FALSE);
    avail = purple_account_get_status_type_with_primitive(
        acct, PURPLE_STATUS_AVAILABLE);
    if (avail)
        purple_account_set_status(acct, purple_status_type_get_id(avail), TRUE,
                                  NULL);
    purple_account_set_enabled(acct, UI_ID, TRUE);
    connect_now();
    goto leave;
down:
    g_message("down: %s", why);
    send_down(why);
leave:
    g_free(why);
    if (opts)
        g_variant_unref(opts);
}

static void handle_account_remove(GVariant *body)
{
    const char *account;

    g_variant_get(body, "(&s)", &account);
    if (g_strcmp0(account, bot.name) != 0) {
        g_warning("account_remove for %s, not ours: ignored", account);
        return;
    }
    g_message("removing the account");
    bot.quitting = TRUE;
    if (bot.acct) {
        purple_account_set_enabled(bot.acct, UI_ID, FALSE);
        purple_accounts_delete(bot.acct);
        bot.acct = NULL;
    }
    bot.on_exit(0);
}

/* ---- dispatch ---------------------------------------------------------- */

static void (*const handlers[PROTO_TYPE_COUNT])(GVariant *body) = {
    [PROTO_ACCOUNT_ADD] = handle_account_add,
    [PROTO_ACCOUNT_REMOVE] = handle_account_remove,
    [PROTO_SEND_IM] = handle_send_im,
    [PROTO_SEND_CHAT] = handle_send_chat,
    [PROTO_BUDDY_ADD] = handle_buddy_add,
    [PROTO_BUDDY_REMOVE] = handle_buddy_remove,
    [PROTO_AUTH_ANSWER] = handle_auth_answer,
    [PROTO_CHAT_JOIN] = handle_chat_join,
    [PROTO_CHAT_TOPIC] = handle_chat_topic,
};

void bot_handle(enum proto_type t, GVariant *body)
{
    if (bot.quitting)
        return;
    if (t >= PROTO_TYPE_COUNT || !handlers[t]) {
        g_warning("unexpected %s from the core: ignored", proto_name(t));
        return;
    }
    g_debug("core: %s", proto_name(t));
    handlers[t](body);
}

void bot_init(link_conn *l, bot_exit_fn on_exit)
{
    void *h = &bot;

    bot.link = l;
    bot.on_exit = on_exit;
    bot.backoff_ms = BACKOFF_MIN_MS;
    bot.presence = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    bot.chats = g_ptr_array_new_with_free_func(chat_free);
    purple_accounts_set_ui_ops(&account_ops);
    purple_connections_set_ui_ops(&connection_ops);
    purple_conversations_set_ui_ops(&conversation_ops);
    purple_signal_connect(purple_conversations_get_handle(), "received-im-msg",
                          h, PURPLE_CALLBACK(on_received_im), NULL);
    purple_signal_connect(purple_conversations_get_handle(),
                          "received-chat-msg", h,
                          PURPLE_CALLBACK(on_received_chat), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "chat-joined", h,
                          PURPLE_CALLBACK(on_chat_joined), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "chat-left", h,
                          PURPLE_CALLBACK(on_chat_left), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "chat-join-failed",
                          h, PURPLE_CALLBACK(on_chat_join_failed), NULL);
    purple_signal_connect(purple_conversations_get_handle(),
                          "chat-buddy-joined", h,
                          PURPLE_CALLBACK(on_chat_buddy_joined), NULL);
    purple_signal_connect(purple_conversations_get_handle(), "chat-buddy-left",
                          h, PURPLE_CALLBACK(on_chat_buddy_left), NULL);
    purple_signal_connect(purple_conversations_get_handle(),
                          "chat-topic-changed", h,
                          PURPLE_CALLBACK(on_chat_topic), NULL);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-on", h,
                          PURPLE_CALLBACK(on_buddy_signed), NULL);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-off", h,
                          PURPLE_CALLBACK(on_buddy_signed), NULL);
    purple_signal_connect(purple_blist_get_handle(), "buddy-status-changed", h,
                          PURPLE_CALLBACK(on_buddy_status), NULL);
}

gboolean bot_unsettled(void)
{
    return !g_queue_is_empty(&irc_waits) ||
           (marks && g_hash_table_size(marks) > 0);
}

void bot_shutdown(void)
{
    bot.quitting = TRUE;
    purple_signals_disconnect_by_handle(&bot);
    if (bot.reconnect_id)
        g_source_remove(bot.reconnect_id);
    if (bot.stable_id)
        g_source_remove(bot.stable_id);
    bot.reconnect_id = bot.stable_id = 0;
}

void bot_free(void)
{
    /* Reports still waiting are dropped: those messages go again, which
     * may repeat one but never loses it. */
    if (delivered_idle)
        g_source_remove(delivered_idle);
    delivered_idle = 0;
    g_clear_pointer(&delivered_ids, g_array_unref);
    g_queue_clear_full(&irc_waits, irc_wait_free);
    irc_send_line = NULL;
    prpl_mark = NULL;
    if (marks) {
        GHashTableIter it;
        gpointer timer;

        g_hash_table_iter_init(&it, marks);
        while (g_hash_table_iter_next(&it, NULL, &timer))
            g_source_remove(GPOINTER_TO_UINT(timer));
        g_clear_pointer(&marks, g_hash_table_destroy);
    }
    if (journal_fd >= 0)
        close(journal_fd);
    journal_fd = -1;
    g_queue_clear_full(&journal_recent, g_free);
    g_list_free_full(bot.auths, (GDestroyNotify)auth_free);
    g_clear_pointer(&bot.presence, g_hash_table_destroy);
    g_clear_pointer(&bot.chats, g_ptr_array_unref);
    if (bot.password)
        memset(bot.password, 0, strlen(bot.password));
    g_free(bot.password);
    g_free(bot.protocol);
    g_free(bot.name);
    memset(&bot, 0, sizeof bot);
}
