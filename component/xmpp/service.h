/* service: what the component's own JID answers — XEP-0030 disco#info and
 * disco#items, XEP-0092 software version, XEP-0199 ping. */
#ifndef IMGROUPS_SERVICE_H
#define IMGROUPS_SERVICE_H

#include <strophe.h>

#include "bus.h"
#include "config.h"
#include "groups.h"
#include "iq.h"
#include "store.h"
#include "xerr.h"

/* The context of the service's table (iq_req.data); borrowed. */
typedef struct service_env {
    const config *cfg;
    store *st;
    bus *bus; /* the shard bus, or NULL: this instance answers alone */
} service_env;

/* The iq_fn for an iq get/set addressed to the component JID (iq.h);
 * q->data is a service_env. No route for the child: service-unavailable
 * (RFC 6120 §8.4). */
enum xerr service_iq(const iq_req *q, iq_res *res);

/* Serves the other shards' requests for this shard's part of the service's
 * answers (SVC_MERGE_NS) on env->bus (nothing when it is NULL). env must
 * outlive the bus. Returns 0 or negative (bus_serve). */
int service_serve_bus(service_env *env);

/* The features the component JID advertises, NULL-terminated: what its
 * own table dispatches, the ad-hoc commands the router hands on, and the
 * MUC protocol its rooms speak (XEP-0045 §6.1). */
extern const char *const service_features[];

#endif
