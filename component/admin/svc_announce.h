/* svc_announce: the service admins' announcement (XEP-0133 §4.23's node and
 * field): to every XMPP occupant of any group, once, from the service, and to
 * every legacy member and bridged chat through its bot, paced. */
#ifndef IMGROUPS_SVC_ANNOUNCE_H
#define IMGROUPS_SVC_ANNOUNCE_H

#include "adhoc_int.h"

#define SVC_ANNOUNCE_NODE "http://jabber.org/protocol/admin#announce"

enum xerr svc_announce_send(request *rq, response *rp);

/* The bus side (issue 14): another shard's admin announced
 * (<announce xmlns=SVC_MERGE_NS_ADMIN><body/></announce>); sent here to
 * this shard's occupants and legacy members. q->data is the adhoc. */
enum xerr svc_announce_serve(const iq_req *q, iq_res *res);

#endif
