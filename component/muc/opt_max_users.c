/* opt_max_users: muc#roomconfig_maxusers: the most occupants (0: no limit). */
#include "opt_max_users.h"

#include <stddef.h>

static enum xerr veto(const options_join *j, const char **why)
{
    /* XEP-0045 §7.2.10: a full room gets service-unavailable; owners and
     * admins still get in. */
    if (j->g->max_users && j->occupants >= j->g->max_users &&
        j->aff != AFF_OWNER && j->aff != AFF_ADMIN) {
        *why = "this group is full";
        return XERR_SERVICE_UNAVAILABLE;
    }
    return XERR_NONE;
}

const room_option opt_max_users = {
    .var = "muc#roomconfig_maxusers",
    .label = "Most occupants (0: no limit)",
    .kind = OPTION_UINT,
    .offset = offsetof(group_cfg, max_users),
    .veto = veto,
};
