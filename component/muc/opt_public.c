/* opt_public: muc#roomconfig_publicroom: a public room is listed; a hidden one
 * keeps to itself (its subject is not shown to outsiders). */
#include "opt_public.h"

#include <stddef.h>

static const char *feature(const group_cfg *g)
{
    return g->is_public ? "muc_public" : "muc_hidden";
}

static gboolean hides(const group_cfg *g)
{
    return !g->is_public;
}

const room_option opt_public = {
    .var = "muc#roomconfig_publicroom",
    .label = "List the group publicly",
    .kind = OPTION_BOOL,
    .offset = offsetof(group_cfg, is_public),
    .feature = feature,
    .hides = hides,
};
