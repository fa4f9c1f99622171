/* voice: voice requests (XEP-0045 §7.13): a visitor's request goes to the
 * room's moderators as a form; a moderator's approval gives the visitor
 * voice. */
#ifndef IMGROUPS_VOICE_H
#define IMGROUPS_VOICE_H

#include <strophe.h>

#include "muc.h"
#include "room.h"

#define NS_MUC_REQUEST "http://jabber.org/protocol/muc#request"

/* A visitor asks again no sooner than this (µs of clock_now): a request
 * is re-sent to every moderator, so one occupant cannot flood them. */
#define VOICE_REQUEST_INTERVAL_US (60 * G_USEC_PER_SEC)

/* Whether st (a message to the room's bare JID) carries a submitted
 * muc#request form. */
gboolean voice_is_request(xmpp_stanza_t *st);

/* st (voice_is_request) from occupant o of r: from a visitor, the request
 * to the moderators; from a moderator, the answer to one. Anything else is
 * dropped, as Prosody's MUC does (request.lib.lua). Borrows everything. */
void voice_request(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st);

#endif
