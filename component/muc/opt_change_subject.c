/* opt_change_subject: muc#roomconfig_changesubject: whether participants may
 * change the subject. */
#include "opt_change_subject.h"

#include <stddef.h>

static gboolean may_set_subject(const group_cfg *g, enum role role)
{
    (void)role;
    return g->change_subject;
}

const room_option opt_change_subject = {
    .var = "muc#roomconfig_changesubject",
    .label = "Participants may change the subject",
    .kind = OPTION_BOOL,
    .offset = offsetof(group_cfg, change_subject),
    .may_set_subject = may_set_subject,
};
