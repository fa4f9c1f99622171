/* muc_int: what the modules of the MUC engine (muc.c, muc_admin.c...) share
 * and nothing else sees. */
#ifndef IMGROUPS_MUC_INT_H
#define IMGROUPS_MUC_INT_H

#include "muc.h"
#include "room.h"
#include "xerr.h"

#define NS_MUC_USER  "http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define MUC_SALT_LEN 32

struct muc {
    const config *cfg;
    store *st;
    GHashTable *rooms; /* name -> room * (owned) */
    GHashTable *joins; /* bare JID -> bucket: joins across rooms */
    guchar salt[MUC_SALT_LEN];
    muc_bridge_hooks bridge; /* all NULL until muc_set_bridge */
    void *bridge_data;
};

/* Answers st with error e (text may be NULL). */
void muc_reply_error(uplink *up, xmpp_stanza_t *st, enum xerr e,
                     const char *text);

/* An iq result to st carrying payload (may be NULL; reference taken). */
void muc_result(uplink *up, xmpp_stanza_t *st, xmpp_stanza_t *payload);

/* The room named name (folded localpart), loaded from the store on first
 * use; NULL with *missing TRUE when no such group exists, NULL with
 * *missing FALSE on a store error. Owned by the engine. */
room *muc_room_lookup(muc *m, const char *name, gboolean *missing);

/* bare's affiliation with r, from the store (AFF_NONE on any error). */
enum affiliation muc_affiliation(muc *m, const room *r, const char *bare);

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

/* muc#admin (XEP-0045 §8, §9): roles and affiliations; muc_admin.c. */
void muc_admin_iq(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                  xmpp_stanza_t *child);

/* Removes occupant o from r (every session): each session gets
 * unavailable presence with status 110 and code, every other occupant
 * unavailable with code (XEP-0045: 301 banned, 307 kicked, 321 affiliation
 * change, 322 no longer a member of a members-only room); reason may be
 * NULL. o is freed. */
void muc_admin_remove(muc *m, uplink *up, room *r, occ *o, int code,
                      const char *actor_nick, const char *reason);

/* Deletes r from the store (record, affiliations, archive) and from the
 * engine; r is freed. Returns 0, or -1 (logged) when the store refused. */
int muc_room_erase(muc *m, room *r);

/* muc#owner (XEP-0045 §10): configuration form, destruction; muc_owner.c. */
void muc_owner_iq(muc *m, uplink *up, room *r, xmpp_stanza_t *st,
                  xmpp_stanza_t *child);

/* muc.c, for muc_legacy.c: the occupant-id of bare in r (g_free); the
 * checks and work of a groupchat message from o (see muc_legacy_say; o
 * NULL: from the room itself);
 * whether viewer sees real JIDs; o's kept presence replaced by a copy of
 * st. */
char *muc_occupant_id(muc *m, const room *r, const char *bare);
enum xerr muc_say(muc *m, uplink *up, room *r, occ *o, const char *body,
                  const char *subject, const char *origin_id, const char *id,
                  const char **why);
gboolean muc_sees_jids(const room *r, const occ *viewer);
void muc_keep_presence(occ *o, xmpp_stanza_t *st);

/* muc_legacy.c: a moderator removed legacy occupant o (code as for
 * muc_admin_remove); the bridge tells the person. */
void muc_legacy_removed(muc *m, room *r, const occ *o, int code,
                        const char *reason);
/* The legacy occupant of r whose bare JID is bare, or NULL. */
occ *muc_legacy_occ(room *r, const char *bare);

/* ---- added by muc_admin.c ---- */

/* The form a bare JID is compared and stored in (schema/affiliations.md):
 * s (bare or full) without its resource, localpart case-folded and
 * normalised, domain lower-cased. Newly allocated (g_free); NULL if s is
 * not a valid JID. */
char *muc_bare(const char *s);

#endif
