/* bridge: where rooms meet legacy networks. It runs the bot accounts of the
 * registry through their workers (legacy.c), turns legacy members and
 * legacy chat participants into occupants, relays what they say into the
 * room, answers the members' /commands, and delivers what the room says to
 * them through the durable outbox, in order, once, paced per account. */
#ifndef IMGROUPS_BRIDGE_H
#define IMGROUPS_BRIDGE_H

#include "config.h"
#include "muc.h"
#include "registry.h"
#include "store.h"
#include "uplink.h"

typedef struct bridge bridge;

/* Everything is borrowed and outlives the bridge. Installs itself as the
 * engine's bridge (muc_set_bridge) and as the registry's hooks. Starts no
 * worker: bridge_start does, once the link exists. */
bridge *bridge_new(const config *cfg, store *st, muc *m, registry *reg);
/* Starts the worker of every enabled account; stanzas go out through up. */
void bridge_start(bridge *b, uplink *up);
/* The service is stopping: from now on only delivery reports from the
 * workers are taken (so nothing delivered is sent twice after a restart);
 * legacy occupants no longer come and go. */
void bridge_shutdown(bridge *b);
/* Stops the workers and frees the bridge. */
void bridge_free(bridge *b);

/* The made-up bare JID of a legacy identity (kind 'i' a member's handle,
 * 'c' a chat participant's nick, reached through account): the escaped
 * handle (XEP-0106) at <account>.legacy.<component>, folded. Newly
 * allocated. Shown to moderators only. */
char *bridge_legacy_jid(const char *component, const char *account, char kind,
                        const char *handle);
/* Whether bare (folded) is such a made-up JID of this component. */
gboolean bridge_is_legacy_jid(const char *component, const char *bare);

#endif
