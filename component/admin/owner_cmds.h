/* owner_cmds: a group's owners' commands (XEP-0050 on the room JID; the
 * service admins own every group): list its members with their network,
 * set its retention, invite someone (a mediated invitation). Steps of
 * adhoc.c's command table. */
#ifndef IMGROUPS_OWNER_CMDS_H
#define IMGROUPS_OWNER_CMDS_H

#include "adhoc_int.h"

enum xerr owner_cmds_members(request *rq, response *rp);
enum xerr owner_cmds_retention(request *rq, response *rp);
enum xerr owner_cmds_invite(request *rq, response *rp);

#endif
