/* options: the XEP-0045 room options (§10.2, muc#roomconfig), one small
 * module each (opt_*.c: Prosody's plugins/muc/<option>.lib.lua are the
 * model), listed in one ordered table. Each module owns its form field,
 * its disco feature, its join veto, what it does to roles, and what a
 * change of it does to the room; room code asks these questions here and
 * never names an option. */
#ifndef IMGROUPS_OPTIONS_H
#define IMGROUPS_OPTIONS_H

#include <glib.h>
#include <strophe.h>

#include "affiliations.h"
#include "groups.h"
#include "muc.h"
#include "room.h"
#include "xerr.h"

/* What a join veto may look at; all borrowed. */
typedef struct options_join {
    const group_cfg *g;
    enum affiliation aff;
    const char *password; /* offered in the join, NULL if none */
    guint occupants;      /* in the room now */
} options_join;

/* A configuration that was just stored, for the options' side effects;
 * everything borrowed for the call. m and up are the engine's (muc.h). */
typedef struct options_change {
    muc *m;
    uplink *up;
    room *r;              /* r->cfg is the new configuration */
    const group_cfg *was; /* the one it replaced */
} options_change;

/* How an option's form field holds its value in group_cfg. */
enum option_kind {
    OPTION_BOOL,   /* gboolean */
    OPTION_TEXT,   /* char * */
    OPTION_SECRET, /* char *, never shown back */
    OPTION_CHOICE, /* char *, one of choices */
    OPTION_WHOIS,  /* gboolean shown as a choice: choices[1] is TRUE */
    OPTION_UINT,   /* guint32, 0..G_MAXINT32 */
    OPTION_INT,    /* gint32, -1..100000 */
};

/* One room option: its muc#roomconfig field and its hooks; a NULL hook
 * has no say. Modules define one each as a const (opt_*.h). */
typedef struct room_option {
    const char *var;   /* the field's var */
    const char *label; /* shown to the owner */
    enum option_kind kind;
    size_t offset;              /* of the value in group_cfg */
    const char *const *choices; /* OPTION_CHOICE, OPTION_WHOIS; NULL-ended */
    /* The disco#info feature for g (a static string), or NULL. */
    const char *(*feature)(const group_cfg *g);
    /* Whether an occupant with affiliation aff may be in the room at all
     * (XERR_NONE) or the error for its join, with *why. Asked at every
     * join, of legacy members by the bridge (muc_may_enter), and of the
     * occupants when the affiliation or the option changes. */
    enum xerr (*admit)(const group_cfg *g, enum affiliation aff,
                       const char **why);
    /* Refuses one join (the room's state at the time), with *why. */
    enum xerr (*veto)(const options_join *j, const char **why);
    /* The role a newcomer with affiliation aff gets, given role as decided
     * so far (XEP-0045 §5.1.1). */
    enum role (*role)(const group_cfg *g, enum affiliation aff, enum role role);
    /* Whether the room keeps to itself (hidden from outsiders). */
    gboolean (*hides)(const group_cfg *g);
    /* Whether every occupant sees real JIDs (non-anonymous). */
    gboolean (*jids_public)(const group_cfg *g);
    /* Whether the room goes when its last occupant leaves. */
    gboolean (*temporary)(const group_cfg *g);
    /* The most history a joiner gets, or -1: no say. */
    int (*history_max)(const group_cfg *g);
    /* XEP-0045 §10.2.1: the status code telling occupants of the change
     * from was to now (172, 173...), or 0 when it is none of its kind. */
    int (*status)(const group_cfg *was, const group_cfg *now);
    /* After a new configuration is stored and its submitter answered. */
    void (*changed)(const options_change *c);
    /* Whether an occupant of this role may send private messages. */
    gboolean (*may_pm)(const group_cfg *g, enum role role);
    /* Whether an occupant of this role, not a moderator, may change the
     * subject (moderators always may, XEP-0045 §8.1). */
    gboolean (*may_set_subject)(const group_cfg *g, enum role role);
    /* Whether an occupant with affiliation aff may invite (XERR_NONE), or
     * the error with *why. */
    enum xerr (*may_invite)(const group_cfg *g, enum affiliation aff,
                            const char **why);
    /* Whether an invitation makes the invitee a member (so it can be
     * used). */
    gboolean (*invite_adds_member)(const group_cfg *g);
    /* The password an invitation carries, or NULL. */
    const char *(*invite_password)(const group_cfg *g);
} room_option;

/* The features of the room's configuration (static strings), appended to
 * out. */
void options_features(const group_cfg *g, GPtrArray *out);

/* The muc#roomconfig form (type 'form') with the current values; caller
 * owns it. */
xmpp_stanza_t *options_form(xmpp_ctx_t *ctx, const group_cfg *g);

/* Applies a submitted form to g (a copy the caller then stores). Fields
 * left out keep their value. Returns XERR_NONE, or XERR_NOT_ACCEPTABLE
 * with *why (static text) naming the field. */
enum xerr options_submit(group_cfg *g, xmpp_stanza_t *form, const char **why);

/* Whether an occupant with affiliation aff may be in a room configured g
 * at all (XERR_NONE), or the error and *why of the first option that
 * says no. */
enum xerr options_admit(const group_cfg *g, enum affiliation aff,
                        const char **why);

/* The first option that refuses this join (its admit, then its veto), as
 * an error and a text; or XERR_NONE. */
enum xerr options_join_veto(const options_join *j, const char **why);

/* The role a newcomer with affiliation aff gets in a room configured g
 * (XEP-0045 §5.1.1, "Initial Role Based on Affiliation"): the one rule,
 * for joins, legacy occupants and affiliation changes. */
enum role options_initial_role(const group_cfg *g, enum affiliation aff);

/* Whether the room keeps to itself (an option hides it). */
gboolean options_hidden(const group_cfg *g);

/* Whether everyone in the room sees real JIDs. */
gboolean options_jids_public(const group_cfg *g);

/* Whether the room goes when its last occupant leaves. */
gboolean options_temporary(const group_cfg *g);

/* The most history a joiner may get (>= 0). */
int options_history_max(const group_cfg *g);

/* XEP-0045 §10.2.1: the status code announcing the change from was to
 * now: an option's own (172, 173), else 104 ("a non-privacy-related room
 * configuration change"). */
int options_status(const group_cfg *was, const group_cfg *now);

/* Runs every option's side effect of the change (members-only: non-members
 * leave with 322). */
void options_changed(const options_change *c);

/* Whether an occupant of role may send private messages in g (every
 * option that has a say agrees). */
gboolean options_may_pm(const group_cfg *g, enum role role);

/* Whether an occupant of role may change the subject: moderators always
 * (XEP-0045 §8.1), others when an option allows it. */
gboolean options_may_set_subject(const group_cfg *g, enum role role);

/* XEP-0045 §7.8.2: whether an occupant with affiliation aff may invite
 * (XERR_NONE), else the first option's error with *why. */
enum xerr options_may_invite(const group_cfg *g, enum affiliation aff,
                             const char **why);

/* Whether an invitation makes its invitee a member (members-only, §9.3). */
gboolean options_invite_adds_member(const group_cfg *g);

/* The password an invitation carries (borrowed from g), or NULL. */
const char *options_invite_password(const group_cfg *g);

/* The table, for tests: *n entries, in form order. */
const room_option *const *options_table(size_t *n);

#endif
