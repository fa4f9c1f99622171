/* svc_stats: the service admins' statistics command (XEP-0050 on the
 * component JID): groups, occupants, legacy members, accounts online,
 * deliveries per minute, what waits in the outbox, uptime, store size. */
#ifndef IMGROUPS_SVC_STATS_H
#define IMGROUPS_SVC_STATS_H

#include "adhoc_int.h"

enum xerr svc_stats_show(request *rq, response *rp);

#endif
