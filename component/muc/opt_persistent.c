/* opt_persistent: muc#roomconfig_persistentroom: a persistent room stays when
 * empty, a temporary one goes with its last occupant. */
#include "opt_persistent.h"

#include <stddef.h>

static const char *feature(const group_cfg *g)
{
    return g->persistent ? "muc_persistent" : "muc_temporary";
}

/* XEP-0045 §10.2 muc#roomconfig_persistentroom: a temporary room is
 * destroyed when its last occupant leaves. */
static gboolean temporary(const group_cfg *g)
{
    return !g->persistent;
}

const room_option opt_persistent = {
    .var = "muc#roomconfig_persistentroom",
    .label = "Keep the group when it is empty",
    .kind = OPTION_BOOL,
    .offset = offsetof(group_cfg, persistent),
    .feature = feature,
    .temporary = temporary,
};
