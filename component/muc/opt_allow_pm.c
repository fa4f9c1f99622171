/* opt_allow_pm: muc#roomconfig_allowpm: who may send private messages. */
#include "opt_allow_pm.h"

#include <stddef.h>

static const char *const choices[] = {"anyone", "moderators", "none", NULL};

/* muc#roomconfig_allowpm: who may send private messages. */
static gboolean may_pm(const group_cfg *g, enum role role)
{
    if (!g_strcmp0(g->allow_pm, "none"))
        return FALSE;
    return g_strcmp0(g->allow_pm, "moderators") || role == ROLE_MODERATOR;
}

const room_option opt_allow_pm = {
    .var = "muc#roomconfig_allowpm",
    .label = "Who may send private messages",
    .kind = OPTION_CHOICE,
    .offset = offsetof(group_cfg, allow_pm),
    .choices = choices,
    .may_pm = may_pm,
};
