/* notice: the first-contact notice (issue 12, item 7): the first time an
 * XMPP user joins any group of the service, the room tells them what the
 * service keeps; once per person, remembered in the noticed database
 * (schema/noticed.md). Legacy members get theirs from the bot (welcomed). */
#ifndef IMGROUPS_NOTICE_H
#define IMGROUPS_NOTICE_H

#include "muc_int.h"

/* Called when o's session full has joined r (after the subject): sends the
 * notice to full, unless [service] first_contact_notice is off or o's bare
 * JID was given it before. The record is written first: a store that
 * cannot be written sends nothing (the notice comes at a later join rather
 * than twice). */
void notice_first_contact(muc *m, uplink *up, const room *r, const occ *o,
                          const char *full);

/* The notice's text for r (g_free): what the service keeps, for how long
 * in r, who sees what, how to get it exported or erased, then r's
 * description when it has one. service is the component JID. */
char *notice_text(const room *r, guint service_keep_days, const char *service);

#endif
