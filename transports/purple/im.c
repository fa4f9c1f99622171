/* im: IMs, presence, buddies and authorizations (im.h). */
#include "im.h"

#include <string.h>

#include "bot.h"
#include "text.h"

/* The buddy list group the core's buddies live in. */
#define BOT_GROUP "imgroups"

/* An authorization request waiting for the core's auth_answer. */
struct im_auth {
    char *handle;
    PurpleAccountRequestAuthorizationCb accept, deny;
    void *user_data;
};

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

static const char *status_of(PurpleBuddy *buddy)
{
    PurplePresence *pres = purple_buddy_get_presence(buddy);
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

static void send_presence(bot *b, const char *handle, const char *alias,
                          const char *status)
{
    g_info("presence of %s: %s", handle, status);
    bot_send(b, PROTO_BUDDY_PRESENCE,
             g_variant_new("(ssss)", b->name, handle, alias, status));
}

/* Reports buddy's status unless it is the one last reported (a buddy never
 * reported counts as offline). */
static void report_presence(bot *b, PurpleBuddy *buddy)
{
    const char *status, *prev, *alias;
    char *handle;

    if (!b->acct || b->quitting || purple_buddy_get_account(buddy) != b->acct)
        return;
    handle = bot_norm(b, purple_buddy_get_name(buddy));
    status = status_of(buddy);
    prev = g_hash_table_lookup(b->im.presence, handle);
    if (strcmp(prev ? prev : "offline", status) == 0) {
        g_free(handle);
        return;
    }
    alias = purple_buddy_get_alias_only(buddy);
    send_presence(b, handle, alias ? alias : "", status);
    g_hash_table_replace(b->im.presence, handle, (gpointer)status);
}

static void on_buddy_signed(PurpleBuddy *buddy, gpointer data)
{
    report_presence(data, buddy);
}

static void on_buddy_status(PurpleBuddy *buddy, PurpleStatus *old,
                            PurpleStatus *now, gpointer data)
{
    report_presence(data, buddy);
}

/* The connection is gone: so is every buddy's presence. */
void im_on_down(bot *b)
{
    GHashTableIter it;
    gpointer handle, status;

    g_hash_table_iter_init(&it, b->im.presence);
    while (g_hash_table_iter_next(&it, &handle, &status)) {
        PurpleBuddy *buddy = purple_find_buddy(b->acct, handle);
        const char *alias = buddy ? purple_buddy_get_alias_only(buddy) : NULL;

        if (strcmp(status, "offline") != 0)
            send_presence(b, handle, alias ? alias : "", "offline");
    }
    g_hash_table_remove_all(b->im.presence);
}

/* ---- authorization requests -------------------------------------------- */

static void auth_free(struct im_auth *a)
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
    bot *b = bot_of_account(acct);
    struct im_auth *a;

    if (!b || !remote_user)
        return NULL;
    a = g_new0(struct im_auth, 1);
    a->handle = bot_norm(b, remote_user);
    a->accept = accept;
    a->deny = deny;
    a->user_data = user_data;
    b->im.auths = g_list_append(b->im.auths, a);
    g_info("authorization request from %s", a->handle);
    bot_send(
        b, PROTO_AUTH_REQUEST,
        g_variant_new("(sss)", b->name, a->handle, message ? message : ""));
    return a;
}

/* libpurple dropped the request (disconnect): its callbacks are dead. */
static void on_close_account_request(void *handle)
{
    bot *b = bot_owner();
    GList *l = b ? g_list_find(b->im.auths, handle) : NULL;

    if (!l)
        return;
    b->im.auths = g_list_delete_link(b->im.auths, l);
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
static gboolean automatic_im(bot *b, const char *sender, const char *message)
{
    if (g_strcmp0(b->protocol, "prpl-irc") != 0)
        return FALSE;
    return strchr(sender, '.') != NULL ||
           g_str_has_prefix(message, "(notice) ");
}

static void on_received_im(PurpleAccount *acct, char *sender, char *message,
                           PurpleConversation *conv, PurpleMessageFlags flags,
                           gpointer data)
{
    bot *b = data;
    PurpleBuddy *buddy;
    const char *alias = NULL;
    char *body, *handle;

    /* SYSTEM and NOTIFY: libpurple's own words, such as the "%s has
     * buzzed you!" it writes for each attention (typing.c tells the core
     * of the attention itself); never a person's, and they name the
     * sender's handle. */
    if (acct != b->acct || b->quitting || !sender ||
        (flags & (PURPLE_MESSAGE_SEND | PURPLE_MESSAGE_SYSTEM |
                  PURPLE_MESSAGE_NOTIFY)) ||
        bot_is_self(b, sender))
        return;
    if (automatic_im(b, sender, message)) {
        g_debug("a notice from %s, not a person's message: ignored", sender);
        return;
    }
    body = text_from_legacy(message);
    if (!*body) {
        g_free(body);
        return;
    }
    handle = bot_norm(b, sender);
    buddy = purple_find_buddy(acct, sender);
    if (buddy)
        alias = purple_buddy_get_alias_only(buddy);
    g_info("IM from %s (%zu bytes)", handle, strlen(body));
    bot_send(
        b, PROTO_IM_RECEIVED,
        g_variant_new("(ssss)", b->name, handle, alias ? alias : "", body));
    g_free(handle);
    g_free(body);
}

static int send_im_piece(PurpleConnection *gc, const void *who,
                         const char *legacy)
{
    return serv_send_im(gc, who, legacy, 0);
}

void im_handle_send(bot *b, GVariant *body)
{
    guint64 id;
    const char *account, *handle, *text;
    PurpleConnection *gc;

    g_variant_get(body, "(t&s&s&s)", &id, &account, &handle, &text);
    if (!b->acct || g_strcmp0(account, b->name) != 0) {
        delivery_failed(b, id, "no such account");
        return;
    }
    gc = bot_live_gc(b);
    if (!gc) {
        delivery_failed(b, id, "not connected");
        return;
    }
    delivery_send(b, gc, id, "IM", handle, text, send_im_piece, handle, handle,
                  TRUE);
}

/* ---- buddies ----------------------------------------------------------- */

void im_handle_buddy_add(bot *b, GVariant *body)
{
    const char *account, *handle;
    PurpleBuddy *buddy;

    g_variant_get(body, "(&s&s)", &account, &handle);
    if (!bot_check_account(b, account) || !*handle)
        return;
    buddy = purple_find_buddy(b->acct, handle);
    if (!buddy) {
        PurpleGroup *g = purple_find_group(BOT_GROUP);

        if (!g) {
            g = purple_group_new(BOT_GROUP);
            purple_blist_add_group(g, NULL);
        }
        buddy = purple_buddy_new(b->acct, handle, NULL);
        purple_blist_add_buddy(buddy, NULL, g, NULL);
        purple_account_add_buddy(b->acct, buddy);
        g_info("buddy %s added", handle);
    } else if (g_strcmp0(b->protocol, "prpl-jabber") == 0) {
        /* Accepting their subscription request put them on the roster
         * already, but that does not subscribe the bot to their presence:
         * the XMPP plugin's add asks for it when it is missing, and does
         * nothing more when it is there. */
        purple_account_add_buddy(b->acct, buddy);
    }
    /* Already known online: say so now, the network will not repeat it. */
    report_presence(b, buddy);
}

void im_handle_buddy_remove(bot *b, GVariant *body)
{
    const char *account, *handle;
    PurpleBuddy *buddy;
    char *key;

    g_variant_get(body, "(&s&s)", &account, &handle);
    if (!bot_check_account(b, account))
        return;
    buddy = purple_find_buddy(b->acct, handle);
    if (!buddy)
        return;
    key = bot_norm(b, purple_buddy_get_name(buddy));
    g_hash_table_remove(b->im.presence, key);
    g_free(key);
    purple_account_remove_buddy(b->acct, buddy, purple_buddy_get_group(buddy));
    purple_blist_remove_buddy(buddy);
    g_info("buddy %s removed", handle);
}

void im_handle_auth_answer(bot *b, GVariant *body)
{
    const char *account, *handle;
    gboolean accept;
    char *who;

    g_variant_get(body, "(&s&sb)", &account, &handle, &accept);
    if (!bot_check_account(b, account))
        return;
    who = bot_norm(b, handle);
    /* Answer every pending request from who; a callback may close others,
     * so look again from the start each time. */
    for (;;) {
        GList *l = b->im.auths;
        struct im_auth *a;

        while (l && strcmp(((struct im_auth *)l->data)->handle, who) != 0)
            l = l->next;
        if (!l)
            break;
        a = l->data;
        b->im.auths = g_list_delete_link(b->im.auths, l);
        g_info("authorization of %s: %s", who, accept ? "granted" : "denied");
        if (accept ? a->accept != NULL : a->deny != NULL)
            (accept ? a->accept : a->deny)(a->user_data);
        auth_free(a);
    }
    g_free(who);
}

void im_init(bot *b)
{
    b->im.presence =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    purple_accounts_set_ui_ops(&account_ops);
    purple_signal_connect(purple_conversations_get_handle(), "received-im-msg",
                          b, PURPLE_CALLBACK(on_received_im), b);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-on", b,
                          PURPLE_CALLBACK(on_buddy_signed), b);
    purple_signal_connect(purple_blist_get_handle(), "buddy-signed-off", b,
                          PURPLE_CALLBACK(on_buddy_signed), b);
    purple_signal_connect(purple_blist_get_handle(), "buddy-status-changed", b,
                          PURPLE_CALLBACK(on_buddy_status), b);
}

void im_free(bot *b)
{
    g_list_free_full(b->im.auths, (GDestroyNotify)auth_free);
    b->im.auths = NULL;
    g_clear_pointer(&b->im.presence, g_hash_table_destroy);
}
