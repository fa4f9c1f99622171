/* opt_description: the room's description (muc#roomconfig_roomdesc), shown
 * in the muc#roominfo form. */
#ifndef IMGROUPS_OPT_DESCRIPTION_H
#define IMGROUPS_OPT_DESCRIPTION_H

#include "options.h"

extern const room_option opt_description;

#endif
