/* sb: switchboards, the chat sessions: one-to-one ones for IMs, opened on
 * demand (XFR SB, USR, CAL; messages wait for JOI) or answered (RNG, ANS,
 * IRO), and the multi-party ones of the group chat (groupchat.c), which
 * call several people; messages both ways, split to the server's payload
 * limit, ACKed; typing and nudges. */
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

/* A typing notification to who, when a switchboard with them is up (none
 * is opened for it). */
void sb_send_typing(msn_session *s, const char *who);

/* A nudge to who, opening a switchboard as for a message. FALSE when who
 * is known to be offline or we are not connected. */
gboolean sb_send_nudge(msn_session *s, const char *who);

/* A P2P message (MIME headers and binary body, len bytes, at most
 * MSNP_SB_PAYLOAD_MAX) to who, with ack mode D: in the group chat's
 * switchboard when who is in it, else in one with who, opened if need be.
 * FALSE when it cannot go. */
gboolean sb_send_p2p(msn_session *s, const char *who, const char *payload,
                     gsize len);

/* ---- the group chat's switchboards (multi-party) ---- */
struct sb;

/* A new group chat switchboard (XFR SB, USR), which calls whoever
 * sb_invite() named once it is in; closed when nobody can be called. NULL
 * when not connected. Owned by s: it lives until groupchat_on_closed(). */
struct sb *sb_chat_open(msn_session *s);

/* Calls who into chat switchboard sb (now, or once it is in). */
void sb_invite(struct sb *sb, const char *who);

/* Text (UTF-8) said in sb, split like an IM; sent once someone is in. */
void sb_chat_say(struct sb *sb, const char *text);

/* A delivery mark behind what was said in sb (as sb_mark()). */
void sb_chat_mark(struct sb *sb, guint64 id);

/* Whether who is in sb; whether sb is open for messages; who is in it
 * (addresses borrowed from sb; g_list_free() the list). */
gboolean sb_has(const struct sb *sb, const char *who);
gboolean sb_is_ready(const struct sb *sb);
gboolean sb_is_chat(const struct sb *sb);
GList *sb_members(const struct sb *sb);

/* Leaves sb (OUT) and frees it; its marks settle as not delivered. */
void sb_leave(struct sb *sb);

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
