/* message: what occupants say in a room: groupchat messages and subject
 * changes (muc_say), private messages, invitations and declines. */
#include "message.h"
#include "muc_int.h"
#include "options.h"
#include "history.h"
#include "retract.h"
#include "payload.h"
#include "voice.h"

#include <errno.h>
#include <string.h>

#include "archive.h"
#include "bounds.h"
#include "bucket.h"
#include "clock.h"
#include "groups.h"
#include "log.h"
#include "jid.h"
#include "stanza.h"

/* What one groupchat message says, borrowed for the call: body and/or
 * subject, the sender's ids, and what payload_split made of the rest. */
typedef struct say_args {
    const char *body, *subject;
    const char *origin_id, *id;
    const char *payload;    /* kept children as text, NULL: none */
    const char *live;       /* relayed only (chat states, hints), or NULL */
    const char *replace_id; /* XEP-0308: corrects the message with this id */
    gboolean no_store;      /* XEP-0334: relayed, not archived */
} say_args;

/* How far back a correction's original is looked for (XEP-0308 is about
 * the last message; clients correct a recent one). */
#define MESSAGE_CORRECT_WINDOW 200

typedef struct archive_args {
    muc *m;
    const char *group;
    archive_msg *msg;
    const occ *o;
    char from_kind;     /* the sender: 0 XMPP, 'i' legacy member, 'c' chat */
    gboolean forbidden; /* a correction of someone else's message */
} archive_args;

typedef struct original {
    const occ *o;
    const char *id;
    gboolean theirs, others;
} original;

static int original_seen(const archive_msg *a, void *userdata)
{
    original *w = userdata;

    if (g_strcmp0(a->client_id, w->id) && g_strcmp0(a->origin_id, w->id))
        return 0;
    if (muc_said_by(w->o, a)) {
        w->theirs = TRUE;
        return 1;
    }
    w->others = TRUE; /* ids are the clients' own: look on for theirs */
    return 0;
}

static int archive_txn(MDB_txn *txn, const store *st, void *userdata)
{
    archive_args *a = userdata;
    int rc;

    /* XEP-0308 §4: "A correction MUST only be allowed when both the
     * original message and correction originate from the same sender."
     * The original is the last message in the recent archive whose id
     * (the 'id' or origin-id: Conversations, Gajim and Dino send both
     * alike) is the one corrected; if only others said one with that id,
     * the correction is refused. One not found (older than the window, or
     * never archived) is relayed as Prosody does: the receiving clients
     * check the sender as §4 asks them to, by occupant-id. */
    if (a->msg->replace_id && a->o) {
        original w = {a->o, a->msg->replace_id, FALSE, FALSE};
        rc = archive_foreach_back(txn, st, a->group, MESSAGE_CORRECT_WINDOW,
                                  original_seen, &w);
        if (rc != 0)
            return rc;
        if (w.others && !w.theirs) {
            a->forbidden = TRUE;
            return -EPERM;
        }
    }
    rc = archive_append(txn, st, a->group, a->msg);
    /* The legacy side gets what was said (a body, or a payload such as a
     * reaction, which the bridge puts in words), not subject changes. */
    if (rc == 0 && (a->msg->body || a->msg->payload) && a->m->bridge.said)
        rc = a->m->bridge.said(txn, st, a->group, a->msg, a->from_kind,
                               a->m->bridge_data);
    return rc;
}

typedef struct subject_args {
    const room *r;
    const char *subject;
    const char *nick;
} subject_args;

static int subject_txn(MDB_txn *txn, const store *st, void *userdata)
{
    subject_args *a = userdata;
    group_cfg g = *a->r->cfg;

    g.subject = (char *)a->subject;
    g.subject_nick = (char *)a->nick;
    return groups_put(txn, st, &g);
}

/* Issue 11, item 2: the most bytes any copy of the message can take as
 * the room writes it: live, in history (delay, the sender's real JID) or
 * in a MAM result (forwarded, delay, the querier's JID twice, a queryid of
 * at most BOUND_ID_BYTES). What the sender chose is measured; a
 * recipient's JID is taken at [limits] attribute_size, the bound it came
 * in under. */
#define MESSAGE_TAGS_BYTES 1024 /* tag names, namespaces, stamps, ids */

static gsize worst_size(const muc *m, const room *r, const occ *o,
                        const say_args *s)
{
    gsize n = MESSAGE_TAGS_BYTES + 2 * (gsize)m->cfg->attribute_size +
              6 * BOUND_ID_BYTES + ARCHIVE_ID_LEN;

    n += 4 * stanza_escaped_len(r->jid);
    if (o)
        n += stanza_escaped_len(o->nick) + stanza_escaped_len(o->bare) +
             stanza_escaped_len(o->occupant_id);
    n += stanza_escaped_len(s->body) + stanza_escaped_len(s->subject) +
         stanza_escaped_len(s->origin_id) + stanza_escaped_len(s->id);
    n +=
        (s->payload ? strlen(s->payload) : 0) + (s->live ? strlen(s->live) : 0);
    return n;
}

/* A groupchat message (or subject change, body NULL) from o: checked,
 * archived unless it is only chat states or no-store, then fanned out to
 * every session and, through the bridge, to the group's legacy members.
 * Returns XERR_NONE or the error for the sender, with *why. */
static enum xerr say(muc *m, uplink *up, room *r, occ *o, const say_args *s,
                     const char **why)
{
    archive_msg a = {0};
    archive_args args = {m, r->name, &a, o, o ? o->legacy_kind : 0, FALSE};
    const char *body = s->body, *subject = s->subject;
    GError *err = NULL;
    enum xerr e = XERR_NONE;
    gboolean stored;

    if (o && o->role == ROLE_VISITOR) {
        *why = "visitors may not speak here";
        return XERR_FORBIDDEN;
    }
    if ((body && g_utf8_strlen(body, -1) > (glong)m->cfg->max_body) ||
        (subject && g_utf8_strlen(subject, -1) > (glong)m->cfg->max_body)) {
        *why = "the message is too long for this group";
        return XERR_POLICY_VIOLATION;
    }
    if (subject && strlen(subject) > BOUND_SUBJECT_BYTES) {
        *why = "the subject is too long for this service";
        return XERR_POLICY_VIOLATION;
    }
    if (s->origin_id && strlen(s->origin_id) > BOUND_ID_BYTES) {
        /* Archived and reused as the message id in history and MAM. */
        *why = "the origin-id is too long for this service";
        return XERR_POLICY_VIOLATION;
    }
    if (s->replace_id && strlen(s->replace_id) > BOUND_ID_BYTES) {
        *why = "the corrected id is too long for this service";
        return XERR_POLICY_VIOLATION;
    }
    if (m->cfg->stanza_limit && worst_size(m, r, o, s) > m->cfg->stanza_limit) {
        *why = "the message is too large for this group";
        return XERR_POLICY_VIOLATION;
    }
    /* What is kept: something said (a body, a subject, a payload such as
     * a reaction or a file), unless the sender asked for no-store. */
    stored = (body || subject || s->payload) && !s->no_store;
    if (!stored && !s->live && !body && !subject && !s->payload)
        return XERR_NONE; /* nothing to relay */
    if (o && !muc_rate_allows(m, r, o)) {
        /* Chat states are about now: over the rate they are dropped, not
         * answered with an error the client would show. */
        if (!body && !subject && !s->payload)
            return XERR_NONE;
        *why = "you are sending too fast; wait a moment";
        return XERR_RESOURCE_CONSTRAINT;
    }
    if (subject && !body) {
        subject_args sa = {r, subject, o ? o->nick : ""};
        /* XEP-0045 §8.1: moderators change the subject. A bridged legacy
         * chat's topic is that chat's own, set under its own rules. */
        if (o && o->legacy_kind != 'c' &&
            !options_may_set_subject(r->cfg, o->role)) {
            *why = "only moderators may change the subject";
            return XERR_FORBIDDEN;
        }
        if (store_write(m->st, subject_txn, &sa, &err) < 0) {
            log_error_about(LOG_STORE, r->name, "subject: %s", err->message);
            g_clear_error(&err);
            *why = NULL;
            return XERR_INTERNAL_SERVER_ERROR;
        }
        g_free(r->cfg->subject);
        g_free(r->cfg->subject_nick);
        r->cfg->subject = g_strdup(subject);
        r->cfg->subject_nick = g_strdup(sa.nick);
        if (m->bridge.subject)
            m->bridge.subject(r->name, sa.nick, subject, m->bridge_data);
    }
    a.time_us = clock_real();
    /* o NULL: the room itself (a legacy topic set by nobody present) */
    a.nick = o ? o->nick : "";
    a.occupant_id = o ? o->occupant_id : NULL;
    a.sender_jid = o ? o->bare : NULL;
    a.sender_account = o ? o->legacy_account : NULL;
    a.sender_handle = o ? o->legacy_handle : NULL;
    a.body = (char *)body;
    a.subject = body ? NULL : (char *)subject;
    a.origin_id = (char *)s->origin_id;
    a.client_id = (char *)s->id;
    a.payload = (char *)s->payload;
    a.replace_id = (char *)s->replace_id;
    /* DESIGN: a groupchat message is archived with its stanza-id before it
     * is fanned out, and queued for the legacy members in the same
     * transaction; nothing is acked before it is durable. */
    if (stored && store_write(m->st, archive_txn, &args, &err) < 0) {
        if (args.forbidden) {
            g_clear_error(&err);
            *why = "only the sender of a message may correct it";
            e = XERR_FORBIDDEN;
            goto leave;
        }
        log_error_about(LOG_STORE, r->name, "archive: %s", err->message);
        g_clear_error(&err);
        *why = "the message could not be stored; try again";
        e = XERR_RESOURCE_CONSTRAINT;
        goto leave;
    }
    muc_fanout_said(up, r, &a, s->live, s->id);
    if (stored && (body || s->payload) && m->bridge.wake)
        m->bridge.wake(r->name, m->bridge_data);
leave:
    /* a.nick etc. are borrowed; only what append assigned is ours. */
    g_free(a.stanza_id);
    return e;
}

enum xerr muc_say(muc *m, uplink *up, room *r, occ *o, const char *body,
                  const char *subject, const char *origin_id, const char *id,
                  const char **why)
{
    say_args s = {body, subject, origin_id, id, NULL, NULL, NULL, FALSE};

    return say(m, up, r, o, &s, why);
}

enum xerr muc_say_live(muc *m, uplink *up, room *r, occ *o, const char *body,
                       const char *live, const char **why)
{
    say_args s = {body, NULL, NULL, NULL, NULL, live, NULL, TRUE};

    return say(m, up, r, o, &s, why);
}

/* The bridge hears an XMPP occupant's chat state (a body alone says
 * "active": XEP-0085 §5.1, a message is sent when the user is active). */
static void tell_typing(muc *m, const room *r, const occ *o, xmpp_stanza_t *st,
                        gboolean body)
{
    xmpp_stanza_t *cs = xmpp_stanza_get_child_by_ns(st, NS_CHATSTATES);
    const char *state = cs ? xmpp_stanza_get_name(cs) : body ? "active" : NULL;

    if (state && o && !o->legacy_kind && m->bridge.typing)
        m->bridge.typing(r->name, o->bare, state, m->bridge_data);
}

static void groupchat(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    char *body = stanza_child_text(st, "body");
    char *subject = stanza_child_text(st, "subject");
    const char *why = NULL;
    payload p;
    say_args s;
    enum xerr e;

    /* Issue 11, item 2: the whole message, but what only the room may
     * say; chat states and hints relayed, never archived (items 3). */
    payload_split(st, m->cfg->jid, &p);
    s = (say_args){body,
                   subject,
                   p.origin_id,
                   xmpp_stanza_get_id(st),
                   p.kept->len ? p.kept->str : NULL,
                   p.live->len ? p.live->str : NULL,
                   p.replace_id,
                   p.no_store};
    e = say(m, up, r, o, &s, &why);
    if (e != XERR_NONE)
        muc_reply_error(up, st, e, why);
    else
        tell_typing(m, r, o, st, body != NULL);
    payload_clear(&p);
    if (body)
        xmpp_free(ctx, body);
    if (subject)
        xmpp_free(ctx, subject);
}

static void private_message(muc *m, uplink *up, room *r, occ *o,
                            xmpp_stanza_t *st, const char *nick)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    occ *target = room_occ_by_nick(r, nick);
    char *from = muc_occ_nick_jid(r, o);

    if (!target) {
        muc_reply_error(up, st, XERR_ITEM_NOT_FOUND, "no such occupant");
        goto leave;
    }
    /* muc#roomconfig_allowpm: who may send private messages. */
    if (!options_may_pm(r->cfg, o->role)) {
        muc_reply_error(up, st, XERR_NOT_ALLOWED,
                        "private messages are not allowed in this group");
        goto leave;
    }
    if (target->legacy_kind) {
        /* A legacy occupant: the bridge relays the body through the bot. */
        char *body = stanza_child_text(st, "body");
        enum xerr e = XERR_FEATURE_NOT_IMPLEMENTED;
        if (body && target->legacy_kind == 'i' && m->bridge.private_msg)
            e = m->bridge.private_msg(r->name, target->bare, o->nick, body,
                                      m->bridge_data);
        else if (!body)
            e = XERR_NONE; /* chat states: nothing to relay */
        if (e != XERR_NONE)
            muc_reply_error(up, st, e,
                            "private messages cannot reach this occupant");
        if (body)
            xmpp_free(ctx, body);
        goto leave;
    }
    /* XEP-0045 §7.5: from the sender's occupant JID to each session of the
     * recipient, marked with <x xmlns='…muc#user'/>. */
    for (guint i = 0; i < target->sessions->len; i++) {
        xmpp_stanza_t *out = xmpp_message_new(
            ctx, xmpp_stanza_get_type(st),
            g_ptr_array_index(target->sessions, i), xmpp_stanza_get_id(st));
        xmpp_stanza_set_from(out, from);
        /* Issue 9, item 9: no stanza-id by a room, delay, occupant-id or
         * muc#user items from the sender reach the recipient. */
        stanza_copy_relayable(out, st, m->cfg->jid);
        stanza_add(out, stanza_elem(ctx, "x", NS_MUC_USER));
        stanza_send(up, out);
    }
leave:
    g_free(from);
}

typedef struct member_args {
    const char *group;
    const char *bare;
} member_args;

static int member_txn(MDB_txn *txn, const store *st, void *userdata)
{
    member_args *a = userdata;
    enum affiliation cur;
    int rc = affiliations_get(txn, st, a->group, a->bare, &cur);

    if (rc == 0 && cur == AFF_NONE)
        rc = affiliations_set(txn, st, a->group, a->bare, AFF_MEMBER, NULL);
    return rc;
}

static guint count_children(xmpp_stanza_t *x, const char *name)
{
    guint n = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(x); c;
         c = xmpp_stanza_get_next(c))
        n += xmpp_stanza_is_tag(c) && !g_strcmp0(xmpp_stanza_get_name(c), name);
    return n;
}

/* XEP-0045 §7.8.2 mediated invitations: the room passes the <invite/> on
 * from its own JID, naming the inviter, with the password if there is one.
 * In a members-only room an invitation by an owner or admin makes the
 * invitee a member (§9.3), so the invitation can be used.
 *
 * One invitation per stanza (issue 9, item 10): §7.8.2 describes an
 * invitation as one <invite/> naming one invitee, and a room that sent one
 * message per <invite/> would let anyone multiply a stanza into N. A stanza
 * with more is refused whole with bad-request, so that nothing is sent on
 * the sender's behalf that it cannot tell apart from what was dropped
 * (Prosody relays the first silently). */
static void invite(muc *m, uplink *up, room *r, occ *o, xmpp_stanza_t *st,
                   xmpp_stanza_t *x)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(x, "invite");
    const char *to = xmpp_stanza_get_attribute(c, "to");
    char *reason = NULL;
    const char *why = NULL;
    enum xerr e;

    if (count_children(x, "invite") > 1) {
        muc_reply_error(up, st, XERR_BAD_REQUEST, "one invitation per message");
        return;
    }
    reason = stanza_reason(uplink_ctx(up), c);
    e = muc_invite(m, up, r, o->bare, o->aff, to, reason,
                   xmpp_stanza_get_id(st), &why);
    if (e != XERR_NONE)
        muc_reply_error(up, st, e, why);
    g_free(reason);
}

enum xerr muc_invite(muc *m, uplink *up, room *r, const char *inviter,
                     enum affiliation aff, const char *to, const char *reason,
                     const char *id, const char **why)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *msg, *ux, *inv;
    char *bare = NULL;
    GError *err = NULL;
    const char *password;
    enum xerr e = options_may_invite(r->cfg, aff, why);

    if (e != XERR_NONE)
        return e;
    if (!to || !(bare = jid_bare_fold(to))) {
        *why = "an invitation needs a valid 'to'";
        return XERR_JID_MALFORMED;
    }
    if (options_invite_adds_member(r->cfg)) {
        member_args ma = {r->name, bare};
        if (store_write(m->st, member_txn, &ma, &err) < 0) {
            log_error_about(LOG_STORE, r->name, "invitation: %s",
                            err ? err->message : "?");
            g_clear_error(&err);
            g_free(bare);
            return XERR_INTERNAL_SERVER_ERROR;
        }
    }
    msg = xmpp_message_new(ctx, NULL, to, id);
    xmpp_stanza_set_from(msg, r->jid);
    ux = stanza_elem(ctx, "x", NS_MUC_USER);
    inv = stanza_elem(ctx, "invite", NULL);
    xmpp_stanza_set_attribute(inv, "from", inviter);
    if (reason)
        stanza_add_text(ctx, inv, "reason", reason);
    stanza_add(ux, inv);
    if ((password = options_invite_password(r->cfg)))
        stanza_add_text(ctx, ux, "password", password);
    stanza_add(msg, ux);
    /* Remembered so that only this invitee's decline goes back, and only
     * to this inviter. */
    room_invite_add(r, bare, inviter, clock_now());
    stanza_send(up, msg);
    g_free(bare);
    return XERR_NONE;
}

/* XEP-0045 §7.8.2: a declined invitation goes back to the inviter, from
 * the room. Only from someone the room invited (issue 9, item 10), and
 * only to who invited them, whatever 'to' says: otherwise anyone could
 * make the room send a message to anyone. */
static void decline(uplink *up, room *r, xmpp_stanza_t *st, xmpp_stanza_t *x)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *d = xmpp_stanza_get_child_by_name(x, "decline");
    xmpp_stanza_t *msg, *ux, *dec;
    char *reason, *from_bare = jid_bare_fold(xmpp_stanza_get_from(st));
    char *inviter = from_bare ? room_invite_take(r, from_bare,
                                                 clock_now())
                              : NULL;

    if (!inviter) {
        muc_reply_error(up, st, XERR_NOT_ACCEPTABLE,
                        "there is no invitation of yours to decline");
        g_free(from_bare);
        return;
    }
    msg = xmpp_message_new(ctx, NULL, inviter, xmpp_stanza_get_id(st));
    xmpp_stanza_set_from(msg, r->jid);
    ux = stanza_elem(ctx, "x", NS_MUC_USER);
    dec = stanza_elem(ctx, "decline", NULL);
    xmpp_stanza_set_attribute(dec, "from", from_bare);
    if ((reason = stanza_reason(ctx, d))) {
        stanza_add_text(ctx, dec, "reason", reason);
        g_free(reason);
    }
    stanza_add(ux, dec);
    stanza_add(msg, ux);
    stanza_send(up, msg);
    g_free(inviter);
    g_free(from_bare);
}

void muc_message(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to)
{
    xmpp_stanza_t *user_x;
    const char *type = xmpp_stanza_get_type(st);
    gboolean missing = FALSE;
    room *r = muc_room_lookup(m, to->node, &missing);
    occ *o;

    if (type && (!strcmp(type, "error") || !strcmp(type, "headline")))
        return;
    if (!r) {
        muc_reply_error(
            up, st, missing ? XERR_ITEM_NOT_FOUND : XERR_INTERNAL_SERVER_ERROR,
            missing ? "no such group" : NULL);
        return;
    }
    user_x = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC_USER);
    if (!to->resource && user_x &&
        xmpp_stanza_get_child_by_name(user_x, "decline")) {
        decline(up, r, st, user_x);
        return;
    }
    o = room_occ_by_full(r, xmpp_stanza_get_from(st));
    if (!o) {
        /* XEP-0045 §7.4: messages from non-occupants are refused. */
        muc_reply_error(up, st, XERR_NOT_ACCEPTABLE,
                        "only occupants may send messages to this group");
        return;
    }
    if (!to->resource) {
        if (type && !strcmp(type, "groupchat") && retract_is_retraction(st))
            retract_groupchat(m, up, r, o, st); /* XEP-0424 */
        else if (type && !strcmp(type, "groupchat"))
            groupchat(m, up, r, o, st);
        else if (user_x && xmpp_stanza_get_child_by_name(user_x, "invite"))
            invite(m, up, r, o, st, user_x);
        else if (voice_is_request(st))
            voice_request(m, up, r, o, st); /* XEP-0045 §7.13 */
        else
            muc_reply_error(up, st, XERR_FEATURE_NOT_IMPLEMENTED, NULL);
        return;
    }
    if (type && !strcmp(type, "groupchat")) {
        /* XEP-0045 §7.5: a groupchat message to an occupant is wrong. */
        muc_reply_error(up, st, XERR_BAD_REQUEST,
                        "private messages are of type chat");
        return;
    }
    private_message(m, up, r, o, st, to->resource);
}
