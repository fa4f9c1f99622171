/* groupchat: chat mode on MSN (groupchat.h). */
#include "groupchat.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "sb.h"

struct groupchat {
    int id;          /* libpurple's chat id */
    char *name;      /* the conversation's name */
    struct sb *main; /* where room messages go; NULL when none is open */
    GHashTable *in;  /* address → in how many chat switchboards */
};

/* Chat ids, unique within the process (a later join gets a new one). */
static int last_id;

static msn_session *live(PurpleConnection *gc)
{
    msn_session *s = gc ? msn_session_of(gc) : NULL;

    return s && !s->failed ? s : NULL;
}

static PurpleConvChat *conv_chat(msn_session *s)
{
    PurpleConversation *conv;

    if (!s->chat)
        return NULL;
    conv = purple_find_chat(s->gc, s->chat->id);
    return conv ? PURPLE_CONV_CHAT(conv) : NULL;
}

/* Whether the chat may have ct in it: a contact on FL and AL, not BL. */
static gboolean allowed(const msn_contact *ct)
{
    return ct && (ct->lists & MSN_FL) && (ct->lists & MSN_AL) &&
           !(ct->lists & MSN_BL);
}

/* Calls every allowed contact who is online into sb. */
static void call_everyone(msn_session *s, struct sb *sb)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, s->contacts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        msn_contact *ct = value;

        if (allowed(ct) && *ct->status && !sb_has(sb, ct->email))
            sb_invite(sb, ct->email);
    }
}

static gboolean anyone_online(msn_session *s)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, s->contacts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        msn_contact *ct = value;

        if (allowed(ct) && *ct->status)
            return TRUE;
    }
    return FALSE;
}

/* Opens the chat's switchboard when there is someone to call. */
static void reach_out(msn_session *s)
{
    if (!s->chat || s->chat->main || !anyone_online(s))
        return;
    s->chat->main = sb_chat_open(s);
    if (s->chat->main)
        call_everyone(s, s->chat->main);
}

/* ---- prpl operations --------------------------------------------------- */

GList *groupchat_info(PurpleConnection *gc)
{
    struct proto_chat_entry *pce = g_new0(struct proto_chat_entry, 1);

    pce->label = "_Name:";
    pce->identifier = "name";
    pce->required = TRUE;
    return g_list_append(NULL, pce);
}

GHashTable *groupchat_info_defaults(PurpleConnection *gc, const char *name)
{
    GHashTable *comps;

    if (!name || !*name || strlen(name) > GROUPCHAT_NAME_MAX ||
        !g_utf8_validate(name, -1, NULL))
        return NULL;
    comps = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    g_hash_table_insert(comps, "name", g_strdup(name));
    return comps;
}

char *groupchat_get_name(GHashTable *comps)
{
    const char *name = g_hash_table_lookup(comps, "name");

    return name ? g_strdup(name) : NULL;
}

void groupchat_join(PurpleConnection *gc, GHashTable *comps)
{
    msn_session *s = live(gc);
    const char *name = g_hash_table_lookup(comps, "name");
    struct groupchat *chat;

    if (!s || !name || !*name || strlen(name) > GROUPCHAT_NAME_MAX) {
        purple_serv_got_join_chat_failed(gc, comps);
        return;
    }
    if (s->chat) {
        /* One group chat per bot: the same name again is the same chat. */
        if (strcmp(s->chat->name, name) != 0)
            purple_serv_got_join_chat_failed(gc, comps);
        else if (!conv_chat(s))
            serv_got_joined_chat(gc, s->chat->id, s->chat->name);
        return;
    }
    chat = g_new0(struct groupchat, 1);
    chat->id = ++last_id;
    chat->name = g_strdup(name);
    chat->in = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->chat = chat;
    purple_debug_info("msn", "in the group chat (id %d)\n", chat->id);
    serv_got_joined_chat(gc, chat->id, chat->name);
    reach_out(s);
}

static void chat_free(struct groupchat *chat)
{
    g_hash_table_destroy(chat->in);
    g_free(chat->name);
    g_free(chat);
}

void groupchat_leave(PurpleConnection *gc, int id)
{
    msn_session *s = gc ? msn_session_of(gc) : NULL;
    GList *sbs;

    if (!s || !s->chat || s->chat->id != id)
        return;
    sbs = g_list_copy(s->sbs);
    for (GList *l = sbs; l; l = l->next)
        if (sb_is_chat(l->data))
            sb_leave(l->data);
    g_list_free(sbs);
    purple_debug_info("msn", "left the group chat\n");
    chat_free(s->chat);
    s->chat = NULL;
    serv_got_chat_left(gc, id);
}

int groupchat_send(PurpleConnection *gc, int id, const char *message,
                   PurpleMessageFlags flags)
{
    msn_session *s = live(gc);
    char *text;

    if (!s || s->state != NS_ONLINE)
        return -ENOTCONN;
    if (!s->chat || s->chat->id != id)
        return -EINVAL;
    /* libpurple hands over markup; MSN carries plain text. */
    text = purple_markup_strip_html(message);
    if (*text) {
        reach_out(s);
        if (s->chat->main)
            sb_chat_say(s->chat->main, text);
        else
            purple_debug_info("msn", "nobody to say it to in the group "
                                     "chat\n");
    }
    g_free(text);
    return 0;
}

gboolean groupchat_mark(msn_session *s, const char *who, guint64 id)
{
    if (!s->chat || strcmp(s->chat->name, who) != 0)
        return FALSE;
    if (s->chat->main)
        sb_chat_mark(s->chat->main, id);
    else
        msn_settle(s, id, TRUE, NULL); /* nobody was there to hear it */
    return TRUE;
}

void groupchat_on_online(msn_session *s, const char *who)
{
    if (!s->chat || !allowed(msn_contact_find(s, who)))
        return;
    if (s->chat->main)
        sb_invite(s->chat->main, who);
    else
        reach_out(s);
}

gboolean groupchat_wants(msn_session *s, const char *caller)
{
    msn_contact *ct = msn_contact_find(s, caller);

    return s->chat && ct && (ct->lists & MSN_AL) && !(ct->lists & MSN_BL);
}

/* ---- the chat's switchboards ------------------------------------------- */

/* Leaves the other chat switchboards whose people are all in the chat's
 * own by now. */
static void merge(msn_session *s)
{
    struct sb *main = s->chat->main;
    GList *sbs = g_list_copy(s->sbs);

    for (GList *l = sbs; l; l = l->next) {
        struct sb *sb = l->data;
        GList *people;
        gboolean all = TRUE;

        if (sb == main || !sb_is_chat(sb) || !sb_is_ready(sb))
            continue;
        people = sb_members(sb);
        for (GList *p = people; p && all; p = p->next)
            all = sb_has(main, p->data);
        g_list_free(people);
        if (all)
            sb_leave(sb);
    }
    g_list_free(sbs);
}

gboolean groupchat_on_ready(msn_session *s, struct sb *sb)
{
    GList *people;

    if (!s->chat)
        return FALSE; /* the chat was left meanwhile */
    if (!s->chat->main) {
        s->chat->main = sb;
        call_everyone(s, sb);
        return TRUE;
    }
    if (sb == s->chat->main)
        return TRUE;
    /* Another's switchboard: its people are called into the chat's. */
    people = sb_members(sb);
    for (GList *p = people; p; p = p->next)
        sb_invite(s->chat->main, p->data);
    g_list_free(people);
    return TRUE;
}

void groupchat_adopt(msn_session *s, struct sb *sb)
{
    if (!s->chat)
        return;
    if (!s->chat->main)
        s->chat->main = sb;
    call_everyone(s, sb);
}

void groupchat_on_join(msn_session *s, struct sb *sb, const char *who,
                       gboolean initial)
{
    PurpleConvChat *chat = conv_chat(s);
    guint n;

    if (!s->chat)
        return;
    n = GPOINTER_TO_UINT(g_hash_table_lookup(s->chat->in, who));
    g_hash_table_insert(s->chat->in, g_strdup(who), GUINT_TO_POINTER(n + 1));
    if (n == 0 && chat)
        purple_conv_chat_add_user(chat, who, NULL, PURPLE_CBFLAGS_NONE,
                                  !initial);
    if (s->chat->main && sb != s->chat->main)
        sb_invite(s->chat->main, who);
    else if (sb == s->chat->main)
        merge(s);
}

void groupchat_on_leave(msn_session *s, struct sb *sb, const char *who)
{
    PurpleConvChat *chat = conv_chat(s);
    guint n;

    if (!s->chat)
        return;
    n = GPOINTER_TO_UINT(g_hash_table_lookup(s->chat->in, who));
    if (n > 1) {
        g_hash_table_insert(s->chat->in, g_strdup(who),
                            GUINT_TO_POINTER(n - 1));
        return;
    }
    g_hash_table_remove(s->chat->in, who);
    if (n == 1 && chat && purple_conv_chat_find_user(chat, who))
        purple_conv_chat_remove_user(chat, who, NULL);
}

void groupchat_on_closed(msn_session *s, struct sb *sb)
{
    GList *people;

    if (!s->chat)
        return;
    if (s->chat->main == sb)
        s->chat->main = NULL;
    people = sb_members(sb);
    for (GList *p = people; p; p = p->next)
        groupchat_on_leave(s, sb, p->data);
    g_list_free(people);
}

void groupchat_said(msn_session *s, const char *who, const char *html)
{
    if (s->chat && conv_chat(s))
        serv_got_chat_in(s->gc, s->chat->id, who, PURPLE_MESSAGE_RECV, html,
                         time(NULL));
}

void groupchat_typing(msn_session *s, const char *who, gboolean typing)
{
    PurpleConvChat *chat = conv_chat(s);
    PurpleConvChatBuddyFlags flags;

    if (!chat || !purple_conv_chat_find_user(chat, who))
        return;
    flags = purple_conv_chat_user_get_flags(chat, who);
    flags =
        typing ? flags | PURPLE_CBFLAGS_TYPING : flags & ~PURPLE_CBFLAGS_TYPING;
    purple_conv_chat_user_set_flags(chat, who, flags);
}

void groupchat_nudged(msn_session *s, const char *who)
{
    if (s->chat && conv_chat(s))
        purple_prpl_got_attention_in_chat(s->gc, s->chat->id, who, 0);
}

void groupchat_free(msn_session *s)
{
    if (s->chat)
        chat_free(s->chat);
    s->chat = NULL;
}
