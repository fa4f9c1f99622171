/* icons: pictures. A buddy's picture, as the prpl hands it to libpurple
 * (purple_buddy_icons_set_for_user), told to the core with its checksum,
 * and again for each chat the buddy is in (chat.c);
 * the group's avatar, from the core, set as the bot's own picture
 * (purple_buddy_icons_set_account_icon: the prpl's set_buddy_icon). */
#ifndef IMGROUPS_ICONS_H
#define IMGROUPS_ICONS_H

#include <purple.h>

typedef struct bot bot;

/* Connects the buddy-icon-changed signal (handle b). */
void icons_init(bot *b);

/* set_icon (account, image): the bot's picture, or none for no bytes.
 * body borrowed. */
void icons_handle_set(bot *b, GVariant *body);

/* Tells the core nick's picture in chat (the core's name for it): icon,
 * NULL for none. */
void icons_tell_chat(bot *b, const char *chat, const char *nick,
                     PurpleBuddyIcon *icon);

#endif
