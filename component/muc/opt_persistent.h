/* opt_persistent: muc#roomconfig_persistentroom: a persistent room stays when
 * empty, a temporary one goes with its last occupant. */
#ifndef IMGROUPS_OPT_PERSISTENT_H
#define IMGROUPS_OPT_PERSISTENT_H

#include "options.h"

extern const room_option opt_persistent;

#endif
