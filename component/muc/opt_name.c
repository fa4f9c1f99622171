/* opt_name: the room's name (muc#roomconfig_roomname), shown in disco#info. */
#include "opt_name.h"

#include <stddef.h>

const room_option opt_name = {
    .var = "muc#roomconfig_roomname",
    .label = "Name",
    .kind = OPTION_TEXT,
    .offset = offsetof(group_cfg, name),
};
