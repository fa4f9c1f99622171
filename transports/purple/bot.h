/* bot: the one libpurple account a worker runs: created from account_add,
 * connected and reconnected with backoff, and every libpurple event about it
 * turned into a message for the core, every core request into libpurple
 * calls. */
#ifndef IMGROUPS_BOT_H
#define IMGROUPS_BOT_H

#include <glib.h>

#include "link.h"
#include "protocol.h"

/* Called when the bot wants the worker to stop (account_remove), with the
 * exit status. */
typedef void (*bot_exit_fn)(int status);

/* Hooks the bot into libpurple (after ui_init). l is borrowed until
 * bot_free(). */
void bot_init(link_conn *l, bot_exit_fn on_exit);

/* Handles one message from the core (anything after the hello exchange).
 * body is borrowed. */
void bot_handle(enum proto_type t, GVariant *body);

/* Stops reconnecting and reporting: call when the worker is about to quit,
 * before ui_quit(). */
void bot_shutdown(void);

/* TRUE while messages handed to the network wait for its confirmation (on
 * IRC, the PONG behind them; with the project's own plugins, their marks). A worker whose core is gone waits for them a
 * little, so that they reach the delivery journal. */
gboolean bot_unsettled(void);

/* Frees what bot_init() and the messages set up; after ui_quit(). */
void bot_free(void);

#endif
