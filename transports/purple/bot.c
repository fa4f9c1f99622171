/* bot: the one bot of a worker, and the table that hands the core's
 * messages to the modules (bot.h). */
#include "bot.h"

#include <errno.h>

#include "icons.h"
#include "secret.h"
#include "typing.h"
#include "ui.h"

/* The one bot of this process, for libpurple's UI ops (they carry no user
 * data); everything else gets it passed. */
static bot *owner;

bot *bot_of_account(PurpleAccount *acct)
{
    return owner && owner->acct && acct == owner->acct ? owner : NULL;
}

bot *bot_owner(void)
{
    return owner;
}

void bot_send(bot *b, enum proto_type t, GVariant *body)
{
    int rc = channel_send(b->ch, t, body);

    if (rc == -EINVAL || rc == -ENOBUFS)
        g_warning("core link: %s not sent: %s", proto_name(t), g_strerror(-rc));
}

char *bot_norm(bot *b, const char *who)
{
    return g_strdup(purple_normalize(b->acct, who));
}

gboolean bot_same_who(bot *b, const char *a, const char *c)
{
    char *na;
    gboolean same;

    if (!a || !c)
        return FALSE;
    na = bot_norm(b, a);
    same = g_strcmp0(na, purple_normalize(b->acct, c)) == 0;
    g_free(na);
    return same;
}

gboolean bot_is_self(bot *b, const char *who)
{
    PurpleConnection *gc = purple_account_get_connection(b->acct);

    return bot_same_who(b, who, purple_account_get_username(b->acct)) ||
           (gc && bot_same_who(b, who, purple_connection_get_display_name(gc)));
}

PurpleConnection *bot_live_gc(bot *b)
{
    PurpleConnection *gc =
        b->acct ? purple_account_get_connection(b->acct) : NULL;

    return gc && b->up ? gc : NULL;
}

gboolean bot_check_account(bot *b, const char *account)
{
    if (b->acct && g_strcmp0(account, b->name) == 0)
        return TRUE;
    g_warning("message for account %s, which is not up here: ignored", account);
    return FALSE;
}

/* ---- dispatch ---------------------------------------------------------- */

static void (*const handlers[PROTO_TYPE_COUNT])(bot *b, GVariant *body) = {
    [PROTO_ACCOUNT_ADD] = account_handle_add,
    [PROTO_ACCOUNT_REMOVE] = account_handle_remove,
    [PROTO_SEND_IM] = im_handle_send,
    [PROTO_SEND_CHAT] = chat_handle_send,
    [PROTO_BUDDY_ADD] = im_handle_buddy_add,
    [PROTO_BUDDY_REMOVE] = im_handle_buddy_remove,
    [PROTO_AUTH_ANSWER] = im_handle_auth_answer,
    [PROTO_CHAT_JOIN] = chat_handle_join,
    [PROTO_CHAT_TOPIC] = chat_handle_topic,
    [PROTO_SEND_TYPING] = typing_handle_send,
    [PROTO_SET_ICON] = icons_handle_set,
};

void bot_handle(bot *b, enum proto_type t, GVariant *body)
{
    if (b->quitting)
        return;
    if (t >= PROTO_TYPE_COUNT || !handlers[t]) {
        g_warning("unexpected %s from the core: ignored", proto_name(t));
        return;
    }
    g_debug("core: %s", proto_name(t));
    handlers[t](b, body);
}

bot *bot_new(channel *ch, bot_exit_fn on_exit)
{
    bot *b = g_new0(bot, 1);

    b->ch = ch;
    b->on_exit = on_exit;
    owner = b;
    account_init(b);
    im_init(b);
    chat_init(b);
    delivery_init(b);
    typing_init(b);
    icons_init(b);
    return b;
}

gboolean bot_unsettled(bot *b)
{
    return delivery_unsettled(b);
}

void bot_shutdown(bot *b)
{
    b->quitting = TRUE;
    purple_signals_disconnect_by_handle(b);
    account_shutdown(b);
}

void bot_free(bot *b)
{
    if (!b)
        return;
    delivery_free(b);
    im_free(b);
    chat_free(b);
    secret_free(b->password);
    g_free(b->protocol);
    g_free(b->name);
    if (owner == b)
        owner = NULL;
    g_free(b);
}
