/* muc_int: what the modules of the MUC engine (muc.c, muc_admin.c...) share
 * and nothing else sees. */
#ifndef IMGROUPS_MUC_INT_H
#define IMGROUPS_MUC_INT_H

#include "iq.h"
#include "muc.h"
#include "room.h"
#include "xerr.h"

#define NS_MUC_USER    "http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN   "http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER   "http://jabber.org/protocol/muc#owner"
#define NS_MUC         "http://jabber.org/protocol/muc"
#define NS_SID         "urn:xmpp:sid:0"
#define NS_OCCUPANT_ID "urn:xmpp:occupant-id:0"
#define NS_PING        "urn:xmpp:ping"
#define NS_DISCO_INFO  "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_DATA        "jabber:x:data"
#define NS_MAM         "urn:xmpp:mam:2"
/* Messages sent on join unless asked otherwise, and a new room's
 * history_len. */
#define MUC_HISTORY_DEFAULT 20
#define MUC_SALT_LEN        32

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

/* The room named name (folded localpart), loaded from the store on first
 * use; NULL with *missing TRUE when no such group exists, NULL with
 * *missing FALSE on a store error. Owned by the engine. */
room *muc_room_lookup(muc *m, const char *name, gboolean *missing);

/* bare's affiliation with r, from the store (AFF_NONE on any error). */
enum affiliation muc_affiliation(muc *m, const room *r, const char *bare);

/* What a room's iq handler (an iq_fn, iq.h) gets as iq_req.data: the
 * engine, the room, and the asker's occupant (NULL if not in the room). A
 * handler that must tell others only once the requester has its answer
 * (XEP-0045 §8.2: the kicked, then the moderator, then the others) sets
 * after: it runs once, after the one reply (iq_answer). */
typedef struct muc_call {
    muc *m;
    room *r;
    occ *o;
    void (*after)(void *data); /* frees data too */
    void *after_data;
} muc_call;

/* muc#admin (XEP-0045 §8, §9), muc_admin.c: the role and affiliation
 * lists (get), role and affiliation changes (set). */
enum xerr muc_admin_get(const iq_req *q, iq_res *res);
enum xerr muc_admin_set(const iq_req *q, iq_res *res);

/* muc#owner (XEP-0045 §10): configuration form, destruction; muc_owner.c. */
enum xerr muc_owner_get(const iq_req *q, iq_res *res);
enum xerr muc_owner_set(const iq_req *q, iq_res *res);
/* A message from the room to every occupant's sessions with status code
 * (XEP-0045 §10.2.1: 104, configuration changed; 172/173, anonymity). */
void muc_owner_notify_status(uplink *up, room *r, int code);

/* The one "same sender" rule (XEP-0308 §4 corrections, XEP-0424 §5
 * retractions): whether o said a: the same legacy member (bot account and
 * handle) for a legacy occupant, else the same real bare JID. */
gboolean muc_said_by(const occ *o, const archive_msg *a);

/* The occupant-id of bare in r (XEP-0421; g_free). */
char *muc_occupant_id(muc *m, const room *r, const char *bare);

/* r's JID with o's nick as resource (g_free). */
char *muc_occ_nick_jid(const room *r, const occ *o);

/* [service] room_creation, then [limits] max_rooms for non-admins: whether
 * bare may create a room; *why set when not. */
gboolean muc_may_create(muc *m, const char *bare, const char **why);

/* A new room name owned by owner, stored and added to the engine; NULL
 * (logged) when the store refused. Owned by the engine. */
room *muc_room_create(muc *m, const char *name, const char *owner);

/* st serialised once (st released): a fan-out for muc_fanout_to; free
 * with uplink_fanout_free. */
uplink_fanout *muc_fanout_of(uplink *up, xmpp_stanza_t *st);
/* Sends f's stanza to every session of to. */
void muc_fanout_to(uplink_fanout *f, const occ *to);

/* [limits] rate, burst: whether o may say one more thing in r now (one
 * token of its bucket: per room and real bare JID). */
gboolean muc_rate_allows(muc *m, room *r, const occ *o);

/* What was said in r (a, as archived; live: what only the live copy
 * carries, may be NULL) sent to every occupant, written once (issue 10,
 * item 4); id: the sender's, on every copy (XEP-0045 §7.4). */
void muc_fanout_said(uplink *up, room *r, const archive_msg *a,
                     const char *live, const char *id);

/* XEP-0045 §7.8.2: a mediated invitation from inviter (a bare JID with
 * affiliation aff) to to, from the room (message.c; an occupant's <invite/>
 * and an owner's ad-hoc command). reason, id may be NULL. XERR_NONE, or the
 * refusal with *why. */
enum xerr muc_invite(muc *m, uplink *up, room *r, const char *inviter,
                     enum affiliation aff, const char *to, const char *reason,
                     const char *id, const char **why);

/* Deletes r from the store (record, affiliations, archive) and from the
 * engine; r is freed. Returns 0, or -1 (logged) when the store refused. */
int muc_room_erase(muc *m, room *r);

#endif
