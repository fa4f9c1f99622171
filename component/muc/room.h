/* room: one group's live state — its configuration (from the store) and
 * its occupants (memory only: who is in the room now). */
#ifndef IMGROUPS_ROOM_H
#define IMGROUPS_ROOM_H

#include <glib.h>
#include <strophe.h>

#include "affiliations.h"
#include "groups.h"

/* XEP-0045 §5.1, highest first. */
enum role {
    ROLE_MODERATOR,
    ROLE_PARTICIPANT,
    ROLE_VISITOR,
    ROLE_NONE,
};

const char *role_name(enum role r);

/* What a room keeps of an occupant's presence and shows every joiner
 * (presence.c decides what, each bounded where it enters); NULL when it
 * was not sent. Strings, not a stanza tree: one per occupant. */
typedef struct occ_shown {
    char *show, *status, *priority; /* their text, "" when empty */
    char *caps[4];                  /* XEP-0115 <c/>: hash, node, ver, ext */
    char *photo;                    /* XEP-0153 <photo/> in its <x/> */
    gboolean has_caps, has_vcard;   /* the <c/>, the vcard <x/> was sent */
} occ_shown;

/* Frees what s holds and zeroes it. */
void occ_shown_clear(occ_shown *s);

/* An occupant: one nick, one real bare JID, one or more sessions (full
 * JIDs) joined under that nick. Owned by its room. */
typedef struct occ {
    char *nick;          /* as the occupant chose it */
    char *nick_key;      /* nick_key(nick): nicks clash when these match */
    char *bare;          /* real bare JID; shown to moderators only */
    GPtrArray *sessions; /* full JIDs (char *, owned), newest last */
    enum affiliation aff;
    enum role role;
    char *occupant_id;       /* XEP-0421, stable per room and bare JID */
    occ_shown shown;         /* what its last <presence/> shows */
    /* A legacy occupant (no sessions): 'i' a member in contacts mode, 'c'
     * a participant of a bridged legacy chat; 0 for XMPP occupants. */
    char legacy_kind;
    char *legacy_account; /* the bot account it is reached through */
    char *legacy_handle;  /* its handle (chat: its nick) there */
    gint64 voice_asked;   /* clock_now() of its last voice request, or 0 */
} occ;

typedef struct room {
    char *name;          /* the group's localpart (folded) */
    char *jid;           /* name@component */
    group_cfg *cfg;      /* owned */
    GHashTable *by_nick; /* nick_key -> occ * (owned) */
    GHashTable *by_full; /* full JID -> occ * (borrowed); NULL while
                          * the room has no session */
    /* Message rate per real bare JID, whatever its sessions or nick, kept
     * across leave and rejoin while the room is loaded (bucket.h); NULL
     * until someone speaks (an idle room carries no empty table). */
    GHashTable *rates;
    /* Pending mediated invitations (XEP-0045 §7.8.2): invitee bare JID ->
     * who invited and until when; at most BOUND_INVITES_PER_ROOM. NULL
     * until the first invitation (an idle room costs less). */
    GHashTable *invites;
    /* Legacy occupants (added without a session) by bare JID -> occ *
     * (borrowed), so the bridge finds them in O(1); NULL until the first
     * one enters. */
    GHashTable *legacy;
} room;

/* Takes ownership of cfg. */
room *room_new(const char *component_jid, group_cfg *cfg);
void room_free(room *r);

/* The occupant a session belongs to, or NULL. */
occ *room_occ_by_full(room *r, const char *full);
/* The occupant holding nick (compared by nick_key, RFC 8266), or NULL. */
occ *room_occ_by_nick(room *r, const char *nick);

/* Adds a new occupant with one session (full), or with none (full NULL: a
 * legacy occupant, present through the bridge; it receives no stanzas);
 * nick must be free. Takes no ownership of its arguments. Returns the
 * occupant (owned by the room). */
occ *room_occ_add(room *r, const char *nick, const char *bare, const char *full,
                  enum affiliation aff, enum role role,
                  const char *occupant_id);
/* The legacy occupant (one added without a session) whose bare JID is
 * bare, or NULL. O(1). */
occ *room_occ_by_legacy(room *r, const char *bare);
/* Adds a session to an existing occupant. */
void room_session_add(room *r, occ *o, const char *full);
/* Removes one session; returns TRUE if it was the occupant's last, in which
 * case the occupant is removed and freed too (o is then invalid). */
gboolean room_session_remove(room *r, occ *o, const char *full);
/* Removes o with all its sessions; o is freed. */
void room_occ_remove(room *r, occ *o);
/* Renames an occupant; the new nick must be free. */
void room_occ_rename(room *r, occ *o, const char *nick);

/* The full JID shown for an occupant in an <item jid=…/> (its newest
 * session; a legacy occupant's bare JID). */
const char *room_occ_jid(const occ *o);

guint room_occupant_count(const room *r);

/* Remembers that inviter (a bare JID) invited bare at now (monotonic µs),
 * for BOUND_INVITE_TTL_S; past BOUND_INVITES_PER_ROOM pending, lapsed ones
 * and then the oldest are forgotten. */
void room_invite_add(room *r, const char *bare, const char *inviter,
                     gint64 now);
/* The inviter of bare's pending invitation at now (g_free), which is used
 * up; NULL if there is none. */
char *room_invite_take(room *r, const char *bare, gint64 now);

#endif
