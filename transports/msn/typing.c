/* typing: typing notifications received (typing.h). */
#include "typing.h"

#include "groupchat.h"

/* People typing at once, at most: more are not shown (a server could name
 * any number of senders). */
#define TYPISTS_MAX 256

/* One person typing: the timer that ends it. */
struct typist {
    msn_session *s;
    char *who; /* normalised */
    gboolean chat;
    guint timer;
};

static void typist_free(gpointer data)
{
    struct typist *t = data;

    if (t->timer)
        purple_timeout_remove(t->timer);
    g_free(t->who);
    g_free(t);
}

static GHashTable *table(msn_session *s)
{
    if (!s->typing)
        s->typing =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, typist_free);
    return s->typing;
}

/* The table's key: the place and the person. */
static char *key_of(const char *who, gboolean chat)
{
    return g_strconcat(chat ? "c:" : "i:", msn_normalize(who), NULL);
}

static void tell(msn_session *s, const char *who, gboolean chat,
                 gboolean typing)
{
    if (chat)
        groupchat_typing(s, who, typing);
    else if (typing)
        serv_got_typing(s->gc, who, 0, PURPLE_TYPING);
    else
        serv_got_typing_stopped(s->gc, who);
}

static gboolean on_quiet(gpointer data)
{
    struct typist *t = data;
    msn_session *s = t->s;
    char *key = key_of(t->who, t->chat);

    t->timer = 0;
    tell(s, t->who, t->chat, FALSE);
    g_hash_table_remove(s->typing, key); /* frees t */
    g_free(key);
    return FALSE;
}

void typing_got(msn_session *s, const char *who, gboolean chat)
{
    char *key = key_of(who, chat);
    struct typist *t = g_hash_table_lookup(table(s), key);

    if (t) {
        purple_timeout_remove(t->timer);
        g_free(key);
    } else if (g_hash_table_size(s->typing) >= TYPISTS_MAX) {
        g_free(key);
        return;
    } else {
        t = g_new0(struct typist, 1);
        t->s = s;
        t->who = g_strdup(msn_normalize(who));
        t->chat = chat;
        g_hash_table_insert(s->typing, key, t);
        purple_debug_info("msn", "%s is typing%s\n", t->who,
                          chat ? " in the group chat" : "");
        tell(s, t->who, chat, TRUE);
    }
    t->timer = purple_timeout_add_seconds(TYPING_SECONDS, on_quiet, t);
}

void typing_done(msn_session *s, const char *who, gboolean chat)
{
    char *key = key_of(who, chat);

    if (s->typing && g_hash_table_lookup(s->typing, key)) {
        g_hash_table_remove(s->typing, key);
        tell(s, msn_normalize(who), chat, FALSE);
    }
    g_free(key);
}

void typing_free_all(msn_session *s)
{
    if (s->typing)
        g_hash_table_destroy(s->typing);
    s->typing = NULL;
}
