/* service: what the component's own JID answers — XEP-0030 disco#info and
 * disco#items, XEP-0092 software version, XEP-0199 ping. */
#ifndef IMGROUPS_SERVICE_H
#define IMGROUPS_SERVICE_H

#include <strophe.h>

#include "config.h"
#include "groups.h"
#include "store.h"
#include "xerr.h"

/* What handlers may use; all borrowed for the call. */
typedef struct service_env {
    xmpp_ctx_t *ctx;
    const config *cfg;
    store *st;
} service_env;

/* Handles an iq get/set addressed to the component JID; child is its one
 * payload element. On success returns XERR_NONE and sets *payload to the
 * element for the result (owned by the caller; NULL for an empty result).
 * Otherwise returns the error to answer with; no handler for the namespace
 * gives XERR_SERVICE_UNAVAILABLE (RFC 6120 §8.4). */
enum xerr service_iq(const service_env *env, xmpp_stanza_t *iq,
                     xmpp_stanza_t *child, xmpp_stanza_t **payload);

/* The features the component JID advertises, NULL-terminated: the same
 * table that dispatches its iqs, so disco never claims what is not there. */
extern const char *const service_features[];

#endif
