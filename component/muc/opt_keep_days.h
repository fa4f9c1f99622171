/* opt_keep_days: imgroups#keep_days: how long the archive keeps messages
 * (retention.c reads it). */
#ifndef IMGROUPS_OPT_KEEP_DAYS_H
#define IMGROUPS_OPT_KEEP_DAYS_H

#include "options.h"

extern const room_option opt_keep_days;

#endif
