/* disco: a room's XEP-0030 answers. */
#ifndef IMGROUPS_DISCO_H
#define IMGROUPS_DISCO_H

#include "muc_int.h"

/* disco#info on r asked by st (o: the asker's occupant or NULL): identity,
 * features, the muc#roominfo form (XEP-0045 §6.4). Sends the reply. */
void disco_info(muc *m, uplink *up, room *r, xmpp_stanza_t *st, const occ *o);

/* disco#items on r: the occupants' nicks, to occupants only (XEP-0045
 * §6.5). Sends the reply. */
void disco_items(uplink *up, room *r, xmpp_stanza_t *st, const occ *o);

#endif
