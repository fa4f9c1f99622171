/* standby: answers for a dead shard's slot (issue 14 item 4,
 * docs/cluster.md "Failure"). ejabberd 23.01 drops stanzas for an empty
 * slot silently, and the other instances never see them; so the
 * lowest-numbered live instance connects bare uplinks ("standby
 * connections") as the balanced component domain, one per dead shard, and
 * ejabberd gives each the first free slot: a dead shard's. A standby keeps
 * no state: every stanza but an error (RFC 6120 §8.3.1) gets
 * service-unavailable ("this group's instance is down; try again later").
 *
 * Who is live: every STANDBY_BEAT_MS each instance asks every other over
 * the bus (one iq each, the bus timeout); a shard that does not answer is
 * dead. The instance all of whose lower shards are dead holds as many
 * standbys as there are dead shards, the others none; nothing while its own
 * slot is not proven or its bus link is down.
 *
 * Giving the slot back: the returning owner's slot probe (cluster/probe.h)
 * reaches the standby holding its slot, which closes at once; the owner's
 * probe times out, it lets go and reconnects into the freed slot. For
 * STANDBY_GRACE_MS after that the shard counts as live, so no new standby
 * takes its slot back. A standby whose link drops is not reconnected: the
 * next beat opens another if one is still wanted. With shards = 1 nothing
 * is asked or opened. */
#ifndef IMGROUPS_STANDBY_H
#define IMGROUPS_STANDBY_H

#include <glib.h>

#include "bus.h"
#include "config.h"
#include "probe.h"
#include "uplink.h"

#define STANDBY_NS       "urn:imgroups:standby:0"
#define STANDBY_BEAT_MS  4000
#define STANDBY_GRACE_MS 30000
#define STANDBY_TEXT     "this group's instance is down; try again later"

typedef struct standby standby;

/* params: the main link's (copied; its strings must outlive the standby);
 * ctx (the main link's, for the beat), cfg, b and p borrowed, must outlive it.
 * Serves STANDBY_NS on b and starts the beat (shards > 1). Caller owns *out
 * (standby_free). Returns 0 or negative. */
int standby_new(const uplink_params *params, xmpp_ctx_t *ctx, const config *cfg,
                bus *b, const probe *p, standby **out);

/* Closes every standby connection at once and stops the beat. NULL is
 * fine. */
void standby_free(standby *s);

/* How many standby connections instance shard (of shards) holds after a
 * beat that gathered res: the number of dead shards (down, and not within
 * their grace: grace[k] is when shard k's counts as live until, clock_now's
 * µs, now the time) when every shard below this one is
 * dead, else 0. */
guint standby_wanted(guint shard, guint shards, const bus_result *res,
                     const gint64 *grace, gint64 now);

/* Standby connections open or opening (tests). */
guint standby_count(const standby *s);

#endif
