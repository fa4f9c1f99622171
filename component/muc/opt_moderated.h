/* opt_moderated: muc#roomconfig_moderatedroom: in a moderated room newcomers
 * without an affiliation are visitors. */
#ifndef IMGROUPS_OPT_MODERATED_H
#define IMGROUPS_OPT_MODERATED_H

#include "options.h"

extern const room_option opt_moderated;

#endif
