/* opt_name: the room's name (muc#roomconfig_roomname), shown in disco#info. */
#ifndef IMGROUPS_OPT_NAME_H
#define IMGROUPS_OPT_NAME_H

#include "options.h"

extern const room_option opt_name;

#endif
