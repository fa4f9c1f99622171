/* announce: a service admin's announcement to every legacy member and
 * bridged chat, as bot notices through the outbox (paced like all
 * delivery), and the deliveries-per-minute figure (registry hooks). */
#ifndef IMGROUPS_ANNOUNCE_H
#define IMGROUPS_ANNOUNCE_H

#include "bridge_int.h"

/* registry hook: one write queues text (borrowed) for every member of
 * every enabled contacts-mode account and the chat of every enabled
 * chat-mode account; the running accounts' pumps are woken (the others
 * deliver when they start). userdata is the bridge. Returns 0 with
 * *reached, or -1 (logged) when the store refused: nothing was queued. */
int announce_all(const char *text, guint *reached, void *userdata);
/* registry hook: deliveries confirmed in the last minute. */
guint announce_delivered(void *userdata);

#endif
