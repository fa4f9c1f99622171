/* chat: the group chats the core asks the bot to sit in: joining (again
 * after every reconnect), leaving, who is there, messages both ways, and
 * the topic. */
#ifndef IMGROUPS_CHAT_H
#define IMGROUPS_CHAT_H

#include <purple.h>

typedef struct bot bot;

typedef struct chat_state {
    GPtrArray *chats; /* struct chat, owned */
} chat_state;

/* Connects the chat signals (handle b) and the conversation UI ops. */
void chat_init(bot *b);

/* chat_join (account, chat): joined now, or once connected. body
 * borrowed. */
void chat_handle_join(bot *b, GVariant *body);
/* send_chat (id, account, chat, body): sent in pieces, then followed by
 * delivery. */
void chat_handle_send(bot *b, GVariant *body);
/* chat_topic (account, chat, nick, topic): the legacy topic set. */
void chat_handle_topic(bot *b, GVariant *body);

/* The connection is up: every chat the core asked for is joined. */
void chat_on_up(bot *b);
/* The connection is gone: every joined chat is reported left (and joined
 * again on the next chat_on_up). */
void chat_on_down(bot *b);

void chat_free(bot *b);

/* who's picture changed (icon, NULL: none): told for every joined chat
 * they are in, by the chat's nick for them. */
void chat_icon_changed(bot *b, const char *who, PurpleBuddyIcon *icon);

#endif
