/* pictures: a member's display picture, from their network, as their
 * occupant's avatar (kept in schema/photos by SHA-1, the hash with the
 * member, XEP-0153 in the occupant's presence, the vCard on the occupant
 * JID: muc/occ_vcard.c); and the room's avatar as the bot's own picture. */
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

/* The muc hook: group's avatar changed; every bot of the group is told. */
void pictures_room_avatar(const char *group, void *userdata);

#endif
