/* sb: switchboards, the one-to-one chat sessions: opened on demand (XFR SB,
 * USR, CAL; messages wait for JOI) or answered (RNG, ANS, IRO); messages
 * both ways, split to the server's payload limit; typing. */
#ifndef SB_H
#define SB_H

#include "msn.h"

/* Sends plain text (UTF-8) to who, opening a switchboard when none is up.
 * Returns 1, or a negative errno value when it cannot be sent (not
 * connected, who known to be offline). */
int sb_send_im(msn_session *s, const char *who, const char *text);

/* A delivery mark (imgroups_prpl.h) behind what was last given for who:
 * settled through msn_settle() once every piece before it is ACKed (ok),
 * or refused or lost (not ok); at once, from the main loop, when nothing
 * is on its way. Returns 0. */
int sb_mark(msn_session *s, const char *who, guint64 id);

/* A typing notification to who, when a switchboard with them is up. */
void sb_send_typing(msn_session *s, const char *who);

/* The notification server's answers: XFR SB's address and ticket for the
 * request trid; an error for a transaction (TRUE when it was an XFR). */
void sb_on_xfr(msn_session *s, guint trid, const char *host, int port,
               const char *ticket);
gboolean sb_on_xfr_error(msn_session *s, guint trid, int code);

/* RNG: caller invites us to a switchboard. */
void sb_on_rng(msn_session *s, const char *sessid, const char *host, int port,
               const char *ticket, const char *caller);

/* The first CHG is answered: switchboards waiting may be asked for. */
void sb_ns_ready(msn_session *s);

/* Closes and frees every switchboard of s. */
void sb_free_all(msn_session *s);

#endif
