/* opt_registration: muc#roomconfig_registration: in a members-only room,
 * members must register a nick with the room (register.c) and use it. */
#include "opt_registration.h"

#include <stddef.h>

gboolean opt_registration_applies(const group_cfg *g)
{
    return g->registration && g->members_only;
}

enum xerr opt_registration_check(const group_cfg *g, enum affiliation aff,
                                 gboolean registered, gboolean own,
                                 const char **why)
{
    if (!opt_registration_applies(g))
        return XERR_NONE;
    /* XEP-0045 §7.2.9 leaves lockdown to the service; the condition for
     * "Inform user that the reserved roomnick must be used" is
     * not-acceptable (§15.2 error codes, 406), as Prosody's
     * enforce_registered_nickname answers. */
    if (registered && !own) {
        *why = "this group wants you to use the nick you registered with it";
        return XERR_NOT_ACCEPTABLE;
    }
    /* Owners and admins may always come in (to change this option). */
    if (!registered && aff != AFF_OWNER && aff != AFF_ADMIN) {
        *why = "register a nick with this group before you join it";
        return XERR_NOT_ACCEPTABLE;
    }
    return XERR_NONE;
}

const room_option opt_registration = {
    .var = "muc#roomconfig_registration",
    .label = "Members must register a nick and use it (members-only)",
    .kind = OPTION_BOOL,
    .offset = offsetof(group_cfg, registration),
};
