/* muc: the XEP-0045 engine — joining, leaving, nick changes, groupchat and
 * private messages, self-ping and room discovery, for every group. */
#ifndef IMGROUPS_MUC_H
#define IMGROUPS_MUC_H

#include <strophe.h>

#include "config.h"
#include "jid.h"
#include "store.h"
#include "uplink.h"

typedef struct muc muc;

/* cfg and st are borrowed and outlive the engine. Reads (or creates) the
 * service's occupant-id salt in the store. Caller owns *out. */
int muc_new(const config *cfg, store *st, muc **out, GError **err);
void muc_free(muc *m);

/* Stanzas addressed to a room or an occupant. The router has checked the
 * stanza (kind, type, from, to, iq shape) and parsed 'to'; st and to are
 * borrowed for the call. */
void muc_presence(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to);
void muc_message(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to);
void muc_iq(muc *m, uplink *up, xmpp_stanza_t *st, xmpp_stanza_t *child,
            const jid *to);

/* Tells every occupant the service is going down (XEP-0045 status 332) and
 * forgets them. */
void muc_shutdown(muc *m, uplink *up);

#endif
