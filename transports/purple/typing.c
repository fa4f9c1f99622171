/* typing: buddies' typing and attention to the core, the group's typing to
 * the buddies (typing.h). */
#include "typing.h"

#include <string.h>

#include "bot.h"

/* The states the core speaks, and libpurple's for each (server.h). */
static const struct {
    const char *name;
    PurpleTypingState state;
} states[] = {
    {"composing", PURPLE_TYPING},
    {"paused", PURPLE_TYPED},
    {"active", PURPLE_NOT_TYPING},
};

int typing_state_of(const char *state)
{
    for (gsize i = 0; i < G_N_ELEMENTS(states); i++)
        if (!strcmp(states[i].name, state))
            return states[i].state;
    return PURPLE_NOT_TYPING;
}

/* A buddy's typing (never the bot's own echo) as (account, handle,
 * state). */
static void tell(bot *b, PurpleAccount *acct, const char *name,
                 const char *state)
{
    char *handle;

    if (acct != b->acct || b->quitting || !name || !*name ||
        bot_is_self(b, name))
        return;
    handle = bot_norm(b, name);
    g_debug("typing of %s: %s", handle, state);
    bot_send(b, PROTO_TYPING, g_variant_new("(sss)", b->name, handle, state));
    g_free(handle);
}

static void on_typing(PurpleAccount *acct, const char *name, gpointer data)
{
    tell(data, acct, name, "composing");
}

static void on_typed(PurpleAccount *acct, const char *name, gpointer data)
{
    tell(data, acct, name, "paused");
}

static void on_stopped(PurpleAccount *acct, const char *name, gpointer data)
{
    tell(data, acct, name, "active");
}

/* purple_prpl_got_attention (conversation.h's "got-attention"): whatever
 * the prpl calls it (nudge, buzz), one attention. */
static void on_attention(PurpleAccount *acct, const char *who,
                         PurpleConversation *conv, guint type, gpointer data)
{
    bot *b = data;
    char *handle;

    if (acct != b->acct || b->quitting || !who || !*who || bot_is_self(b, who))
        return;
    handle = bot_norm(b, who);
    g_info("attention from %s", handle);
    bot_send(b, PROTO_ATTENTION, g_variant_new("(ss)", b->name, handle));
    g_free(handle);
}

/* The buddies whose prpl did not ask for composing again (its
 * send_typing returned 0, as XMPP's): the core's repeats, made for the
 * networks that forget typing after a few seconds (MSN, Yahoo), are not
 * sent to them. One bot per process: its handles, until it quits. */
static GHashTable *said_once;

void typing_handle_send(bot *b, GVariant *body)
{
    const char *account, *state;
    GVariantIter *handles;
    const char *handle;
    PurpleConnection *gc;
    PurpleTypingState ts;
    guint n = 0;

    g_variant_get(body, "(&sas&s)", &account, &handles, &state);
    gc = bot_check_account(b, account) ? bot_live_gc(b) : NULL;
    ts = typing_state_of(state);
    while (gc && g_variant_iter_loop(handles, "&s", &handle)) {
        if (!*handle || bot_is_self(b, handle))
            continue;
        if (ts == PURPLE_TYPING && g_hash_table_contains(said_once, handle))
            continue;
        /* serv_send_typing: "the number of seconds until the prpl would
         * like another typing message", 0 for none. */
        if (ts == PURPLE_TYPING && serv_send_typing(gc, handle, ts) == 0)
            g_hash_table_add(said_once, g_strdup(handle));
        else if (ts != PURPLE_TYPING) {
            serv_send_typing(gc, handle, ts);
            g_hash_table_remove(said_once, handle);
        }
        n++;
    }
    g_debug("typing %s told to %u buddies", state, n);
    g_variant_iter_free(handles);
}

void typing_init(bot *b)
{
    void *conv = purple_conversations_get_handle();

    if (!said_once)
        said_once =
            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    purple_signal_connect(conv, "buddy-typing", b, PURPLE_CALLBACK(on_typing),
                          b);
    purple_signal_connect(conv, "buddy-typed", b, PURPLE_CALLBACK(on_typed), b);
    purple_signal_connect(conv, "buddy-typing-stopped", b,
                          PURPLE_CALLBACK(on_stopped), b);
    purple_signal_connect(conv, "got-attention", b,
                          PURPLE_CALLBACK(on_attention), b);
}
