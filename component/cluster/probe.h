/* probe: proves which ejabberd slot this instance's link holds (issue 14
 * item 1, docs/cluster.md "Which connection holds which slot"). ejabberd
 * gives a connection the first free slot, whichever instance it is, so
 * after the main link's handshake instance K sends a message from its own
 * domain to shard_probe_node(K)@domain carrying a fresh random nonce:
 * ejabberd routes it to whichever connection holds slot K + 1. If it comes
 * back on this link, the slot is proven and the instance serves its rooms.
 * If it reaches instance J instead, J holds K's slot: J tells K over the
 * shard bus (so K learns at once that it holds a slot that is not its
 * own) and both let go of their slots (uplink_reconnect); with nobody on
 * slot K + 1 the probe is dropped and K lets go after PROBE_TIMEOUT_MS.
 * ejabberd gives the slot freed earliest to the next connection, and J
 * frees K's slot before K, told, frees its own: so K reconnects first
 * (after the probe's own backoff, from 250 ms) and takes slot K + 1, and
 * J waits 2 s more before taking what K freed. Two probes crossing in a
 * swap both wait the same and may need another round; the backoff grows
 * to 30 s for a setup that never settles (two instances with one shard).
 * Until proven, the router refuses every
 * room stanza (service-unavailable) and keeps no state. With shards = 1
 * nothing is probed and the instance is always proven. */
#ifndef IMGROUPS_PROBE_H
#define IMGROUPS_PROBE_H

#include <glib.h>
#include <strophe.h>

#include "bus.h"
#include "config.h"
#include "uplink.h"

/* The probe's payload namespace: <probe xmlns=PROBE_NS shard='K'
 * nonce='…'/> in the message, <landed xmlns=PROBE_NS nonce='…'/> in the
 * bus iq that tells K where its probe went. Private to imgroups. */
#define PROBE_NS         "urn:imgroups:shard-probe:0"
#define PROBE_TIMEOUT_MS 3000

typedef struct probe probe;

/* cfg and b are borrowed and must outlive the probe; b may be NULL (no
 * bus: a probe landing elsewhere is then only noticed at the timeout).
 * Serves PROBE_NS on b. Caller owns *out (probe_free). Returns 0 or
 * negative. */
int probe_new(const config *cfg, bus *b, probe **out);
void probe_free(probe *p);

/* The main link (up, borrowed; it must outlive the probe) came up or went
 * down: up sends a fresh probe and starts the timeout; down forgets the
 * proof. Nothing with shards = 1. */
void probe_link_state(probe *p, uplink *up, gboolean connected);

/* Whether this instance serves rooms now: always with shards = 1, else
 * once its probe came back on the current main link. */
gboolean probe_proven(const probe *p);

/* The router's first step: when st is a probe (a message whose child is in
 * PROBE_NS), it is handled here and TRUE returned, before any room code
 * sees it; otherwise FALSE. A probe not from the component's own domain
 * is dropped. up is the link st came on (borrowed for the call). */
gboolean probe_take(probe *p, uplink *up, xmpp_stanza_t *st);

#endif
