/* opt_moderated: muc#roomconfig_moderatedroom: in a moderated room newcomers
 * without an affiliation are visitors. */
#include "opt_moderated.h"

#include <stddef.h>

static const char *feature(const group_cfg *g)
{
    return g->moderated ? "muc_moderated" : "muc_unmoderated";
}

/* XEP-0045 §5.1.1: in a moderated room an unaffiliated user enters as a
 * visitor. */
static enum role role(const group_cfg *g, enum affiliation aff, enum role role)
{
    return g->moderated && aff == AFF_NONE && role == ROLE_PARTICIPANT
               ? ROLE_VISITOR
               : role;
}

const room_option opt_moderated = {
    .var = "muc#roomconfig_moderatedroom",
    .label = "Moderated",
    .kind = OPTION_BOOL,
    .offset = offsetof(group_cfg, moderated),
    .feature = feature,
    .role = role,
};
