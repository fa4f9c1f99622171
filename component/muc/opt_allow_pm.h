/* opt_allow_pm: muc#roomconfig_allowpm: who may send private messages. */
#ifndef IMGROUPS_OPT_ALLOW_PM_H
#define IMGROUPS_OPT_ALLOW_PM_H

#include "options.h"

extern const room_option opt_allow_pm;

#endif
