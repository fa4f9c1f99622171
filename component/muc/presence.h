/* presence: occupants' presence in a room (join, leave, nick change, the
 * kept presence, the broadcast); muc_presence in muc.h is its entry. */
#ifndef IMGROUPS_PRESENCE_H
#define IMGROUPS_PRESENCE_H

#include "muc_int.h"

/* o's presence as seen by the recipient to: to_moderator adds the real
 * JID; type NULL (available) or "unavailable"; new_nick for status 303;
 * status: extra codes, 0-terminated, may be NULL. Caller owns the result. */
xmpp_stanza_t *muc_occ_presence(uplink *up, const room *r, const occ *o,
                                const char *to, gboolean to_moderator,
                                const char *type, const char *new_nick,
                                const int *status);

/* o's presence to every session in the room: o's own sessions get
 * self_codes, everyone else others_codes. */
void muc_broadcast_presence(uplink *up, room *r, const occ *o, const char *type,
                            const char *new_nick, const int *self_codes,
                            const int *others_codes);

/* XEP-0045 §5.1.2/§10.2: whether viewer sees real JIDs in r. */
gboolean muc_sees_jids(const room *r, const occ *viewer);

/* o's kept presence replaced by what of st the room keeps (show, status,
 * priority, caps, photo hash; each bounded). */
void muc_keep_presence(occ *o, xmpp_stanza_t *st);

/* Adds to p (a <presence/>) what o's kept presence shows. */
void muc_add_shown(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const occ *o);

/* Removes occupant o from r (every session): each session gets
 * unavailable presence with status 110 and code, every other occupant
 * unavailable with code (XEP-0045: 301 banned, 307 kicked, 321 affiliation
 * change, 322 no longer a member of a members-only room); a legacy
 * occupant is told through the bridge's removed hook. actor_nick and
 * reason may be NULL. o is freed. */
void muc_remove(muc *m, uplink *up, room *r, occ *o, int code,
                const char *actor_nick, const char *reason);
/* The two halves of muc_remove, for callers that answer in between
 * (XEP-0045 §8.2: the kicked occupant first, then the moderator, then the
 * others): o's own sessions (or the bridge) are told; then everyone else,
 * and o leaves the room (freed). */
void muc_remove_tell_self(muc *m, uplink *up, room *r, occ *o, int code,
                          const char *actor_nick, const char *reason);
void muc_remove_tell_others(uplink *up, room *r, occ *o, int code,
                            const char *actor_nick, const char *reason);

#endif
