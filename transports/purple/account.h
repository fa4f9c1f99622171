/* account: the bot's libpurple account and its connection: the options the
 * core gives (checked against the prpl's, unqueued defaults), connecting,
 * reconnecting with backoff (common/backoff.h), and account_up/_down. */
#ifndef IMGROUPS_ACCOUNT_H
#define IMGROUPS_ACCOUNT_H

#include <glib.h>

#include "backoff.h"

typedef struct bot bot;

typedef struct account_state {
    backoff retry; /* 1 s doubling to 5 min, stable after 60 s */
    guint reconnect_id;
    gboolean reported; /* a disconnect reason came for this connection */
} account_state;

/* Sets libpurple's connection UI ops for b. */
void account_init(bot *b);

/* account_add (name, protocol, username, password, options): creates or
 * finds the account, applies the options and connects; account_down on
 * anything the core cannot have meant. body borrowed. */
void account_handle_add(bot *b, GVariant *body);

/* account_remove (name): deletes the account and stops the worker. */
void account_handle_remove(bot *b, GVariant *body);

/* Cancels a pending reconnect. */
void account_shutdown(bot *b);

#endif
