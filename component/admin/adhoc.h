/* adhoc: XEP-0050 ad-hoc commands. On the component JID, the service
 * admins' commands on the bot accounts (list, add, change, enable, disable,
 * remove); on a room JID, the commands of its owners and of the service
 * admins, who own every group (add a legacy member). Each command is a
 * XEP-0004 data form exchange; sessions live in memory for 10 minutes
 * between stages. */
#ifndef IMGROUPS_ADHOC_H
#define IMGROUPS_ADHOC_H

#include <strophe.h>

#include "bus.h"
#include "config.h"
#include "iq.h"
#include "jid.h"
#include "muc.h"
#include "registry.h"
#include "store.h"
#include "uplink.h"

#define NS_COMMANDS "http://jabber.org/protocol/commands"

/* A session unused this long is gone (session-expired). */
#define ADHOC_SESSION_TTL_US (10 * 60 * G_USEC_PER_SEC)

typedef struct adhoc adhoc;

/* cfg (its jid and admins), st (the listings and statistics), reg and m
 * (which rooms exist and who owns them) are borrowed and must outlive the
 * returned object, which the caller owns (adhoc_free). */
adhoc *adhoc_new(const config *cfg, store *st, registry *reg, muc *m);
void adhoc_free(adhoc *ad);

/* The service commands answer for every shard over b from now on, and
 * serve the other shards' part of them (SVC_MERGE_NS_ADMIN), sending what
 * they ask on up (the main link: the bus link may not send from the
 * service's domain); b and up are borrowed and must outlive ad. Returns 0 or
 * negative (bus_serve). */
int adhoc_set_bus(adhoc *ad, bus *b, uplink *up);

/* Is this iq for adhoc_iq? q is addressed to the component or a room JID
 * (not an occupant). Claimed: a <command xmlns=NS_COMMANDS/>; a
 * disco#items get with node NS_COMMANDS; a disco#info get with node
 * NS_COMMANDS or the node of a command of that JID. */
gboolean adhoc_claims(const iq_req *q);

/* The iq_fn for a claimed iq (iq.h); q->data is the adhoc. Answers with a
 * payload (the <command/> or disco query) or an error, XEP-0050's own
 * conditions in res->app. */
enum xerr adhoc_iq(const iq_req *q, iq_res *res);

#endif
