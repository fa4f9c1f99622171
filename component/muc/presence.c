/* presence: occupants' presence in a room: join, leave, nick change, the
 * checks on what a presence may carry, the kept presence, the broadcast. */
#include "presence.h"
#include "avatar.h"
#include "notice.h"
#include "muc_int.h"
#include "history.h"
#include "options.h"
#include "register.h"

#include <string.h>

#include "bounds.h"
#include "bucket.h"
#include "clock.h"
#include "log.h"
#include "nick.h"
#include "jid.h"
#include "stanza.h"

#define NS_CAPS    "http://jabber.org/protocol/caps"
#define NS_VCARD_X "vcard-temp:x:update"
#define NS_CLIENT  "jabber:client"

/* XEP-0045 §5.1.2/§10.2: in a semi-anonymous room only moderators see real
 * JIDs; in a non-anonymous room everyone does. */
gboolean muc_sees_jids(const room *r, const occ *viewer)
{
    return viewer->role == ROLE_MODERATOR || options_jids_public(r->cfg);
}

/* Presence of occupant o as the recipient sees it. status: extra codes,
 * 0-terminated. Semi-anonymous (XEP-0045 §7.2.4): the real JID only for
 * moderators. */
xmpp_stanza_t *muc_occ_presence(uplink *up, const room *r, const occ *o,
                                const char *to, gboolean to_moderator,
                                const char *type, const char *new_nick,
                                const int *status)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *p = xmpp_presence_new(ctx);
    xmpp_stanza_t *x, *item;
    char *from = muc_occ_nick_jid(r, o);

    xmpp_stanza_set_from(p, from);
    xmpp_stanza_set_to(p, to);
    if (type)
        xmpp_stanza_set_type(p, type);
    else
        muc_add_shown(ctx, p, o); /* show, status, priority, caps... */
    x = stanza_elem(ctx, "x", NS_MUC_USER);
    item = stanza_elem(ctx, "item", NULL);
    xmpp_stanza_set_attribute(item, "affiliation", affiliation_name(o->aff));
    xmpp_stanza_set_attribute(item, "role", type ? "none" : role_name(o->role));
    if (to_moderator)
        xmpp_stanza_set_attribute(item, "jid", room_occ_jid(o));
    if (new_nick)
        xmpp_stanza_set_attribute(item, "nick", new_nick);
    stanza_add(x, item);
    for (; status && *status; status++) {
        xmpp_stanza_t *s = stanza_elem(ctx, "status", NULL);
        char code[8];
        g_snprintf(code, sizeof(code), "%d", *status);
        xmpp_stanza_set_attribute(s, "code", code);
        stanza_add(x, s);
    }
    stanza_add(p, x);
    if (o->occupant_id) {
        xmpp_stanza_t *oid = stanza_elem(ctx, "occupant-id", NS_OCCUPANT_ID);
        xmpp_stanza_set_attribute(oid, "id", o->occupant_id);
        stanza_add(p, oid);
    }
    g_free(from);
    return p;
}

/* Sends o's presence to every session of every occupant; self gets 110
 * plus self_codes, the others get others_codes. */
void muc_broadcast_presence(uplink *up, room *r, const occ *o, const char *type,
                            const char *new_nick, const int *self_codes,
                            const int *others_codes)
{
    /* DESIGN: serialised once per variant (own, with real JID, without),
     * each recipient gets that text with only 'to' changed. */
    uplink_fanout *self =
        muc_fanout_of(up, muc_occ_presence(up, r, o, r->jid, TRUE, type,
                                           new_nick, self_codes));
    uplink_fanout *with_jid =
        muc_fanout_of(up, muc_occ_presence(up, r, o, r->jid, TRUE, type,
                                           new_nick, others_codes));
    uplink_fanout *plain =
        muc_fanout_of(up, muc_occ_presence(up, r, o, r->jid, FALSE, type,
                                           new_nick, others_codes));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *to = value;
        /* Moderators see real JIDs; everyone sees their own. */
        muc_fanout_to(to == o                ? self
                      : muc_sees_jids(r, to) ? with_jid
                                             : plain,
                      to);
    }
    uplink_fanout_free(self);
    uplink_fanout_free(with_jid);
    uplink_fanout_free(plain);
}

/* ---- what an occupant's presence may carry ---- */

/* An element of the stanza's own namespace (a client's <show/> arrives
 * with no xmlns of its own, or with jabber:client). */
static gboolean plain(xmpp_stanza_t *c, const char *name)
{
    const char *ns = xmpp_stanza_get_ns(c);

    return !g_strcmp0(xmpp_stanza_get_name(c), name) &&
           (!ns || !strcmp(ns, NS_CLIENT) ||
            !strcmp(ns, "jabber:component:accept"));
}

static gboolean text_within(xmpp_stanza_t *c, gsize max)
{
    char *t = xmpp_stanza_get_text(c);
    gboolean ok = !t || strlen(t) <= max;

    if (t)
        xmpp_free(xmpp_stanza_get_context(c), t);
    return ok;
}

static enum xerr check_show(xmpp_stanza_t *c, const char **why)
{
    static const char *const shows[] = {"away", "chat", "dnd", "xa"};
    char *t = xmpp_stanza_get_text(c);
    gboolean ok = FALSE;

    /* RFC 6121 §4.7.2.1: one of four values. */
    for (size_t i = 0; t && i < G_N_ELEMENTS(shows); i++)
        ok = ok || !strcmp(t, shows[i]);
    if (t)
        xmpp_free(xmpp_stanza_get_context(c), t);
    *why = "<show/> is one of away, chat, dnd, xa";
    return ok ? XERR_NONE : XERR_BAD_REQUEST;
}

static enum xerr check_status(xmpp_stanza_t *c, const char **why)
{
    *why = "the status text is too long for this service";
    return text_within(c, BOUND_STATUS_BYTES) ? XERR_NONE
                                              : XERR_POLICY_VIOLATION;
}

static enum xerr check_priority(xmpp_stanza_t *c, const char **why)
{
    char *t = xmpp_stanza_get_text(c), *end = NULL;
    gint64 v = t ? g_ascii_strtoll(t, &end, 10) : 0;
    gboolean ok = t && *t && end && !*end && v >= -128 && v <= 127;

    if (t)
        xmpp_free(xmpp_stanza_get_context(c), t);
    /* RFC 6121 §4.7.2.3: an integer between -128 and +127. */
    *why = "<priority/> is an integer from -128 to 127";
    return ok ? XERR_NONE : XERR_BAD_REQUEST;
}

/* XEP-0115 attributes a client's <c/> carries on; nothing else is kept. */
static const char *const caps_attrs[] = {"hash", "node", "ver", "ext"};

static enum xerr check_caps(xmpp_stanza_t *c, const char **why)
{
    for (size_t i = 0; i < G_N_ELEMENTS(caps_attrs); i++) {
        const char *v = xmpp_stanza_get_attribute(c, caps_attrs[i]);
        if (v && strlen(v) > BOUND_CAPS_BYTES) {
            *why = "the caps element is too long for this service";
            return XERR_POLICY_VIOLATION;
        }
    }
    return XERR_NONE;
}

static enum xerr check_photo(xmpp_stanza_t *c, const char **why)
{
    xmpp_stanza_t *photo = xmpp_stanza_get_child_by_name(c, "photo");

    *why = "the vCard photo hash is too long for this service";
    return !photo || text_within(photo, BOUND_PHOTO_BYTES)
               ? XERR_NONE
               : XERR_POLICY_VIOLATION;
}

/* c's text cut to max bytes (whole UTF-8 characters); "" when it has
 * none. g_free. */
static char *text_cut(xmpp_stanza_t *c, gsize max)
{
    char *t = xmpp_stanza_get_text(c);
    char *cut = stanza_utf8_cut(t ? t : "", max);

    if (t)
        xmpp_free(xmpp_stanza_get_context(c), t);
    return cut;
}

/* <name>text</name>, the text left out when empty (as it came). */
static void show_text(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const char *name,
                      const char *text)
{
    xmpp_stanza_t *e;

    if (!text)
        return;
    e = stanza_elem(ctx, name, NULL);
    if (*text) {
        xmpp_stanza_t *t = xmpp_stanza_new(ctx);
        xmpp_stanza_set_text(t, text);
        stanza_add(e, t);
    }
    stanza_add(p, e);
}

static void keep_show(occ_shown *s, xmpp_stanza_t *c)
{
    s->show = text_cut(c, 4);
}

static void keep_status(occ_shown *s, xmpp_stanza_t *c)
{
    s->status = text_cut(c, BOUND_STATUS_BYTES);
}

static void keep_priority(occ_shown *s, xmpp_stanza_t *c)
{
    s->priority = text_cut(c, 4);
}

static void keep_caps(occ_shown *s, xmpp_stanza_t *c)
{
    s->has_caps = TRUE;
    for (size_t i = 0; i < G_N_ELEMENTS(caps_attrs); i++) {
        const char *v = xmpp_stanza_get_attribute(c, caps_attrs[i]);
        if (v && strlen(v) <= BOUND_CAPS_BYTES)
            s->caps[i] = g_strdup(v);
    }
}

static void keep_photo(occ_shown *s, xmpp_stanza_t *c)
{
    xmpp_stanza_t *photo = xmpp_stanza_get_child_by_name(c, "photo");

    s->has_vcard = TRUE;
    if (photo)
        s->photo = text_cut(photo, BOUND_PHOTO_BYTES);
}

static void show_show(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const occ_shown *s)
{
    show_text(ctx, p, "show", s->show);
}

static void show_status(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const occ_shown *s)
{
    show_text(ctx, p, "status", s->status);
}

static void show_priority(xmpp_ctx_t *ctx, xmpp_stanza_t *p,
                          const occ_shown *s)
{
    show_text(ctx, p, "priority", s->priority);
}

static void show_caps(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const occ_shown *s)
{
    xmpp_stanza_t *e;

    if (!s->has_caps)
        return;
    e = stanza_elem(ctx, "c", NS_CAPS);
    for (size_t i = 0; i < G_N_ELEMENTS(caps_attrs); i++)
        if (s->caps[i])
            xmpp_stanza_set_attribute(e, caps_attrs[i], s->caps[i]);
    stanza_add(p, e);
}

static void show_photo(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const occ_shown *s)
{
    xmpp_stanza_t *e;

    if (!s->has_vcard)
        return;
    e = stanza_elem(ctx, "x", NS_VCARD_X);
    show_text(ctx, e, "photo", s->photo);
    stanza_add(p, e);
}

/* What of a client's presence the room keeps and shows every joiner
 * (issue 9: the kept presence is re-sent on every join, so it holds only
 * these, the first of each, each bounded): show, status, priority, XEP-0115
 * caps, the XEP-0153 photo hash. The muc <x/> (history, password) and
 * everything else stays behind. Kept as strings (occ_shown), not as a
 * stanza tree: an occupant costs a few bytes for them (issue 10). */
static const struct {
    const char *name, *ns; /* ns NULL: the stanza's own namespace */
    enum xerr (*check)(xmpp_stanza_t *c, const char **why);
    void (*keep)(occ_shown *s, xmpp_stanza_t *c);
    void (*show)(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const occ_shown *s);
} kept[] = {
    {"show", NULL, check_show, keep_show, show_show},
    {"status", NULL, check_status, keep_status, show_status},
    {"priority", NULL, check_priority, keep_priority, show_priority},
    {"c", NS_CAPS, check_caps, keep_caps, show_caps},
    {"x", NS_VCARD_X, check_photo, keep_photo, show_photo},
};

static int kept_index(xmpp_stanza_t *c)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
        if (kept[i].ns ? stanza_is(c, kept[i].name, kept[i].ns)
                       : plain(c, kept[i].name))
            return (int)i;
    return -1;
}

/* Refuses a client's presence whose kept parts are out of bounds. */
static enum xerr presence_check(xmpp_stanza_t *st, const char **why)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        int i = xmpp_stanza_is_tag(c) ? kept_index(c) : -1;
        enum xerr e = i >= 0 ? kept[i].check(c, why) : XERR_NONE;
        if (e != XERR_NONE)
            return e;
    }
    return XERR_NONE;
}

void muc_keep_presence(occ *o, xmpp_stanza_t *st)
{
    guint seen = 0;

    occ_shown_clear(&o->shown);
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        int i = xmpp_stanza_is_tag(c) ? kept_index(c) : -1;
        if (i < 0 || (seen & (1u << i)))
            continue;
        seen |= 1u << i;
        kept[i].keep(&o->shown, c);
    }
}

void muc_add_shown(xmpp_ctx_t *ctx, xmpp_stanza_t *p, const occ *o)
{
    for (size_t i = 0; i < G_N_ELEMENTS(kept); i++)
        kept[i].show(ctx, p, &o->shown);
}

/* [limits] join_rate, join_burst: joins per bare JID across every room,
 * whatever the resource (issue 9, item 6). */
static gboolean join_allowed(muc *m, const char *bare)
{
    gint64 now = clock_now();
    bucket *b = bucket_table_get(m->joins, bare, m->cfg->join_rate,
                                 m->cfg->join_burst, BOUND_JOIN_BUCKETS, now);

    return bucket_take(b, m->cfg->join_rate, m->cfg->join_burst, now);
}

/* nick: prepared (nick_prepare); modified: it differs from what the client
 * asked for, so its self-presence carries status 210. */
static void join(muc *m, uplink *up, room *r, gboolean created,
                 xmpp_stanza_t *st, const char *full, const char *bare,
                 const char *nick, gboolean modified)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC);
    occ *o = room_occ_by_nick(r, nick);
    enum affiliation aff;
    history_req h;
    GHashTableIter it;
    gpointer value;
    int self_codes[5] = {110, 0, 0, 0, 0};
    int n = 1;

    if (o && strcmp(o->bare, bare) != 0) {
        /* XEP-0045 §7.2.9: another user holds the nick; nicks are compared
         * by their RFC 8266 key, so a look-alike is the same nick. */
        muc_reply_error(up, st, XERR_CONFLICT, "that nick is in use");
        return;
    }
    /* A room created for this join has counted it already. */
    if (!created && !join_allowed(m, bare)) {
        muc_reply_error(up, st, XERR_RESOURCE_CONSTRAINT,
                        "you are joining groups too fast; wait a moment");
        return;
    }
    aff = o ? o->aff : muc_affiliation(m, r, bare);
    if (aff == AFF_OUTCAST) {
        /* XEP-0045 §7.2.7: banned users get forbidden. */
        muc_reply_error(up, st, XERR_FORBIDDEN,
                        "you are banned from this group");
        return;
    }
    if (!o) {
        char *password = x ? stanza_child_text(x, "password") : NULL;
        const char *why = NULL;
        options_join j = {r->cfg, aff, password, room_occupant_count(r)};
        enum xerr e = options_join_veto(&j, &why);
        if (password)
            xmpp_free(uplink_ctx(up), password);
        if (e != XERR_NONE) {
            muc_reply_error(up, st, e, why);
            return;
        }
    }
    history_request(x, &h);
    if (h.maxstanzas > options_history_max(r->cfg))
        h.maxstanzas = options_history_max(r->cfg);
    if (o) {
        /* Another session of the same user under the same nick joins the
         * occupant; the others see no change. */
        room_session_add(r, o, full);
    } else {
        char *oid = muc_occupant_id(m, r, bare);
        o = room_occ_add(r, nick, bare, full, aff,
                         options_initial_role(r->cfg, aff), oid);
        g_free(oid);
    }
    muc_keep_presence(o, st);
    /* XEP-0045 §7.2.3: first the presence of every occupant already
     * there, then the joiner's own presence (status 110 last). */
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *other = value;
        if (other != o)
            stanza_send(up, muc_occ_presence(up, r, other, full,
                                             muc_sees_jids(r, o), NULL, NULL,
                                             NULL));
    }
    if (o->sessions->len == 1) {
        static const int none[] = {0};
        GHashTableIter it2;
        g_hash_table_iter_init(&it2, r->by_nick);
        while (g_hash_table_iter_next(&it2, NULL, &value)) {
            const occ *to = value;
            if (to == o)
                continue;
            for (guint i = 0; i < to->sessions->len; i++)
                stanza_send(up,
                            muc_occ_presence(
                                up, r, o, g_ptr_array_index(to->sessions, i),
                                muc_sees_jids(r, to), NULL, NULL, none));
        }
    }
    if (options_jids_public(r->cfg))
        self_codes[n++] = 100; /* XEP-0045 §7.2.4: real JIDs are public */
    if (created)
        self_codes[n++] = 201; /* XEP-0045 §10.1.1: a new room */
    if (modified)
        self_codes[n++] = 210; /* XEP-0045 §7.2.3: the service changed the
                                * nick (RFC 8266 mapping) */
    stanza_send(up,
                muc_occ_presence(up, r, o, full, TRUE, NULL, NULL, self_codes));
    avatar_tell_session(m, up, r, full); /* XEP-0153: the room's avatar */
    history_send(m, up, r, o, full, &h);
    history_send_subject(up, r, full);
    notice_first_contact(m, up, r, o, full); /* once per person */
    log_debug(LOG_ROUTER, "room %s: %u occupants", r->name,
              room_occupant_count(r));
}

static void leave(uplink *up, room *r, occ *o, xmpp_stanza_t *st,
                  const char *full)
{
    static const int self[] = {110, 0};

    if (o->sessions->len > 1) {
        /* One session of several leaves: only it is told. */
        stanza_send(up, muc_occ_presence(up, r, o, full, TRUE, "unavailable",
                                         NULL, self));
        room_session_remove(r, o, full);
        return;
    }
    muc_broadcast_presence(up, r, o, "unavailable", NULL, self, NULL);
    room_session_remove(r, o, full);
}

static void change_nick(uplink *up, room *r, occ *o, xmpp_stanza_t *st,
                        const char *nick)
{
    static const int self303[] = {303, 110, 0}, others303[] = {303, 0};
    static const int self[] = {110, 0}, none[] = {0};

    occ *holder = room_occ_by_nick(r, nick);

    /* XEP-0045 §7.6.3: a nick someone else holds (compared by RFC 8266
     * key) is a conflict; one's own in another case is a rename. */
    if (holder && holder != o) {
        muc_reply_error(up, st, XERR_CONFLICT, "that nick is in use");
        return;
    }
    /* XEP-0045 §7.6: unavailable with 303 and the new nick, then available
     * under the new nick. */
    muc_broadcast_presence(up, r, o, "unavailable", nick, self303, others303);
    room_occ_rename(r, o, nick);
    muc_keep_presence(o, st);
    muc_broadcast_presence(up, r, o, NULL, NULL, self, none);
}

void muc_presence(muc *m, uplink *up, xmpp_stanza_t *st, const jid *to)
{
    const char *type = xmpp_stanza_get_type(st);
    const char *full = xmpp_stanza_get_from(st);
    gboolean missing = FALSE, created = FALSE;
    const char *why = NULL;
    room *r;
    occ *o;
    char *bare, *nick = NULL;
    enum xerr e;

    if (type && strcmp(type, "unavailable") != 0) {
        /* error, probe, subscriptions: nothing for a room to do. */
        return;
    }
    /* Real JIDs are compared and stored folded (schema/affiliations.md). */
    bare = jid_bare_fold(full);
    if (!bare)
        return;
    r = muc_room_lookup(m, to->node, &missing);
    if (!r && missing && !type && to->resource &&
        muc_may_create(m, bare, &why)) {
        /* A creation counts against the join limit too: over it, no room
         * is made for a join that would then be refused. */
        if (!join_allowed(m, bare)) {
            muc_reply_error(up, st, XERR_RESOURCE_CONSTRAINT,
                            "you are joining groups too fast; wait a moment");
            goto leave;
        }
        r = muc_room_create(m, to->node, bare);
        created = r != NULL;
    }
    if (!r) {
        /* XEP-0045 §10.1.1: a user who may not create rooms gets
         * not-allowed; without a nick there is nothing to create. */
        if (!type && missing && to->resource)
            muc_reply_error(up, st, XERR_NOT_ALLOWED, why);
        else if (!type)
            muc_reply_error(up, st,
                            missing ? XERR_ITEM_NOT_FOUND
                                    : XERR_INTERNAL_SERVER_ERROR,
                            missing ? "no such group" : NULL);
        goto leave;
    }
    o = room_occ_by_full(r, full);
    if (type) {
        if (o) {
            leave(up, r, o, st, full);
            /* A temporary room goes with its last occupant. */
            if (room_occupant_count(r) == 0 && options_temporary(r->cfg))
                muc_room_erase(m, r);
        }
        goto leave;
    }
    if (!to->resource) {
        /* XEP-0045 §7.2.1: a join needs a nick. */
        muc_reply_error(up, st, XERR_JID_MALFORMED, "a nick is required");
        goto leave;
    }
    /* XEP-0045 §7.2.3 leaves the nick policy to the service: RFC 8266. */
    if (nick_prepare(to->resource, &nick, &why) < 0) {
        muc_reply_error(up, st, XERR_NOT_ACCEPTABLE, why);
        goto leave;
    }
    if ((e = presence_check(st, &why)) != XERR_NONE) {
        muc_reply_error(up, st, e, why);
        goto leave;
    }
    /* XEP-0045 §7.10: a registered nick is its owner's (register.c). */
    if ((!o || strcmp(o->nick, nick) != 0) &&
        (e = register_join_check(m, r, o, bare, nick, &why)) != XERR_NONE) {
        muc_reply_error(up, st, e, why);
        goto leave;
    }
    if (!o)
        join(m, up, r, created, st, full, bare, nick,
             strcmp(nick, to->resource) != 0);
    else if (strcmp(o->nick, nick) == 0) {
        static const int self[] = {110, 0}, none[] = {0};
        muc_keep_presence(o, st);
        muc_broadcast_presence(up, r, o, NULL, NULL, self, none);
    } else
        change_nick(up, r, o, st, nick);
leave:
    g_free(nick);
    g_free(bare);
}

/* ---- removal (kick, ban, loss of membership) ---- */

/* Adds <actor nick/> and <reason/> to the muc#user item of presence p. */
static void add_actor_reason(xmpp_ctx_t *ctx, xmpp_stanza_t *p,
                             const char *actor_nick, const char *reason)
{
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(p, "x", NS_MUC_USER);
    xmpp_stanza_t *item = x ? xmpp_stanza_get_child_by_name(x, "item") : NULL;

    if (!item)
        return;
    if (actor_nick) {
        xmpp_stanza_t *a = stanza_elem(ctx, "actor", NULL);
        xmpp_stanza_set_attribute(a, "nick", actor_nick);
        stanza_add(item, a);
    }
    if (reason)
        stanza_add_text(ctx, item, "reason", reason);
}

/* The removed occupant's own sessions: unavailable with 110 and code. */
void muc_remove_tell_self(muc *m, uplink *up, room *r, occ *o, int code,
                          const char *actor_nick, const char *reason)
{
    const int self[] = {110, code, 0};

    if (o->sessions->len == 0)
        /* A legacy occupant: the bridge tells the person. */
        if (m->bridge.removed)
            m->bridge.removed(r->name, o->bare, code, reason, m->bridge_data);
    for (guint i = 0; i < o->sessions->len; i++) {
        xmpp_stanza_t *p =
            muc_occ_presence(up, r, o, g_ptr_array_index(o->sessions, i), TRUE,
                             "unavailable", NULL, self);
        add_actor_reason(uplink_ctx(up), p, actor_nick, reason);
        stanza_send(up, p);
    }
}

/* Everyone else: unavailable with code; then o leaves the room (freed). */
void muc_remove_tell_others(uplink *up, room *r, occ *o, int code,
                            const char *actor_nick, const char *reason)
{
    const int others[] = {code, 0};
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const occ *to = value;
        if (to == o)
            continue;
        for (guint i = 0; i < to->sessions->len; i++) {
            xmpp_stanza_t *p = muc_occ_presence(
                up, r, o, g_ptr_array_index(to->sessions, i),
                muc_sees_jids(r, to), "unavailable", NULL, others);
            add_actor_reason(uplink_ctx(up), p, actor_nick, reason);
            stanza_send(up, p);
        }
    }
    o->role = ROLE_NONE;
    room_occ_remove(r, o);
}

void muc_remove(muc *m, uplink *up, room *r, occ *o, int code,
                const char *actor_nick, const char *reason)
{
    char *actor = g_strdup(actor_nick); /* may be o's own nick */

    muc_remove_tell_self(m, up, r, o, code, actor, reason);
    muc_remove_tell_others(up, r, o, code, actor, reason);
    log_debug(LOG_ROUTER, "room %s: an occupant removed (status %d)", r->name,
              code);
    g_free(actor);
}
