/* muc_legacy: occupants that come from legacy networks through the bridge —
 * entering, presence, leaving, renaming and speaking without an XMPP
 * session (muc.h, "the legacy bridge's view"). */
#include <string.h>

#include "log.h"
#include "muc.h"
#include "muc_int.h"
#include "message.h"
#include "presence.h"
#include "nick.h"
#include "register.h"
#include "options.h"
#include "stanza.h"
#include "avatar.h"
#include "payload.h"
#include "xmltext.h"

/* XEP-0224. */
#define NS_ATTENTION "urn:xmpp:attention:0"

static room *lookup(muc *m, const char *group)
{
    gboolean missing = FALSE;

    return muc_room_lookup(m, group, &missing);
}

/* The presence an occupant is shown with: <show/> when not available,
 * XEP-0153's <x><photo/></x> when its picture is known ("" none). */
static xmpp_stanza_t *presence_of(uplink *up, const char *show,
                                  const char *photo)
{
    xmpp_ctx_t *ctx = uplink_ctx(up);
    xmpp_stanza_t *p = xmpp_presence_new(ctx);

    if (show)
        stanza_add_text(ctx, p, "show", show);
    if (photo) {
        xmpp_stanza_t *x = stanza_elem(ctx, "x", NS_VCARD_UPDATE);
        if (*photo)
            stanza_add_text(ctx, x, "photo", photo);
        else
            stanza_add(x, stanza_elem(ctx, "photo", NULL));
        stanza_add(p, x);
    }
    return p;
}

/* Whether o is shown with show (NULL: available) and photo already. */
static gboolean same_show(const occ *o, const char *show, const char *photo)
{
    return g_strcmp0(o->shown.show, show) == 0 &&
           (photo ? o->shown.has_vcard &&
                        !g_strcmp0(o->shown.photo ? o->shown.photo : "", photo)
                  : !o->shown.has_vcard);
}

/* A legacy occupant's nick follows the same rule as anyone's (RFC 8266,
 * nick.h); the bridge cleans names from elsewhere with nick_clean. */
static enum xerr legacy_nick(const char *in, char **out, const char **why)
{
    return nick_prepare(in, out, why) < 0 ? XERR_NOT_ACCEPTABLE : XERR_NONE;
}

static enum xerr enter(muc *m, uplink *up, room *r, const char *bare, char kind,
                       const char *account, const char *handle,
                       const char *nick, const char *show, const char *photo,
                       const char **why)
{
    static const int none[] = {0};
    occ *o, *holder;
    enum affiliation aff;
    xmpp_stanza_t *p;

    o = room_occ_by_legacy(r, bare);
    /* XEP-0153 §3.1: an occupant that showed a picture and has none now
     * shows an empty <photo/>, so clients drop the old one. */
    if (o && !photo && o->shown.has_vcard)
        photo = "";
    if (o) {
        /* Already there: a presence update only if the show changed (the
         * bridge calls this on every line a member says: issue 10, no
         * work that changes nothing). */
        if (same_show(o, show, photo))
            return XERR_NONE;
        p = presence_of(up, show, photo);
        muc_keep_presence(o, p);
        xmpp_stanza_release(p);
        muc_broadcast_presence(up, r, o, NULL, NULL, none, none);
        return XERR_NONE;
    }
    holder = room_occ_by_nick(r, nick);
    if (holder) {
        *why = "that nick is in use";
        return XERR_CONFLICT;
    }
    /* XEP-0045 §7.10: a nick an XMPP user registered is theirs; the bridge
     * takes another (naming.c asks muc_legacy_nick_free). */
    if (register_taken(m, r, bare, nick)) {
        *why = "that nick is registered by someone else";
        return XERR_CONFLICT;
    }
    aff = muc_affiliation(m, r, bare);
    if (aff == AFF_OUTCAST) {
        *why = "you are banned from this group";
        return XERR_FORBIDDEN;
    }
    {
        /* The same vetoes as an XMPP join (members-only, full...); a
         * legacy member has no way to give a room password. */
        options_join j = {r->cfg, aff, NULL, room_occupant_count(r)};
        enum xerr e = options_join_veto(&j, why);
        if (e != XERR_NONE)
            return e;
    }
    {
        char *oid = muc_occupant_id(m, r, bare);
        o = room_occ_add(r, nick, bare, NULL, aff,
                         options_initial_role(r->cfg, aff), oid);
        g_free(oid);
    }
    o->legacy_kind = kind;
    o->legacy_account = g_strdup(account);
    o->legacy_handle = g_strdup(handle);
    p = presence_of(up, show, photo);
    muc_keep_presence(o, p);
    xmpp_stanza_release(p);
    /* XEP-0045 §7.2.3: every occupant learns of the newcomer. */
    muc_broadcast_presence(up, r, o, NULL, NULL, none, none);
    log_debug(LOG_ROUTER, "room %s: a legacy occupant entered (%u now)",
              r->name, room_occupant_count(r));
    return XERR_NONE;
}

enum xerr muc_legacy_enter(muc *m, uplink *up, const char *group,
                           const char *bare, char kind, const char *account,
                           const char *handle, const char *nick,
                           const char *show, const char *photo,
                           const char **why)
{
    room *r = lookup(m, group);
    char *shown = NULL;
    enum xerr e;

    if (!r) {
        *why = "no such group";
        return XERR_ITEM_NOT_FOUND;
    }
    if ((e = legacy_nick(nick, &shown, why)) == XERR_NONE)
        e = enter(m, up, r, bare, kind, account, handle, shown, show, photo,
                  why);
    g_free(shown);
    return e;
}

void muc_legacy_exit(muc *m, uplink *up, const char *group, const char *bare,
                     const char *status)
{
    static const int none[] = {0};
    room *r = lookup(m, group);
    occ *o = r ? room_occ_by_legacy(r, bare) : NULL;

    if (!o)
        return;
    if (status) {
        /* muc_keep_presence cuts the text to BOUND_STATUS_BYTES. */
        xmpp_stanza_t *p = xmpp_presence_new(uplink_ctx(up));
        stanza_add_text(uplink_ctx(up), p, "status", status);
        muc_keep_presence(o, p);
        xmpp_stanza_release(p);
    }
    muc_broadcast_presence(up, r, o, "unavailable", NULL, none, none);
    room_occ_remove(r, o);
}

enum xerr muc_legacy_rename(muc *m, uplink *up, const char *group,
                            const char *bare, const char *nick)
{
    static const int others303[] = {303, 0}, none[] = {0};
    room *r = lookup(m, group);
    occ *o = r ? room_occ_by_legacy(r, bare) : NULL;
    occ *holder;
    char *shown = NULL;
    const char *why = NULL;

    if (!o)
        return XERR_ITEM_NOT_FOUND;
    if (legacy_nick(nick, &shown, &why) != XERR_NONE)
        return XERR_NOT_ACCEPTABLE;
    holder = room_occ_by_nick(r, shown);
    if ((holder && holder != o) || register_taken(m, r, bare, shown)) {
        g_free(shown);
        return XERR_CONFLICT;
    }
    /* XEP-0045 §7.6: unavailable with 303 and the new nick, then available
     * under the new nick. */
    muc_broadcast_presence(up, r, o, "unavailable", shown, others303,
                           others303);
    room_occ_rename(r, o, shown);
    muc_broadcast_presence(up, r, o, NULL, NULL, none, none);
    g_free(shown);
    return XERR_NONE;
}

enum xerr muc_legacy_say(muc *m, uplink *up, const char *group,
                         const char *bare, const char *body,
                         const char *subject, const char **why)
{
    room *r = lookup(m, group);
    occ *o = r && bare ? room_occ_by_legacy(r, bare) : NULL;

    if (!r || (bare && !o) || (!bare && body)) {
        *why = "not in the group";
        return XERR_ITEM_NOT_FOUND;
    }
    return muc_say(m, up, r, o, body, subject, NULL, NULL, why);
}

enum xerr muc_legacy_signal(muc *m, uplink *up, const char *group,
                            const char *bare, const char *state,
                            const char **why)
{
    room *r = lookup(m, group);
    occ *o = r ? room_occ_by_legacy(r, bare) : NULL;
    GString *live;
    char *body = NULL;
    enum xerr e;

    if (!o) {
        *why = "not in the group";
        return XERR_ITEM_NOT_FOUND;
    }
    live = g_string_new(NULL);
    if (state) {
        /* XEP-0085 §5.5: a chat state in a room goes to the occupants. */
        xmltext_open(live, state, NS_CHATSTATES);
        xmltext_end_empty(live);
    } else {
        /* XEP-0224 §4: <attention/> in a message; the body says it to
         * clients that do not show attention (most, in a room). */
        xmltext_open(live, "attention", NS_ATTENTION);
        xmltext_end_empty(live);
        body = g_strdup_printf("* %s buzzed the group", o->nick);
    }
    e = muc_say_live(m, up, r, o, body, live->str, why);
    g_free(body);
    g_string_free(live, TRUE);
    return e;
}

gboolean muc_legacy_nick_free(muc *m, const char *group, const char *nick,
                              const char *bare)
{
    room *r = lookup(m, group);
    occ *o = r ? room_occ_by_nick(r, nick) : NULL;
    char *shown = NULL;
    const char *why = NULL;

    /* A nick nobody may hold is not free either (RFC 8266, nick.h). */
    if (nick_prepare(nick, &shown, &why) < 0)
        return FALSE;
    g_free(shown);
    return (!o || (o->legacy_kind && !strcmp(o->bare, bare))) &&
           (!r || !register_taken(m, r, bare, nick));
}

const char *muc_legacy_nick(muc *m, const char *group, const char *bare)
{
    room *r = lookup(m, group);
    occ *o = r ? room_occ_by_legacy(r, bare) : NULL;

    return o ? o->nick : NULL;
}

static int nick_order(const void *a, const void *b)
{
    return g_utf8_collate(*(char *const *)a, *(char *const *)b);
}

char **muc_occupant_nicks(muc *m, const char *group)
{
    room *r = lookup(m, group);
    GPtrArray *out;
    GHashTableIter it;
    gpointer value;

    if (!r)
        return NULL;
    out = g_ptr_array_new();
    g_hash_table_iter_init(&it, r->by_nick);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(out, g_strdup(((occ *)value)->nick));
    g_ptr_array_sort(out, nick_order);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

enum affiliation muc_group_affiliation(muc *m, const char *group,
                                       const char *bare, gboolean *exists)
{
    room *r = lookup(m, group);

    *exists = r != NULL;
    return r ? muc_affiliation(m, r, bare) : AFF_NONE;
}

enum xerr muc_may_enter(muc *m, const char *group, const char *bare,
                        const char **why)
{
    room *r = lookup(m, group);
    enum affiliation aff;

    if (!r) {
        *why = "no such group";
        return XERR_ITEM_NOT_FOUND;
    }
    aff = muc_affiliation(m, r, bare);
    if (aff == AFF_OUTCAST) {
        *why = "you are banned from this group";
        return XERR_FORBIDDEN;
    }
    return options_admit(r->cfg, aff, why);
}

const group_cfg *muc_group(muc *m, const char *group)
{
    room *r = lookup(m, group);

    return r ? r->cfg : NULL;
}
