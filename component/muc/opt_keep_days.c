/* opt_keep_days: imgroups#keep_days: how long the archive keeps messages
 * (retention.c reads it). */
#include "opt_keep_days.h"

#include <stddef.h>

const room_option opt_keep_days = {
    .var = "imgroups#keep_days",
    .label = "Days messages are kept (-1: the service's default, 0: forever)",
    .kind = OPTION_INT,
    .offset = offsetof(group_cfg, keep_days),
};
