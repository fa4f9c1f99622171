/* svc_announce: the service admins' announcement (XEP-0133 §4.23's node and
 * field): to every XMPP occupant of any group, once, from the service, and to
 * every legacy member and bridged chat through its bot, paced. */
#ifndef IMGROUPS_SVC_ANNOUNCE_H
#define IMGROUPS_SVC_ANNOUNCE_H

#include "adhoc_int.h"

#define SVC_ANNOUNCE_NODE "http://jabber.org/protocol/admin#announce"

enum xerr svc_announce_send(request *rq, response *rp);

#endif
