/* passport: the Passport 1.4 ("TWN") login over HTTP(S): the nexus gives
 * the login server (DALogin), the login server a ticket for USR TWN S. */
#ifndef PASSPORT_H
#define PASSPORT_H

#include "msn.h"

/* Starts the login for s->twn_challenge; ends in ns_ticket() or
 * msn_session_fail(). */
void passport_login(msn_session *s);

/* Cancels a login still running. */
void passport_cancel(msn_session *s);

#endif
