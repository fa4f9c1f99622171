/* muc_erase: the engine's part of erasing one person (component/admin/
 * mydata.c): their occupants leave every room, and the store the engine
 * keeps its rooms in. */
#ifndef IMGROUPS_MUC_ERASE_H
#define IMGROUPS_MUC_ERASE_H

#include "muc.h"

/* The store m was made with (borrowed: it outlives the engine). */
store *muc_erase_store(muc *m);

/* Removes the occupant whose real bare JID is bare (folded; a legacy
 * member's made-up one too) from every loaded room, as a kick (XEP-0045
 * status 307) with reason (borrowed, may be NULL), told to their sessions
 * and to everyone else (a legacy one through the bridge). Returns how many
 * rooms they left. */
guint muc_erase_occupant(muc *m, uplink *up, const char *bare,
                         const char *reason);

/* The subject of each group in nicks (group name -> a set of the nicks
 * the erased person spoke under there, as archived) is kept without its
 * setter when one of those nicks set it ("", as when the room sets it), in
 * the store and in the loaded room. Returns how many groups changed, or a
 * negative code when the store refused (*err set). */
int muc_erase_subject_nick(muc *m, GHashTable *nicks, guint *changed,
                           GError **err);

#endif
