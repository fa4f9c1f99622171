/* opt_password: muc#roomconfig_roomsecret: a password-protected room lets in
 * only who gives the password (owners need none). */
#include "opt_password.h"

#include <stddef.h>

static const char *feature(const group_cfg *g)
{
    return g->password && *g->password ? "muc_passwordprotected"
                                       : "muc_unsecured";
}

static enum xerr veto(const options_join *j, const char **why)
{
    /* XEP-0045 §7.2.5: "If the room requires a password and the user did
     * not supply one (or the password provided is incorrect), the service
     * MUST deny access to the room and inform the user that they are
     * unauthorized; this is done by returning a presence stanza of type
     * "error" specifying a <not-authorized/> error." */
    if (j->g->password && *j->g->password && j->aff != AFF_OWNER &&
        g_strcmp0(j->password, j->g->password) != 0) {
        *why = "a password is required to join this group";
        return XERR_NOT_AUTHORIZED;
    }
    return XERR_NONE;
}

/* XEP-0045 §7.8.2: a mediated invitation carries the room's password. */
static const char *invite_password(const group_cfg *g)
{
    return g->password && *g->password ? g->password : NULL;
}

const room_option opt_password = {
    .var = "muc#roomconfig_roomsecret",
    .label = "Password",
    .kind = OPTION_SECRET,
    .offset = offsetof(group_cfg, password),
    .feature = feature,
    .veto = veto,
    .invite_password = invite_password,
};
