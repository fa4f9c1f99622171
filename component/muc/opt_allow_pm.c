/* opt_allow_pm: muc#roomconfig_allowpm: who may send private messages. */
#include "opt_allow_pm.h"

#include <stddef.h>

static const char *const choices[] = {"anyone", "moderators", "none", NULL};

const room_option opt_allow_pm = {
    .var = "muc#roomconfig_allowpm",
    .label = "Who may send private messages",
    .kind = OPTION_CHOICE,
    .offset = offsetof(group_cfg, allow_pm),
    .choices = choices,
};
