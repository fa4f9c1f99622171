/* opt_description: the room's description (muc#roomconfig_roomdesc), shown
 * in the muc#roominfo form. */
#include "opt_description.h"

#include <stddef.h>

const room_option opt_description = {
    .var = "muc#roomconfig_roomdesc",
    .label = "Description",
    .kind = OPTION_TEXT,
    .offset = offsetof(group_cfg, description),
};
