/* typing: the bot's buddies' typing and attention requests (MSN nudges,
 * Yahoo buzzes, XEP-0224) told to the core, and the group's typing told to
 * the buddies the core names (libpurple's typing signals and
 * serv_send_typing; every prpl alike). */
#ifndef IMGROUPS_TYPING_H
#define IMGROUPS_TYPING_H

#include <glib.h>

typedef struct bot bot;

/* Connects the typing and attention signals (handle b). */
void typing_init(bot *b);

/* send_typing (account, handles, state): serv_send_typing to each handle;
 * state composing, paused or active (anything else: active). body
 * borrowed. */
void typing_handle_send(bot *b, GVariant *body);

/* The libpurple typing state a send_typing state names. */
int typing_state_of(const char *state);

#endif
