/* pictures: a member's (or a chat participant's) display picture, from
 * their network, as their occupant's avatar (kept in schema/photos by SHA-1,
 * the hash with the member, XEP-0153 in the occupant's presence, the vCard on
 * the occupant JID: muc/occ_vcard.c); and the room's avatar as the bot's own
 * picture. */
#ifndef IMGROUPS_PICTURES_H
#define IMGROUPS_PICTURES_H

#include "bridge_int.h"

/* Worker event buddy_icon (account, handle, checksum, image): a member's
 * picture (none: no bytes; one over [limits] avatar_size in base64 counts
 * as none); strangers' are not kept. */
void pictures_on_icon(bridge *b, bacct *a, GVariant *body);

/* Tells a's worker (when up) the room's avatar as the bot's picture: when
 * the account comes up (NULL removal: nothing when the room has none) and
 * when the avatar changes (removal non-NULL: no bytes when it was
 * removed). */
void pictures_set_icon(bridge *b, bacct *a, void *removal);

/* Worker event chat_user_icon (account, chat, nick, checksum, image): a
 * chat participant's picture as their occupant's avatar, bounded as a
 * member's; kept in schema/photos and counted there while their occupant
 * shows it (a->chat_photos: which hash each shows). */
void pictures_on_chat_icon(bridge *b, bacct *a, GVariant *body);

/* bare's occupant (every one of a's when NULL) left the room: the picture
 * it showed is let go. */
void pictures_chat_gone(bridge *b, bacct *a, const char *bare);

/* At start: the pictures' counts made again from the members
 * (photos_recount), dropping what chat participants held when the core
 * last stopped. */
void pictures_start(bridge *b);

/* The muc hook: group's avatar changed; every bot of the group is told. */
void pictures_room_avatar(const char *group, void *userdata);

#endif
