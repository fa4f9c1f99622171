/* muc_admin: placeholder while the module is written (not committed). */
#include "muc_int.h"

void muc_admin_iq(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                  xmpp_stanza_t *child)
{
    muc_reply_error(up, st, XERR_FEATURE_NOT_IMPLEMENTED, NULL);
}

void muc_admin_remove(muc *m, uplink *up, room *r, occ *o, int code,
                      const char *actor_nick, const char *reason)
{
}
