/* router: every stanza from the server enters here; it is checked (RFC 6120
 * rules the component relies on), then dispatched by its 'to': the
 * component JID, a room, or an occupant. */
#ifndef IMGROUPS_ROUTER_H
#define IMGROUPS_ROUTER_H

#include <strophe.h>

#include "bus.h"
#include "config.h"
#include "groups.h"
#include "muc.h"
#include "probe.h"
#include "registry.h"
#include "store.h"
#include "uplink.h"

typedef struct router router;

/* cfg and st are borrowed and must outlive the router. Caller owns *out.
 * Fails (with *err set) when the MUC engine cannot read its state. */
int router_new(const config *cfg, store *st, router **out, GError **err);
void router_free(router *r);

/* Serves XEP-0050 commands (adhoc.c) over reg's accounts from now on;
 * reg is borrowed and must outlive the router. Until then command requests
 * are answered as before (service-unavailable, item-not-found). */
void router_set_registry(router *r, registry *reg);

/* From now on rooms are served only once p (borrowed, must outlive the
 * router) has proven this instance's slot, and probes go to p before any
 * room code (cluster/probe.h). Without a probe the router always serves. */
void router_set_probe(router *r, probe *p);
probe *router_probe(router *r);

/* The service JID answers for every shard over b from now on (service.c
 * and the service commands ask the others and serve their requests,
 * sending what those ask for on up, the main link); b and up are borrowed
 * and must outlive the router. Returns 0 or negative (bus_serve). */
int router_set_bus(router *r, bus *b, uplink *up);

/* The MUC engine (for the legacy bridge); owned by the router. */
muc *router_muc(router *r);

/* Tells every occupant the service is stopping (before the link closes). */
void router_shutdown(router *r, uplink *up);

/* iq get/set: the router finds the owner of the request (ad-hoc commands,
 * the service's own table, the MUC engine for rooms and occupants: the
 * static const iq_owners table in router.c), calls its iq_fn (iq.h) and
 * sends the one reply with iq_answer. An owner with a table of its own (the
 * MUC per room) is a sub-dispatcher: see iq.h for how it plugs in. */

/* The uplink stanza callback; userdata is the router. */
void router_on_stanza(uplink *up, xmpp_stanza_t *st, void *userdata);

#endif
