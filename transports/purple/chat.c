/* chat: the bot's group chats (chat.h). */
#include "chat.h"

#include <string.h>

#include "bot.h"
#include "icons.h"
#include "text.h"

/* A chat the core asked the bot to sit in; re-joined after reconnects. */
struct chat {
    char *name;      /* as the core named it */
    char *conv_name; /* libpurple's conversation name for it, once asked */
    gboolean joined; /* chat_joined sent and not left since */
};

static void entry_free(gpointer data)
{
    struct chat *c = data;

    g_free(c->name);
    g_free(c->conv_name);
    g_free(c);
}

static struct chat *find(bot *b, const char *name)
{
    for (guint i = 0; i < b->chat.chats->len; i++) {
        struct chat *c = g_ptr_array_index(b->chat.chats, i);

        if (strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

static gboolean names_equal(const char *x, const char *y)
{
    char *fa = g_utf8_casefold(x, -1), *fb = g_utf8_casefold(y, -1);
    gboolean eq = strcmp(fa, fb) == 0;

    g_free(fa);
    g_free(fb);
    return eq;
}

static struct chat *by_conv_name(bot *b, const char *conv_name)
{
    for (guint i = 0; i < b->chat.chats->len; i++) {
        struct chat *c = g_ptr_array_index(b->chat.chats, i);

        if (c->conv_name && names_equal(c->conv_name, conv_name))
            return c;
    }
    return NULL;
}

/* The chat conv is, if it is one of b's. */
static struct chat *chat_of(bot *b, PurpleConversation *conv)
{
    if (!b || !b->acct || b->quitting ||
        purple_conversation_get_account(conv) != b->acct ||
        purple_conversation_get_type(conv) != PURPLE_CONV_TYPE_CHAT)
        return NULL;
    return by_conv_name(b, purple_conversation_get_name(conv));
}

/* The joined conversation of c, or NULL. */
static PurpleConversation *conv_of(bot *b, struct chat *c)
{
    PurpleConversation *conv;

    if (!c->joined || !c->conv_name)
        return NULL;
    conv = purple_find_conversation_with_account(PURPLE_CONV_TYPE_CHAT,
                                                 c->conv_name, b->acct);
    if (!conv || purple_conv_chat_has_left(PURPLE_CONV_CHAT(conv)))
        return NULL;
    return conv;
}

/* Reports c left and forgets it (c is freed). */
static void left(bot *b, struct chat *c, const char *why)
{
    g_message("left %s: %s", c->name, why);
    bot_send(b, PROTO_CHAT_LEFT, g_variant_new("(sss)", b->name, c->name, why));
    g_ptr_array_remove(b->chat.chats, c);
}

static gboolean is_chat_self(bot *b, PurpleConversation *conv, const char *who)
{
    return bot_same_who(b, who,
                        purple_conv_chat_get_nick(PURPLE_CONV_CHAT(conv))) ||
           bot_is_self(b, who);
}

static void join_now(bot *b, struct chat *c)
{
    PurpleConnection *gc = bot_live_gc(b);
    PurplePluginProtocolInfo *info;
    GHashTable *comps;

    if (!gc)
        return; /* joined once connected */
    info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
    if (!info->chat_info_defaults || !info->join_chat) {
        left(b, c, "this protocol has no group chats");
        return;
    }
    comps = info->chat_info_defaults(gc, c->name);
    if (!comps) {
        left(b, c, "not a chat name for this protocol");
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

/* nick joined c (initial: was there when the bot came), with their
 * picture when libpurple has one for that name (a buddy's: MSN and Yahoo
 * chat participants are buddies; an IRC nick or MUC occupant has none). */
static void tell_joined(bot *b, struct chat *c, const char *nick,
                        gboolean initial)
{
    PurpleBuddyIcon *icon;

    bot_send(b, PROTO_CHAT_USER_JOINED,
             g_variant_new("(sssb)", b->name, c->name, nick, initial));
    if ((icon = purple_buddy_icons_find(b->acct, nick))) {
        icons_tell_chat(b, c->name, nick, icon);
        purple_buddy_icon_unref(icon);
    }
}

/* chat_joined, then everyone already there as initial. */
static void report_joined(bot *b, struct chat *c, PurpleConversation *conv)
{
    bot_send(b, PROTO_CHAT_JOINED, g_variant_new("(ss)", b->name, c->name));
    for (GList *u = purple_conv_chat_get_users(PURPLE_CONV_CHAT(conv)); u;
         u = u->next) {
        const char *nick = purple_conv_chat_cb_get_name(u->data);

        if (!is_chat_self(b, conv, nick))
            tell_joined(b, c, nick, TRUE);
    }
}

void chat_icon_changed(bot *b, const char *who, PurpleBuddyIcon *icon)
{
    for (guint i = 0; b->chat.chats && i < b->chat.chats->len; i++) {
        struct chat *c = g_ptr_array_index(b->chat.chats, i);
        PurpleConversation *conv = conv_of(b, c);
        PurpleConvChatBuddy *cb =
            conv ? purple_conv_chat_cb_find(PURPLE_CONV_CHAT(conv), who) : NULL;

        if (cb && !is_chat_self(b, conv, purple_conv_chat_cb_get_name(cb)))
            icons_tell_chat(b, c->name, purple_conv_chat_cb_get_name(cb), icon);
    }
}

void chat_handle_join(bot *b, GVariant *body)
{
    const char *account, *name;
    struct chat *c;
    PurpleConversation *conv;

    g_variant_get(body, "(&s&s)", &account, &name);
    if (!bot_check_account(b, account) || !*name)
        return;
    c = find(b, name);
    if (c && (conv = conv_of(b, c))) {
        report_joined(b, c, conv); /* asked again: the same answer */
        return;
    }
    if (!c) {
        c = g_new0(struct chat, 1);
        c->name = g_strdup(name);
        g_ptr_array_add(b->chat.chats, c);
    }
    join_now(b, c);
}

static void on_chat_joined(PurpleConversation *conv, gpointer data)
{
    bot *b = data;
    struct chat *c = chat_of(b, conv);

    if (!c) {
        if (b->acct && purple_conversation_get_account(conv) == b->acct)
            g_info("in %s, which the core did not ask for",
                   purple_conversation_get_name(conv));
        return;
    }
    c->joined = TRUE;
    g_message("joined %s", c->name);
    report_joined(b, c, conv);
}

static void on_chat_left(PurpleConversation *conv, gpointer data)
{
    bot *b = data;
    struct chat *c = chat_of(b, conv);

    if (c && c->joined)
        left(b, c, "left the chat");
}

static void on_chat_join_failed(PurpleConnection *gc, GHashTable *comps,
                                gpointer data)
{
    bot *b = data;
    PurplePluginProtocolInfo *info;
    struct chat *c = NULL;
    char *name;

    if (b->quitting || purple_connection_get_account(gc) != b->acct)
        return;
    info = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
    name = info->get_chat_name ? info->get_chat_name(comps) : NULL;
    if (name)
        c = by_conv_name(b, name);
    g_free(name);
    if (c)
        left(b, c, "could not join");
}

static void on_chat_buddy_joined(PurpleConversation *conv, const char *nick,
                                 PurpleConvChatBuddyFlags flags,
                                 gboolean new_arrival, gpointer data)
{
    bot *b = data;
    struct chat *c = chat_of(b, conv);

    if (!c || !c->joined || is_chat_self(b, conv, nick))
        return;
    tell_joined(b, c, nick, !new_arrival);
}

static void on_chat_buddy_left(PurpleConversation *conv, const char *nick,
                               const char *reason, gpointer data)
{
    bot *b = data;
    struct chat *c = chat_of(b, conv);

    if (!c || !c->joined || is_chat_self(b, conv, nick))
        return;
    bot_send(
        b, PROTO_CHAT_USER_LEFT,
        g_variant_new("(ssss)", b->name, c->name, nick, reason ? reason : ""));
}

/* libpurple 2 has no typing signal for chats: prpls show a participant
 * typing as their PURPLE_CBFLAGS_TYPING flag (conversation.h), and
 * purple_conv_chat_user_set_flags emits "chat-buddy-flags" (conv, name,
 * old flags, new flags). Only a change of that one flag is told. */
static void on_chat_buddy_flags(PurpleConversation *conv, const char *nick,
                                PurpleConvChatBuddyFlags oldflags,
                                PurpleConvChatBuddyFlags newflags,
                                gpointer data)
{
    bot *b = data;
    struct chat *c = chat_of(b, conv);
    gboolean typing = (newflags & PURPLE_CBFLAGS_TYPING) != 0;

    if (!c || !c->joined || !nick || is_chat_self(b, conv, nick) ||
        typing == ((oldflags & PURPLE_CBFLAGS_TYPING) != 0))
        return;
    g_debug("typing in %s: %s", c->name, typing ? "composing" : "active");
    bot_send(b, PROTO_CHAT_TYPING,
             g_variant_new("(ssss)", b->name, c->name, nick,
                           typing ? "composing" : "active"));
}

/* libpurple 2 has no signal for renames, only this conversation UI op. */
static void on_chat_rename_user(PurpleConversation *conv, const char *old,
                                const char *new_name, const char *new_alias)
{
    bot *b = bot_of_account(purple_conversation_get_account(conv));
    struct chat *c = chat_of(b, conv);

    if (!c || !c->joined || is_chat_self(b, conv, old) ||
        is_chat_self(b, conv, new_name))
        return;
    bot_send(b, PROTO_CHAT_USER_RENAMED,
             g_variant_new("(ssss)", b->name, c->name, old, new_name));
}

static PurpleConversationUiOps conversation_ops = {
    .chat_rename_user = on_chat_rename_user,
};

/* Topics are plain text in libpurple 2 (prpls keep them unescaped). The
 * bot's own changes are not echoed back. */
static void on_chat_topic(PurpleConversation *conv, const char *who,
                          const char *topic, gpointer data)
{
    bot *b = data;
    struct chat *c = chat_of(b, conv);
    char *text;

    if (!c || !c->joined || (who && is_chat_self(b, conv, who)))
        return;
    text = text_sanitize(topic);
    bot_send(b, PROTO_CHAT_TOPIC,
             g_variant_new("(ssss)", b->name, c->name, who ? who : "", text));
    g_free(text);
}

/* The flags libpurple gives the line it writes for an attention. */
#define ATTENTION_FLAGS                                                        \
    (PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NOTIFY | PURPLE_MESSAGE_RECV)

static void on_received_chat(PurpleAccount *acct, char *sender, char *message,
                             PurpleConversation *conv, PurpleMessageFlags flags,
                             gpointer data)
{
    bot *b = data;
    struct chat *c = chat_of(b, conv);
    PurpleConnection *gc;
    PurplePluginProtocolInfo *info;
    char *body, *real = NULL, *handle;

    if (!c || !c->joined || !sender || (flags & PURPLE_MESSAGE_SEND) ||
        is_chat_self(b, conv, sender))
        return;
    /* purple_prpl_got_attention_in_chat emits no signal of its own: it
     * writes "%s has requested your attention!" (or the prpl's own text)
     * as SYSTEM|NOTIFY|RECV from the participant (libpurple 2.14's
     * server.c, got_attention). The line itself is not relayed. */
    if ((flags & ATTENTION_FLAGS) == ATTENTION_FLAGS) {
        g_info("attention in %s from %s", c->name, sender);
        bot_send(b, PROTO_CHAT_ATTENTION,
                 g_variant_new("(sss)", b->name, c->name, sender));
        return;
    }
    /* Other SYSTEM/NOTIFY lines are libpurple's own, not what anyone
     * said. */
    if (flags & (PURPLE_MESSAGE_SYSTEM | PURPLE_MESSAGE_NOTIFY))
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
    handle = real ? bot_norm(b, real) : g_strdup(sender);
    g_info("message in %s from %s (%zu bytes)", c->name, sender, strlen(body));
    bot_send(b, PROTO_CHAT_RECEIVED,
             g_variant_new("(sssss)", b->name, c->name, handle, sender, body));
    g_free(handle);
    g_free(real);
    g_free(body);
}

static int send_piece(PurpleConnection *gc, const void *id, const char *legacy)
{
    return serv_chat_send(gc, *(const int *)id, legacy, 0);
}

void chat_handle_send(bot *b, GVariant *body)
{
    guint64 id;
    const char *account, *name, *text;
    struct chat *c;
    PurpleConversation *conv;
    PurpleConnection *gc;
    int chat_id;

    g_variant_get(body, "(t&s&s&s)", &id, &account, &name, &text);
    if (!b->acct || g_strcmp0(account, b->name) != 0) {
        delivery_failed(b, id, "no such account");
        return;
    }
    gc = bot_live_gc(b);
    c = find(b, name);
    conv = c ? conv_of(b, c) : NULL;
    if (!gc || !conv) {
        delivery_failed(b, id, gc ? "not in that chat" : "not connected");
        return;
    }
    chat_id = purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv));
    delivery_send(b, gc, id, "message", name, text, send_piece, &chat_id,
                  purple_conversation_get_name(conv), FALSE);
}

void chat_handle_topic(bot *b, GVariant *body)
{
    const char *account, *name, *nick, *topic;
    PurpleConversation *conv;
    PurplePluginProtocolInfo *info;
    struct chat *c;
    char *text;

    g_variant_get(body, "(&s&s&s&s)", &account, &name, &nick, &topic);
    if (!bot_check_account(b, account))
        return;
    c = find(b, name);
    conv = c ? conv_of(b, c) : NULL;
    if (!conv || !bot_live_gc(b)) {
        g_info("topic for %s, which the bot is not in: ignored", name);
        return;
    }
    info = PURPLE_PLUGIN_PROTOCOL_INFO(
        purple_connection_get_prpl(purple_conversation_get_gc(conv)));
    if (!info->set_chat_topic) {
        g_debug("%s cannot set chat topics: ignored", b->protocol);
        return;
    }
    /* One line: topics are single-line on most networks. */
    text = text_sanitize(topic);
    g_strdelimit(text, "\n\t", ' ');
    info->set_chat_topic(purple_conversation_get_gc(conv),
                         purple_conv_chat_get_id(PURPLE_CONV_CHAT(conv)), text);
    g_free(text);
}

void chat_on_up(bot *b)
{
    /* join_now may forget the chat it is given: then the next one is at
     * the same index. */
    for (guint i = 0; i < b->chat.chats->len;) {
        guint n = b->chat.chats->len;

        join_now(b, g_ptr_array_index(b->chat.chats, i));
        if (b->chat.chats->len == n)
            i++;
    }
}

void chat_on_down(bot *b)
{
    for (guint i = 0; i < b->chat.chats->len; i++) {
        struct chat *c = g_ptr_array_index(b->chat.chats, i);

        if (c->joined)
            bot_send(b, PROTO_CHAT_LEFT,
                     g_variant_new("(sss)", b->name, c->name, "disconnected"));
        c->joined = FALSE;
    }
}

void chat_init(bot *b)
{
    static const struct {
        const char *signal;
        PurpleCallback fn;
    } signals[] = {
        {"received-chat-msg", PURPLE_CALLBACK(on_received_chat)},
        {"chat-joined", PURPLE_CALLBACK(on_chat_joined)},
        {"chat-left", PURPLE_CALLBACK(on_chat_left)},
        {"chat-join-failed", PURPLE_CALLBACK(on_chat_join_failed)},
        {"chat-buddy-joined", PURPLE_CALLBACK(on_chat_buddy_joined)},
        {"chat-buddy-left", PURPLE_CALLBACK(on_chat_buddy_left)},
        {"chat-topic-changed", PURPLE_CALLBACK(on_chat_topic)},
        {"chat-buddy-flags", PURPLE_CALLBACK(on_chat_buddy_flags)},
    };

    b->chat.chats = g_ptr_array_new_with_free_func(entry_free);
    purple_conversations_set_ui_ops(&conversation_ops);
    for (gsize i = 0; i < G_N_ELEMENTS(signals); i++)
        purple_signal_connect(purple_conversations_get_handle(),
                              signals[i].signal, b, signals[i].fn, b);
}

void chat_free(bot *b)
{
    g_clear_pointer(&b->chat.chats, g_ptr_array_unref);
}
