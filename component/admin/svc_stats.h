/* svc_stats: the service admins' statistics command (XEP-0050 on the
 * component JID): groups, occupants, legacy members, accounts online,
 * deliveries per minute, what waits in the outbox, uptime, store size. */
#ifndef IMGROUPS_SVC_STATS_H
#define IMGROUPS_SVC_STATS_H

#include "adhoc_int.h"

enum xerr svc_stats_show(request *rq, response *rp);

/* The bus side (issue 14): another shard asks for this shard's figures
 * (<figures xmlns=SVC_MERGE_NS_ADMIN/>); q->data is the adhoc. */
enum xerr svc_stats_serve(const iq_req *q, iq_res *res);

#endif
