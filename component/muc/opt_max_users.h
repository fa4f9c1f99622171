/* opt_max_users: muc#roomconfig_maxusers: the most occupants (0: no limit). */
#ifndef IMGROUPS_OPT_MAX_USERS_H
#define IMGROUPS_OPT_MAX_USERS_H

#include "options.h"

extern const room_option opt_max_users;

#endif
