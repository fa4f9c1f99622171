/* opt_history: muc#maxhistoryfetch: the most messages of history a joiner
 * gets. */
#ifndef IMGROUPS_OPT_HISTORY_H
#define IMGROUPS_OPT_HISTORY_H

#include "options.h"

extern const room_option opt_history;

#endif
