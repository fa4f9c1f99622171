/* message: what occupants say (groupchat, subject, private messages,
 * invitations, declines); muc_message in muc.h is its entry. */
#ifndef IMGROUPS_MESSAGE_H
#define IMGROUPS_MESSAGE_H

#include "muc_int.h"

/* A groupchat message (or subject change, body NULL) from o (NULL: from
 * the room itself): checked (role, length, rate), archived, then fanned
 * out to every session and, through the bridge, to the group's legacy
 * members. origin_id, id: the sender's, id echoed on its own copy.
 * Returns XERR_NONE or the error for the sender, with *why. */
enum xerr muc_say(muc *m, uplink *up, room *r, occ *o, const char *body,
                  const char *subject, const char *origin_id, const char *id,
                  const char **why);

/* What o says now, relayed to every occupant and never archived (nor
 * given to the bridge): body (may be NULL) and live, XML text of children
 * (chat states, an attention) written as they are. Checked and returned
 * as muc_say. */
enum xerr muc_say_live(muc *m, uplink *up, room *r, occ *o, const char *body,
                       const char *live, const char **why);

#endif
