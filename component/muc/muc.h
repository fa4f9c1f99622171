/* muc: the XEP-0045 engine — joining, leaving, nick changes, groupchat and
 * private messages, self-ping and room discovery, for every group. */
#ifndef IMGROUPS_MUC_H
#define IMGROUPS_MUC_H

#include <strophe.h>

#include "affiliations.h"
#include "archive.h"
#include "config.h"
#include "groups.h"
#include "iq.h"
#include "jid.h"
#include "store.h"
#include "uplink.h"
#include "xerr.h"

typedef struct muc muc;

/* cfg and st are borrowed and outlive the engine. Reads (or creates) the
 * service's occupant-id salt in the store. Caller owns *out. */
int muc_new(const config *cfg, store *st, muc **out, GError **err);
void muc_free(muc *m);

/* Stanzas addressed to a room or an occupant. The router has checked the
 * stanza (kind, type, from, to, iq shape) and parsed 'to'; st and to are
 * borrowed for the call. */
void muc_presence(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to);
void muc_message(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to);

/* The iq_fn (iq.h) for an iq get/set addressed to a room or an occupant;
 * q->data is the muc. A sub-dispatcher: it finds the room and the asker's
 * occupant and dispatches through the room's and the occupant's tables;
 * what a handler must send after the reply is left in res->after. */
enum xerr muc_iq(const iq_req *q, iq_res *res);

/* ---- the legacy bridge's view (bridge.c) ----
 * A legacy occupant has no XMPP session: its presence comes from the
 * bridge, and what the room says reaches it through the outbox, not as
 * stanzas. It is known by a bare JID the bridge makes up (shown to
 * moderators only, like any real JID). group: a folded localpart. */
typedef struct muc_bridge_hooks {
    /* Inside the transaction that archives each groupchat message with a
     * body (msg->seq and stanza_id assigned): queue it for the group's
     * legacy recipients. from_kind: the sender, 0 XMPP, 'i' a legacy
     * member, 'c' a legacy chat participant (msg->sender_account and
     * sender_handle say which). Non-zero (an LMDB error) refuses the
     * message. */
    int (*said)(MDB_txn *txn, const store *st, const char *group,
                const archive_msg *msg, char from_kind, void *userdata);
    /* Inside the transaction that withdraws message seq of group
     * (XEP-0424 by its sender, XEP-0425 by a moderator; the record is a
     * tombstone now): legacy recipients that already had it are told
     * "* nick deleted a message"; those still waiting for it never get
     * it. nick: who said it. Non-zero (an LMDB error) refuses the
     * retraction. */
    int (*retracted)(MDB_txn *txn, const store *st, const char *group,
                     guint64 seq, const char *nick, void *userdata);
    /* After a message was queued: the outbox has work. */
    void (*wake)(const char *group, void *userdata);
    /* An occupant changed the subject. */
    void (*subject)(const char *group, const char *nick, const char *subject,
                    void *userdata);
    /* A moderator removed a legacy occupant (XEP-0045 status: 307 kicked,
     * 301 banned, 321/322 affiliation); reason may be NULL. */
    void (*removed)(const char *group, const char *bare, int code,
                    const char *reason, void *userdata);
    /* A private message from from_nick to legacy occupant bare. Returns
     * XERR_NONE once queued, else the error for the sender. */
    enum xerr (*private_msg)(const char *group, const char *bare,
                             const char *from_nick, const char *body,
                             void *userdata);
    /* An XMPP occupant's groupchat message, relayed: it carried an
     * XEP-0085 chat state, or a body without one ("active"). bare: their
     * real bare JID; state: the chat state's element name. */
    void (*typing)(const char *group, const char *bare, const char *state,
                   void *userdata);
    /* An owner set or removed the room's avatar (schema/avatars). */
    void (*avatar)(const char *group, void *userdata);
} muc_bridge_hooks;

/* Copies hooks; any may be NULL. */
void muc_set_bridge(muc *m, const muc_bridge_hooks *hooks, void *userdata);

/* bare (kind 'i' or 'c', reached through account as handle) enters group
 * as nick, or updates its presence when already there; show: NULL
 * (available), "away", "xa" or "dnd"; photo: the SHA-1 (40 hex digits) of
 * its picture, shown as XEP-0153's hash (its image in schema/photos, the
 * occupant's vCard), "" for none, NULL when nothing is known (for an
 * occupant that showed one: none). Nicks follow RFC 8266 as everyone's
 * (nick.h; names from elsewhere go through nick_clean first). Returns
 * XERR_NONE, or with *why: NOT_ACCEPTABLE (the nick is refused),
 * ITEM_NOT_FOUND (no such group), CONFLICT (nick held by another),
 * FORBIDDEN (banned), or the room's join veto (members-only, full...). */
enum xerr muc_legacy_enter(muc *m, uplink *up, const char *group,
                           const char *bare, char kind, const char *account,
                           const char *handle, const char *nick,
                           const char *show, const char *photo,
                           const char **why);
/* From bare's occupant (in the room), relayed and never archived: state,
 * an XEP-0085 chat state ("composing", "paused", "active"), alone; or,
 * state NULL, an XEP-0224 attention with the body "* nick buzzed the
 * group" for clients that show no attention. ITEM_NOT_FOUND when bare is
 * not in the room, else as a groupchat message. */
enum xerr muc_legacy_signal(muc *m, uplink *up, const char *group,
                            const char *bare, const char *state,
                            const char **why);
/* bare leaves group (nothing if absent); status: shown text or NULL. */
void muc_legacy_exit(muc *m, uplink *up, const char *group, const char *bare,
                     const char *status);
/* Renames bare's occupant: XERR_CONFLICT if taken (RFC 8266 key),
 * NOT_ACCEPTABLE if refused, ITEM_NOT_FOUND if absent. */
enum xerr muc_legacy_rename(muc *m, uplink *up, const char *group,
                            const char *bare, const char *nick);
/* Says body (subject NULL) or sets the subject (body NULL) from bare's
 * occupant, with the checks a groupchat message gets (role, length, rate).
 * ITEM_NOT_FOUND when bare is not in the room. bare NULL sets the subject
 * as the room itself (a legacy topic whose setter is not present). */
enum xerr muc_legacy_say(muc *m, uplink *up, const char *group,
                         const char *bare, const char *body,
                         const char *subject, const char **why);
/* Whether nick is free in group for bare (held by nobody else). */
gboolean muc_legacy_nick_free(muc *m, const char *group, const char *nick,
                              const char *bare);
/* bare's current nick in group, or NULL (borrowed until the occupant
 * changes). */
const char *muc_legacy_nick(muc *m, const char *group, const char *bare);
/* The nicks of group's occupants, sorted (g_strfreev); NULL if no such
 * group. */
char **muc_occupant_nicks(muc *m, const char *group);
/* bare's affiliation with group; *exists FALSE when there is no group. */
enum affiliation muc_group_affiliation(muc *m, const char *group,
                                       const char *bare, gboolean *exists);
/* Whether legacy member bare may be in group at all, the room's options
 * deciding (members-only: its members, admins and owners): XERR_NONE, or
 * with *why ITEM_NOT_FOUND (no such group), FORBIDDEN (banned) or the
 * first option's refusal (REGISTRATION_REQUIRED: members only). The
 * bridge asks before it makes someone a member or accepts a buddy. */
enum xerr muc_may_enter(muc *m, const char *group, const char *bare,
                        const char **why);
/* The group's configuration (borrowed until the room changes), or NULL. */
const group_cfg *muc_group(muc *m, const char *group);

/* ---- the service admins' view (muc_service.c, admin/) ---- */

/* The occupants of group now, and how many of them are legacy (*legacy);
 * 0 for a group not loaded (nobody is in it). Loads nothing. */
guint muc_group_occupants(muc *m, const char *group, guint *legacy);
/* The same for every group together. */
guint muc_occupants_total(muc *m, guint *legacy);
/* A new group name (a folded localpart) owned by owner (a folded bare JID),
 * public and persistent with the defaults of a room made by a join.
 * XERR_NONE, or with *why: JID_MALFORMED (not a name the service can
 * key), CONFLICT (it exists), INTERNAL_SERVER_ERROR (the store). */
enum xerr muc_group_new(muc *m, const char *name, const char *owner,
                        const char **why);
/* text (borrowed) as a headline from the service to each session of each
 * XMPP occupant of any group, once per session whatever its groups (as
 * Prosody's announcement to whoever is online); not archived. Returns how
 * many people (bare JIDs) that is. */
guint muc_announce(muc *m, uplink *up, const char *text);
/* A mediated invitation (XEP-0045 §7.8.2) to to from inviter (a folded
 * bare JID, who need not be in the room), with the room's rules as for an
 * occupant's <invite/>; reason may be NULL. XERR_NONE, or with *why. */
enum xerr muc_group_invite(muc *m, uplink *up, const char *group,
                           const char *inviter, const char *to,
                           const char *reason, const char **why);

/* Tells every occupant the service is going down (XEP-0045 status 332) and
 * forgets them. */
void muc_shutdown(muc *m, uplink *up);

#endif
