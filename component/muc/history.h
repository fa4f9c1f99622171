/* history: the history and subject a joiner gets, the archived-message
 * stanza, MAM (XEP-0313). */
#ifndef IMGROUPS_HISTORY_H
#define IMGROUPS_HISTORY_H

#include "muc_int.h"

/* The history limits a joiner asked for (XEP-0045 §7.2.14). */
typedef struct history_req {
    int maxstanzas;
    int maxchars;
    gint64 since_us;
} history_req;

/* The limits asked in x (the join's muc <x/>, may be NULL), bounded. */
void history_request(xmpp_stanza_t *x, history_req *h);

/* Sends r's history within h to the session to of o. */
void history_send(muc *m, uplink *up, const room *r, const occ *o,
                  const char *to, const history_req *h);

/* Sends r's subject to to (XEP-0045 §7.2.15: last, empty if none). */
void history_send_subject(uplink *up, const room *r, const char *to);

/* Writes a stored message as a groupchat stanza into b, as text (the
 * fast path: serialised once, sent to many): body, subject, the payload
 * as sent, then live (NULL: none; what the live copy carries and the
 * archive does not: chat states, hints). A message without a stanza-id
 * (not archived) gets none. to: written in; NULL: an
 * empty 'to' whose value belongs at *to_at (uplink_fanout_text fills it
 * per recipient). id: the stanza's id (NULL: the origin-id). ns: the
 * message's xmlns (NULL on the component stream). delay: the XEP-0203
 * stamp (history), else it is live; real_jid: the sender's real JID
 * (history to those who see real JIDs). */
void history_text(GString *b, const room *r, const archive_msg *a,
                  const char *live, const char *to, gsize *to_at,
                  const char *id, const char *ns, gboolean real_jid,
                  gboolean delay);

/* XEP-0313 iq_fns (iq.h) on a room (iq->data a muc_call): the MAM query
 * form (get), and a query (set), whose messages go out before the <fin/>
 * the dispatcher sends as the result. */
enum xerr history_mam_form(const iq_req *iq, iq_res *res);
enum xerr history_mam_query(const iq_req *iq, iq_res *res);

#endif
