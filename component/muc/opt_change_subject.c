/* opt_change_subject: muc#roomconfig_changesubject: whether participants may
 * change the subject. */
#include "opt_change_subject.h"

#include <stddef.h>

const room_option opt_change_subject = {
    .var = "muc#roomconfig_changesubject",
    .label = "Participants may change the subject",
    .kind = OPTION_BOOL,
    .offset = offsetof(group_cfg, change_subject),
};
