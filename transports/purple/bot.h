/* bot: the one libpurple account a worker runs, as one struct passed to the
 * modules that do its work — account (options, connection, backoff), im
 * (IMs, presence, buddies, authorizations), chat (group chats) and delivery
 * (the journal and the confirmers) — and the table that dispatches the
 * core's messages to them. */
#ifndef IMGROUPS_BOT_H
#define IMGROUPS_BOT_H

#include <glib.h>

#include <purple.h>

#include "account.h"
#include "chat.h"
#include "delivery.h"
#include "im.h"
#include "channel.h"
#include "protocol.h"

/* Called when the bot wants the worker to stop (account_remove), with the
 * exit status. */
typedef void (*bot_exit_fn)(int status);

struct bot {
    channel *ch; /* to the core; borrowed until bot_free() */
    bot_exit_fn on_exit;
    char *name; /* the core's name for the account; set by account_add */
    char *protocol;
    char *password; /* in memory only: libpurple forgets it on disconnect */
    PurpleAccount *acct; /* NULL until the account exists */
    gsize limit;         /* split messages into pieces of this many bytes */
    gboolean up;         /* connected: account_up sent */
    gboolean quitting;
    account_state account;
    im_state im;
    chat_state chat;
    delivery_state delivery;
};

/* The bot, hooked into libpurple (after ui_init). ch is borrowed until
 * bot_free(). There is one per process: libpurple's UI ops carry no user
 * data, and find it through bot_of_account(). Caller bot_free()s. */
bot *bot_new(channel *ch, bot_exit_fn on_exit);

/* Handles one message from the core (anything after the hello exchange).
 * body is borrowed. */
void bot_handle(bot *b, enum proto_type t, GVariant *body);

/* Stops reconnecting and reporting: call when the worker is about to quit,
 * before ui_quit(). */
void bot_shutdown(bot *b);

/* TRUE while messages handed to the network wait for its confirmation (on
 * IRC, the PONG behind them; with the project's own plugins, their marks).
 * A worker whose core is gone waits for them a little, so that they reach
 * the delivery journal. */
gboolean bot_unsettled(bot *b);

/* Frees what bot_new() and the messages set up; after ui_quit(). */
void bot_free(bot *b);

/* ---- for the modules --------------------------------------------------- */

/* The bot whose account acct is, or NULL (another account, or none yet). */
bot *bot_of_account(PurpleAccount *acct);

/* The one bot of this process, or NULL. */
bot *bot_owner(void);

/* Queues one message for the core (body consumed if floating). */
void bot_send(bot *b, enum proto_type t, GVariant *body);

/* who as the network normalises it (caller g_free()s). */
char *bot_norm(bot *b, const char *who);

/* Whether a and c are the same name on the network; NULL is no one. */
gboolean bot_same_who(bot *b, const char *a, const char *c);

/* Whether who is the bot's own name, as a chat or IM peer would see it. */
gboolean bot_is_self(bot *b, const char *who);

/* The connection while it is up, else NULL. */
PurpleConnection *bot_live_gc(bot *b);

/* Whether a message for account is for this bot's account; logs if not. */
gboolean bot_check_account(bot *b, const char *account);

#endif
