/* chat: chat mode. The bot sits in one legacy chat; its participants are
 * occupants while they are there, their lines and topic changes are said in
 * the room, and the room's subject goes back to the chat (bridge_int.h). */
#include "chat.h"

#include <string.h>

#include "delivery.h"
#include "log.h"
#include "naming.h"
#include "outbox.h"
#include "pictures.h"

#define CHAT_REJOIN_S 30 /* after the bot lost the legacy chat */

void chat_join(bridge *b, bacct *a)
{
    if (a->chat_mode && a->up && !a->chat_in)
        legacy_send(b->lg, a->name, PROTO_CHAT_JOIN,
                    g_variant_new("(ss)", a->name, a->chat));
}

static gboolean rejoin_cb(gpointer data)
{
    bacct *a = data;

    a->rejoin_id = 0;
    chat_join(a->b, a);
    return G_SOURCE_REMOVE;
}

/* The occupant of chat participant nick, entered if need be; NULL when the
 * room keeps them out. Borrowed from a->in_chat. */
static const char *chat_enter(bridge *b, bacct *a, const char *nick)
{
    const char *bare = g_hash_table_lookup(a->in_chat, nick);
    const char *why = NULL;
    char *jid, *room_nick, *base;

    if (bare)
        return bare;
    if (!bridge_handle_fits(a, nick))
        return NULL;
    jid = bridge_legacy_jid(b->cfg->jid, a->name, 'c', nick);
    /* A participant named by an address (MSN, Yahoo) is shown by its
     * local part only: a legacy handle stays private, as in contacts. */
    base = naming_base(strchr(nick, '@') ? NULL : nick, nick);
    room_nick = naming_unique_in(b, a, base, jid);
    if (muc_legacy_enter(b->m, b->up, a->group, jid, 'c', a->name, nick,
                         room_nick, NULL, NULL, &why) != XERR_NONE) {
        log_debug(LOG_BRIDGE, "account %s: a chat participant stays out: %s",
                  a->name, why);
        g_free(jid);
        jid = NULL;
    } else
        g_hash_table_insert(a->in_chat, g_strdup(nick), jid);
    g_free(base);
    g_free(room_nick);
    return jid;
}

void chat_on_joined(bridge *b, bacct *a, GVariant *body)
{
    a->chat_in = TRUE;
    delivery_mark(a, OUTBOX_KIND_CHAT, a->chat);
    log_for_account(LOG_BRIDGE, LOG_INFO, a->name,
                    "account %s: in the legacy chat", a->name);
    delivery_wake(b);
}

void chat_on_left(bridge *b, bacct *a, GVariant *body)
{
    const char *why;
    GHashTableIter it;
    gpointer v;

    g_variant_get(body, "(&s&s&s)", NULL, NULL, &why);
    log_for_account(LOG_BRIDGE, LOG_WARNING, a->name,
                    "account %s: out of the legacy chat (%s)", a->name, why);
    g_hash_table_iter_init(&it, a->in_chat);
    while (g_hash_table_iter_next(&it, NULL, &v))
        muc_legacy_exit(b->m, b->up, a->group, v, NULL);
    g_hash_table_remove_all(a->in_chat);
    pictures_chat_gone(b, a, NULL);
    a->chat_in = FALSE;
    /* What was handed out goes again once the bot is back in the chat
     * (the target key is "c" + the chat's name). */
    delivery_rewind(a, OUTBOX_KIND_CHAT, a->chat);
    if (!a->rejoin_id)
        a->rejoin_id = g_timeout_add_seconds(CHAT_REJOIN_S, rejoin_cb, a);
}

void chat_on_user_joined(bridge *b, bacct *a, GVariant *body)
{
    const char *nick;

    g_variant_get(body, "(&s&s&sb)", NULL, NULL, &nick, NULL);
    chat_enter(b, a, nick);
}

void chat_on_user_left(bridge *b, bacct *a, GVariant *body)
{
    const char *nick, *why;
    const char *bare;

    g_variant_get(body, "(&s&s&s&s)", NULL, NULL, &nick, &why);
    bare = g_hash_table_lookup(a->in_chat, nick);
    if (!bare)
        return;
    muc_legacy_exit(b->m, b->up, a->group, bare, *why ? why : NULL);
    pictures_chat_gone(b, a, bare);
    g_hash_table_remove(a->in_chat, nick);
}

void chat_on_user_renamed(bridge *b, bacct *a, GVariant *body)
{
    const char *old, *new_nick;
    char *bare = NULL, *old_key = NULL;
    char *base, *room_nick;

    g_variant_get(body, "(&s&s&s&s)", NULL, NULL, &old, &new_nick);
    if (!g_hash_table_steal_extended(a->in_chat, old, (gpointer *)&old_key,
                                     (gpointer *)&bare)) {
        chat_enter(b, a, new_nick);
        return;
    }
    g_free(old_key);
    base = naming_base(new_nick, new_nick);
    room_nick = naming_unique_in(b, a, base, bare);
    muc_legacy_rename(b->m, b->up, a->group, bare, room_nick);
    g_hash_table_insert(a->in_chat, g_strdup(new_nick), bare);
    g_free(base);
    g_free(room_nick);
}

void chat_on_received(bridge *b, bacct *a, GVariant *body)
{
    const char *nick, *text;
    const char *bare, *why = NULL;

    g_variant_get(body, "(&s&s&s&s&s)", NULL, NULL, NULL, &nick, &text);
    if (!*text)
        return;
    bare = chat_enter(b, a, nick);
    if (!bare)
        return;
    if (muc_legacy_say(b->m, b->up, a->group, bare, text, NULL, &why) !=
        XERR_NONE)
        log_info(LOG_BRIDGE, "account %s: a chat line was not said: %s",
                 a->name, why);
}

void chat_on_topic(bridge *b, bacct *a, GVariant *body)
{
    const char *who, *topic;
    const char *bare, *why = NULL;
    const group_cfg *g = muc_group(b->m, a->group);

    g_variant_get(body, "(&s&s&s&s)", NULL, NULL, &who, &topic);
    if (!g || !g_strcmp0(g->subject, topic))
        return; /* already the room's: no echo */
    bare = *who ? g_hash_table_lookup(a->in_chat, who) : NULL;
    if (muc_legacy_say(b->m, b->up, a->group, bare, NULL, topic, &why) !=
        XERR_NONE)
        log_info(LOG_BRIDGE, "account %s: the legacy topic was not taken: %s",
                 a->name, why);
}

/* Whether nick is one of a's chat participants (a topic that came from
 * the chat is not sent back). */
static gboolean from_chat(bridge *b, bacct *a, const char *nick)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, a->in_chat);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!g_strcmp0(muc_legacy_nick(b->m, a->group, v), nick))
            return TRUE;
    return FALSE;
}

void chat_subject(const char *group, const char *nick, const char *subject,
                  void *userdata)
{
    bridge *b = userdata;
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, b->accts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        bacct *a = v;
        if (!a->chat_mode || !a->chat_in || strcmp(a->group, group) != 0 ||
            !*nick || from_chat(b, a, nick))
            continue;
        legacy_send(b->lg, a->name, PROTO_CHAT_TOPIC,
                    g_variant_new("(ssss)", a->name, a->chat, "", subject));
    }
}
