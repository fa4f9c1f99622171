/* opt_members_only: muc#roomconfig_membersonly: only members (and admins and
 * owners) may be in the room; switching it on sends the others out with
 * status 322; the bridge asks it whether a legacy member may enter. */
#ifndef IMGROUPS_OPT_MEMBERS_ONLY_H
#define IMGROUPS_OPT_MEMBERS_ONLY_H

#include "options.h"

extern const room_option opt_members_only;

#endif
