/* icons: buddies' pictures to the core, the group's avatar as the bot's
 * (icons.h). */
#include "icons.h"

#include "bot.h"
#include "chat.h"

/* icon's image as sent, its checksum in *sum ("" none): no bytes when
 * there is none. A picture over PROTO_ICON_MAX is not passed on: the core
 * is told there is none it can show. */
static GVariant *image_of(PurpleBuddyIcon *icon, const char **sum)
{
    gconstpointer bytes = NULL;
    size_t len = 0;

    *sum = NULL;
    if (icon) {
        bytes = purple_buddy_icon_get_data(icon, &len);
        *sum = purple_buddy_icon_get_checksum(icon);
    }
    if (!bytes || len > PROTO_ICON_MAX) {
        if (bytes)
            g_info("a picture of %zu bytes, over %d: not passed on", len,
                   PROTO_ICON_MAX);
        bytes = NULL;
        len = 0;
        *sum = NULL;
    }
    if (!*sum)
        *sum = "";
    g_debug("a picture of %zu bytes", len);
    return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, bytes ? bytes : "",
                                     len, 1);
}

/* A buddy's picture changed (blist.h's "buddy-icon-changed", emitted by
 * purple_buddy_set_icon): (account, handle, checksum, image), or "" and no
 * bytes when it has none; and to the chats the buddy is in. */
static void on_icon_changed(PurpleBuddy *buddy, gpointer data)
{
    bot *b = data;
    PurpleBuddyIcon *icon;
    const char *sum;
    GVariant *image;
    char *handle;

    if (!b->acct || b->quitting || purple_buddy_get_account(buddy) != b->acct)
        return;
    icon = purple_buddy_get_icon(buddy);
    image = image_of(icon, &sum);
    handle = bot_norm(b, purple_buddy_get_name(buddy));
    g_info("picture of %s changed", handle);
    bot_send(b, PROTO_BUDDY_ICON,
             g_variant_new("(sss@ay)", b->name, handle, sum, image));
    g_free(handle);
    chat_icon_changed(b, purple_buddy_get_name(buddy), icon);
}

void icons_tell_chat(bot *b, const char *chat, const char *nick,
                     PurpleBuddyIcon *icon)
{
    const char *sum;
    GVariant *image = image_of(icon, &sum);

    bot_send(b, PROTO_CHAT_USER_ICON,
             g_variant_new("(ssss@ay)", b->name, chat, nick, sum, image));
}

void icons_handle_set(bot *b, GVariant *body)
{
    const char *account;
    GVariant *image;
    gconstpointer bytes;
    gsize len = 0;

    g_variant_get(body, "(&s@ay)", &account, &image);
    bytes = g_variant_get_fixed_array(image, &len, 1);
    if (bot_check_account(b, account) && len <= PROTO_ICON_MAX) {
        /* libpurple takes the copy (g_free) and calls the prpl's
         * set_buddy_icon now if connected, else when it connects. */
        purple_buddy_icons_set_account_icon(
            b->acct, len ? g_memdup2(bytes, len) : NULL, len);
        g_info("the bot's picture: %zu bytes", len);
    }
    g_variant_unref(image);
}

void icons_init(bot *b)
{
    purple_signal_connect(purple_blist_get_handle(), "buddy-icon-changed", b,
                          PURPLE_CALLBACK(on_icon_changed), b);
}
